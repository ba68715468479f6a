import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@minutes/contracts";
import { Either } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { deleteStreams, eventually, NATS_URL, protocolBody, unique } from "./helpers/harness.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
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
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toContain('"msg":"gateway stopped"');
    expect(out).not.toContain("main-secret-key-1");
  }, 90_000);
});
