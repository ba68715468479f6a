import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Either, Redacted } from "effect";
import { describe, expect, it } from "vitest";
import { formatConfigIssues, tryReadConfig } from "../src/config.js";

const root = fileURLToPath(new URL("..", import.meta.url));

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
    const issues = Either.getLeft(
      tryReadConfig([], { MINUTES_GATEWAY__PORT: "eighty", MINUTES_GATEWAY__RATE_LIMIT_PER_MINUTE: "0" }),
    );
    expect(issues._tag).toBe("Some");
    const lines = formatConfigIssues(issues._tag === "Some" ? issues.value : []);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^minutes-gateway: configuration error: gateway\.port: expected a number/);
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
});
