import { Redacted } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listSavedTokens, loadEncryptedToken } from "../src/index.js";
import { finished, printed, spawnTs } from "./helpers/spawn.js";
import { FAST_KDF, makeTempVault, type TempVault } from "./helpers/temp-vault.js";

let temp: TempVault;
beforeEach(async () => {
  temp = await makeTempVault();
});
afterEach(async () => {
  await temp.cleanup();
});

describe("TokenVault across processes", () => {
  it("loses no entry when two processes add tokens at the same time", async () => {
    const perWriter = 8;
    const writers = ["w1", "w2"].map((prefix) =>
      spawnTs("test/helpers/add-entries.ts", [temp.file, prefix, String(perWriter)]),
    );
    const results = writers.map(finished);
    await Promise.all(writers.map((w) => printed(w, "ready")));
    for (const w of writers) w.stdin?.end("go\n");
    const outcomes = await Promise.all(results);
    for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 0, stderr: "" });

    const list = await listSavedTokens({ file: temp.file });
    expect(list.map((e) => e.username).sort()).toEqual(
      ["w1", "w2"].flatMap((p) => Array.from({ length: perWriter }, (_, i) => `${p}-${i}`)).sort(),
    );
    const sample = await loadEncryptedToken({
      file: temp.file,
      kdf: FAST_KDF,
      url: "https://example.com/wiki",
      username: "w2-7",
      password: Redacted.make("shared password"),
    });
    expect(Redacted.value(sample)).toBe("token-w2-7");
  }, 120_000);
});
