import { chmod, copyFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Effect, Redacted, TestClock, TestContext } from "effect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CURRENT_ENVELOPE_VERSION, DEFAULT_KDF, TokenVault, VaultCorruptError } from "../src/index.js";
import { FAST_KDF, failureOf, makeTempVault, type TempVault, withVault } from "./helpers/temp-vault.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
const password = Redacted.make("correct horse battery staple");
const url = "https://example.atlassian.net/wiki";
const username = "alice@example.com";
const token = "ATATT3xFfGF0-plaintext-token-value";

interface FileJson {
  check: { v: number; kdf: { N: number }; ct: string };
  version: number;
  entries: Array<{
    url: string;
    username: string;
    createdAt: string;
    updatedAt: string;
    expiresAt?: string;
    secret: { v: number; kdf: { N: number }; ct: string; salt: string; iv: string };
  }>;
}
const readJson = async (file: string): Promise<FileJson> =>
  JSON.parse(await readFile(file, "utf8")) as FileJson;

let temp: TempVault;
beforeEach(async () => {
  temp = await makeTempVault();
});
afterEach(async () => {
  await temp.cleanup();
});

const save = (t: string, key: { url: string; username: string } = { url, username }, pw = password) =>
  withVault({ file: temp.file }, (v) =>
    v.saveEncryptedToken({ ...key, token: Redacted.make(t), password: pw }),
  );
const load = (key: { url: string; username: string } = { url, username }, pw = password) =>
  withVault({ file: temp.file }, (v) => v.loadEncryptedToken({ ...key, password: pw })).then(Redacted.value);

