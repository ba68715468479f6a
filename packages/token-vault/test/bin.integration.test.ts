import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runTs } from "./helpers/spawn.js";
import { makeTempVault, type TempVault } from "./helpers/temp-vault.js";

const TOKEN = "bin-plaintext-token-ü";
const key = ["--url", "https://example.com/wiki/", "--username", "alice"];

let temp: TempVault;
beforeEach(async () => {
  temp = await makeTempVault();
});
afterEach(async () => {
  await temp.cleanup();
});

describe("the minutes-vault executable", () => {
  it("exits 0, 1 and 2 as documented, with production scrypt parameters", async () => {
    const env = { VAULT_FILE: temp.file };
    const bin = (args: Array<string>, options: { env?: NodeJS.ProcessEnv; input?: string } = {}) =>
      runTs("src/bin.ts", args, {
        env: { ...env, ...options.env },
        ...(options.input === undefined ? {} : { input: options.input }),
      });

    const added = await bin(["add", ...key], { input: `right password\n${TOKEN}\n` });
    expect(added).toEqual({
      code: 0,
      stdout: `Saved the token for alice at https://example.com/wiki in ${temp.file}.\n`,
      stderr: "",
    });
    const stored = JSON.parse(await readFile(temp.file, "utf8"));
    expect(stored.entries[0].secret.kdf).toEqual({ name: "scrypt", N: 32768, r: 8, p: 3 });

    const got = await bin(["get", ...key], { env: { VAULT_PASSWORD: "right password" } });
    expect(got).toEqual({ code: 0, stdout: `${TOKEN}\n`, stderr: "" });

    const wrong = await bin(["get", ...key], { env: { VAULT_PASSWORD: "wrong password" } });
    expect(wrong).toEqual({
      code: 1,
      stdout: "",
      stderr: `minutes-vault: Wrong password for the token vault ${temp.file}.\n`,
    });

    const usage = await bin(["get", "--url", "https://example.com"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--username <name>' not specified");

    for (const result of [added, wrong, usage]) expect(result.stdout + result.stderr).not.toContain(TOKEN);
  }, 120_000);
});
