import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Either, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { resolveConfluenceToken, saveEncryptedToken } from "../src/index.js";
import { FAST_KDF } from "./helpers/temp-vault.js";

const dirs: Array<string> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const vaultFile = () => {
  const dir = mkdtempSync(join(tmpdir(), "minutes-resolve-"));
  dirs.push(dir);
  return join(dir, "tokens.vault");
};
const url = "https://acme.atlassian.net/wiki";
const username = "bot@acme.example";

describe("resolveConfluenceToken", () => {
  it("reads the vault when a vault password is configured", async () => {
    const file = vaultFile();
    await saveEncryptedToken({
      file,
      kdf: FAST_KDF,
      url,
      username,
      token: Redacted.make("from-the-vault"),
      password: Redacted.make("pw"),
    });
    const resolved = await Effect.runPromise(
      resolveConfluenceToken({
        url,
        username,
        apiToken: Redacted.make("from-config"),
        vaultFile: file,
        vaultPassword: Redacted.make("pw"),
      }),
    );
    expect(resolved.source).toBe("vault");
    expect(Redacted.value(resolved.token)).toBe("from-the-vault");
  });

  it("returns the vault entry's expiry with a token from the vault, and none when the entry has none", async () => {
    const file = vaultFile();
    const save = (expiresAt?: Date) =>
      saveEncryptedToken({
        file,
        kdf: FAST_KDF,
        url,
        username,
        token: Redacted.make("from-the-vault"),
        password: Redacted.make("pw"),
        expiresAt,
      });
    const resolve = () =>
      Effect.runPromise(
        resolveConfluenceToken({
          url,
          username,
          apiToken: Redacted.make("from-config"),
          apiTokenExpiresAt: new Date("2026-01-31T23:59:59Z"),
          vaultFile: file,
          vaultPassword: Redacted.make("pw"),
        }),
      );
    await save(new Date("2026-12-05T23:59:59Z"));
    expect(await resolve()).toMatchObject({ source: "vault", expiresAt: new Date("2026-12-05T23:59:59Z") });
    // The configured expiry is api_token's, not this token's.
    await save();
    expect(await resolve()).toMatchObject({ source: "vault", expiresAt: null });
  });

  it("returns the configured expiry with api_token, also when the vault has no entry for the site and user", async () => {
    const configured = new Date("2026-12-05T17:00:00Z");
    const settings = {
      url,
      username,
      apiToken: Redacted.make("from-config"),
      apiTokenExpiresAt: configured,
      vaultFile: vaultFile(),
    };
    const direct = await Effect.runPromise(resolveConfluenceToken({ ...settings, vaultPassword: null }));
    expect(direct).toMatchObject({ source: "config", expiresAt: configured });
    await saveEncryptedToken({
      file: settings.vaultFile,
      kdf: FAST_KDF,
      url: "https://other.atlassian.net/wiki",
      username,
      token: Redacted.make("other-site"),
      password: Redacted.make("pw"),
      expiresAt: new Date("2030-01-01T00:00:00Z"),
    });
    const fallback = await Effect.runPromise(
      resolveConfluenceToken({ ...settings, vaultPassword: Redacted.make("pw") }),
    );
    expect(fallback).toMatchObject({ source: "config", expiresAt: configured });
    const unknown = await Effect.runPromise(
      resolveConfluenceToken({ ...settings, apiTokenExpiresAt: null, vaultPassword: null }),
    );
    expect(unknown.expiresAt).toBeNull();
  });

  it("uses api_token when no vault password is configured", async () => {
    const resolved = await Effect.runPromise(
      resolveConfluenceToken({
        url,
        username,
        apiToken: Redacted.make("from-config"),
        vaultFile: vaultFile(),
        vaultPassword: null,
      }),
    );
    expect(resolved.source).toBe("config");
  });

  it("uses api_token when the vault has no entry for the site and user, but not when the vault cannot be read", async () => {
    const file = vaultFile();
    await saveEncryptedToken({
      file,
      kdf: FAST_KDF,
      url: "https://other.atlassian.net/wiki",
      username,
      token: Redacted.make("other-site"),
      password: Redacted.make("pw"),
    });
    const resolve = (vaultPassword: string) =>
      Effect.runPromise(
        resolveConfluenceToken({
          url,
          username,
          apiToken: Redacted.make("from-config"),
          vaultFile: file,
          vaultPassword: Redacted.make(vaultPassword),
        }).pipe(Effect.either),
      );
    const fallback = await resolve("pw");
    if (Either.isLeft(fallback)) throw new Error(fallback.left.message);
    expect(fallback.right.source).toBe("config");
    expect(Redacted.value(fallback.right.token)).toBe("from-config");
    const wrong = await resolve("not-the-password");
    if (Either.isRight(wrong)) throw new Error("expected a failure");
    expect(wrong.left.message).toMatch(/password/i);
    expect(wrong.left.message).not.toContain("not-the-password");
  });

  it("says what to set when there is no token, without any secret", async () => {
    const result = await Effect.runPromise(
      resolveConfluenceToken({
        url,
        username,
        apiToken: Redacted.make(""),
        vaultFile: vaultFile(),
        vaultPassword: Redacted.make("secret-pw"),
      }).pipe(Effect.either),
    );
    if (Either.isRight(result)) throw new Error("expected a failure");
    expect(result.left._tag).toBe("TokenUnavailableError");
    expect(result.left.message).toContain("vault");
    expect(result.left.message).toContain("Add it (vault add) or set confluence.api_token.");
    expect(result.left.message).not.toContain("secret-pw");
  });

  it("speaks of the password for the user name when the secret is a password (Data Center Basic auth), never showing a secret", async () => {
    const file = vaultFile();
    const dc = "https://wiki.acme.example";
    // The vault holds a password for another user only: none for this one.
    await saveEncryptedToken({
      file,
      kdf: FAST_KDF,
      url: dc,
      username: "someone-else",
      token: Redacted.make("pw-of-someone-else"),
      password: Redacted.make("vault-pw"),
    });
    const failure = async (over: { vaultPassword: string | null; credential?: "token" | "password" }) => {
      const result = await Effect.runPromise(
        resolveConfluenceToken({
          url: dc,
          username: "minutes-bot",
          apiToken: Redacted.make(""),
          vaultFile: file,
          vaultPassword: over.vaultPassword === null ? null : Redacted.make(over.vaultPassword),
          ...(over.credential !== undefined ? { credential: over.credential } : {}),
        }).pipe(Effect.either),
      );
      if (Either.isRight(result)) throw new Error("expected a failure");
      return result.left;
    };
    const missing = await failure({ vaultPassword: "vault-pw", credential: "password" });
    expect(missing._tag).toBe("TokenUnavailableError");
    expect(missing.passwordOf).toBe("minutes-bot");
    expect(missing.message).toBe(
      `No Confluence password for the user minutes-bot (confluence.auth_method basic): vault ${file}: No password saved for minutes-bot at ${dc} in ${file}. Add it (\`./minutes vault add --url ${dc} --username minutes-bot\`, giving the password as the token) or set confluence.api_token to the password.`,
    );
    const unread = await failure({ vaultPassword: null, credential: "password" });
    expect(unread.message).toBe(
      `No Confluence password for the user minutes-bot (confluence.auth_method basic): set vault.password (VAULT_PASSWORD) to read it from the token vault (its entry for ${dc} and minutes-bot), or set confluence.api_token to the password`,
    );
    const locked = await failure({ vaultPassword: "not-the-vault-pw", credential: "password" });
    expect(locked.message).toBe(
      `No Confluence password for the user minutes-bot (confluence.auth_method basic): vault ${file}: Wrong password for the token vault ${file}.`,
    );
    for (const e of [missing, unread, locked]) {
      expect(e.message).not.toMatch(/token:|No Confluence token/);
      expect(e.message).not.toMatch(/vault-pw|pw-of-someone-else/);
    }
    // A token keeps its wording, by default and when said so.
    for (const credential of [undefined, "token"] as const) {
      const token = await failure({ vaultPassword: "vault-pw", ...(credential ? { credential } : {}) });
      expect(token.passwordOf).toBeUndefined();
      expect(token.message).toBe(
        `No Confluence token: vault ${file}: No token saved for minutes-bot at ${dc} in ${file}. Add it (vault add) or set confluence.api_token.`,
      );
    }
  });
});
