/**
 * The gateway's only Confluence use: `GET /health/confluence` and `DELETE …?deletePage=true`.
 * The client is made lazily (first use) with the token from configuration or the vault. When the
 * vault file changes (a token added or rotated), the token is resolved again and the next use gets
 * a new client, as in the publisher; so does the token's recorded expiry, which the status and the
 * metrics report. The token never leaves this module except inside the client's `Redacted`.
 */

import { statSync } from "node:fs";
import {
  type ConfluenceClientConfig,
  type ConfluenceClientService,
  clientConfigFromSettings,
  confluenceCredentialOf,
  makeConfluenceClient,
} from "@minutes/confluence-core";
import type { MinutesConfig } from "@minutes/contracts";
import { Effect, Exit, type Redacted, Scope } from "effect";
import { conflict } from "./problem.js";

/** Where the Confluence token came from (reported by `/status/confluence`, never the token). */
export type TokenSource = "vault" | "config" | "none";

/** The resolved token as the access is made with it: the value, where it came from, when it expires. */
export interface AccessToken {
  readonly value: Redacted.Redacted<string>;
  readonly source: "vault" | "config";
  /** As recorded (the vault entry's, or `confluence.token_expires_at`); null or absent when unknown. */
  readonly expiresAt?: Date | null | undefined;
}

/** Lazy access to a Confluence client. */
export interface ConfluenceAccess {
  readonly tokenSource: TokenSource;
  /** When the token in use expires, as recorded; null when unknown or there is none. */
  readonly tokenExpiresAt: Date | null;
  /** Whether a client can be made at all (enabled, with a token). */
  readonly configured: boolean;
  /** The client; rejects with a 409 problem saying why there is none. */
  readonly client: () => Promise<ConfluenceClientService>;
  /** Releases the client's connection pool. */
  readonly close: () => Promise<void>;
  /** Brings `tokenSource` and `configured` up to date (access that follows the vault file). */
  readonly refresh?: () => Promise<void>;
}

/**
 * Access for a configuration and the token already resolved (from config or vault); without one,
 * `noToken` says why (the resolution's reason, which names no secret). `extras` are client
 * settings the configuration does not hold (the proxy, from the environment).
 */
export const makeConfluenceAccess = (
  config: MinutesConfig["confluence"],
  token: AccessToken | undefined,
  extras: Partial<ConfluenceClientConfig> = {},
  noToken = confluenceCredentialOf(config) === "password"
    ? `no Confluence password is configured for the user ${config.username} (confluence.auth_method basic: confluence.api_token or the token vault)`
    : "no Confluence API token is configured (confluence.api_token or the token vault)",
): ConfluenceAccess => {
  const reason = !config.enabled
    ? "Confluence is disabled (confluence.enabled is false)"
    : token === undefined
      ? noToken
      : undefined;
  let scope: Scope.CloseableScope | undefined;
  let made: Promise<ConfluenceClientService> | undefined;
  return {
    tokenSource: token?.source ?? "none",
    tokenExpiresAt: token?.expiresAt ?? null,
    configured: reason === undefined,
    client: () => {
      if (reason !== undefined || token === undefined)
        return Promise.reject(conflict(reason ?? "", "confluence-not-configured"));
      if (made === undefined) {
        const s = Effect.runSync(Scope.make());
        scope = s;
        made = Effect.runPromise(
          Scope.extend(makeConfluenceClient(clientConfigFromSettings(config, token.value, extras)), s).pipe(
            Effect.mapError((e) =>
              conflict(
                `the Confluence configuration is not usable: ${e.message}`,
                "confluence-not-configured",
              ),
            ),
          ),
        );
        made.catch(() => {
          made = undefined;
        });
      }
      return made;
    },
    close: async () => {
      if (scope) await Effect.runPromise(Scope.close(scope, Exit.void));
    },
  };
};

/** Access that never has a client. */
export const noConfluence: ConfluenceAccess = {
  tokenSource: "none",
  tokenExpiresAt: null,
  configured: false,
  client: () =>
    Promise.reject(
      conflict("no Confluence client is configured for the gateway", "confluence-not-configured"),
    ),
  close: async () => {},
};

/**
 * Access that follows the vault file: `build` makes the access for the token as it is now, and is
 * called again (once, however many requests ask at the same moment) when the file's state changed
 * since; the previous client is closed.
 */
export const followVault = async (
  vaultFile: string,
  build: () => Promise<ConfluenceAccess>,
): Promise<ConfluenceAccess> => {
  const stampOf = (): string => {
    const s = statSync(vaultFile, { throwIfNoEntry: false });
    return s === undefined ? "missing" : `${s.mtimeMs}:${s.size}`;
  };
  let stamp = stampOf();
  let current = await build();
  let rebuilding: Promise<void> | undefined;
  const follow = async (): Promise<void> => {
    const now = stampOf();
    if (now === stamp) return;
    rebuilding ??= (async () => {
      const next = await build();
      const previous = current;
      current = next;
      stamp = now;
      await previous.close();
    })().finally(() => {
      rebuilding = undefined;
    });
    await rebuilding;
  };
  return {
    get tokenSource() {
      return current.tokenSource;
    },
    get tokenExpiresAt() {
      return current.tokenExpiresAt;
    },
    get configured() {
      return current.configured;
    },
    client: async () => {
      await follow();
      return current.client();
    },
    close: () => current.close(),
    refresh: follow,
  };
};

/**
 * What a 503 for Confluence not being configured asks the operator to change: the settings, and the
 * token, or with Data Center Basic auth the user's password, kept where a token would be.
 */
export const configureConfluence = (confluence: MinutesConfig["confluence"]): string =>
  confluenceCredentialOf(confluence) === "password"
    ? "set confluence.enabled, confluence.base_url, confluence.username and the password of that user (confluence.api_token, or the token vault: vault.file and vault.password, its entry for the site and user) and restart the gateway; a password added to the vault is used without a restart. Retrying will not help until then"
    : "set confluence.enabled, confluence.base_url, confluence.username and a token (confluence.api_token, or the token vault: vault.file and vault.password) and restart the gateway; a token added to the vault is used without a restart. Retrying will not help until then";
