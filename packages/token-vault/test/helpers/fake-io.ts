// In-memory stdin/stdout/stderr for driving runCli in-process.
import { PassThrough, Readable } from "node:stream";
import type { CliIo } from "../../src/index.js";
import { FAST_KDF } from "./temp-vault.js";

export interface FakeIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

/** IO whose stdin is a pipe (not a TTY) holding `input`. */
export const pipedIo = (env: CliIo["env"], input = ""): FakeIo => withOutputs(env, Readable.from([input]));

/** A stdin that claims to be a terminal; write keystrokes to it. */
export const fakeTty = (): PassThrough & { isTTY: boolean; setRawMode: (raw: boolean) => void } =>
  Object.assign(new PassThrough(), { isTTY: true, setRawMode: (_raw: boolean) => undefined });

export const withOutputs = (env: CliIo["env"], stdin: CliIo["stdin"]): FakeIo => {
  let out = "";
  let err = "";
  return {
    stdin,
    stdout: { write: (chunk: string) => (out += chunk) },
    stderr: { write: (chunk: string) => (err += chunk) },
    env,
    homeDirectory: "/nonexistent-home",
    kdf: FAST_KDF,
    out: () => out,
    err: () => err,
  };
};