describe("TokenVault", () => {
  it("returns the saved token when loaded with the same password", async () => {
    await save(token);
    expect(await load()).toBe(token);
  });

  it("round-trips a token with the production scrypt parameters", async () => {
    await withVault({ file: temp.file, kdf: DEFAULT_KDF }, (v) =>
      v.saveEncryptedToken({ url, username, token: Redacted.make(token), password }),
    );
    const loaded = await withVault({ file: temp.file, kdf: DEFAULT_KDF }, (v) =>
      v.loadEncryptedToken({ url, username, password }),
    );
    expect(Redacted.value(loaded)).toBe(token);
    const json = await readJson(temp.file);
    // OWASP's minimum for 32 MiB: N = 2^15, r = 8, p = 3.
    expect(json.entries[0]?.secret.kdf).toEqual({ name: "scrypt", N: 32768, r: 8, p: 3 });
    expect(json.check.kdf).toEqual({ name: "scrypt", N: 32768, r: 8, p: 3 });
  }, 60_000);

  it("opens a vault sealed with the earlier default (p = 1) and re-seals it with p = 3 on the next write", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    await copyFile(join(FIXTURES, "vault-p1.json"), temp.file);
    await chmod(temp.file, 0o600);
    const earlier = { url: "https://earlier.example.com/wiki", username: "earlier@example.com" };
    const production = { file: temp.file, kdf: DEFAULT_KDF };
    const loadEarlier = () =>
      withVault(production, (v) => v.loadEncryptedToken({ ...earlier, password })).then(Redacted.value);
    expect(await loadEarlier()).toBe("earlier-release-token-✓");
    expect((await readJson(temp.file)).entries[0]?.secret.kdf).toEqual({
      name: "scrypt",
      N: 32768,
      r: 8,
      p: 1,
    });

    await withVault(production, (v) =>
      v.saveEncryptedToken({ url, username, token: Redacted.make(token), password }),
    );
    const json = await readJson(temp.file);
    expect(json.check.kdf).toEqual({ name: "scrypt", N: 32768, r: 8, p: 3 });
    expect(json.entries.map((e) => [e.username, e.secret.kdf])).toEqual([
      ["earlier@example.com", { name: "scrypt", N: 32768, r: 8, p: 3 }],
      [username, { name: "scrypt", N: 32768, r: 8, p: 3 }],
    ]);
    // Re-sealed, not re-made: its dates and expiry stay.
    expect(json.entries[0]).toMatchObject({
      createdAt: "2026-11-28T04:57:12.063Z",
      expiresAt: "2027-03-04T23:59:59.000Z",
    });
    expect(await loadEarlier()).toBe("earlier-release-token-✓");
  }, 60_000);

  it("finds a token under a differently spelled but equivalent URL", async () => {
    await save(token, { url: "HTTPS://Example.Atlassian.NET:443/wiki/", username });
    expect(await load({ url: "https://example.atlassian.net/wiki", username })).toBe(token);
  });

  it("keeps Unicode and 10 KB tokens intact", async () => {
    const unicode = "tøkén-✓-🔑-日本語-\u0000-end";
    const long = "x".repeat(5_000) + "ü".repeat(2_600);
    await save(unicode, { url, username: "unicode" });
    await save(long, { url, username: "long" });
    expect(await load({ url, username: "unicode" })).toBe(unicode);
    expect(await load({ url, username: "long" })).toBe(long);
    expect(Buffer.byteLength(long)).toBeGreaterThan(10_000);
  });

  it("never writes the plaintext token to the file", async () => {
    await save(token);
    await save("second-secret-token", { url, username: "bob" });
    const text = await readFile(temp.file, "utf8");
    expect(text).not.toContain(token);
    expect(text).not.toContain("second-secret-token");
    expect(text).not.toContain(Redacted.value(password));
  });

  it("seals every entry with its own salt and nonce", async () => {
    await save(token, { url, username: "a" });
    await save(token, { url, username: "b" });
    const [a, b] = (await readJson(temp.file)).entries;
    expect(a?.secret.salt).not.toBe(b?.secret.salt);
    expect(a?.secret.iv).not.toBe(b?.secret.iv);
    expect(a?.secret.ct).not.toBe(b?.secret.ct);
  });

  it("fails with VaultWrongPasswordError for a wrong password, on load and on save", async () => {
    await save(token);
    const wrong = Redacted.make("wrong password");
    const onLoad = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username, password: wrong }),
    );
    expect(onLoad._tag).toBe("VaultWrongPasswordError");
    expect(onLoad.message).toBe(`Wrong password for the token vault ${temp.file}.`);
    const onSave = await failureOf({ file: temp.file }, (v) =>
      v.saveEncryptedToken({ url, username: "bob", token: Redacted.make("t"), password: wrong }),
    );
    expect(onSave._tag).toBe("VaultWrongPasswordError");
  });

  it("reports a flipped ciphertext byte as a corrupt vault, not as a wrong password", async () => {
    await save(token);
    const json = await readJson(temp.file);
    const entry = json.entries[0]!;
    const bytes = Buffer.from(entry.secret.ct, "base64");
    bytes[0] = (bytes[0] ?? 0) ^ 0x01;
    entry.secret.ct = bytes.toString("base64");
    await writeFile(temp.file, JSON.stringify(json), { mode: 0o600 });
    const error = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username, password }),
    );
    expect(error).toBeInstanceOf(VaultCorruptError);
    expect(error.message).toBe(
      `The token vault ${temp.file} is corrupt or was tampered with: the entry for ${username} at ${url} failed authentication.`,
    );
  });

  it("refuses an entry whose envelope was swapped with another entry's", async () => {
    await save("token-of-alice", { url, username: "alice" });
    await save("token-of-bob", { url, username: "bob" });
    const json = await readJson(temp.file);
    const [alice, bob] = json.entries;
    [alice!.secret, bob!.secret] = [bob!.secret, alice!.secret];
    await writeFile(temp.file, JSON.stringify(json), { mode: 0o600 });
    const error = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username: "alice", password }),
    );
    expect(error._tag).toBe("VaultCorruptError");
  });

  it("reports garbage and files from a newer release as corrupt, naming the path", async () => {
    await mkdir(dirname(temp.file), { recursive: true });
    await writeFile(temp.file, "this is not json", { mode: 0o600 });
    const garbage = await failureOf({ file: temp.file }, (v) => v.listSavedTokens());
    expect(garbage.message).toBe(
      `The token vault ${temp.file} is corrupt or was tampered with: the file is not valid JSON.`,
    );
    await writeFile(temp.file, JSON.stringify({ format: "minutes-token-vault", version: 9 }), {
      mode: 0o600,
    });
    const newer = await failureOf({ file: temp.file }, (v) => v.listSavedTokens());
    expect(newer.message).toContain("unsupported file version 9");
  });

  it("lets a damaged, outdated entry be overwritten with a new token", async () => {
    await save(token);
    const json = await readJson(temp.file);
    json.entries[0]!.secret.ct = Buffer.from("garbage").toString("base64");
    json.entries[0]!.secret.v = 1; // outdated, so a rewrite would otherwise try to re-seal it
    await writeFile(temp.file, JSON.stringify(json), { mode: 0o600 });
    await save("fresh-token");
    expect(await load()).toBe("fresh-token");
  });

  it("rejects absurd scrypt parameters in the file instead of allocating memory for them", async () => {
    await save(token);
    const json = await readJson(temp.file);
    json.entries[0]!.secret.kdf.N = 2 ** 30;
    await writeFile(temp.file, JSON.stringify(json), { mode: 0o600 });
    const error = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username, password }),
    );
    expect(error.message).toContain("scrypt parameters out of range");
  });

  it("fails with VaultEntryNotFoundError for an unknown pair or a missing file", async () => {
    const missingFile = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username, password }),
    );
    expect(missingFile._tag).toBe("VaultEntryNotFoundError");
    await save(token);
    const missingEntry = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username: "nobody", password }),
    );
    expect(missingEntry.message).toBe(`No token saved for nobody at ${url} in ${temp.file}.`);
  });

  it("rejects malformed URLs, empty usernames and empty tokens before touching the file", async () => {
    const badUrl = await failureOf({ file: temp.file }, (v) =>
      v.saveEncryptedToken({ url: "ftp://x", username, token: Redacted.make("t"), password }),
    );
    const noUser = await failureOf({ file: temp.file }, (v) =>
      v.saveEncryptedToken({ url, username: " ", token: Redacted.make("t"), password }),
    );
    const noToken = await failureOf({ file: temp.file }, (v) =>
      v.saveEncryptedToken({ url, username, token: Redacted.make(""), password }),
    );
    expect([badUrl, noUser, noToken].map((e) => [e._tag, e.message])).toEqual([
      ["VaultInvalidInputError", "Invalid url: the scheme must be http or https, not ftp."],
      ["VaultInvalidInputError", "Invalid username: the username is empty."],
      ["VaultInvalidInputError", "Invalid token: the token is empty."],
    ]);
    await expect(stat(dirname(temp.file))).rejects.toThrow();
  });

  it("lists URLs, usernames and timestamps without a password and without tokens", async () => {
    await save(token, { url, username: "alice" });
    const first = await withVault({ file: temp.file }, (v) => v.listSavedTokens());
    await save("replacement-token", { url, username: "alice" });
    await save("bob-token", { url: "https://other.example.com", username: "bob" });
    const list = await withVault({ file: temp.file }, (v) => v.listSavedTokens());
    expect(list.map((e) => [e.url, e.username])).toEqual([
      [url, "alice"],
      ["https://other.example.com", "bob"],
    ]);
    expect(list[0]?.createdAt).toEqual(first[0]?.createdAt);
    expect(list[0]!.updatedAt.getTime()).toBeGreaterThanOrEqual(list[0]!.createdAt.getTime());
    expect(JSON.stringify(list)).not.toContain("token");
    expect(await withVault({ file: join(temp.dir, "none.vault") }, (v) => v.listSavedTokens())).toEqual([]);
  });

  it("deletes a token only with the vault password", async () => {
    await save(token);
    await save("keep-me", { url, username: "bob" });
    const wrong = await failureOf({ file: temp.file }, (v) =>
      v.deleteToken({ url, username, password: Redacted.make("nope") }),
    );
    expect(wrong._tag).toBe("VaultWrongPasswordError");
    await withVault({ file: temp.file }, (v) => v.deleteToken({ url, username, password }));
    const gone = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username, password }),
    );
    expect(gone._tag).toBe("VaultEntryNotFoundError");
    expect(await load({ url, username: "bob" })).toBe("keep-me");
    const again = await failureOf({ file: temp.file }, (v) => v.deleteToken({ url, username, password }));
    expect(again._tag).toBe("VaultEntryNotFoundError");
  });

  it("re-encrypts every token under a new password and rejects the old one afterwards", async () => {
    await save("one", { url, username: "a" });
    await save("two", { url, username: "b" });
    const before = await readJson(temp.file);
    const fresh = Redacted.make("new password ✓");
    const count = await withVault({ file: temp.file }, (v) => v.changePassword(password, fresh));
    expect(count).toBe(2);
    expect(await load({ url, username: "a" }, fresh)).toBe("one");
    expect(await load({ url, username: "b" }, fresh)).toBe("two");
    const old = await failureOf({ file: temp.file }, (v) =>
      v.loadEncryptedToken({ url, username: "a", password }),
    );
    expect(old._tag).toBe("VaultWrongPasswordError");
    const after = await readJson(temp.file);
    expect(after.entries[0]?.secret.ct).not.toBe(before.entries[0]?.secret.ct);
    const wrongOld = await failureOf({ file: temp.file }, (v) => v.changePassword(password, fresh));
    expect(wrongOld._tag).toBe("VaultWrongPasswordError");
  });

  it("opens entries written with the v1 envelope and re-encrypts them with current parameters on the next write", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    await copyFile(join(FIXTURES, "vault-v1.json"), temp.file);
    await chmod(temp.file, 0o600);
    const legacyKey = { url: "https://legacy.example.com/wiki", username: "legacy@example.com" };
    const legacyToken = "legacy-token-Ünïcödé-✓";
    expect(await load(legacyKey)).toBe(legacyToken);
    expect((await readJson(temp.file)).entries[0]?.secret.v).toBe(1); // reading does not rewrite

    const stronger = { N: 2048, r: 8, p: 1 };
    await withVault({ file: temp.file, kdf: stronger }, (v) =>
      v.saveEncryptedToken({ url, username, token: Redacted.make(token), password }),
    );
    const json = await readJson(temp.file);
    expect(json.check.v).toBe(CURRENT_ENVELOPE_VERSION);
    expect(json.entries.map((e) => [e.secret.v, e.secret.kdf.N])).toEqual([
      [CURRENT_ENVELOPE_VERSION, 2048],
      [CURRENT_ENVELOPE_VERSION, 2048],
    ]);
    expect(json.entries[0]?.createdAt).toBe("2025-01-02T03:04:05.000Z");
    expect(await load(legacyKey)).toBe(legacyToken);
  });

  it("leaves entries sealed with current parameters untouched on the next write", async () => {
    await save(token);
    const before = (await readJson(temp.file)).entries[0]?.secret;
    await save("other", { url, username: "bob" });
    expect((await readJson(temp.file)).entries[0]?.secret).toEqual(before);
  });

  it("opens entries sealed with stronger parameters than the configured ones", async () => {
    await withVault({ file: temp.file, kdf: { N: 2048, r: 8, p: 1 } }, (v) =>
      v.saveEncryptedToken({ url, username, token: Redacted.make(token), password }),
    );
    expect(
      await withVault({ file: temp.file, kdf: FAST_KDF }, (v) =>
        v.loadEncryptedToken({ url, username, password }),
      ).then(Redacted.value),
    ).toBe(token);
  });

  it("loses no entry when saves run concurrently in one process", async () => {
    await save(token);
    const keys = Array.from({ length: 6 }, (_, i) => ({ url, username: `user-${i}` }));
    await withVault({ file: temp.file }, (v) =>
      Effect.all(
        keys.map((key) =>
          v.saveEncryptedToken({ ...key, token: Redacted.make(`t-${key.username}`), password }),
        ),
        { concurrency: "unbounded" },
      ),
    );
    const list = await withVault({ file: temp.file }, (v) => v.listSavedTokens());
    expect(list).toHaveLength(7);
  });
});

