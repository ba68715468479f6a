// Runs an app's `src/main.ts` as a real process (tsx, sources through the `@minutes/source`
// condition), for tests of what the process does with its command line and configuration before
// it connects anywhere. Plain JS (like preset.js); types in main-process.d.ts.
import { execFile } from "node:child_process";

/**
 * @param {string} root
 * @param {ReadonlyArray<string>} args
 * @param {Record<string, string>} [env]
 * @returns {Promise<import("./main-process.js").MainResult>}
 */
export const runSourceMain = (root, args, env = {}) =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--conditions=@minutes/source", "src/main.ts", ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", NATS_URL: "nats://127.0.0.1:1", ...env },
        encoding: "utf8",
        timeout: 25_000,
      },
      (error, stdout, stderr) =>
        resolve({
          status: error === null ? 0 : typeof error.code === "number" ? error.code : null,
          stdout,
          stderr,
        }),
    );
  });
