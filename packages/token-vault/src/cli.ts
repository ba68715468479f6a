// The `minutes-vault` commands (add, get, list, expires, delete, change-password) over TokenVault.
// All I/O and the environment are injected through `runCli`, which returns an exit code instead
// of exiting, so tests drive it in-process. Only `get` ever writes a token, and only to stdout.
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { Command, CommanderError } from "commander";
import { Cause, Effect, Either, Exit, Option, Redacted } from "effect";
import { type VaultEnv, vaultFileFromEnv } from "./config.js";
import type { KdfParams } from "./envelope.js";
import { normalizeUrl } from "./normalize-url.js";
import {
  type CliInput,
  type CliOutput,
  MissingInputError,
  makeSecretReader,
  PromptCancelledError,
  type SecretReader,
} from "./read-secret.js";
import { type SavedTokenInfo, TokenVault, type TokenVaultShape } from "./TokenVault.js";
import {
  DEFAULT_TOKEN_EXPIRY_WARNING_DAYS,
  dayOf,
  inDays,
  parseExpiryOption,
  tokenExpiryState,
} from "./token-expiry.js";
import type { VaultError } from "./VaultError.js";

/** Everything the CLI touches outside itself. `bin.ts` passes the real process streams and env. */
export interface CliIo {
  readonly stdin: CliInput;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Reads VAULT_FILE, VAULT_PASSWORD, VAULT_NEW_PASSWORD and XDG_CONFIG_HOME. */
  readonly env: VaultEnv;
  /** Default: `os.homedir()`. */
  readonly homeDirectory?: string;
  /**
   * Relative `--file` and `VAULT_FILE` paths are resolved against this directory. `bin.ts` passes
   * `INIT_CWD` when set, because `pnpm vault` runs the binary inside the package directory.
   */
  readonly workingDirectory?: string;
  /** scrypt parameters for new secrets; tests only (there is no flag or variable for it). */
  readonly kdf?: KdfParams;
  /** The clock expiries are judged by (ms since the epoch); default `Date.now`. Tests only. */
  readonly now?: () => number;
}

/** Exit codes of the CLI. */
export const ExitCode = {
  /** The command did what was asked. */
  Success: 0,
  /** Wrong password, no such entry, corrupt or tampered vault, or an I/O failure. */
  Failure: 1,
  /** Bad arguments or missing input; nothing was changed. */
  Usage: 2,
  /** The user cancelled a prompt (Ctrl-C / Ctrl-D). */
  Cancelled: 130,
} as const;

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves to the exit code.
 * Never throws and never calls `process.exit`.
 *
 * @example
 * const code = await runCli(["list"], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env })
 */
export const runCli = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const secrets = makeSecretReader(io.stdin, io.stderr);
  let code: number = ExitCode.Success;
  const program = buildProgram(io, secrets, (result) => {
    code = result;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    return reportFailure(error, io.stderr);
  } finally {
    secrets.close();
  }
};

// internal

class UsageError extends Error {}

const PROGRAM = "minutes-vault";

const HELP_FOOTER = `
Environment:
  VAULT_FILE           the vault file, when --file is not given
  XDG_CONFIG_HOME      default vault: $XDG_CONFIG_HOME/minutes/tokens.vault (else ~/.config/minutes/tokens.vault)
  VAULT_PASSWORD       the vault password; otherwise it is prompted for (no echo)
  VAULT_NEW_PASSWORD   the new password for change-password

Without a terminal, secrets are read from standard input one per line, in order: the password
(unless VAULT_PASSWORD is set), then the token (add) or the new password (change-password).

Expiry (add --expires, expires --at): a date YYYY-MM-DD (the end of that day, UTC), an ISO
date-time with a time zone (2026-12-05T17:00:00Z), or a number of days from now (90d). Confluence
cannot tell when a token expires: what is recorded here is what /status/confluence, the metrics
and the publishers' warnings go by. list marks tokens that expired or expire within ${DEFAULT_TOKEN_EXPIRY_WARNING_DAYS} days.

Exit codes: 0 success, 1 wrong password / not found / corrupt vault / I/O error, 2 usage error.`;

