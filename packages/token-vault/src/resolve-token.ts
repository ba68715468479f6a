/**
 * Where the Confluence token of a running service comes from: the vault entry for (base URL,
 * username) when a vault password is configured, else the plain `api_token` (also when the vault
 * has no entry for them). The publisher and the gateway both resolve it here so they agree on the
 * source and on its expiry (the vault entry's, or the configured one for `api_token`); the token
 * stays `Redacted`.
 */
import { Effect, Redacted, Schema } from "effect";
import { TokenVault } from "./TokenVault.js";

/** No usable token: neither a vault entry nor `api_token`. */
export class TokenUnavailableError extends Schema.TaggedError<TokenUnavailableError>()(
  "TokenUnavailableError",
  {
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `No Confluence token: ${this.reason}`;
  }
}

/** The settings the token is resolved from (the `confluence` and `vault` configuration keys). */
export interface TokenSettings {
  readonly url: string;
  readonly username: string;
  readonly apiToken: Redacted.Redacted<string>;
  /** When `apiToken` expires (`confluence.token_expires_at`); not used for a token from the vault. */
  readonly apiTokenExpiresAt?: Date | null | undefined;
  readonly vaultFile: string;
  readonly vaultPassword: Redacted.Redacted<string> | null;
}

/** A token, where it came from (report the source, never the token) and when it expires. */
export interface ResolvedToken {
  readonly token: Redacted.Redacted<string>;
  readonly source: "vault" | "config";
  /**
   * As recorded: the vault entry's `expiresAt` for a token from the vault (null when the entry has
   * none: the configured expiry belongs to `apiToken`), else `apiTokenExpiresAt`; null when unknown.
   */
  readonly expiresAt: Date | null;
}

/**
 * Resolves the Confluence token: the vault when `vaultPassword` is set and it has an entry for
 * (`url`, `username`), else `apiToken`.
 */
export const resolveConfluenceToken = Effect.fn("TokenVault.resolveConfluenceToken")(function* (
  settings: TokenSettings,
) {
  const password = settings.vaultPassword;
  const fromConfig: ResolvedToken = {
    token: settings.apiToken,
    source: "config",
    expiresAt: settings.apiTokenExpiresAt ?? null,
  };
  if (password !== null && Redacted.value(password) !== "") {
    const vault = yield* Effect.provide(TokenVault, TokenVault.layer({ file: settings.vaultFile }));
    const fromVault = yield* vault
      .loadEncryptedTokenWithInfo({ url: settings.url, username: settings.username, password })
      .pipe(
        Effect.map(
          ({ token, info }) =>
            ({ token, source: "vault", expiresAt: info.expiresAt }) satisfies ResolvedToken,
        ),
        // No entry for this site and user: a configured api_token is the token meant. A vault that
        // cannot be read (wrong password, damaged file) is an error to fix, not to work around.
        Effect.catchTag("VaultEntryNotFoundError", (e) =>
          Redacted.value(settings.apiToken) !== "" ? Effect.succeed(fromConfig) : Effect.fail(e),
        ),
        Effect.mapError(
          (e) =>
            new TokenUnavailableError({
              reason: `vault ${settings.vaultFile}: ${e.message}${e._tag === "VaultEntryNotFoundError" ? " Add it (vault add) or set confluence.api_token." : ""}`,
            }),
        ),
      );
    return fromVault;
  }
  if (Redacted.value(settings.apiToken) !== "") return fromConfig;
  return yield* new TokenUnavailableError({
    reason: "set vault.password (VAULT_PASSWORD) to read the token vault, or confluence.api_token",
  });
});
