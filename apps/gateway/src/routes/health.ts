/**
 * Operations: `GET /healthz` (liveness, no dependencies), `GET /health/confluence` (credentials
 * work), `GET /status/confluence` (NATS, streams, consumer backlog, database, last publication,
 * token source and recorded expiry — never the token; the publishers registered as running;
 * `degraded` with the reasons when a part is missing or down, when messages wait and no publisher
 * runs or pulls them, when publishers keep starting and dying: a crash loop, or when the token has
 * expired; a token that expires within `token_expiry_warning_days` is a warning, the status stays
 * `ok`) and `GET /metrics/confluence`
 * (Prometheus text). The publisher registry is read at most once a second, whoever polls, and
 * judged by the NATS server's clock (the heartbeat times are the server's). It speaks for the
 * deployment only while nothing contradicts it: after a rollback to publishers that do not register,
 * the consumer alone says whether one runs.
 */

import {
  type ConfluenceClientService,
  type ConnectionInfo,
  reportConfluenceWaits,
} from "@minutes/confluence-core";
import { ConfluenceHealth, ConfluenceStatus, Liveness, type PublishersStatus } from "@minutes/contracts/api";
import {
  isLivePublisher,
  isNotFound,
  type PublisherRegistryRead,
  type RegisteredPublisher,
  readPublisherRegistry,
} from "@minutes/nats-streams";
import { tokenExpiryNotice, tokenExpiryState } from "@minutes/token-vault";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Effect, type Either, Option, Redacted } from "effect";
import type { FastifyPluginAsync } from "fastify";
import { configureConfluence } from "../confluence.js";
import type { PublisherLivenessSettings, RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { misconfigured, UNAVAILABLE_RETRY_AFTER_S, unavailable } from "../problem.js";
import { refusalReason } from "../publish-health.js";
import { streamsFound } from "../streams.js";
import { confluenceStatusTokenExpiringExample } from "./openapi-examples.js";
import { answer, problemAnswer, problemResponses, UNAVAILABLE_HEADERS } from "./responses.js";

/** What the publisher consumer holds: undelivered, delivered and unacknowledged, and open pull requests. */
export interface ConsumerBacklog {
  readonly pending: number;
  readonly ackPending: number;
  readonly waiting: number;
}

/** The publisher consumer's backlog, or `null` when the consumer does not exist (yet). */
export const consumerBacklog = async (
  jsm: JetStreamManager,
  stream: string,
  consumer: string,
): Promise<ConsumerBacklog | null> => {
  try {
    const info = await jsm.consumers.info(stream, consumer);
    return { pending: info.num_pending, ackPending: info.num_ack_pending, waiting: info.num_waiting };
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
};

/**
 * How long `/status/confluence` waits before it reads the consumer a second time, when the first
 * read looked like no publisher is running.
 */
export const NO_PUBLISHER_RECHECK_MS = 1_000;

/**
 * Whether the consumer looks as if no publisher pulls from it: messages wait, yet no pull
 * request is open and nothing is being worked on. A running publisher always has one of the
 * two: an open pull request while it has a free slot (it asks for one message at a time, again as
 * soon as it takes one), else its messages in progress are ack-pending. Only the moment between
 * two pull requests looks the same, hence the second read.
 */
export const looksUnattended = (b: ConsumerBacklog): boolean =>
  b.pending > 0 && b.waiting === 0 && b.ackPending === 0;

/** What the publisher registry says at one moment (see {@link assessPublishers}). */
export interface PublisherAssessment {
  /** Heartbeat within `PUBLISHER_MISSED_HEARTBEATS` of its intervals; the newest start first. */
  readonly alive: ReadonlyArray<RegisteredPublisher>;
  /** Started within the window, heartbeat stopped, presence not removed: no clean stop. */
  readonly unclean: ReadonlyArray<RegisteredPublisher>;
  /** The newest start within the window, alive or not. */
  readonly lastStartedAt: Date | null;
  /** The one whose heartbeat is the newest, alive or not. */
  readonly lastSeen: RegisteredPublisher | null;
}

/**
 * Sorts the registry into publishers alive now and starts within the crash-loop window that
 * ended without a clean stop (a clean stop removes its presence). A publisher that died counts
 * as alive until it missed `PUBLISHER_MISSED_HEARTBEATS` heartbeats.
 */
export const assessPublishers = (
  registered: ReadonlyArray<RegisteredPublisher>,
  now: number,
  settings: PublisherLivenessSettings,
): PublisherAssessment => {
  // Shown as each publisher reported its start; the window is judged by the server's clock.
  const newestStartFirst = (a: RegisteredPublisher, b: RegisteredPublisher) =>
    Date.parse(b.presence.startedAt) - Date.parse(a.presence.startedAt);
  const inWindow = registered.filter((p) => now - startOf(p) <= settings.crashLoopWindowMs);
  const isAlive = (p: RegisteredPublisher) => isLivePublisher(p, now);
  const alive = registered.filter(isAlive).sort(newestStartFirst);
  const unclean = inWindow.filter((p) => !isAlive(p)).sort(newestStartFirst);
  const newest = [...inWindow, ...alive].sort(newestStartFirst)[0];
  return {
    alive,
    unclean,
    lastStartedAt: newest === undefined ? null : new Date(newest.presence.startedAt),
    lastSeen:
      [...registered].sort((a, b) => b.lastHeartbeatAt.getTime() - a.lastHeartbeatAt.getTime())[0] ?? null,
  };
};

/**
 * When a publisher started by the NATS server's clock: its last heartbeat's server time less the
 * uptime it reported with it, so a publisher whose clock is off is still judged right. Publishers
 * that predate `uptimeMs` give their own clock's `startedAt`.
 */
const startOf = (p: RegisteredPublisher): number =>
  p.presence.uptimeMs === undefined
    ? Date.parse(p.presence.startedAt)
    : p.lastHeartbeatAt.getTime() - p.presence.uptimeMs;

/** How long one read of the publisher registry answers `/status/confluence`. */
export const PUBLISHER_REGISTRY_REUSE_MS = 1_000;

/**
 * Whether the registry's "no publisher alive" can be believed without asking the consumer twice.
 * Publishers older than the registry do not register, so after a rollback to them the registry
 * stays, empty or with the presences the rolled-back ones left. Believed only when nothing speaks
 * against it: no open pull request on the consumer (a running publisher holds one whenever it has
 * a free slot; a dead one's expire) and a publisher of this version sent a heartbeat within the
 * crash-loop window (presences older than that, or none, are what a rollback leaves; one of those
 * publishers busy with a message has no open pull request).
 */
export const registryTrusted = (
  assessed: PublisherAssessment,
  backlog: ConsumerBacklog,
  now: number,
  settings: PublisherLivenessSettings,
): boolean =>
  backlog.waiting === 0 &&
  assessed.lastSeen !== null &&
  now - assessed.lastSeen.lastHeartbeatAt.getTime() <= settings.crashLoopWindowMs;

export const livenessRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["operations"],
        summary: "Liveness",
        // Never authenticated, whatever gateway.auth_health says.
        security: [],
        response: { 200: answer(routeSchema(Liveness), "The gateway process runs and answers requests.") },
      },
    },
    async () => ({ status: "ok" as const }),
  );
};