const buildProgram = (io: CliIo, secrets: SecretReader, done: (code: number) => void): Command => {
  const program = new Command(PROGRAM)
    .description(
      "Encrypted storage of Confluence tokens (AES-256-GCM, scrypt), keyed by base URL and username.",
    )
    .option(
      "--file <path>",
      "the vault file (default: $VAULT_FILE, else $XDG_CONFIG_HOME/minutes/tokens.vault)",
    )
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Inherited by the subcommands. `--token=SECRET` is an unknown option, and Commander quotes it whole.
      outputError: (text, write) => write(hideUnknownOptionValue(text)),
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .addHelpText("after", HELP_FOOTER);

  const vaultFile = (command: Command): string => {
    const opts: { file?: string } = command.optsWithGlobals();
    const file = opts.file ?? vaultFileFromEnv(io.env, io.homeDirectory ?? homedir());
    return io.workingDirectory === undefined ? file : resolve(io.workingDirectory, file);
  };
  const vault = (file: string) => connect(io, file);
  const now = (): number => io.now?.() ?? Date.now();
  const password = async (label = "Vault password"): Promise<Redacted.Redacted<string>> => {
    const fromEnv = io.env.VAULT_PASSWORD;
    if (fromEnv !== undefined && fromEnv !== "") return Redacted.make(fromEnv);
    return Redacted.make(await secrets.read(label));
  };
  /** A password the user is setting: typed twice on a terminal. */
  const newPassword = async (
    fromEnv: string | undefined,
    label: string,
  ): Promise<Redacted.Redacted<string>> => {
    if (fromEnv !== undefined && fromEnv !== "") return Redacted.make(fromEnv);
    const first = await secrets.read(label);
    if (secrets.isTerminal && (await secrets.read(`Repeat ${label.toLowerCase()}`)) !== first) {
      throw new UsageError("the passwords do not match");
    }
    return Redacted.make(first);
  };

  program
    .command("add")
    .description("save (or replace) the token for a URL and username; the token is read without echo")
    .requiredOption("--url <url>", "the Confluence base URL, e.g. https://example.atlassian.net/wiki")
    .requiredOption("--username <name>", "the Confluence username (e-mail on Cloud)")
    .option(
      "--expires <when>",
      "when the token expires: YYYY-MM-DD (end of that day, UTC), an ISO date-time with zone, or 90d; without it, no expiry is recorded (a replaced token's is cleared)",
    )
    .action(async (opts: KeyOptions & { expires?: string }, command: Command) => {
      const url = requireUrl(opts.url);
      // Checked before any secret is asked for: a typo costs no typing of the token.
      const expiresAt = opts.expires === undefined ? null : requireExpiry("--expires", opts.expires, now());
      const file = vaultFile(command);
      const exists = await fileExists(file);
      const pass = exists ? await password() : await newPassword(io.env.VAULT_PASSWORD, "New vault password");
      const token = Redacted.make((await secrets.read("Confluence token")).trim());
      // The replaced token's expiry is not this one's: it is cleared, and said so.
      const previous = expiresAt === null ? await recordedExpiry(io, file, url, opts.username) : null;
      done(
        await execute(
          io,
          vault(file),
          (v) => v.saveEncryptedToken({ url, username: opts.username, token, password: pass, expiresAt }),
          () => {
            io.stdout.write(
              `Saved the token for ${opts.username} at ${url} in ${file}.${expiresAt === null ? "" : ` It expires at ${expiresAt.toISOString()} (${inDays(daysFromNow(expiresAt, now()))}).`}\n`,
            );
            if (previous !== null)
              io.stderr.write(
                `${PROGRAM}: note: the expiry recorded for the token it replaced (${dayOf(previous)}) was cleared; record this one's with \`${PROGRAM} expires --url ${url} --username ${opts.username} --at <when>\`.\n`,
              );
          },
        ),
      );
    });

  program
    .command("get")
    .description("print the token for a URL and username to stdout (for scripts)")
    .requiredOption("--url <url>", "the Confluence base URL")
    .requiredOption("--username <name>", "the Confluence username")
    .action(async (opts: KeyOptions, command: Command) => {
      const url = requireUrl(opts.url);
      const file = vaultFile(command);
      const pass = await password();
      done(
        await execute(
          io,
          vault(file),
          (v) => v.loadEncryptedToken({ url, username: opts.username, password: pass }),
          (token) => io.stdout.write(`${Redacted.value(token)}\n`),
        ),
      );
    });

  program
    .command("list")
    .description(
      "list saved URLs and usernames with their created and updated times and expiry (no password needed)",
    )
    .option("--json", "print a JSON array instead of a table")
    .action(async (opts: { json?: boolean }, command: Command) => {
      const file = vaultFile(command);
      done(
        await execute(
          io,
          vault(file),
          (v) => v.listSavedTokens(),
          (entries) =>
            io.stdout.write(
              opts.json === true
                ? `${JSON.stringify(entries, null, 2)}\n`
                : formatTable(entries, file, now()),
            ),
        ),
      );
    });

  program
    .command("expires")
    .description(
      "record (--at) or clear (--clear) when the token for a URL and username expires, keeping the token (requires the vault password)",
    )
    .requiredOption("--url <url>", "the Confluence base URL")
    .requiredOption("--username <name>", "the Confluence username")
    .option("--at <when>", "YYYY-MM-DD (end of that day, UTC), an ISO date-time with zone, or 90d")
    .option("--clear", "forget the recorded expiry")
    .action(async (opts: KeyOptions & { at?: string; clear?: boolean }, command: Command) => {
      const url = requireUrl(opts.url);
      if ((opts.at === undefined) === (opts.clear !== true))
        throw new UsageError("expires needs either --at <when> or --clear (one of them)");
      const expiresAt = opts.at === undefined ? null : requireExpiry("--at", opts.at, now());
      const file = vaultFile(command);
      const pass = await password();
      done(
        await execute(
          io,
          vault(file),
          (v) => v.setTokenExpiry({ url, username: opts.username, password: pass, expiresAt }),
          () =>
            io.stdout.write(
              expiresAt === null
                ? `Cleared the expiry of the token for ${opts.username} at ${url} in ${file}.\n`
                : `Recorded that the token for ${opts.username} at ${url} in ${file} expires at ${expiresAt.toISOString()} (${inDays(daysFromNow(expiresAt, now()))}).\n`,
            ),
        ),
      );
    });

  program
    .command("delete")
    .description("delete the token for a URL and username (requires the vault password)")
    .requiredOption("--url <url>", "the Confluence base URL")
    .requiredOption("--username <name>", "the Confluence username")
    .action(async (opts: KeyOptions, command: Command) => {
      const url = requireUrl(opts.url);
      const file = vaultFile(command);
      const pass = await password();
      done(
        await execute(
          io,
          vault(file),
          (v) => v.deleteToken({ url, username: opts.username, password: pass }),
          () => io.stdout.write(`Deleted the token for ${opts.username} at ${url} from ${file}.\n`),
        ),
      );
    });

  program
    .command("change-password")
    .description("re-encrypt every token under a new vault password")
    .action(async (_opts: unknown, command: Command) => {
      const file = vaultFile(command);
      if (!(await fileExists(file))) {
        io.stderr.write(`${PROGRAM}: no vault at ${file}; nothing to change.\n`);
        done(ExitCode.Failure);
        return;
      }
      const current = await password("Current vault password");
      const next = await newPassword(io.env.VAULT_NEW_PASSWORD, "New vault password");
      done(
        await execute(
          io,
          vault(file),
          (v) => v.changePassword(current, next),
          (count) =>
            io.stdout.write(
              `Changed the vault password of ${file}; re-encrypted ${count} token${count === 1 ? "" : "s"}.\n`,
            ),
        ),
      );
    });

  return program;
};

