/**
 * The gateway's only Confluence use: `GET /health/confluence` and `DELETE …?deletePage=true`.
 * The client is made lazily (first use) with the token from configuration or the vault and lives
 * until the app closes. The token never leaves this module except inside the client's `Redacted`.
 */
import {
  type ConfluenceClientService,
  clientConfigFromSettings,
  makeConfluenceClient,
} from "@minutes/confluence-core";
import type { MinutesConfig } from "@minutes/contracts";
import { Effect, Exit, type Redacted, Scope } from "effect";
import { conflict } from "./problem.js";

/** Where the Confluence token came from (reported by `/status/confluence`, never the token). */
export type TokenSource = "vault" | "config" | "none";

/** Lazy access to a Confluence client. */
export interface ConfluenceAccess {
  readonly tokenSource: TokenSource;
  /** Whether a client can be made at all (enabled, with a token). */
  readonly configured: boolean;
  /** The client; rejects with a 409 problem saying why there is none. */
  readonly client: () => Promise<ConfluenceClientService>;
  /** Releases the client's connection pool. */
  readonly close: () => Promise<void>;
}

/**
 * Access for a configuration and the token already resolved (from config or vault); without one,
 * `noToken` says why (the resolution's reason, which names no secret).
 */
export const makeConfluenceAccess = (
  config: MinutesConfig["confluence"],
  token: { readonly value: Redacted.Redacted<string>; readonly source: "vault" | "config" } | undefined,
  noToken = "no Confluence API token is configured (confluence.api_token or the token vault)",
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
    configured: reason === undefined,
    client: () => {
      if (reason !== undefined || token === undefined)
        return Promise.reject(conflict(reason ?? "", "confluence-not-configured"));
      if (made === undefined) {
        const s = Effect.runSync(Scope.make());
        scope = s;
        made = Effect.runPromise(
          Scope.extend(makeConfluenceClient(clientConfigFromSettings(config, token.value)), s).pipe(
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
  configured: false,
  client: () =>
    Promise.reject(
      conflict("no Confluence client is configured for the gateway", "confluence-not-configured"),
    ),
  close: async () => {},
};