/** How long `/health/confluence` waits for Confluence. */
export const HEALTH_CHECK_TIMEOUT_MS = 5_000;

/** How long one Confluence check answers `/health/confluence` (from when it started). */
export const HEALTH_CHECK_REUSE_MS = 10_000;

/** Asks Confluence who the credentials belong to, within HEALTH_CHECK_TIMEOUT_MS. */
const check = (
  client: ConfluenceClientService,
): Promise<Either.Either<ConnectionInfo, { readonly _tag: string; readonly message: string }>> => {
  // What failed before the last retry wait: a probe cut short while the client waits to try
  // again says why (connection refused, 503…), not only that time ran out.
  let lastFailure: { readonly _tag: string; readonly message: string } | undefined;
  return Effect.runPromise(
    Effect.either(
      // A probe must answer before the monitor gives up: not after the client's full timeout
      // and retries when Confluence hangs.
      reportConfluenceWaits(client.testConnection(), (wait) =>
        Effect.sync(() => {
          lastFailure = wait.error;
        }),
      ).pipe(
        Effect.timeoutFail({
          duration: HEALTH_CHECK_TIMEOUT_MS,
          onTimeout: () =>
            lastFailure !== undefined
              ? {
                  _tag: lastFailure._tag,
                  message: `${lastFailure.message} (still failing after ${HEALTH_CHECK_TIMEOUT_MS / 1000} s of retries)`,
                }
              : {
                  _tag: "Timeout",
                  message: `Confluence did not answer within ${HEALTH_CHECK_TIMEOUT_MS / 1000} s`,
                },
        }),
      ),
    ),
  );
};

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx, hasApiKey }) => {
  // One read of the registry (a short-lived consumer on the registry stream) serves every status
  // request for PUBLISHER_REGISTRY_REUSE_MS: polling the open status cannot make NATS work harder.
  // With it, how far the server's clock is ahead of the gateway's: heartbeats are compared with
  // the server's time, as a gateway clock ahead of the server's would make live publishers look dead.
  let lastRegistryRead:
    | {
        readonly at: number;
        readonly result: Promise<
          { readonly registry: PublisherRegistryRead | null; readonly serverAheadMs: number } | undefined
        >;
      }
    | undefined;
  const readRegistry = () => {
    const now = Date.now();
    if (lastRegistryRead === undefined || now - lastRegistryRead.at >= PUBLISHER_REGISTRY_REUSE_MS) {
      lastRegistryRead = {
        at: now,
        // `undefined`: JetStream did not answer; `registry: null`: no publisher of this version has run.
        result: readPublisherRegistry(ctx.js, ctx.jsm, ctx.config.nats).then(
          (registry) => ({
            registry,
            serverAheadMs: registry?.serverTime ? registry.serverTime.getTime() - Date.now() : 0,
          }),
          () => undefined,
        ),
      };
    }
    return lastRegistryRead.result;
  };
  let lastCheck:
    | {
        readonly client: ConfluenceClientService;
        readonly at: number;
        readonly result: ReturnType<typeof check>;
      }
    | undefined;
  app.get(
    "/health/confluence",
    {
      schema: {
        tags: ["operations"],
        summary: "Confluence is reachable with the configured credentials",
        response: {
          200: answer(
            routeSchema(ConfluenceHealth),
            "Confluence answered with the configured credentials. With an API key: the deployment, the site and the user they belong to (`detailsWithheld` false). Without one (allowed while `gateway.auth_health` is off): only `status` and `detailsWithheld: true`. One check answers every request for 10 s (those that arrive while it runs, too).",
          ),
          503: problemAnswer(
            503,
            "Service unavailable: Confluence did not answer with the credentials within 5 s (the detail names the kind of error, e.g. `ConfluenceAuthenticationError`, and with an API key Confluence's own words; with `Retry-After`), or Confluence is not configured (no client or token; the detail says which settings to change, and with an API key why; no `Retry-After`: retrying will not help until an operator changes them).",
            {
              detail: "Confluence check failed (Timeout): Confluence did not answer within 5 s",
              headers: {
                "Retry-After": {
                  type: "integer",
                  description: `Seconds to wait before checking again (${UNAVAILABLE_RETRY_AFTER_S}); only when Confluence did not answer, not when it is not configured.`,
                },
              },
            },
          ),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      // Open to all unless gateway.auth_health: the site, the bot account and Confluence's own
      // words (which name the site, the user, the vault) only for a client with an API key.
      const withheld = hasApiKey !== undefined && !hasApiKey(request);
      const client = await ctx.confluence.client().catch((e: unknown) => {
        throw misconfigured(
          `${!withheld && e instanceof Error ? e.message : "Confluence is not configured"}: ${configureConfluence(ctx.config.confluence)}`,
          "confluence-not-configured",
        );
      });
      // One check serves every request for HEALTH_CHECK_REUSE_MS (and those that arrive while
      // it runs): a monitor, or anyone who can reach the gateway, must not be able to spend the
      // bot account's Confluence rate limit, which the publishers need.
      const now = ctx.now();
      if (
        lastCheck === undefined ||
        lastCheck.client !== client ||
        now - lastCheck.at >= HEALTH_CHECK_REUSE_MS
      ) {
        lastCheck = { client, at: now, result: check(client) };
      }
      const result = await lastCheck.result;
      if (result._tag === "Left") {
        throw unavailable(
          withheld
            ? `Confluence check failed (${result.left._tag}); the details are shown with an API key`
            : `Confluence check failed (${result.left._tag}): ${result.left.message}`,
          "confluence-unreachable",
        );
      }
      if (withheld) return { status: "ok" as const, detailsWithheld: true };
      const info = result.right;
      return {
        status: "ok" as const,
        detailsWithheld: false,
        deployment: info.deployment,
        siteUrl: info.siteUrl,
        user: {
          displayName: info.displayName,
          ...(info.accountId !== undefined ? { accountId: info.accountId } : {}),
          ...(info.username !== undefined ? { username: info.username } : {}),
        },
      };
    },
  );

  app.get(
    "/status/confluence",
    {
      schema: {
        tags: ["operations"],
        summary:
          "Pipeline status: NATS, consumer backlog, database, last publication, token source and expiry",
        response: {
          200: answer(
            routeSchema(ConfluenceStatus),
            "`ok`: NATS, the streams, the publishers' consumer and the database are all there, and the Confluence token is not known to have expired. `warnings` says what needs doing soon while nothing fails yet: a token that expires within `confluence.token_expiry_warning_days` (14) days, with the day and how to replace it (the `minutes vault add` command for the site and user, or the settings to change and the restart; without an API key the command shows `<confluence.base_url>` and `<confluence.username>` instead of the site and user). `publishers` lists the publishers running now (start, last heartbeat; host and pid only with an API key) and counts those started in the last `windowSeconds` that stopped without a clean stop; it is `null` until a publisher of this version has started (it creates the registry). `tokenSource` says where the token in use comes from (`vault`, `config`, `none`) and `tokenExpiresAt` when it expires, as recorded with it (`minutes vault add --expires`, or `confluence.token_expires_at` for a configured token; Confluence cannot tell): `null` when unknown. Both are read anew on each request: a token added to the vault counts without a restart.",
            { example: confluenceStatusTokenExpiringExample },
          ),
          503: answer(
            routeSchema(ConfluenceStatus),
            "`degraded`: `reasons` says what is wrong, one sentence each (NATS or the database down, a stream or the consumer missing, the event stream refusing events, messages waiting while no publisher runs or pulls (by the registry: none has a fresh heartbeat by the NATS server's clock, no pull request is open and one sent a heartbeat in the last 10 minutes; else by the consumer: no open pull request and none in progress, on two reads 1 s apart), publishers in a crash loop: 3 or more starts in the last 10 minutes that ended without a clean stop, with how many and when the last one started, the Confluence token expired, with the day and how to replace it: the `minutes vault add` command for the site and user (placeholders for them without an API key), or the settings to change and the restart). A publisher that died counts as running until it missed 3 heartbeats.",
            { headers: UNAVAILABLE_HEADERS },
          ),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      // Open to all unless gateway.auth_health: a meeting's title, page and error, and the routing
      // rules (spaces, topics), are shown only to a client with an API key.
      const withheld = hasApiKey !== undefined && !hasApiKey(request);
      const connected = ctx.natsConnected();
      const readBacklog = () =>
        consumerBacklog(ctx.jsm, ctx.streams.protocol, ctx.config.nats.consumer).catch(() => undefined);
      let [backlog, streams, read] = connected
        ? await Promise.all([readBacklog(), streamsFound(ctx.jsm, ctx.streams), readRegistry()])
        : [undefined, null, undefined];
      // The server's time: the heartbeats' times are the server's.
      const now = Date.now() + (read?.serverAheadMs ?? 0);
      const settings = ctx.publisherLiveness;
      const assessed = read?.registry ? assessPublishers(read.registry.publishers, now, settings) : undefined;
      // Messages wait (or are held by a publisher that may be gone) and no publisher has a fresh
      // heartbeat. Only with a registry that can be believed: publishers older than it do not
      // register; else the consumer decides, below.
      const waiting = backlog ? backlog.pending + backlog.ackPending : 0;
      const noneAlive =
        assessed !== undefined &&
        backlog !== undefined &&
        backlog !== null &&
        registryTrusted(assessed, backlog, now, settings) &&
        assessed.alive.length === 0 &&
        waiting > 0;
      const crashLoop = assessed !== undefined && assessed.unclean.length >= settings.crashLoopStarts;
      // Checked twice, a moment apart: a running publisher between two pull requests looks the
      // same for an instant. Only a suspicious first read costs the wait.
      let unattended = false;
      if (backlog && !noneAlive && looksUnattended(backlog)) {
        await new Promise((resolve) => setTimeout(resolve, NO_PUBLISHER_RECHECK_MS));
        const again = await readBacklog();
        if (again !== undefined) backlog = again;
        unattended = again !== undefined && again !== null && looksUnattended(again);
      }
      const db = await Effect.runPromise(Effect.either(ctx.store.health()));
      const last = withheld
        ? Option.none()
        : await Effect.runPromise(
            Effect.either(ctx.store.query({ limit: 1 })).pipe(
              Effect.map((r) => (r._tag === "Right" ? Option.fromNullable(r.right.items[0]) : Option.none())),
            ),
          );
      const refused = refusalReason(ctx.publisher.health());
      // The vault file may have changed since the last Confluence call: the token source (and the
      // token's expiry) is read anew.
      await ctx.confluence.refresh?.().catch(() => undefined);
      const tokenSource = ctx.confluence.tokenSource;
      const tokenExpiresAt = ctx.confluence.tokenExpiresAt;
      const warningDays = ctx.config.confluence.token_expiry_warning_days;
      // One reading of the clock for the notice and the state: they must agree on the day.
      const expiryNow = ctx.now();
      const expiry =
        tokenSource === "none"
          ? undefined
          : tokenExpiryNotice(
              {
                source: tokenSource,
                // The vault command names the site and the bot account: placeholders when withheld.
                url: withheld ? "<confluence.base_url>" : ctx.config.confluence.base_url,
                username: withheld ? "<confluence.username>" : ctx.config.confluence.username,
                vaultConfigured: readsVault(ctx.config.vault.password),
                expiresAt: tokenExpiresAt,
              },
              expiryNow,
              warningDays,
            );
      // Expired, publishing fails: a reason. Expiring soon, nothing fails yet: a warning, and the
      // status stays ok (a monitor alerting on 503 must not page anyone for two weeks).
      const expired =
        expiry !== undefined && tokenExpiryState(tokenExpiresAt, expiryNow, warningDays)._tag === "Expired";
      // `undefined`: JetStream did not say; `null`: the consumer does not exist.
      const reasons = [
        ...(!connected ? ["NATS is not connected"] : []),
        ...(connected && (streams === null || backlog === undefined) ? ["JetStream did not answer"] : []),
        ...(streams?.protocol === false
          ? [`the stream ${ctx.streams.protocol} is missing: it is created again by the next event`]
          : []),
        ...(streams?.outcome === false
          ? [`the stream ${ctx.streams.outcome} is missing: it is created again by the next event`]
          : []),
        ...(backlog === null
          ? [
              `the consumer ${ctx.config.nats.consumer} is missing: events wait until a publisher creates it again (at its start, or when it finds it missing)`,
            ]
          : []),
        ...(unattended && backlog
          ? [
              `no publisher is pulling from the consumer ${ctx.config.nats.consumer} while ${backlog.pending} ${backlog.pending === 1 ? "message waits" : "messages wait"} (no open pull request and none in progress, on two reads ${NO_PUBLISHER_RECHECK_MS / 1000} s apart)`,
            ]
          : []),
        // A believed registry always names the last one seen (see registryTrusted).
        ...(noneAlive && assessed.lastSeen !== null
          ? [
              `no publisher is running while ${waiting} ${waiting === 1 ? "message waits" : "messages wait"}: the last one (${assessed.lastSeen.presence.instanceId}, started at ${assessed.lastSeen.presence.startedAt}) sent its last heartbeat at ${assessed.lastSeen.lastHeartbeatAt.toISOString()}`,
            ]
          : []),
        ...(crashLoop
          ? [
              `publishers keep dying (a crash loop?): ${assessed.unclean.length} publisher starts in the last ${spell(settings.crashLoopWindowMs)} ended without a clean stop (killed, crashed or failed to start), the last start at ${assessed.lastStartedAt?.toISOString() ?? "an unknown time"}`,
            ]
          : []),
        ...(db._tag === "Left" ? ["the publication database is unavailable"] : []),
        ...(refused !== undefined ? [refused] : []),
        ...(expired && expiry !== undefined ? [expiry] : []),
      ];
      const warnings = !expired && expiry !== undefined ? [expiry] : [];
      const ok = reasons.length === 0;
      const server = ctx.nc.getServer();
      const body: ConfluenceStatus = {
        status: ok ? "ok" : "degraded",
        reasons,
        warnings,
        nats: {
          connected,
          // Whoever reaches NATS can inject work: its address stays with those holding a key.
          server: withheld || server === "" ? null : server,
          stream: ctx.streams.protocol,
          outcomeStream: ctx.streams.outcome,
          streamFound: streams?.protocol ?? null,
          outcomeStreamFound: streams?.outcome ?? null,
        },
        consumer: {
          name: ctx.config.nats.consumer,
          found: backlog !== null && backlog !== undefined,
          pending: backlog?.pending ?? null,
          ackPending: backlog?.ackPending ?? null,
          waiting: backlog?.waiting ?? null,
          backlog: backlog ? backlog.pending + backlog.ackPending : null,
        },
        publishers: assessed === undefined ? null : publishersStatus(assessed, settings, withheld),
        database: {
          status: db._tag === "Right" ? "ok" : "down",
          detail: db._tag === "Right" ? null : "the publication database is unavailable",
        },
        lastPublication: Option.getOrNull(last),
        tokenSource,
        tokenExpiresAt: tokenExpiresAt?.toISOString() ?? null,
        confluenceEnabled: ctx.config.confluence.enabled,
        routing: withheld
          ? null
          : {
              defaultSpaceKey: ctx.config.confluence.space_key,
              defaultParentPageId: ctx.config.confluence.parent_page_id,
              rules: ctx.config.confluence.routing_rules,
            },
        detailsWithheld: withheld,
      };
      // Every reason is a state that changes without a new configuration: check again soon.
      if (!ok) reply.header("retry-after", String(UNAVAILABLE_RETRY_AFTER_S));
      return reply.code(ok ? 200 : 503).send(body);
    },
  );
};

export const metricsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get(
    "/metrics/confluence",
    {
      schema: {
        tags: ["operations"],
        summary: "Prometheus metrics",
        response: {
          200: {
            description: "The metrics in Prometheus' text format (`text/plain; version=0.0.4`).",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          ...problemResponses,
        },
      },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.text();
      return reply.type(ctx.metrics.contentType).send(text);
    },
  );
};

// internal

/** Whether the services read the vault: a token stored there then replaces the configured one without a restart. */
const readsVault = (password: Redacted.Redacted<string> | null): boolean =>
  password !== null && Redacted.value(password) !== "";

/** A duration in words: whole minutes as minutes, else seconds. */
const spell = (ms: number): string =>
  ms % 60_000 === 0
    ? `${ms / 60_000} ${ms === 60_000 ? "minute" : "minutes"}`
    : `${ms / 1000} ${ms === 1000 ? "second" : "seconds"}`;

/** The `publishers` part of the status; host and pid only for a client with an API key. */
const publishersStatus = (
  assessed: PublisherAssessment,
  settings: PublisherLivenessSettings,
  withheld: boolean,
): PublishersStatus => ({
  alive: assessed.alive.length,
  instances: assessed.alive.map(({ presence, lastHeartbeatAt }) => ({
    instanceId: presence.instanceId,
    host: withheld ? null : presence.host,
    pid: withheld ? null : presence.pid,
    version: presence.publisherVersion,
    startedAt: presence.startedAt,
    lastHeartbeatAt: lastHeartbeatAt.toISOString(),
  })),
  uncleanStops: assessed.unclean.length,
  windowSeconds: settings.crashLoopWindowMs / 1000,
  lastStartedAt: assessed.lastStartedAt?.toISOString() ?? null,
});