describe("TokenVault timestamps", () => {
  it("records createdAt on the first save and moves only updatedAt on a replacement", async () => {
    const key = { url: "https://example.com", username: "alice" };
    const program = Effect.gen(function* () {
      const vault = yield* TokenVault;
      yield* TestClock.setTime(Date.parse("2026-01-01T10:00:00.000Z"));
      yield* vault.saveEncryptedToken({ ...key, token: Redacted.make("first"), password });
      yield* TestClock.setTime(Date.parse("2026-02-03T04:05:06.000Z"));
      yield* vault.saveEncryptedToken({ ...key, token: Redacted.make("second"), password });
      return yield* vault.listSavedTokens();
    });
    const list = await Effect.runPromise(
      program.pipe(
        Effect.provide(TokenVault.layer({ file: temp.file, kdf: FAST_KDF })),
        Effect.provide(TestContext.TestContext),
      ),
    );
    expect(list).toEqual([
      {
        url: key.url,
        username: key.username,
        createdAt: new Date("2026-01-01T10:00:00.000Z"),
        updatedAt: new Date("2026-02-03T04:05:06.000Z"),
        expiresAt: null,
      },
    ]);
  });
});

describe("TokenVault expiries", () => {
  const expiry = new Date("2026-12-05T23:59:59.000Z");
  const saveWith = (t: string, expiresAt?: Date | null) =>
    withVault({ file: temp.file }, (v) =>
      v.saveEncryptedToken({ url, username, token: Redacted.make(t), password, expiresAt }),
    );
  const listed = () => withVault({ file: temp.file }, (v) => v.listSavedTokens());

  it("stores a token's expiry as plain metadata next to its timestamps, lists it and loads it with the token", async () => {
    await saveWith(token, expiry);
    expect((await listed())[0]?.expiresAt).toEqual(expiry);
    const loaded = await withVault({ file: temp.file }, (v) =>
      v.loadEncryptedTokenWithInfo({ url, username, password }),
    );
    expect(Redacted.value(loaded.token)).toBe(token);
    expect(loaded.info).toMatchObject({ url, username, expiresAt: expiry });
    // Still file version 1, with the expiry as one more entry field (in clear, not encrypted): the
    // previous release's reader ignores entry fields it does not know, so it still opens this file.
    const json = await readJson(temp.file);
    expect(json.version).toBe(1);
    expect(Object.keys(json.entries[0] ?? {})).toEqual([
      "url",
      "username",
      "createdAt",
      "updatedAt",
      "expiresAt",
      "secret",
    ]);
    expect(json.entries[0]?.expiresAt).toBe("2026-12-05T23:59:59.000Z");
  });

  it("clears the expiry when the token is replaced by one saved without an expiry", async () => {
    await saveWith(token, expiry);
    await saveWith("replacement-token");
    expect((await listed())[0]?.expiresAt).toBeNull();
    expect((await readJson(temp.file)).entries[0]).not.toHaveProperty("expiresAt");
    const later = new Date("2027-03-01T00:00:00.000Z");
    await saveWith("third-token", later);
    expect((await listed())[0]?.expiresAt).toEqual(later);
  });

  it("sets and clears the expiry of a saved token with the vault password, keeping the token and when it was saved", async () => {
    await saveWith(token);
    const before = (await listed())[0];
    await withVault({ file: temp.file }, (v) =>
      v.setTokenExpiry({ url, username, password, expiresAt: expiry }),
    );
    const set = (await listed())[0];
    expect(set).toEqual({ ...before, expiresAt: expiry });
    expect(await load()).toBe(token);
    await withVault({ file: temp.file }, (v) =>
      v.setTokenExpiry({ url, username, password, expiresAt: null }),
    );
    expect((await listed())[0]).toEqual({ ...before, expiresAt: null });
  });

  it("refuses to set an expiry with a wrong password, for an unknown entry or as an invalid date, changing nothing", async () => {
    await saveWith(token, expiry);
    const text = await readFile(temp.file, "utf8");
    const wrong = await failureOf({ file: temp.file }, (v) =>
      v.setTokenExpiry({ url, username, password: Redacted.make("wrong"), expiresAt: null }),
    );
    expect(wrong._tag).toBe("VaultWrongPasswordError");
    const unknown = await failureOf({ file: temp.file }, (v) =>
      v.setTokenExpiry({ url, username: "nobody", password, expiresAt: null }),
    );
    expect(unknown.message).toBe(`No token saved for nobody at ${url} in ${temp.file}.`);
    const invalid = await failureOf({ file: temp.file }, (v) =>
      v.setTokenExpiry({ url, username, password, expiresAt: new Date(Number.NaN) }),
    );
    expect(invalid.message).toBe("Invalid expiresAt: the expiry is not a valid date.");
    expect(await readFile(temp.file, "utf8")).toBe(text);
  });

  it("opens a vault written before expiries were recorded, with no expiry known", async () => {
    await mkdir(dirname(temp.file), { recursive: true, mode: 0o700 });
    await copyFile(join(FIXTURES, "vault-v1.json"), temp.file);
    await chmod(temp.file, 0o600);
    expect(await listed()).toEqual([
      expect.objectContaining({ url: "https://legacy.example.com/wiki", expiresAt: null }),
    ]);
  });

  it("reports a malformed expiry in the file as corrupt", async () => {
    await saveWith(token, expiry);
    const json = await readJson(temp.file);
    json.entries[0]!.expiresAt = "soon";
    await writeFile(temp.file, JSON.stringify(json), { mode: 0o600 });
    const error = await failureOf({ file: temp.file }, (v) => v.listSavedTokens());
    expect(error.message).toBe(
      `The token vault ${temp.file} is corrupt or was tampered with: entry for ${username} at ${url}: malformed timestamp.`,
    );
  });
});
