// `./minutes vault …` from the repository root script, as a shell script would use it: relative
// paths mean the caller's directory, stdout carries only the command's output, and the exit
// code is the CLI's. Runs the real script (it builds the CLI first if it is missing).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const script = join(repo, "minutes");
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const minutes = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string>, stdin = "") =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      script,
      [...args],
      // INIT_CWD as pnpm leaves it for a child: it must not win over where the command was typed.
      { cwd, env: { ...process.env, INIT_CWD: repo, ...env }, encoding: "utf8", timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({
          status: error === null ? 0 : typeof error.code === "number" ? error.code : null,
          stdout,
          stderr,
        }),
    );
    child.stdin?.end(stdin);
  });

describe("./minutes vault", () => {
  it("resolves a relative --file against the caller's directory and prints only the command's output", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minutes-script-"));
    const name = `rel-${process.pid}-${Date.now()}.vault`;
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => rmSync(join(repo, name), { force: true }));
    const key = ["--url", "https://example.com/wiki", "--username", "alice"];

    const added = await minutes(["vault", "--file", name, "add", ...key], dir, {}, "pw\nmy-token\n");
    expect(added.stderr).toBe("");
    expect(added.stdout).toBe(
      `Saved the token for alice at https://example.com/wiki in ${join(dir, name)}.\n`,
    );
    expect(added.status).toBe(0);
    expect(existsSync(join(dir, name))).toBe(true);
    expect(existsSync(join(repo, name))).toBe(false);

    const got = await minutes(["vault", "--file", name, "get", ...key], dir, { VAULT_PASSWORD: "pw" });
    expect(got).toEqual({ status: 0, stdout: "my-token\n", stderr: "" });

    const wrong = await minutes(["vault", "--file", name, "get", ...key], dir, { VAULT_PASSWORD: "bad" });
    expect(wrong).toEqual({
      status: 1,
      stdout: "",
      stderr: `minutes-vault: Wrong password for the token vault ${join(dir, name)}.\n`,
    });

    const usage = await minutes(["vault", "get"], dir, {});
    expect(usage.status).toBe(2);
    expect(usage.stdout).toBe("");
    expect(usage.stderr).not.toContain("ELIFECYCLE");
  }, 180_000);
});
