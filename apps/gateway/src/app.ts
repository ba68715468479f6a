/**
 * Builds the gateway (no listening): ensures the streams, starts the outcome feed, and registers
 * the shared plugins (schema compiler, problems), OpenAPI, the API-key and rate-limit scope for
 * `/api/*`, and the route plugins. Everything it uses is injected, so tests build it over a real
 * NATS server and a temporary SQLite file. Closing the app stops the feed and running replays;
 * the NATS connection and the store belong to the caller.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { MinutesConfig } from "@minutes/contracts";
import { ensureStreams } from "@minutes/nats-streams";
import type { PublicationStoreShape } from "@minutes/publication-store";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from "fastify";
import { answerClientError } from "./client-error.js";
import { type ConfluenceAccess, noConfluence } from "./confluence.js";
import {
  DEFAULT_PUBLISHER_LIVENESS,
  type GatewayContext,
  type PublisherLivenessSettings,
} from "./context.js";
import { makeJetStreamPublisher } from "./jetstream-publisher.js";
import { parseJsonBody, refuseContentEncoding } from "./json-body.js";
import { serializeRequest } from "./log-url.js";
import { GatewayMetrics } from "./metrics.js";
import { startOutcomeFeed } from "./OutcomeFeed.js";
import { makeApiKeys } from "./plugins/auth.js";
import { frameworkErrorProblem, notFoundProblem, problemsPlugin } from "./plugins/problems.js";
import { schemaCompilerPlugin } from "./plugins/schema-compiler.js";
import { HttpProblem } from "./problem.js";
import { withPublishHealth } from "./publish-health.js";
import { ReplayManager } from "./ReplayManager.js";
import { archiveRoutes } from "./routes/archive.js";
import { backupRoutes, IMPORT_IDLE_TIMEOUT_MS, IMPORT_UPLOAD_TIMEOUT_MS } from "./routes/backup.js";
import { consumerBacklog, healthRoutes, livenessRoutes, metricsRoutes } from "./routes/health.js";
import { jobRoutes } from "./routes/jobs.js";
import { protocolRoutes } from "./routes/protocols.js";
import { publicationRoutes } from "./routes/publications.js";
import { replayRoutes } from "./routes/replays.js";
import {
  documentKeyGuessLimited,
  documentRateLimited,
  documentRequestBodies,
  documentUnauthorized,
  guardAdminRoutes,
  markOptionalBodies,
} from "./routes/responses.js";
import { statsRoutes } from "./routes/stats.js";
import { makeStreamRepair, streamNames, withStreamRepair } from "./streams.js";

/** What `buildApp` needs. The caller owns (and closes) `nats` and `store`. */
export interface GatewayDeps {
  readonly config: MinutesConfig;
  readonly nats: NatsConnection;
  readonly store: PublicationStoreShape;
  /** Confluence access for health and page deletion; none by default. */
  readonly confluence?: ConfluenceAccess | undefined;
  /** A pino logger (redacting secrets); logging is off when absent. */
  readonly logger?: FastifyBaseLogger | undefined;
  /** When the status calls publisher restarts a crash loop; `DEFAULT_PUBLISHER_LIVENESS` when absent. */
  readonly publisherLiveness?: PublisherLivenessSettings | undefined;
  /** How long an import's upload may send nothing before it is refused; `IMPORT_IDLE_TIMEOUT_MS` when absent. */
  readonly importIdleTimeoutMs?: number | undefined;
  /** How long an import's whole upload may take before it is refused; `IMPORT_UPLOAD_TIMEOUT_MS` when absent. */
  readonly importUploadTimeoutMs?: number | undefined;
  /**
   * The clock (epoch ms) the Confluence token's expiry is judged by; `Date.now` when absent. Tests
   * fix it, so that the days left do not depend on when (before or after midnight UTC) they run.
   */
  readonly now?: (() => number) | undefined;
}

/** The built app and the handles tests and the server use. */
export interface Gateway {
  readonly app: FastifyInstance;
  readonly ctx: GatewayContext;
}

/** Request headers that carry credentials (lowercase, as Node names them). */
const SECRET_HEADERS = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-api-token",
  "x-auth-token",
  "x-access-token",
  "x-csrf-token",
];

/**
 * Redaction paths for every logger that sees requests: a second line behind the `req` serializer
 * (which logs no headers), for any log call that passes request headers or a parser error's raw
 * bytes (`rawPacket`) by hand.
 */
