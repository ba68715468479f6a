/**
 * Where the Confluence token comes from: the encrypted vault (entry for `base_url` +
 * `username`, opened with `vault.password`) when a password is configured, else `api_token`.
 * The token stays `Redacted` all the way into the HTTP client.
 */
import type { MinutesConfig } from "@minutes/contracts";
import { TokenVault } from "@minutes/token-vault";
import { Effect, Redacted, Schema } from "effect";

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

/** The token and where it came from (shown in `/status/confluence`, never the token itself). */
export interface ResolvedToken {
  readonly token: Redacted.Redacted<string>;
  readonly source: "vault" | "config";
}

/** Resolves the Confluence token from the vault or the configuration. */
export const resolveToken = Effect.fn("TokenSource.resolve")(function* (
  config: MinutesConfig,
  defaultVaultFile: string,
) {
  const password = config.vault.password;
  if (password !== null && Redacted.value(password) !== "") {
    const vault = yield* Effect.provide(
      TokenVault,
      TokenVault.layer({ file: config.vault.file ?? defaultVaultFile }),
    );
    const token = yield* vault
      .loadEncryptedToken({ url: config.confluence.base_url, username: config.confluence.username, password })
      .pipe(Effect.mapError((e) => new TokenUnavailableError({ reason: `vault: ${e.message}` })));
    return { token, source: "vault" } satisfies ResolvedToken;
  }
  if (Redacted.value(config.confluence.api_token) !== "") {
    return { token: config.confluence.api_token, source: "config" } satisfies ResolvedToken;
  }
  return yield* new TokenUnavailableError({
    reason: "set vault.password (VAULT_PASSWORD) to read the vault, or confluence.api_token",
  });
});
