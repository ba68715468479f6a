import { Redacted } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  changePassword,
  deleteToken,
  listSavedTokens,
  loadEncryptedToken,
  loadEncryptedTokenWithInfo,
  saveEncryptedToken,
  setTokenExpiry,
  VaultEntryNotFoundError,
  VaultWrongPasswordError,
} from "../src/index.js";
import { FAST_KDF, makeTempVault, type TempVault } from "./helpers/temp-vault.js";

let temp: TempVault;
beforeEach(async () => {
  temp = await makeTempVault();
});
afterEach(async () => {
  await temp.cleanup();
});

describe("the Promise API", () => {
  it("saves, loads, lists, re-keys and deletes like the service", async () => {
    const options = { file: temp.file, kdf: FAST_KDF };
    const key = { url: "https://example.com/", username: "alice" };
    const password = Redacted.make("pw");
    await saveEncryptedToken({ ...options, ...key, token: Redacted.make("tok"), password });
    expect(Redacted.value(await loadEncryptedToken({ ...options, ...key, password }))).toBe("tok");
    expect((await listSavedTokens(options)).map((e) => e.url)).toEqual(["https://example.com"]);
    const next = Redacted.make("pw2");
    expect(await changePassword(password, next, options)).toBe(1);
    await deleteToken({ ...options, ...key, password: next });
    expect(await listSavedTokens(options)).toEqual([]);
  });

  it("records, reads and clears a token's expiry like the service", async () => {
    const options = { file: temp.file, kdf: FAST_KDF };
    const key = { url: "https://example.com", username: "alice" };
    const password = Redacted.make("pw");
    const expiresAt = new Date("2026-12-05T23:59:59.000Z");
    await saveEncryptedToken({ ...options, ...key, token: Redacted.make("tok"), password, expiresAt });
    expect((await listSavedTokens(options))[0]?.expiresAt).toEqual(expiresAt);
    const loaded = await loadEncryptedTokenWithInfo({ ...options, ...key, password });
    expect([Redacted.value(loaded.token), loaded.info.expiresAt]).toEqual(["tok", expiresAt]);
    await setTokenExpiry({ ...options, ...key, password, expiresAt: null });
    expect((await listSavedTokens(options))[0]?.expiresAt).toBeNull();
    await expect(
      setTokenExpiry({ ...options, ...key, password: Redacted.make("bad"), expiresAt }),
    ).rejects.toBeInstanceOf(VaultWrongPasswordError);
  });

  it("rejects with the tagged error instances, so instanceof works", async () => {
    const options = { file: temp.file, kdf: FAST_KDF };
    const key = { url: "https://example.com", username: "alice" };
    await expect(
      loadEncryptedToken({ ...options, ...key, password: Redacted.make("pw") }),
    ).rejects.toBeInstanceOf(VaultEntryNotFoundError);
    await saveEncryptedToken({
      ...options,
      ...key,
      token: Redacted.make("tok"),
      password: Redacted.make("pw"),
    });
    await expect(
      loadEncryptedToken({ ...options, ...key, password: Redacted.make("bad") }),
    ).rejects.toBeInstanceOf(VaultWrongPasswordError);
  });
});
