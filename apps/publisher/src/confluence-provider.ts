/**
 * The Confluence client the pipeline uses, rebuilt when the token changes: an operator who
 * fixes a rejected token (`pnpm vault add`) and retries the publication must not have to
 * restart the publisher. The vault is re-read only when its file changed, so scrypt runs once
 * per token change, not per message. The first client checks the connection to learn who
 * Minutes is in Confluence (versions by anyone else are manual edits).
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import {
  type ConfluenceClientConfig,
  type ConfluenceClientService,
  type ConfluenceError,
  clientConfigFromSettings,
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
  readonly get: () => Effect.Effect<ActiveClient, ConfluenceError | TokenUnavailableError>;
  readonly tokenSource: () => ResolvedToken["source"] | "none";
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
  let current:
    | { readonly key: string; readonly active: ActiveClient; readonly scope: Scope.CloseableScope }
    | undefined;
  let source: ResolvedToken["source"] | "none" = "none";

  const fileStamp = (): string => {
    try {
      const s = statSync(vaultFile);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return "missing";
    }
  };
  let lastStamp = "";
  let lastToken: ResolvedToken | undefined;

  const token = Effect.gen(function* () {
    const stamp = fileStamp();
    if (lastToken !== undefined && stamp === lastStamp) return lastToken;
    const resolved = yield* resolveConfluenceToken({
      url: config.confluence.base_url,
      username: config.confluence.username,
      apiToken: config.confluence.api_token,
      vaultFile,
      vaultPassword: config.vault.password,
    });
    lastStamp = stamp;
    lastToken = resolved;
    return resolved;
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
      const client = yield* makeConfluenceClient(clientConfig).pipe(
        Scope.extend(scope),
        Effect.orDie,
        Effect.tapErrorCause(() => Scope.close(scope, Exit.void)),
      );
      const who = yield* client.testConnection().pipe(Effect.tapError(() => Scope.close(scope, Exit.void)));
      const identity = [who.accountId, who.username, who.displayName].filter((x): x is string => !!x);
      return { active: { client, identity, tokenSource: resolved.source }, scope };
    });

  // One builder at a time: concurrent messages must share one client, and a replaced client is
  // closed only after the new one exists.
  const lock = Effect.unsafeMakeSemaphore(1);
  return {
    tokenSource: () => source,
    get: () =>
      lock.withPermits(1)(
        Effect.gen(function* () {
          const resolved = yield* token;
          source = resolved.source;
          const key = fingerprint(resolved);
          if (current !== undefined && current.key === key) return current.active;
          const built = yield* build(resolved);
          const previous = current;
          current = { key, active: built.active, scope: built.scope };
          if (previous) yield* Scope.close(previous.scope, Exit.void);
          return built.active;
        }),
      ),
    close: () => (current ? Scope.close(current.scope, Exit.void) : Effect.void),
  };
};

// internal

const fingerprint = (t: ResolvedToken): string =>
  `${t.source}:${createHash("sha256").update(Redacted.value(t.token)).digest("hex")}`;
