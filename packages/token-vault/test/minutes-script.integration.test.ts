// `./minutes vault …` from the repository root script, as a shell script would use it: relative
// paths mean the caller's directory, stdout carries only the command's output, and the exit
// code is the CLI's. Runs the real script (it builds the CLI first if it is missing). And the
// script's first run on a fresh checkout: one line while it installs, pnpm's output only on failure.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
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

const minutes = (
  args: ReadonlyArray<string>,
  cwd: string,
  env: Record<string, string>,
  stdin = "",
  at = script,
) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      at,
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

describe("./minutes on a fresh checkout", () => {
  /**
   * A copy of the script in a directory with a lockfile and no node_modules, and a `pnpm` first
   * on the PATH that answers the pinned version and installs as pnpm does on a fresh checkout:
   * progress on stdout, warnings on stderr (`FAKE_INSTALL_FAILS`: then an error, exit 1).
   */
  const freshCheckout = () => {
    const dir = mkdtempSync(join(tmpdir(), "minutes-fresh-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(script, join(dir, "minutes"));
    writeFileSync(join(dir, "pnpm-lock.yaml"), "lockfileVersion: '9.0'\n");
    const pinned = /^PNPM_VERSION=(.+)$/m.exec(readFileSync(script, "utf8"))?.[1];
    const fakeBin = join(dir, "fake-bin");
    mkdirSync(fakeBin);
    writeFileSync(
      join(fakeBin, "pnpm"),
      [
        "#!/usr/bin/env bash",
        `[ "$1" = --version ] && { echo ${pinned}; exit 0; }`,
        `echo "pnpm $*" >> "${join(dir, "pnpm-calls")}"`,
        'echo "Progress: resolved 387, reused 386, downloaded 0, added 387, done"',
        `echo " WARN  Failed to create bin at ${dir}/apps/demo/node_modules/.bin/minutes-vault." >&2`,
        '[ -n "$FAKE_INSTALL_FAILS" ] && { echo " ERR_PNPM_FAKE  the install broke" >&2; exit 1; }',
        "mkdir -p node_modules && touch node_modules/.modules.yaml",
      ].join("\n"),
    );
    chmodSync(join(fakeBin, "pnpm"), 0o755);
    return {
      dir,
      run: (env: Record<string, string> = {}) =>
        minutes(["help"], dir, { PATH: `${fakeBin}:${process.env.PATH}`, ...env }, "", join(dir, "minutes")),
      calls: () => readFileSync(join(dir, "pnpm-calls"), "utf8"),
    };
  };

  it("installs from the lockfile saying one line, not pnpm's output", async () => {
    const fresh = freshCheckout();
    const run = await fresh.run();
    expect(run.stderr).toBe("minutes: installing dependencies from the lockfile\n");
    expect(run.stdout).toContain("./minutes demo [args]");
    expect(run.status).toBe(0);
    expect(fresh.calls()).toBe("pnpm install --frozen-lockfile\n");
    // Installed: the next run does not install again.
    expect(await fresh.run()).toMatchObject({ status: 0, stderr: "" });
  });

  it("shows the install's output when it fails, says so and runs nothing", async () => {
    const fresh = freshCheckout();
    const run = await fresh.run({ FAKE_INSTALL_FAILS: "1" });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      [
        "minutes: installing dependencies from the lockfile",
        "Progress: resolved 387, reused 386, downloaded 0, added 387, done",
        ` WARN  Failed to create bin at ${fresh.dir}/apps/demo/node_modules/.bin/minutes-vault.`,
        " ERR_PNPM_FAKE  the install broke",
        "minutes: the install failed (above); nothing was started",
        "",
      ].join("\n"),
    );
  });

  it("gives pnpm executables to link that exist before the build, and the vault's runs the CLI", async () => {
    // A bin into dist/ is missing on a fresh checkout: pnpm warns once per dependent and links nothing.
    const manifests = execFileSync("git", ["ls-files", "apps/*/package.json", "packages/*/package.json"], {
      cwd: repo,
      encoding: "utf8",
    })
      .split("\n")
      .filter((line) => line !== "");
    const bins = manifests.flatMap((manifest) => {
      const bin = (JSON.parse(readFileSync(join(repo, manifest), "utf8")) as { bin?: Record<string, string> })
        .bin;
      return Object.values(bin ?? {}).map((target) => join(manifest, "..", target));
    });
    expect(bins).toEqual(
      expect.arrayContaining([
        "packages/token-vault/bin/minutes-vault.js",
        "packages/confluence-sandbox/bin/confluence-sandbox.js",
      ]),
    );
    // In the checkout, not ignored by git (as dist/ is): a fresh clone has them.
    const ignored = (path: string) =>
      spawnSync("git", ["check-ignore", "-q", path], { cwd: repo }).status === 0;
    for (const bin of bins)
      expect({ bin, exists: existsSync(join(repo, bin)), ignored: ignored(bin) }).toEqual({
        bin,
        exists: true,
        ignored: false,
      });
    const help = await minutes(
      ["--help"],
      repo,
      {},
      "",
      join(repo, "packages/token-vault/bin/minutes-vault.js"),
    );
    expect(help).toMatchObject({ status: 0, stderr: "" });
    expect(help.stdout).toMatch(/^Usage: minutes-vault /);
  });
});