interface KeyOptions {
  readonly url: string;
  readonly username: string;
}

const connect = (io: CliIo, file: string) =>
  TokenVault.layer({
    file,
    onWarning: (message) => io.stderr.write(`${PROGRAM}: warning: ${message}\n`),
    ...(io.kdf === undefined ? {} : { kdf: io.kdf }),
  });

/** Runs one vault operation; prints the failure's message (never a stack) and returns the exit code. */
const execute = async <A>(
  io: CliIo,
  layer: ReturnType<typeof connect>,
  use: (vault: TokenVaultShape) => Effect.Effect<A, VaultError>,
  onSuccess: (value: A) => unknown,
): Promise<number> => {
  const exit = await Effect.runPromiseExit(Effect.flatMap(TokenVault, use).pipe(Effect.provide(layer)));
  if (Exit.isSuccess(exit)) {
    onSuccess(exit.value);
    return ExitCode.Success;
  }
  const failure = Cause.failureOption(exit.cause);
  if (Option.isNone(failure)) throw Cause.squash(exit.cause);
  io.stderr.write(`${PROGRAM}: ${failure.value.message}\n`);
  return failure.value._tag === "VaultInvalidInputError" ? ExitCode.Usage : ExitCode.Failure;
};

/** A `--expires`/`--at` value, or a usage error naming the option and the accepted forms. */
const requireExpiry = (option: string, text: string, now: number): Date => {
  const parsed = parseExpiryOption(option, text, now);
  if (Either.isLeft(parsed)) throw new UsageError(parsed.left);
  return parsed.right;
};

