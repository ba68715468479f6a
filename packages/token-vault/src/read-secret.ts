// Reads secrets for the CLI. On a terminal it prompts on stderr and turns echo off (readline
// with a muted output), so stdout stays clean for `get`. Otherwise it reads successive lines
// from stdin, which lets scripts pipe "password\ntoken\n" without a terminal.
import { createInterface, type Interface } from "node:readline";
import { Writable } from "node:stream";

/** The standard input the CLI reads from: a stream, possibly a TTY. */
export type CliInput = NodeJS.ReadableStream & { readonly isTTY?: boolean };

/** Somewhere to write text (stdout, stderr or a test buffer). */
export interface CliOutput {
  readonly write: (chunk: string) => unknown;
}

/** The user pressed Ctrl-C or Ctrl-D at a prompt. */
export class PromptCancelledError extends Error {
  override readonly name = "PromptCancelledError";
}

/** Standard input ended before a line the command needs. */
export class MissingInputError extends Error {
  override readonly name = "MissingInputError";
}

/**
 * Reads secrets one after another from the same input: prompts without echo on a TTY, else the
 * next line of stdin (line endings stripped). Call `close` when done.
 */
export interface SecretReader {
  readonly isTerminal: boolean;
  /** `what` names the value for the prompt and for the error when stdin ends early. */
  readonly read: (what: string) => Promise<string>;
  readonly close: () => void;
}

/** A {@link SecretReader} over `input`, prompting on `prompts` when `input` is a TTY. */
export const makeSecretReader = (input: CliInput, prompts: CliOutput): SecretReader => {
  if (input.isTTY === true) {
    return {
      isTerminal: true,
      read: (what) => promptHidden(input, prompts, `${what}: `),
      close: () => undefined,
    };
  }
  let lines: Interface | undefined;
  let iterator: AsyncIterator<string> | undefined;
  let lineNumber = 0;
  return {
    isTerminal: false,
    read: async (what) => {
      if (lines === undefined || iterator === undefined) {
        lines = createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY });
        iterator = lines[Symbol.asyncIterator]();
      }
      lineNumber += 1;
      const next = await iterator.next();
      if (next.done === true) {
        throw new MissingInputError(`standard input ended before line ${lineNumber} (${what})`);
      }
      return next.value.replace(/\r$/, "");
    },
    close: () => lines?.close(),
  };
};

// internal

const promptHidden = (input: CliInput, prompts: CliOutput, prompt: string): Promise<string> =>
  new Promise((resolve, reject) => {
    // readline echoes keystrokes to its output; giving it a sink that drops everything hides them.
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const rl = createInterface({ input, output: sink, terminal: true, historySize: 0 });
    let answered = false;
    prompts.write(prompt);
    rl.on("SIGINT", () => rl.close());
    rl.on("close", () => {
      if (answered) return;
      prompts.write("\n");
      reject(new PromptCancelledError("cancelled"));
    });
    rl.question("", (answer) => {
      answered = true;
      prompts.write("\n");
      rl.close();
      resolve(answer);
    });
  });
