// Spawns real processes through tsx (Node 20 cannot run TypeScript itself) and collects output.
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TSX = join(PACKAGE_DIR, "..", "..", "node_modules", ".bin", "tsx");

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `tsx <script> ...args` in the package directory. */
export const spawnTs = (
  script: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = {},
): ChildProcess =>
  spawn(TSX, [script, ...args], {
    cwd: PACKAGE_DIR,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });

/** Resolves when the process exits, with everything it printed. */
export const finished = (child: ChildProcess): Promise<Finished> =>
  new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });

/** Resolves once `child` has printed `line` on stdout. */
export const printed = (child: ChildProcess, line: string): Promise<void> =>
  new Promise((resolve, reject) => {
    let seen = "";
    const onData = (chunk: Buffer) => {
      seen += chunk.toString("utf8");
      if (seen.split("\n").includes(line)) {
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.on("close", (code) => reject(new Error(`exited with ${code} before printing ${line}`)));
  });

/** Runs a process to completion, writing `input` to its stdin. */
export const runTs = async (
  script: string,
  args: ReadonlyArray<string>,
  options: { readonly env?: NodeJS.ProcessEnv; readonly input?: string } = {},
): Promise<Finished> => {
  const child = spawnTs(script, args, options.env);
  const done = finished(child);
  child.stdin?.end(options.input ?? "");
  return done;
};
