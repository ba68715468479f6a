/**
 * The Confluence client the pipeline uses, rebuilt when the token changes: an operator who
 * fixes a rejected token (`pnpm vault add`) and retries the publication must not have to
 * restart the publisher. The vault is re-read only when its file changed, so scrypt runs once
 * per token change, not per message. The first client checks the connection to learn who
 * Minutes is in Confluence (versions by anyone else are manual edits). The token's recorded expiry
 * comes with it, for the warnings and for saying why Confluence refuses an expired token.
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import {
  type ConfluenceClientConfig,
  type ConfluenceClientService,
  type ConfluenceConfigError,
  type ConfluenceError,
  clientConfigFromSettings,
  confluenceCredentialOf,
  makeConfluenceClient,
} from "@minutes/confluence-core";
import type { MinutesConfig } from "@minutes/contracts";
import { type ResolvedToken, resolveConfluenceToken, type TokenUnavailableError } from "@minutes/token-vault";
import { Effect, Exit, Redacted, Scope } from "effect";

/** A client plus who it authenticates as. */
export interface ActiveClient {
  readonly client: ConfluenceClientService;
  readonly identity: ReadonlyArray<string>;
  readonly tokenSource: ResolvedToken["source"];
}

/** Hands out the current client. */
export interface ConfluenceProvider {
  readonly get: () => Effect.Effect<
    ActiveClient,
    ConfluenceError | ConfluenceConfigError | TokenUnavailableError
  >;
  /** Resolves the token only (no request to Confluence), e.g. to warn at start that there is none. */
  readonly checkToken: () => Effect.Effect<void, TokenUnavailableError>;
  readonly tokenSource: () => ResolvedToken["source"] | "none";
  /**
   * The token resolved last (by `get` or `checkToken`): where it came from and when it expires, as
   * recorded; `undefined` before any was resolved. Never the token itself.
   */
  readonly tokenExpiry: () =>
    | { readonly source: ResolvedToken["source"]; readonly expiresAt: ResolvedToken["expiresAt"] }
    | undefined;
  readonly close: () => Effect.Effect<void>;
}

/** Options of {@link makeConfluenceProvider}. */
export interface ConfluenceProviderOptions {
  readonly config: MinutesConfig;
  readonly defaultVaultFile: string;
  readonly proxy?: ConfluenceClientConfig["proxy"];
  /** Extra client settings (tests: the sandbox's gateway URL, short timeouts). */
  readonly clientOverrides?: Partial<ConfluenceClientConfig>;
}

