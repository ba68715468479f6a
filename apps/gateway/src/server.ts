/**
 * Wiring for production: connects NATS, opens the store, resolves the Confluence token (config,
 * else vault), builds the app and listens. SIGTERM/SIGINT stop accepting, let in-flight requests
 * finish, then drain NATS and close the store. The only module here that runs effects' scopes.
 */

import { type ConfluenceProxyConfig, checkCaFile, checkProxyConfig } from "@minutes/confluence-core";
import { ignoredSettingWarnings, type MinutesConfig } from "@minutes/contracts";
import { connectNats } from "@minutes/nats-streams";
import { PublicationStore, storeConfigFromDatabaseConfig } from "@minutes/publication-store";
import { defaultVaultFile, resolveConfluenceToken } from "@minutes/token-vault";
import type { NatsConnection } from "@nats-io/transport-node";
import { Effect, Exit, type Redacted, Scope } from "effect";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { buildApp, REDACT_PATHS } from "./app.js";
import { type AccessToken, type ConfluenceAccess, followVault, makeConfluenceAccess } from "./confluence.js";

/** A running gateway. */
export interface RunningServer {
  readonly app: FastifyInstance;
  readonly address: string;
  /** Graceful stop: close HTTP (in-flight requests finish), drain NATS, close the store. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts the gateway for a configuration and the proxy settings (`config.ts` reads them). Fails,
 * before connecting anywhere, when a file the configuration names cannot be used
 * (`confluence.ca_file`), naming the key and the path, or a proxy URL cannot be used.
 */
export const startServer = async (
  config: MinutesConfig,
  options: {
    readonly proxy?: ConfluenceProxyConfig;
    /** The clock the token's expiry is judged by (`Date.now` when absent; tests fix it). */
    readonly now?: () => number;
  } = {},
): Promise<RunningServer> => {
  checkCaFile(config.confluence.ca_file);
  checkProxyConfig(options.proxy);
  const extras = options.proxy !== undefined ? { proxy: options.proxy } : {};
  const logger = pino({
    level: config.logging.level,
    base: { service: "minutes-gateway" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  });
  for (const warning of ignoredSettingWarnings(config)) logger.warn(warning);
  if (config.gateway.api_keys.length > 0 && config.gateway.admin_api_keys.length === 0)
    logger.warn(
      "gateway.admin_api_keys is empty: every API key may import, export, delete, clean up, replay and run the archive; give the operators keys of their own to keep the meeting processor's key to sending and reading",
    );
  // Fails naming NATS and its servers (without credentials), as the publisher does.
  const nc: NatsConnection = await connectNats(config.nats.url, {
    name: "minutes-gateway",
    maxReconnectAttempts: -1,
    // Without this the client captures two stack traces per request (each JetStream publish is
    // one) only to append them to a timeout's stack: ~20 µs of a ~170 µs intake request. A
    // failed publish is logged with its subject and answered 503 either way.
    noAsyncTraces: true,
  });
  const storeScope = Effect.runSync(Scope.make());
  let confluence: ConfluenceAccess | undefined;
  try {
    const store = await Effect.runPromise(
      Scope.extend(PublicationStore.make(storeConfigFromDatabaseConfig(config.database)), storeScope),
    );
    confluence = await followVault(config.vault.file ?? defaultVaultFile(), async () => {
      // Disabled: no token is needed (the access says Confluence is disabled), so none is looked for.
      if (!config.confluence.enabled) return makeConfluenceAccess(config.confluence, undefined, extras);
      const token = await resolveToken(config, logger);
      return "reason" in token
        ? makeConfluenceAccess(config.confluence, undefined, extras, token.reason)
        : makeConfluenceAccess(config.confluence, token, extras);
    });
    const { app } = await buildApp({ config, nats: nc, store, confluence, logger, now: options.now });
    const address = await app.listen({ host: config.gateway.host, port: config.gateway.port });
    // The database too: a relative sqlite_path depends on the working directory, and a gateway
    // on another file than the publishers shows their jobs as queued forever.
    logger.info(
      {
        address,
        stream: config.nats.stream,
        tokenSource: confluence.tokenSource,
        tokenExpiresAt: confluence.tokenExpiresAt?.toISOString() ?? null,
        database: store.location,
      },
      "gateway listening",
    );
    const access = confluence;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        await app.close();
        await access.close();
        await nc.drain().catch(() => undefined);
        await Effect.runPromise(Scope.close(storeScope, Exit.void));
        logger.info("gateway stopped");
      })();
      return stopping;
    };
    return { app, address, stop };
  } catch (error) {
    await confluence?.close();
    await nc.close().catch(() => undefined);
    await Effect.runPromise(Scope.close(storeScope, Exit.void));
    throw error;
  }
};

/** Stops the server on SIGTERM/SIGINT (a second signal exits at once). */
export const stopOnSignals = (server: RunningServer): void => {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    server.app.log.info({ signal }, "shutting down");
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
};

// internal

const resolveToken = async (
  config: MinutesConfig,
  logger: pino.Logger,
): Promise<AccessToken | { reason: string }> => {
  const resolved = await Effect.runPromise(
    resolveConfluenceToken({
      url: config.confluence.base_url,
      username: config.confluence.username,
      apiToken: config.confluence.api_token,
      apiTokenExpiresAt: config.confluence.token_expires_at,
      vaultFile: config.vault.file ?? defaultVaultFile(),
      vaultPassword: config.vault.password,
    }).pipe(Effect.either),
  );
  if (resolved._tag === "Right")
    return {
      value: resolved.right.token,
      source: resolved.right.source,
      expiresAt: resolved.right.expiresAt,
    };
  logger.warn({ reason: resolved.left.reason }, "no Confluence token");
  return { reason: resolved.left.message };
};
