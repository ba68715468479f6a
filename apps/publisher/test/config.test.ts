// The `minutes-publisher` process refuses what it cannot use before connecting anywhere: a
// command line it does not understand (exit 2), a bad configuration (exit 1, secrets never
// shown), a CA file it cannot read (exit 1). Each case runs `src/main.ts` as a real process.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runSourceMain } from "@minutes/vitest-config/main-process";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const dirs: Array<string> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "minutes-publisher-config-"));
  dirs.push(dir);
  return dir;
};

/** `src/main.ts` as a real process; NATS is unreachable, so one that wrongly starts touches nothing. */
const runMain = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runSourceMain(root, args, env);
const USAGE = "usage: minutes-publisher [--config <file>] [--help]";

describe("minutes-publisher", () => {
  it("exits 2 with one usage line for a command line it does not understand, instead of starting on defaults", async () => {
    // MINUTES_CONFIG names a file that does not exist: reading it would be exit 1, not 2.
    const env = { MINUTES_CONFIG: join(tempDir(), "bad.json") };
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--config"], "--config needs a file name"],
      [["--confg", "f.json"], "unknown option --confg (did you mean --config?)"],
      [["f.json"], 'unexpected argument "f.json" (a config file is given as --config <file>)'],
    ];
    const results = await Promise.all(cases.map(([args]) => runMain(args, env)));
    cases.forEach(([args, problem], i) => {
      expect(results[i]?.stderr, args.join(" ")).toBe(`minutes-publisher: ${problem}; ${USAGE}\n`);
      expect(results[i]?.status, args.join(" ")).toBe(2);
    });
  });

  it("prints its usage for --help and exits 0", async () => {
    const result = await runMain(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: minutes-publisher \[--config <file>\] \[--help\]\n/);
  });

  it("exits 1 naming each bad key, never showing a secret", async () => {
    const file = join(tempDir(), "f.json");
    writeFileSync(
      file,
      JSON.stringify({ confluence: { api_token: 123456789 }, gateway: { api_keys: "SECRET-APIKEY" } }),
    );
    const result = await runMain(["--config", file], {
      MINUTES_CONFLUENCE__ENCRYPTION_KEY: "[",
      LOG_LEVEL: "INFO",
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      `minutes-publisher: confluence.api_token: expected a string, got a number (not shown: the key is secret) (from ${file})`,
      `minutes-publisher: gateway.api_keys: expected a list of strings, got a string (not shown: the key is secret) (from ${file})`,
    ]);
    expect(result.stderr).not.toMatch(/123456789|SECRET/);
  });

  it("reads a relative --config or MINUTES_CONFIG from where the command was typed (INIT_CWD), not from apps/publisher", async () => {
    // `pnpm --filter @minutes/publisher start --config config.json` from the repository root runs
    // us in apps/publisher with INIT_CWD the root: the file is the root's.
    const typedIn = tempDir();
    const file = join(typedIn, "config.json");
    writeFileSync(file, JSON.stringify({ nats: { concurrency: 0 } }));
    const [flag, variable] = await Promise.all([
      runMain(["--config", "config.json"], { INIT_CWD: typedIn }),
      runMain([], { INIT_CWD: typedIn, MINUTES_CONFIG: "config.json" }),
    ]);
    for (const result of [flag, variable]) {
      expect(result.stderr).toBe(
        `minutes-publisher: nats.concurrency: expected a whole number greater than 0, got 0 (from ${file})\n`,
      );
      expect(result.status).toBe(1);
    }
  });

  it("exits 1 at start, naming the key and the path, when confluence.ca_file cannot be read", async () => {
    const result = await runMain([], { MINUTES_CONFLUENCE__CA_FILE: "/nonexistent/ca.pem" });
    expect(result.stderr).toBe(
      "minutes-publisher: cannot start: confluence.ca_file: cannot read /nonexistent/ca.pem (ENOENT)\n",
    );
    expect(result.status).toBe(1);
  });

  it("exits 1 at start naming NATS and its address, without credentials, when NATS cannot be reached", async () => {
    // Port 1: nothing listens there. The same words as the gateway's.
    const result = await runMain([], { NATS_URL: "nats://minutes:nats-s3cret@127.0.0.1:1" });
    expect(result.stderr).toBe(
      "minutes-publisher: cannot start: cannot connect to NATS at nats://127.0.0.1:1: connection refused\n",
    );
    expect(result.status).toBe(1);
  });

  it("exits 1 naming the proxy variable, never its value, when a proxy URL cannot be used", async () => {
    const result = await runMain([], { HTTPS_PROXY: "proxyuser:pw-secret@127.0.0.1:4297" });
    expect(result.stderr).toBe(
      "minutes-publisher: HTTPS_PROXY: must be an http:// or https:// URL (expected http://[user:password@]host:port)\n",
    );
    expect(result.status).toBe(1);
  });

  it("accepts a proxy URL with user and password and goes on to start", async () => {
    // NATS_URL (set by runSourceMain) points nowhere: failing to connect means the proxy was accepted.
    const result = await runMain([], {
      HTTPS_PROXY: "http://proxyuser:pw-secret@127.0.0.1:4297",
    });
    expect(result.stderr).toMatch(/^minutes-publisher: cannot start: /);
    expect(result.stderr).not.toMatch(/proxy|pw-secret/i);
  });
});
