/**
 * Where the Confluence token of a running service comes from: the vault entry for (base URL,
 * username) when a vault password is configured, else the plain `api_token` (also when the vault
 * has no entry for them). The publisher and the gateway both resolve it here so they agree on the
 * source and on its expiry (the vault entry's, or the configured one for `api_token`); the token
 * stays `Redacted`. With Data Center Basic auth the secret is the user's password, kept where a
 * token would be: a missing one is then said to be the password for the user name.
 */
import { Effect, Redacted, Schema } from "effect";
import { TokenVault } from "./TokenVault.js";

/**
 * No usable token: neither a vault entry nor `api_token`. `passwordOf` is the user name when the
 * secret is that user's password (`credential: "password"`): the message then speaks of the
 * password, never showing it.
 */
export class TokenUnavailableError extends Schema.TaggedError<TokenUnavailableError>()(
  "TokenUnavailableError",
  {
    reason: Schema.String,
    passwordOf: Schema.optional(Schema.String),
  },
) {
  override get message(): string {
    return this.passwordOf === undefined
      ? `No Confluence token: ${this.reason}`
      : `No Confluence password for the user ${this.passwordOf} (confluence.auth_method basic): ${this.reason}`;
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
  /**
   * What the secret is: `password` when it signs in to Data Center with Basic auth
   * (`confluence.auth_method: basic`), the user's password kept where a token would be. It changes
   * only what a {@link TokenUnavailableError} says. Default `token`.
   */
  readonly credential?: "token" | "password" | undefined;
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
        Effect.mapError((e) =>
          unavailable(
            settings,
            `vault ${settings.vaultFile}: ${
              e._tag !== "VaultEntryNotFoundError"
                ? e.message
                : passwordOf(settings) === undefined
                  ? `${e.message} Add it (vault add) or set confluence.api_token.`
                  : `No password saved for ${e.username} at ${e.url} in ${e.path}. Add it (\`./minutes vault add --url ${settings.url} --username ${settings.username}\`, giving the password as the token) or set confluence.api_token to the password.`
            }`,
          ),
        ),
      );
    return fromVault;
  }
  if (Redacted.value(settings.apiToken) !== "") return fromConfig;
  return yield* unavailable(
    settings,
    passwordOf(settings) === undefined
      ? "set vault.password (VAULT_PASSWORD) to read the token vault, or confluence.api_token"
      : `set vault.password (VAULT_PASSWORD) to read it from the token vault (its entry for ${settings.url} and ${settings.username}), or set confluence.api_token to the password`,
  );
});

// internal

/** The user name whose password the secret is, or `undefined` when it is a token. */
const passwordOf = (settings: TokenSettings): string | undefined =>
  settings.credential === "password" ? settings.username : undefined;

const unavailable = (settings: TokenSettings, reason: string): TokenUnavailableError => {
  const user = passwordOf(settings);
  return new TokenUnavailableError(user === undefined ? { reason } : { reason, passwordOf: user });
};