/** Builds the provider; nothing is resolved until the first `get`. */
export const makeConfluenceProvider = (options: ConfluenceProviderOptions): ConfluenceProvider => {
  const { config } = options;
  const vaultFile = config.vault.file ?? options.defaultVaultFile;
  /** The client in use, the token it was built with and the vault file state that token came from. */
  let current:
    | {
        readonly key: string;
        readonly stamp: string;
        readonly active: ActiveClient;
        readonly scope: Scope.CloseableScope;
      }
    | undefined;
  let source: ResolvedToken["source"] | "none" = "none";

  /** The vault file's state: a change (a token added or rotated) shows in its mtime or size. */
  const fileStamp = (): string => {
    // No exception for a missing file: with the token in the configuration there is no vault.
    const s = statSync(vaultFile, { throwIfNoEntry: false });
    return s === undefined ? "missing" : `${s.mtimeMs}:${s.size}`;
  };
  let lastStamp = "";
  let lastToken: { readonly resolved: ResolvedToken; readonly key: string } | undefined;

  /** The token for the vault file state `stamp` (re-read only when the file changed) and its fingerprint. */
  const token = (stamp: string) =>
    Effect.gen(function* () {
      if (lastToken !== undefined && stamp === lastStamp) return lastToken;
      const resolved = yield* resolveConfluenceToken({
        url: config.confluence.base_url,
        username: config.confluence.username,
        apiToken: config.confluence.api_token,
        apiTokenExpiresAt: config.confluence.token_expires_at,
        vaultFile,
        vaultPassword: config.vault.password,
        // With Data Center Basic auth a missing secret is the user's password, and said so.
        credential: confluenceCredentialOf(config.confluence),
      });
      lastStamp = stamp;
      lastToken = { resolved, key: fingerprint(resolved) };
      return lastToken;
    });

  const build = (resolved: ResolvedToken) =>
    Effect.gen(function* () {
      const clientConfig = clientConfigFromSettings(config.confluence, resolved.token, {
        // Every message in flight may be waiting on Confluence, with up to two requests at once (a
        // page and its property, or a new page's property and labels): the pool must not be the
        // bottleneck.
        maxConnections: Math.max(10, 2 * config.nats.concurrency),
        ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
        ...options.clientOverrides,
      });
      const scope = yield* Scope.make();
      // A setting the client refuses (one not checked at start) fails the publication with the
      // client's message, recorded and retryable once fixed: not a crash of every message.
      const client = yield* makeConfluenceClient(clientConfig).pipe(
        Scope.extend(scope),
        Effect.tapErrorCause(() => Scope.close(scope, Exit.void)),
      );
      const who = yield* client.testConnection().pipe(Effect.tapError(() => Scope.close(scope, Exit.void)));
      // Every name a page version may give its author by: Cloud's account id, Data Center's user key
      // (what `version.by` identifies the author with) and user name.
      const identity = [who.accountId, who.userKey, who.username, who.displayName].filter(
        (x): x is string => !!x,
      );
      return { active: { client, identity, tokenSource: resolved.source }, scope };
    });

  // One builder at a time: concurrent messages must share one client, and a replaced client is
  // closed only after the new one exists.
  const lock = Effect.unsafeMakeSemaphore(1);
  const refresh = lock.withPermits(1)(
    Effect.gen(function* () {
      const stamp = fileStamp();
      const { resolved, key } = yield* token(stamp);
      source = resolved.source;
      if (current !== undefined && current.key === key) {
        current = { ...current, stamp };
        return current.active;
      }
      const built = yield* build(resolved);
      const previous = current;
      current = { key, stamp, active: built.active, scope: built.scope };
      if (previous) yield* Scope.close(previous.scope, Exit.void);
      return built.active;
    }),
  );
  return {
    tokenSource: () => source,
    tokenExpiry: () =>
      lastToken === undefined
        ? undefined
        : { source: lastToken.resolved.source, expiresAt: lastToken.resolved.expiresAt },
    checkToken: () =>
      lock.withPermits(1)(
        Effect.suspend(() => token(fileStamp())).pipe(
          Effect.tap(({ resolved }) =>
            Effect.sync(() => {
              source = resolved.source;
            }),
          ),
          Effect.asVoid,
        ),
      ),
    // Every message asks: while the vault file is as it was when the client was built, that client
    // (one stat, no lock); otherwise the token is resolved again, one builder at a time.
    get: () =>
      Effect.suspend(() =>
        current !== undefined && current.stamp === fileStamp() ? Effect.succeed(current.active) : refresh,
      ),
    // Lazy: the client to close is the one in use when the close runs (a finalizer registered at
    // start, before any client exists, closes the one built since).
    close: () =>
      Effect.suspend(() => {
        const closing = current;
        current = undefined;
        return closing ? Scope.close(closing.scope, Exit.void) : Effect.void;
      }),
  };
};

// internal

const fingerprint = (t: ResolvedToken): string =>
  `${t.source}:${createHash("sha256").update(Redacted.value(t.token)).digest("hex")}`;

/**
 * A client that asks `get` for the current client at each call (the provider's fast path is one
 * stat), and fails that call with `get`'s error when there is none: the pipeline holds one client
 * for the process, and a token rotation or an unreachable Confluence shows up per call.
 */
export const lazyClient = <E>(
  get: () => Effect.Effect<ActiveClient, E>,
  deployment: ConfluenceClientService["deployment"],
): ConfluenceClientService => {
  let last: ConfluenceClientService | undefined;
  return new Proxy({} as ConfluenceClientService, {
    get: (_target, property) => {
      if (property === "deployment") return last?.deployment ?? deployment;
      return (...args: ReadonlyArray<unknown>) =>
        Effect.flatMap(get(), (active) => {
          last = active.client;
          const method = active.client[property as keyof ConfluenceClientService] as unknown as (
            ...a: ReadonlyArray<unknown>
          ) => Effect.Effect<unknown, unknown>;
          return method(...args);
        });
    },
  });
};