export const REDACT_PATHS = [
  ...["req.headers", "headers"].flatMap((at) =>
    SECRET_HEADERS.map((name) => `${at}[${JSON.stringify(name)}]`),
  ),
  "authorization",
  "cookie",
  "token",
  "api_token",
  "password",
  "err.rawPacket",
  "rawPacket",
];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the app; resolves once the streams exist and the outcome feed runs. */
export const buildApp = async (deps: GatewayDeps): Promise<Gateway> => {
  const { config } = deps;
  const app = Fastify({
    // The child's `req` serializer replaces Fastify's, which logs the query string as sent.
    ...(deps.logger
      ? { loggerInstance: deps.logger.child({}, { serializers: { req: serializeRequest } }) }
      : { logger: false }),
    bodyLimit: config.gateway.body_limit_bytes,
    // Job ids may be 200 characters (contracts' JobId), more once percent-encoded.
    routerOptions: { maxParamLength: 1_024 },
    frameworkErrors: frameworkErrorProblem,
    // Requests Node's parser refuses (malformed, headers too large, too slow) answer problems too.
    clientErrorHandler: (error, socket) => answerClientError(error, socket, app.log),
    genReqId: (req: IncomingMessage) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  const maxPayload = deps.nats.info?.max_payload;
  if (maxPayload !== undefined && config.gateway.body_limit_bytes > maxPayload) {
    app.log.warn(
      { bodyLimitBytes: config.gateway.body_limit_bytes, maxPayload },
      "gateway.body_limit_bytes is over the NATS server's max_payload: larger protocols answer 413",
    );
  }
  const js = jetstream(deps.nats);
  const jsm = await jetstreamManager(deps.nats);
  await ensureStreams(jsm, config.nats);
  const streams = streamNames(config.nats);
  // Streams found missing later (NATS restarted without its data) are created again by whoever
  // finds out: a publish with no stream to store it, or the outcome feed.
  const repair = makeStreamRepair(jsm, config.nats, {
    created: (stream) => app.log.warn({ stream }, "the stream was missing: created it again"),
    failed: (error) => app.log.warn({ err: error }, "could not re-create the streams"),
  });
  const feed = await startOutcomeFeed(js, streams.outcome, config.nats.subject_prefix, app.log, {
    jsm,
    repair,
  });
  let natsUp = true;
  void (async () => {
    for await (const s of deps.nats.status()) {
      if (s.type === "disconnect" || s.type === "close") natsUp = false;
      else if (s.type === "reconnect") natsUp = true;
    }
  })().catch(() => undefined);
  const natsConnected = () => natsUp && !deps.nats.isClosed();
  const publisher = withPublishHealth(withStreamRepair(makeJetStreamPublisher(deps.nats), repair));
  const partial = {
    config,
    nc: deps.nats,
    js,
    jsm,
    publisher,
    streams,
    natsConnected,
    publisherLiveness: deps.publisherLiveness ?? DEFAULT_PUBLISHER_LIVENESS,
    importIdleTimeoutMs: deps.importIdleTimeoutMs ?? IMPORT_IDLE_TIMEOUT_MS,
    importUploadTimeoutMs: deps.importUploadTimeoutMs ?? IMPORT_UPLOAD_TIMEOUT_MS,
    now: deps.now ?? Date.now,
  };
  const confluence = deps.confluence ?? noConfluence;
  const metrics = new GatewayMetrics(
    deps.store,
    async () => {
      if (!natsConnected()) return null;
      const b = await consumerBacklog(jsm, streams.protocol, config.nats.consumer);
      return b === null ? null : b.pending + b.ackPending;
    },
    publisher.health,
    async () => {
      // As the status does: a token added or rotated in the vault counts from the next scrape on.
      await confluence.refresh?.().catch(() => undefined);
      return { source: confluence.tokenSource, expiresAt: confluence.tokenExpiresAt };
    },
  );
  feed.subscribe(metrics.observe);
  const replays = new ReplayManager({
    js,
    jsm,
    publisher,
    store: deps.store,
    feed,
    config,
    protocolStream: streams.protocol,
    log: app.log,
  });
  const ctx: GatewayContext = {
    ...partial,
    store: deps.store,
    feed,
    metrics,
    replays,
    confluence,
  };

  app.addHook("onClose", async () => {
    await replays.close();
    await feed.stop();
    publisher.close();
  });
  // While closing, answers to in-flight requests end their keep-alive connection, so the HTTP
  // server closes as soon as they are sent instead of after the keep-alive timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  // A callback hook, not an async one: it runs on every answer and has nothing to wait for.
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  // Only JSON (and the import's NDJSON) is accepted; text/plain answers 415 like any other type.
  // Fastify's JSON parser decodes bytes that are not UTF-8 to U+FFFD and ignores the charset:
  // this one refuses both (and says which key or position it refused).
  app.removeContentTypeParser(["text/plain", "application/json"]);
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, parseJsonBody);

  await app.register(schemaCompilerPlugin);
  await app.register(problemsPlugin);
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Minutes gateway",
        description:
          "Event intake, publication commands, records, statistics, replays, backups and health. Every `/api/*` request needs an API key, also one for a path that does not exist: without a valid key it answers 401, with one 404.",
        version: "0.1.0",
      },
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
      security: [{ apiKey: [] }],
    },
    transformObject: (document) =>
      "openapiObject" in document
        ? documentRequestBodies(markOptionalBodies(document.openapiObject))
        : document.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  const apiKeys = makeApiKeys(config.gateway.api_keys, config.gateway.admin_api_keys);
  const opts = { ctx, hasApiKey: apiKeys.hasValidKey };
  // The /api scope's rate limiter (set once that scope is registered, before any request).
  let apiRateLimit: ((request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | undefined;
  // Health, status and metrics answer a valid key differently from another one (more details,
  // or 200 rather than 401): a request there that sends a key that is not valid counts against
  // its client address like such a request to /api (the same counter), so keys cannot be tried
  // here outside the limit. No key or a valid key (a monitor) is never limited here.
  const limitKeyGuesses = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.headers.authorization === undefined || apiKeys.hasValidKey(request)) return;
    await apiRateLimit?.(request, reply);
  };
  const guarded =
    (enabled: boolean, plugin: FastifyPluginAsync<{ ctx: GatewayContext }>): FastifyPluginAsync =>
    async (scope) => {
      scope.addHook("onRequest", limitKeyGuesses);
      scope.addHook("onRoute", documentKeyGuessLimited);
      if (enabled) {
        scope.addHook("preParsing", apiKeys.requireApiKey);
        scope.addHook("onRoute", documentUnauthorized);
      } else scope.addHook("onRoute", withoutApiKey);
      await scope.register(plugin, opts);
    };

  await app.register(livenessRoutes);
  await app.register(guarded(config.gateway.auth_health, healthRoutes));
  await app.register(guarded(config.gateway.auth_metrics, metricsRoutes));
  await app.register(async (api) => {
    // Rate limiting runs first (route onRequest hooks), then the key check, then body parsing.
    api.addHook("preParsing", apiKeys.requireApiKey);
    // Then a compressed body is refused (415 naming its Content-Encoding), before it is read.
    api.addHook("preParsing", refuseContentEncoding);
    // The 401 and 429 every route here can answer are documented where they are sent from.
    api.addHook("onRoute", documentUnauthorized);
    api.addHook("onRoute", documentRateLimited);
    api.addHook("onRoute", guardAdminRoutes(apiKeys.requireAdminKey));
    await api.register(rateLimit, {
      max: config.gateway.rate_limit_per_minute,
      timeWindow: 60_000,
      keyGenerator: apiKeys.callerKey,
      errorResponseBuilder: (_request, context) =>
        new HttpProblem({
          status: 429,
          detail: `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
          headers: { "retry-after": String(Math.ceil(context.ttl / 1000)) },
        }),
    });
    // Without options: this scope's limiter itself (its counters), for the health and metrics scopes.
    apiRateLimit = api.rateLimit();
    // A path under /api that does not exist answers like one that does: rate limited, and 401
    // without a valid key, so a caller without one cannot map which paths exist (nor use the
    // 401/404 difference to test keys outside the rate limit); with a valid key, a 404. The
    // not-found handler of this scope runs the scope's hooks (the key check above, and the rate
    // limit, which routes get from their onRoute hook and this handler from the hook added here).
    await api.register(
      async (unknown) => {
        unknown.addHook("onRequest", unknown.rateLimit());
        unknown.setNotFoundHandler(notFoundProblem);
      },
      { prefix: "/api" },
    );
    for (const plugin of [
      protocolRoutes,
      jobRoutes,
      publicationRoutes,
      statsRoutes,
      replayRoutes,
      archiveRoutes,
      backupRoutes,
    ]) {
      await api.register(plugin, opts);
    }
  });
  return { app, ctx };
};

// internal

/** Documents a route as needing no API key (the document's global `security` asks for one). */
const withoutApiKey = (route: RouteOptions): void => {
  route.schema = { ...route.schema, security: [] };
};
