import { spawnSync } from "node:child_process";
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { Effect, Redacted } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimPathFor, lockProbes, withLock } from "../src/vault-file.js";
import { failureOf, makeTempVault, type TempVault, withVault } from "./helpers/temp-vault.js";

const password = Redacted.make("pw");
const url = "https://example.com";
const token = "secret-token";

let temp: TempVault;
beforeEach(async () => {
  temp = await makeTempVault();
});
afterEach(async () => {
  delete lockProbes.staleJudged;
  delete lockProbes.busy;
  await temp.cleanup();
});

const save = (username: string, options: { lock?: { timeoutMs?: number; staleMs?: number } } = {}) =>
  withVault({ file: temp.file, ...options }, (v) =>
    v.saveEncryptedToken({ url, username, token: Redacted.make(token), password }),
  );

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe("the vault file", () => {
  it("is created with mode 0600 in a directory created with mode 0700", async () => {
    await save("alice");
    expect(await modeOf(temp.file)).toBe(0o600);
    expect(await modeOf(dirname(temp.file))).toBe(0o700);
    expect(await modeOf(dirname(dirname(temp.file)))).toBe(0o700);
  });

  it("leaves no temporary or lock file behind after a write", async () => {
    await save("alice");
    await save("bob");
    expect(await readdir(dirname(temp.file))).toEqual(["tokens.vault"]);
  });

  it("warns when an existing file is readable by group or others, and tightens it on the next write", async () => {
    await save("alice");
    await chmod(temp.file, 0o644);
    const warnings: Array<string> = [];
    await withVault({ file: temp.file, onWarning: (m) => warnings.push(m) }, (v) => v.listSavedTokens());
    expect(warnings).toEqual([
      `${temp.file} is accessible by group or others (mode 0644); run \`chmod 600 ${temp.file}\`. The next change to the vault rewrites it with mode 0600.`,
    ]);
    await withVault({ file: temp.file, onWarning: (m) => warnings.push(m) }, (v) =>
      v.saveEncryptedToken({ url, username: "bob", token: Redacted.make(token), password }),
    );
    expect(await modeOf(temp.file)).toBe(0o600);
    warnings.length = 0;
    await withVault({ file: temp.file, onWarning: (m) => warnings.push(m) }, (v) => v.listSavedTokens());
    expect(warnings).toEqual([]);
  });

  it("waits for a lock held by a live process and fails with VaultIoError after the timeout", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), acquiredAt: Date.now(), nonce: "x" });
    await writeFile(`${temp.file}.lock`, lock);
    const error = await failureOf({ file: temp.file, lock: { timeoutMs: 300 } }, (v) =>
      v.saveEncryptedToken({ url, username: "alice", token: Redacted.make(token), password }),
    );
    expect(error._tag).toBe("VaultIoError");
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(await readFile(`${temp.file}.lock`, "utf8")).toBe(lock); // someone else's lock is never removed
  });

  it("takes over a lock whose process has exited", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    const exited = spawnSync(process.execPath, ["-e", ""]).pid;
    await writeFile(
      `${temp.file}.lock`,
      JSON.stringify({ pid: exited, host: hostname(), acquiredAt: Date.now(), nonce: "x" }),
    );
    await save("alice", { lock: { timeoutMs: 2_000 } });
    expect((await withVault({ file: temp.file }, (v) => v.listSavedTokens())).map((e) => e.username)).toEqual(
      ["alice"],
    );
  });

  it("takes over a lock older than the stale age even if its process still runs", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    await writeFile(
      `${temp.file}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), acquiredAt: Date.now() - 120_000, nonce: "x" }),
    );
    await save("alice", { lock: { timeoutMs: 2_000, staleMs: 60_000 } });
    expect(await readdir(dirname(temp.file))).toEqual(["tokens.vault"]);
  });

  it("lets exactly one of several writers that found the same stale lock take it over", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    const exited = spawnSync(process.execPath, ["-e", ""]).pid;
    await writeFile(
      `${temp.file}.lock`,
      JSON.stringify({ pid: exited, host: hostname(), acquiredAt: Date.now(), nonce: "x" }),
    );
    // Every writer judges the lock stale before any acts on it. The first then takes it over and
    // enters; the others act on their (now outdated) judgement only while it is inside, and it
    // stays inside until each of them has failed to get in twice (or one got in: the bug).
    const writers = 4;
    const state = { judged: 0, inside: 0, entered: 0, overlaps: 0, busyWhileInside: 0 };
    const waiters: Array<() => void> = [];
    const changed = () => {
      for (const wake of waiters.splice(0)) wake();
    };
    const until = async (condition: () => boolean) => {
      while (!condition()) await new Promise<void>((resolve) => waiters.push(resolve));
    };
    lockProbes.staleJudged = async () => {
      state.judged += 1;
      changed();
      if (state.judged === 1) await until(() => state.judged === writers);
      else await until(() => state.entered > 0);
    };
    lockProbes.busy = () => {
      if (state.entered > 0) state.busyWhileInside += 1;
      changed();
    };
    const critical = Effect.promise(async () => {
      state.inside += 1;
      state.entered += 1;
      if (state.inside > 1) state.overlaps += 1;
      changed();
      await until(() => state.overlaps > 0 || state.busyWhileInside >= 2 * (writers - 1));
      state.inside -= 1;
      changed();
    });
    await Promise.all(
      Array.from({ length: writers }, () =>
        Effect.runPromise(withLock(temp.file, { timeoutMs: 20_000, staleMs: 120_000 }, critical)),
      ),
    );
    expect(state).toMatchObject({ judged: writers, entered: writers, overlaps: 0 });
    expect(await readdir(dirname(temp.file))).toEqual([]); // no lock, claim or temp file left behind
  });

  it("takes over a stale lock whose previous taker died while removing it", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    const exited = spawnSync(process.execPath, ["-e", ""]).pid;
    const dead = (nonce: string) =>
      JSON.stringify({ pid: exited, host: hostname(), acquiredAt: Date.now(), nonce });
    await writeFile(`${temp.file}.lock`, dead("holder"));
    const claim = await claimPathFor(`${temp.file}.lock`);
    if (claim === undefined) throw new Error("no lock to claim");
    await writeFile(claim, dead("taker"));
    await save("alice", { lock: { timeoutMs: 5_000 } });
    expect(await readdir(dirname(temp.file))).toEqual(["tokens.vault"]);
  });

  it("reports an unwritable directory as VaultIoError with the system reason", async () => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions; simulate by making the directory path a file instead
      await mkdir(dirname(dirname(temp.file)), { recursive: true });
      await writeFile(dirname(temp.file), "not a directory");
    } else {
      await mkdir(dirname(temp.file), { recursive: true, mode: 0o500 });
    }
    const error = await failureOf({ file: temp.file }, (v) =>
      v.saveEncryptedToken({ url, username: "alice", token: Redacted.make(token), password }),
    );
    expect(error._tag).toBe("VaultIoError");
    expect(error.message).toMatch(/^Could not .+: E[A-Z]+: /);
    expect(error.message).not.toContain("\n    at ");
  });
});
