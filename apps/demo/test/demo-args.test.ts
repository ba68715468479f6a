// The demo's command line: every flag is checked before anything starts, and a bad one is a usage
// error (exit 2, as the gateway's and the vault's) naming the flag; and the demo's own NATS names.
import { fileURLToPath } from "node:url";
import { DEFAULT_SUBJECT_PREFIX, protocolStreamWildcard, publicationEventWildcard } from "@minutes/contracts";
import { runSourceMain } from "@minutes/vitest-config/main-process";
import { describe, expect, it } from "vitest";
import { DEMO_STREAM, DEMO_SUBJECT_PREFIX } from "../src/demo.js";
import { parseDemoArgs } from "../src/demo-args.js";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("pnpm demo's command line", () => {
  it.each([
    [["--bogus"], "unknown option '--bogus'"],
    [
      ["--port", "abc"],
      "option '--port <port>' argument 'abc' is invalid. It must be a port number from 0 to 65535.",
    ],
    [["--port", "70000"], "option '--port <port>' argument '70000' is invalid"],
    [["--port", "8080.5"], "option '--port <port>' argument '8080.5' is invalid"],
    [
      ["--sandbox-port", "-5"],
      "option '--sandbox-port <port>' argument '-5' is invalid. It must be a port number",
    ],
    [
      ["--nats-prefix", "a.b"],
      "option '--nats-prefix <token>' argument 'a.b' is invalid. It must be one subject token",
    ],
    [
      ["--stream", "MY STREAM"],
      "option '--stream <name>' argument 'MY STREAM' is invalid. It must be a stream name",
    ],
    [
      ["--confluence-url", "ftp://x", "--username", "u"],
      "option '--confluence-url <url>' argument 'ftp://x' is invalid",
    ],
    [
      ["--confluence-url", "https://x.example.com/wiki"],
      "option '--confluence-url <url>' needs '--username <name>'",
    ],
    [["--username", "u"], "option '--username <name>' is for '--confluence-url <url>'"],
  ])("refuses %j with exit code 2 and a line naming the flag", (argv, message) => {
    const parsed = parseDemoArgs(argv);
    expect(parsed).toMatchObject({ _tag: "Exit", code: 2, stdout: "" });
    expect(parsed._tag === "Exit" && parsed.stderr).toContain(`error: ${message}`);
  });

  it("reads ports as numbers and leaves the stream and prefix to the demo unless given", () => {
    expect(parseDemoArgs(["--once", "a.md", "b.md"])).toEqual({
      _tag: "Run",
      args: { files: ["a.md", "b.md"], once: true, gatewayPort: 8080, sandboxPort: 8090 },
    });
    expect(
      parseDemoArgs(["--port", "0", "--sandbox-port", "65535", "--stream", "S_1", "--nats-prefix", "p-1"]),
    ).toEqual({
      _tag: "Run",
      args: {
        files: [],
        once: false,
        gatewayPort: 0,
        sandboxPort: 65535,
        stream: "S_1",
        subjectPrefix: "p-1",
      },
    });
  });

  it("documents the NATS flags and the exit codes in --help", () => {
    const parsed = parseDemoArgs(["--help"]);
    expect(parsed).toMatchObject({ _tag: "Exit", code: 0, stderr: "" });
    // Commander wraps the help at 80 columns.
    const help = parsed._tag === "Exit" ? parsed.stdout.replace(/\s+/g, " ") : "";
    expect(help).toContain("--nats-prefix <token>");
    expect(help).toContain(`default "${DEMO_SUBJECT_PREFIX}"`);
    expect(help).toContain("--stream <name>");
    expect(help).toContain("2 usage error");
  });

  it.each([
    [["--bogus"], "--bogus"],
    [["--port", "abc"], "--port"],
  ])("exits 2 on %j before anything starts", { timeout: 60_000 }, async (argv, flag) => {
    const result = await runSourceMain(root, argv);
    expect(result.status).toBe(2);
    // Nothing started: no "No NATS at …, starting nats-server" line, nothing submitted.
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(new RegExp(`^error: .*'${flag}`));
  });
});

describe("the demo's NATS names", () => {
  it("uses a subject prefix of its own, beside a default-configured Minutes on the same server", () => {
    expect(DEMO_STREAM).toBe("MINUTES_DEMO");
    expect(DEMO_SUBJECT_PREFIX).toBe("minutes_demo");
    expect(protocolStreamWildcard(DEMO_SUBJECT_PREFIX)).not.toBe(
      protocolStreamWildcard(DEFAULT_SUBJECT_PREFIX),
    );
    expect(publicationEventWildcard(DEMO_SUBJECT_PREFIX)).not.toBe(
      publicationEventWildcard(DEFAULT_SUBJECT_PREFIX),
    );
  });
});
