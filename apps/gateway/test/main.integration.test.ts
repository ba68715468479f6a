import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@minutes/contracts";
import { runSourceMain } from "@minutes/vitest-config/main-process";
import { Either } from "effect";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { deleteStreams, eventually, NATS_URL, protocolBody, unique } from "./helpers/harness.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await cleanUp(...cleanups.splice(0).reverse());
});

describe("main", () => {
  it("serves, then on SIGTERM finishes, drains and exits 0 without logging the API key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const id = unique();
    const env = {
      PATH: process.env.PATH,
      NATS_URL,
      MINUTES_NATS__STREAM: `T_${id}`,
      MINUTES_NATS__SUBJECT_PREFIX: `t_${id}`,
      MINUTES_GATEWAY__PORT: "0",
      MINUTES_GATEWAY__API_KEYS: "main-secret-key-1",
      MINUTES_DATABASE__SQLITE_PATH: join(dir, "store.sqlite"),
    };
    cleanups.push(() => deleteStreams(Either.getOrThrow(loadConfig({ env }))));
    const child: ChildProcess = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=@minutes/source", "src/main.ts"],
      {
        cwd: root,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout?.on("data", (d) => {
      out += String(d);
    });
    child.stderr?.on("data", (d) => {
      out += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    const address = await eventually(() => /"address":"(http:[^"]+)"/.exec(out)?.[1], {
      timeoutMs: 60_000,
      what: "the gateway to listen",
    });
    const res = await fetch(`${address}/api/protocols`, {
      method: "POST",
      headers: { authorization: "Bearer main-secret-key-1", "content-type": "application/json" },
      body: JSON.stringify(protocolBody("main-1")),
    });
    expect(res.status).toBe(202);
    // Which file it opened: the publishers must open the same one.
    expect(out).toContain(
      `"database":{"type":"sqlite","path":${JSON.stringify(env.MINUTES_DATABASE__SQLITE_PATH)}}`,
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"gateway stopped"');
    expect(out).not.toContain("main-secret-key-1");
  }, 90_000);

  it("refuses to start on a PostgreSQL database that does not exist: one line, exit 1, no password, nothing created", async () => {
    const PG_URL = process.env.PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
    const admin = async (sql: string, params: ReadonlyArray<string> = []) => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        return (await client.query(sql, [...params])).rowCount;
      } finally {
        await client.end();
      }
    };
    const id = unique();
    const missing = `minutes_missing_${id}`;
    // A gateway that starts anyway (creating the database, the streams) leaves nothing behind.
    cleanups.push(async () => void (await admin(`drop database if exists ${missing} with (force)`)));
    const url = new URL(PG_URL);
    url.password = "pg-secret-pw-9";
    url.pathname = `/${missing}`;
    const env = {
      NATS_URL,
      MINUTES_NATS__STREAM: `T_${id}`,
      MINUTES_NATS__SUBJECT_PREFIX: `t_${id}`,
      MINUTES_GATEWAY__PORT: "0",
      MINUTES_DATABASE__TYPE: "postgresql",
      DATABASE_URL: url.toString(),
    };
    cleanups.push(() => deleteStreams(Either.getOrThrow(loadConfig({ env }))));
    const result = await runSourceMain(root, [], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `minutes-gateway: cannot start: database "${missing}" does not exist on ${url.hostname}:${url.port || 5432}; create it (CREATE DATABASE "${missing}") or fix database.url\n`,
    );
    expect(result.stdout + result.stderr).not.toContain("pg-secret-pw-9");
    expect(await admin("select 1 from pg_database where datname = $1", [missing])).toBe(0);
  }, 60_000);

  it("stops at start naming PostgreSQL and its address, never the password, when it cannot be reached", async () => {
    const id = unique();
    const env = {
      NATS_URL,
      MINUTES_NATS__STREAM: `T_${id}`,
      MINUTES_NATS__SUBJECT_PREFIX: `t_${id}`,
      MINUTES_GATEWAY__PORT: "0",
      MINUTES_DATABASE__TYPE: "postgresql",
      // Port 1: nothing listens there.
      DATABASE_URL: "postgresql://minutes:pg-secret-pw-9@127.0.0.1:1/minutes",
    };
    cleanups.push(() => deleteStreams(Either.getOrThrow(loadConfig({ env }))));
    const result = await runSourceMain(root, [], env);
    expect(result.stderr).toBe(
      "minutes-gateway: cannot start: publication store unavailable during open: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused\n",
    );
    expect(result.status).toBe(1);
    expect(result.stdout + result.stderr).not.toContain("pg-secret-pw-9");
  }, 60_000);
});
