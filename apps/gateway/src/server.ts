/**
 * Wiring for production: takes its address, connects NATS, opens the store, resolves the
 * Confluence token (config, else vault), builds the app (which creates or updates the streams)
 * and listens. The address is held from the start, so a gateway that cannot listen changes nothing
 * on NATS; the app listens only once the streams exist, so an event it accepts is stored.
 * SIGTERM/SIGINT stop accepting, let in-flight requests finish, then drain NATS and close the
 * store. The only module here that runs effects' scopes.
 */

import { createServer } from "node:net";
import {
  type ConfluenceProxyConfig,
  checkCaFile,
  checkProxyConfig,
  confluenceCredentialOf,
} from "@minutes/confluence-core";
import { ignoredSettingWarnings, type MinutesConfig } from "@minutes/contracts";
import { connectNats } from "@minutes/nats-streams";
import { PublicationStore, storeConfigFromDatabaseConfig } from "@minutes/publication-store";
import { defaultVaultFile, resolveConfluenceToken } from "@minutes/token-vault";
import type { NatsConnection } from "@nats-io/transport-node";
import { Effect, Exit, Scope } from "effect";
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
 * (`confluence.ca_file`), naming the key and the path, when a proxy URL cannot be used, or when it
 * cannot listen on `gateway.host`:`gateway.port` (in use, say), naming the address.
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
  // Before anything changes on NATS: a second gateway started on a busy port by mistake must not
  // create or update the streams (with its own settings) that a running one serves.
  const reserved = await reserveAddress(config.gateway.host, config.gateway.port);
  let nc: NatsConnection;
  try {
    // Fails naming NATS and its servers (without credentials), as the publisher does.
    nc = await connectNats(config.nats.url, {
      name: "minutes-gateway",
      maxReconnectAttempts: -1,
      // Without this the client captures two stack traces per request (each JetStream publish is
      // one) only to append them to a timeout's stack: ~20 µs of a ~170 µs intake request. A
      // failed publish is logged with its subject and answered 503 either way.
      noAsyncTraces: true,
    });
  } catch (error) {
    await reserved.release();
    throw error;
  }
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
    // The streams exist now (buildApp made them). Ready first, so that the address is taken
    // again as soon as it is let go: only a program binding it in that instant can come between.
    await app.ready();
    await reserved.release();
    const address = await app.listen({ host: config.gateway.host, port: reserved.port });
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
    await reserved.release();
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

/**
 * Holds `host`:`port` (port 0: a free one, then `port` says which) until released, refusing the
 * connections that arrive meanwhile (closed at once). Fails naming the address and the settings,
 * with Node's error as `cause` and its `code` (`EADDRINUSE`, ...).
 */
const reserveAddress = async (
  host: string,
  port: number,
): Promise<{ readonly port: number; readonly release: () => Promise<void> }> => {
  const holder = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    holder.once("error", (error: NodeJS.ErrnoException) => {
      const where = `${host.includes(":") ? `[${host}]` : host}:${port} (gateway.host, gateway.port)`;
      const message =
        error.code === "EADDRINUSE"
          ? `cannot listen on ${where}: the address is already in use (another gateway, or another program, listens there)`
          : `cannot listen on ${where}: ${error.message}`;
      // With Node's code: a caller may try another port on EADDRINUSE (the demo does).
      reject(Object.assign(new Error(message, { cause: error }), { code: error.code }));
    });
    holder.listen({ host, port }, resolve);
  });
  const address = holder.address();
  let released: Promise<void> | undefined;
  return {
    port: address !== null && typeof address === "object" ? address.port : port,
    release: () => {
      released ??= new Promise((resolve) => holder.close(() => resolve()));
      return released;
    },
  };
};

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
      // With Data Center Basic auth a missing secret is the user's password, and said so.
      credential: confluenceCredentialOf(config.confluence),
    }).pipe(Effect.either),
  );
  if (resolved._tag === "Right")
    return {
      value: resolved.right.token,
      source: resolved.right.source,
      expiresAt: resolved.right.expiresAt,
    };
  logger.warn(
    { reason: resolved.left.reason },
    resolved.left.passwordOf === undefined ? "no Confluence token" : "no Confluence password",
  );
  return { reason: resolved.left.message };
};
