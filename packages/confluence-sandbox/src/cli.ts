// The `sandbox` command: parses flags with commander and starts a sandbox until a signal.
// Kept apart from `bin.ts` so the option parsing can be tested without side effects.

import { Command, InvalidArgumentError } from "commander";
import type { SandboxMode } from "./SandboxOptions.js";

/** Parsed command-line options of the `sandbox` command. */
export interface CliOptions {
  readonly port: number;
  readonly mode: SandboxMode;
  readonly sqlite?: string;
  readonly contextPath?: string;
}

/** Parses `[--port 8090] [--mode cloud|datacenter] [--sqlite FILE] [--context-path /confluence]`. */
export function parseCli(argv: ReadonlyArray<string>): CliOptions {
  const program = new Command("sandbox")
    .description("A local Confluence (Cloud or Data Center) for tests and the demo")
    .option(
      "--port <port>",
      "TCP port (0 = random)",
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new InvalidArgumentError("must be a port number");
        return n;
      },
      8090,
    )
    .option(
      "--mode <mode>",
      "cloud or datacenter",
      (v) => {
        if (v !== "cloud" && v !== "datacenter")
          throw new InvalidArgumentError("must be cloud or datacenter");
        return v;
      },
      "cloud",
    )
    .option("--sqlite <file>", "persist state in this SQLite file")
    .option("--context-path <path>", "Data Center context path, e.g. /confluence")
    .exitOverride()
    .parse([...argv], { from: "user" });
  const o = program.opts<{ port: number; mode: SandboxMode; sqlite?: string; contextPath?: string }>();
  return {
    port: o.port,
    mode: o.mode,
    ...(o.sqlite === undefined ? {} : { sqlite: o.sqlite }),
    ...(o.contextPath === undefined ? {} : { contextPath: o.contextPath }),
  };
}

/**
 * The lines the command prints after start: base URL, user name (Cloud), token and deployment.
 * The deployment is printed because a client cannot tell it from `127.0.0.1`: Minutes detects
 * Cloud only from `*.atlassian.net` addresses, so `confluence.deployment` must be set.
 */
export function banner(mode: SandboxMode, baseUrl: string, user: { email: string; token: string }): string[] {
  return [
    `Base URL: ${baseUrl}`,
    ...(mode === "cloud" ? [`Username: ${user.email}`] : []),
    `Token: ${user.token}`,
    `Deployment: ${mode}`,
  ];
}
