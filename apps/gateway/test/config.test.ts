import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runSourceMain } from "@minutes/vitest-config/main-process";
import { Either, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { configFailure, formatConfigIssues, readProxySettings, tryReadConfig } from "../src/config.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dirs: Array<string> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "minutes-gateway-config-"));
  dirs.push(dir);
  return dir;
};

/** `src/main.ts` as a real process; NATS is unreachable, so one that wrongly starts touches nothing. */
const runMain = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runSourceMain(root, args, env);
const USAGE = "usage: minutes-gateway [--config <file>] [--help]";

describe("configuration", () => {
  it("reads defaults and environment variables, API keys as Redacted", () => {
    const config = Either.getOrThrow(
      tryReadConfig([], {
        MINUTES_GATEWAY__PORT: "9090",
        MINUTES_GATEWAY__API_KEYS: "k1,k2",
        NATS_URL: "nats://n:4222",
      }),
    );
    expect(config.gateway.port).toBe(9090);
    expect(config.gateway.api_keys.map(Redacted.value)).toEqual(["k1", "k2"]);
    expect(String(config.gateway.api_keys[0])).not.toContain("k1");
    expect(config.nats.url).toBe("nats://n:4222");
    expect(config.gateway.body_limit_bytes).toBe(1_048_576);
  });

  it("formats one line per issue", () => {
    const result = tryReadConfig([], {
      MINUTES_GATEWAY__PORT: "eighty",
      MINUTES_GATEWAY__RATE_LIMIT_PER_MINUTE: "0",
    });
    if (Either.isRight(result) || result.left._tag !== "ConfigError") throw new Error("expected issues");
    const lines = formatConfigIssues(result.left.issues);
    expect(lines).toEqual([
      'minutes-gateway: configuration error: gateway.port: expected a number, got "eighty" (from environment variable MINUTES_GATEWAY__PORT)',
      "minutes-gateway: configuration error: gateway.rate_limit_per_minute: expected a whole number greater than 0, got 0 (from environment variable MINUTES_GATEWAY__RATE_LIMIT_PER_MINUTE)",
    ]);
  });

  it("main exits 1 with one clear line per issue and no stack trace", () => {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "--conditions=@minutes/source", "src/main.ts"],
      {
        cwd: root,
        env: { PATH: process.env.PATH, MINUTES_GATEWAY__PORT: "-1", MINUTES_NATS__STREAM: "bad stream!" },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines)
      expect(line).toMatch(/^minutes-gateway: configuration error: (gateway\.port|nats\.stream): /);
    expect(result.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it("main exits 2 with one usage line for a command line it does not understand, instead of starting on defaults", async () => {
    const dir = tempDir();
    // MINUTES_CONFIG names a file that does not exist: reading it would be exit 1, not 2.
    const env = { MINUTES_CONFIG: join(dir, "bad.json") };
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--config"], "--config needs a file name"],
      [["--confg", "f.json"], "unknown option --confg (did you mean --config?)"],
      [["f.json"], 'unexpected argument "f.json" (a config file is given as --config <file>)'],
    ];
    const results = await Promise.all(cases.map(([args]) => runMain(args, env)));
    cases.forEach(([args, problem], i) => {
      expect(results[i]?.stderr, args.join(" ")).toBe(`minutes-gateway: ${problem}; ${USAGE}\n`);
      expect(results[i]?.status, args.join(" ")).toBe(2);
    });
  });

  it("main prints its usage for --help and exits 0", async () => {
    const result = await runMain(["--help"], {});
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: minutes-gateway \[--config <file>\] \[--help\]\n/);
  });

  it("main never prints a secret of a bad configuration", async () => {
    const dir = tempDir();
    const file = join(dir, "f.json");
    writeFileSync(
      file,
      JSON.stringify({ confluence: { api_token: 123456789 }, gateway: { api_keys: "SECRET-APIKEY" } }),
    );
    const result = await runMain(["--config", file], {
      MINUTES_CONFLUENCE__ENCRYPTION_KEY: "x",
      MINUTES_DATABASE__URL: "mysql://u:SECRET-PW@db/minutes",
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      `minutes-gateway: configuration error: confluence.api_token: expected a string, got a number (not shown: the key is secret) (from ${file})`,
      "minutes-gateway: configuration error: database.url: expected a PostgreSQL URL like postgresql://user:password@host:5432/minutes, got a URL that does not start with postgres:// or postgresql:// (not shown: it may hold a password) (from environment variable MINUTES_DATABASE__URL)",
      `minutes-gateway: configuration error: gateway.api_keys: expected a list of strings, got a string (not shown: the key is secret) (from ${file})`,
    ]);
    expect(result.stderr).not.toMatch(/123456789|SECRET/);
  });

  it("reads a relative --config or MINUTES_CONFIG from where the command was typed (INIT_CWD), else the working directory", () => {
    // `pnpm --filter @minutes/gateway start --config config.json` from the repository root runs us
    // in apps/gateway with INIT_CWD the root: the file is the root's.
    const typedIn = tempDir();
    writeFileSync(join(typedIn, "config.json"), JSON.stringify({ gateway: { port: 9123 } }));
    const port = (argv: ReadonlyArray<string>, env: Record<string, string>) =>
      Either.map(tryReadConfig(argv, env), (c) => c.gateway.port);
    expect(port(["--config", "config.json"], { INIT_CWD: typedIn })).toEqual(Either.right(9123));
    expect(port([], { INIT_CWD: typedIn, MINUTES_CONFIG: "config.json" })).toEqual(Either.right(9123));
    // Without INIT_CWD (node dist/main.js, a container): the working directory.
    const missing = tryReadConfig(["--config", "no-such-config.json"], {});
    expect(Either.isLeft(missing) && missing.left.message).toBe(
      `cannot read config file ${join(process.cwd(), "no-such-config.json")}: no such file`,
    );
  });

  it("main reads a relative --config from INIT_CWD, not from apps/gateway", async () => {
    const typedIn = tempDir();
    writeFileSync(join(typedIn, "config.json"), JSON.stringify({ gateway: { port: "eighty" } }));
    const result = await runMain(["--config", "config.json"], { INIT_CWD: typedIn });
    expect(result.stderr).toBe(
      `minutes-gateway: configuration error: gateway.port: expected a number, got "eighty" (from ${join(typedIn, "config.json")})\n`,
    );
    expect(result.status).toBe(1);
  });

  it("refuses an empty gateway.host, which would listen on every interface", () => {
    const result = tryReadConfig([], { MINUTES_GATEWAY__HOST: "" });
    expect(Either.isLeft(result) && configFailure(result.left)).toEqual({
      lines: [
        'minutes-gateway: configuration error: gateway.host: expected a host name or IP address to listen on (0.0.0.0 or :: for every interface), got "" (from environment variable MINUTES_GATEWAY__HOST)',
      ],
      exitCode: 1,
    });
  });

  it("main stops at start, exit 1, when confluence.ca_file cannot be read, naming the key and the path", async () => {
    const dir = tempDir();
    const notPem = join(dir, "ca.txt");
    writeFileSync(notPem, "not a certificate");
    const [missing, garbage] = await Promise.all([
      runMain([], { MINUTES_CONFLUENCE__CA_FILE: "/nonexistent/ca.pem" }),
      runMain([], { MINUTES_CONFLUENCE__CA_FILE: notPem }),
    ]);
    expect(missing.stderr).toBe(
      "minutes-gateway: cannot start: confluence.ca_file: cannot read /nonexistent/ca.pem (ENOENT)\n",
    );
    expect(missing.status).toBe(1);
    expect(garbage.stderr).toBe(
      `minutes-gateway: cannot start: confluence.ca_file: ${notPem} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)\n`,
    );
    expect(garbage.status).toBe(1);
  });

  it("main stops at start, exit 1, naming NATS and its address without credentials, when NATS cannot be reached", async () => {
    // Port 1: nothing listens there.
    const result = await runMain([], { NATS_URL: "nats://minutes:nats-s3cret@127.0.0.1:1" });
    expect(result.stderr).toBe(
      "minutes-gateway: cannot start: cannot connect to NATS at nats://127.0.0.1:1: connection refused\n",
    );
    expect(result.status).toBe(1);
  });

  it("main refuses a NATS_URL that does not decode without printing its password", async () => {
    const result = await runMain([], { NATS_URL: "tls://u:SENTINEL-PW@127.0.0.1:14222 x" });
    expect(result.stderr).toBe(
      'minutes-gateway: configuration error: nats.url: expected a NATS URL like nats://host:4222 (several separated by commas), got "tls://127.0.0.1:14222 x" (from environment variable NATS_URL)\n',
    );
    expect(result.stdout + result.stderr).not.toContain("SENTINEL");
    expect(result.status).toBe(1);
  });

  it("reads the proxy from the environment, credentials included, and refuses a bad one in one line without its value", () => {
    expect(
      readProxySettings({ https_proxy: "http://u:pw@proxy:3128", NO_PROXY: "localhost", HTTP_PROXY: "" }),
    ).toEqual(Either.right({ httpsProxy: "http://u:pw@proxy:3128", noProxy: "localhost" }));
    const bad = readProxySettings({ HTTP_PROXY: "proxyuser:pw-secret@127.0.0.1:4297" });
    expect(bad).toEqual(
      Either.left(
        "minutes-gateway: configuration error: HTTP_PROXY: must be an http:// or https:// URL (expected http://[user:password@]host:port)",
      ),
    );
  });
});
