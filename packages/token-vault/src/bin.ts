#!/usr/bin/env node
// The `minutes-vault` executable: wires the real process streams and environment into runCli
// and sets the exit code. The only module of this package with side effects.
import { homedir } from "node:os";
import { runCli } from "./cli.js";

const code = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  homeDirectory: homedir(),
  // `pnpm vault` runs us in the package directory; INIT_CWD is where the user typed the command.
  workingDirectory: process.env.INIT_CWD ?? process.cwd(),
});
// exitCode rather than exit(): pending writes to stdout (a token piped to another program) finish first.
process.exitCode = code;
