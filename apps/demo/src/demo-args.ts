/**
 * The demo's command line, checked whole before anything starts: a bad flag or value is a usage
 * error, one line naming the flag and exit code 2, as the gateway, the publisher and the vault CLI
 * answer. Pure (no process access), so the tests call it directly; `main.ts` prints and exits.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { DEMO_STREAM, DEMO_SUBJECT_PREFIX } from "./demo.js";

/** The demo's options from its command line. */
export interface DemoArgs {
  readonly files: ReadonlyArray<string>;
  readonly once: boolean;
  readonly gatewayPort: number;
  readonly sandboxPort: number;
  /** Absent: the demo's own stream ({@link DEMO_STREAM}). */
  readonly stream?: string;
  /** Absent: the demo's own subject prefix ({@link DEMO_SUBJECT_PREFIX}). */
  readonly subjectPrefix?: string;
  readonly confluenceUrl?: string;
  readonly username?: string;
}

/** What to do: run with these options, or print and exit (help: 0, usage error: 2). */
export type ParsedDemoArgs =
  | { readonly _tag: "Run"; readonly args: DemoArgs }
  | { readonly _tag: "Exit"; readonly code: 0 | 2; readonly stdout: string; readonly stderr: string };

/** The exit code of a usage error. */
export const USAGE_EXIT_CODE = 2;

/** Parses and checks `argv` (without node and the script). */
export const parseDemoArgs = (argv: ReadonlyArray<string>): ParsedDemoArgs => {
  let stdout = "";
  let stderr = "";
  const program = new Command("minutes-demo")
    .description(
      "Run Minutes locally: sandbox Confluence, publisher and gateway, and publish the sample protocols",
    )
    .argument("[files...]", "extra Markdown protocols to publish (each file is its own job and page)")
    .option("--once", "exit after publishing (0 when every protocol was published)")
    .option("--port <port>", "gateway port (0: a free one)", port, 8080)
    .option("--sandbox-port <port>", "sandbox port (0: a free one)", port, 8090)
    .option(
      "--nats-prefix <token>",
      `first token of every NATS subject (default "${DEMO_SUBJECT_PREFIX}"; a default Minutes uses "minutes")`,
      natsName("one subject token", 32),
    )
    .option(
      "--stream <name>",
      `JetStream stream of the protocols (default "${DEMO_STREAM}", outcomes in <name>_OUTCOMES)`,
      natsName("a stream name", 64),
    )
    .option(
      "--confluence-url <url>",
      "publish to this Confluence instead of the sandbox (token from .demo/tokens.vault)",
      httpUrl,
    )
    .option("--username <name>", "Confluence user (e-mail on Cloud) for --confluence-url")
    .addHelpText("after", HELP_FOOTER)
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (text) => {
        stdout += text;
      },
      writeErr: (text) => {
        stderr += text;
      },
    })
    .exitOverride();
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.exitCode === 0
      ? { _tag: "Exit", code: 0, stdout, stderr }
      : { _tag: "Exit", code: USAGE_EXIT_CODE, stdout, stderr };
  }
  const o = program.opts<{
    once?: boolean;
    port: number;
    sandboxPort: number;
    natsPrefix?: string;
    stream?: string;
    confluenceUrl?: string;
    username?: string;
  }>();
  const usage = (problem: string): ParsedDemoArgs => ({
    _tag: "Exit",
    code: USAGE_EXIT_CODE,
    stdout: "",
    stderr: `error: ${problem}\n(run with --help for usage)\n`,
  });
  if (o.confluenceUrl !== undefined && o.username === undefined) {
    return usage("option '--confluence-url <url>' needs '--username <name>' (the Confluence user)");
  }
  if (o.username !== undefined && o.confluenceUrl === undefined) {
    return usage("option '--username <name>' is for '--confluence-url <url>' (the sandbox has its own user)");
  }
  return {
    _tag: "Run",
    args: {
      files: program.args,
      once: o.once === true,
      gatewayPort: o.port,
      sandboxPort: o.sandboxPort,
      ...(o.stream !== undefined ? { stream: o.stream } : {}),
      ...(o.natsPrefix !== undefined ? { subjectPrefix: o.natsPrefix } : {}),
      ...(o.confluenceUrl !== undefined ? { confluenceUrl: o.confluenceUrl } : {}),
      ...(o.username !== undefined ? { username: o.username } : {}),
    },
  };
};

// internal

const HELP_FOOTER = `
NATS: the server at NATS_URL (default nats://127.0.0.1:4222), else a nats-server started for the
demo. The demo's stream and subject prefix are its own, so it shares a server with a
default-configured Minutes; give a second demo on the same server its own --stream and --nats-prefix.
Exit codes: 0 every protocol published (--once), 1 not all published or the demo could not run,
2 usage error.`;

const port = (value: string): number => {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 65_535)) throw new InvalidArgumentError("It must be a port number from 0 to 65535.");
  return n;
};

const natsName =
  (what: string, max: number) =>
  (value: string): string => {
    if (!new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`).test(value)) {
      throw new InvalidArgumentError(`It must be ${what}: 1 to ${max} letters, digits, - or _.`);
    }
    return value;
  };

const httpUrl = (value: string): string => {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new InvalidArgumentError("It must be an http(s) URL, e.g. https://example.atlassian.net/wiki.");
  }
  return value;
};
