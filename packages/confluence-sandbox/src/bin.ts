#!/usr/bin/env node
// Entry point of `pnpm sandbox`: the only file with side effects. Starts the sandbox with one
// space (MEETINGS), prints its credentials and serves until SIGINT/SIGTERM, then closes cleanly.

import { banner, parseCli } from "./cli.js";
import { startSandbox } from "./start-sandbox.js";

const options = (() => {
  try {
    return parseCli(process.argv.slice(2));
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    process.exit(typeof code === "number" ? code : 2);
  }
})();

const sandbox = await startSandbox({
  mode: options.mode,
  port: options.port,
  ...(options.sqlite === undefined ? {} : { sqliteFile: options.sqlite }),
  ...(options.contextPath === undefined ? {} : { contextPath: options.contextPath }),
});
for (const line of banner(sandbox.mode, sandbox.baseUrl, sandbox.user)) console.log(line);
console.log(`Pages: ${sandbox.origin}/sandbox`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  sandbox.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
