#!/usr/bin/env node
// The `import-original` executable (`./minutes import-original`): wires the process into
// runImportOriginal. The only module of this package with side effects.
import { runImportOriginal } from "./original-cli.js";

process.exitCode = runImportOriginal(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  // `./minutes import-original` runs us from the checkout; INIT_CWD is where the user typed it.
  workingDirectory: process.env.INIT_CWD ?? process.cwd(),
});