const daysFromNow = (expiresAt: Date, now: number): number => {
  const state = tokenExpiryState(expiresAt, now, 0);
  return state._tag === "Valid" || state._tag === "ExpiresSoon" ? state.days : 0;
};

/** The expiry recorded for an entry (no password needed), or null; a vault that cannot be read counts as none. */
const recordedExpiry = async (
  io: CliIo,
  file: string,
  url: string,
  username: string,
): Promise<Date | null> => {
  const exit = await Effect.runPromiseExit(
    Effect.flatMap(TokenVault, (v) => v.listSavedTokens()).pipe(
      Effect.provide(
        TokenVault.layer({
          file,
          onWarning: () => undefined,
          ...(io.kdf === undefined ? {} : { kdf: io.kdf }),
        }),
      ),
    ),
  );
  if (Exit.isFailure(exit)) return null;
  return exit.value.find((e) => e.url === url && e.username === username)?.expiresAt ?? null;
};

const requireUrl = (url: string): string => {
  const normalized = normalizeUrl(url);
  if (Either.isLeft(normalized)) throw new UsageError(normalized.left.message);
  return normalized.right;
};

const fileExists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );

const formatTable = (entries: ReadonlyArray<SavedTokenInfo>, file: string, now: number): string => {
  if (entries.length === 0) return `No tokens saved in ${file}.\n`;
  const rows = [
    ["URL", "USERNAME", "CREATED", "UPDATED", "EXPIRES"],
    ...entries.map((e) => [
      e.url,
      e.username,
      e.createdAt.toISOString(),
      e.updatedAt.toISOString(),
      expiryCell(e.expiresAt, now),
    ]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
};

/** `-` when unknown; the instant, marked `(expired)` or `(in 9 days)` within the default warning window. */
const expiryCell = (expiresAt: Date | null, now: number): string => {
  const state = tokenExpiryState(expiresAt, now, DEFAULT_TOKEN_EXPIRY_WARNING_DAYS);
  switch (state._tag) {
    case "Unknown":
      return "-";
    case "Expired":
      return `${state.expiresAt.toISOString()} (expired)`;
    case "ExpiresSoon":
      return `${state.expiresAt.toISOString()} (${inDays(state.days)})`;
    case "Valid":
      return state.expiresAt.toISOString();
  }
};

/**
 * Commander's "unknown option" line without the option's value: `--token=SECRET` becomes
 * `--token`, `-tSECRET` becomes `-t` (a mistyped option is often one that carries a secret).
 */
const hideUnknownOptionValue = (text: string): string =>
  text.replace(/^error: unknown option '(.*)'(?=$|\n)/m, (line, flag: string) => {
    const name = flag.startsWith("--") ? flag.split("=")[0] : flag.slice(0, 2);
    return name === flag ? line : `error: unknown option '${name}' (its value is not shown)`;
  });

const reportFailure = (error: unknown, stderr: CliOutput): number => {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (and help) to stderr or stdout.
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version")
      return ExitCode.Success;
    return ExitCode.Usage;
  }
  if (error instanceof PromptCancelledError) {
    stderr.write(`${PROGRAM}: cancelled\n`);
    return ExitCode.Cancelled;
  }
  if (error instanceof UsageError || error instanceof MissingInputError) {
    stderr.write(`${PROGRAM}: ${error.message}\n`);
    return ExitCode.Usage;
  }
  // A bug: report it without a stack trace, which could carry context we do not control.
  stderr.write(`${PROGRAM}: unexpected error: ${error instanceof Error ? error.name : "unknown"}\n`);
  return ExitCode.Failure;
};
