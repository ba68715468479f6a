/**
 * A running publisher: NATS connection and streams, the publication store, the durable consumer
 * (one it creates starts where the store says work stopped), the Confluence client provider, the
 * pipeline and the consume loop — acquired in that order and released in reverse. Streams and
 * consumer are re-created whenever the consume loop or an outcome event finds them missing.
 * `startPublisher` is what `main.ts`, the demo and the tests call.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { type ConfluenceClientConfig, checkCaFile, checkProxyConfig } from "@minutes/confluence-core";
import {
  ArchiveRunRequestJson,
  type ArchiveRunResult,
  ArchiveRunResultJson,
  archiveRunSubject,
  formatParseIssues,
  IndexRefreshRequestJson,
  IndexRefreshResultJson,
  ignoredSettingWarnings,
  indexRefreshSubject,
  type MinutesConfig,
} from "@minutes/contracts";
import {
  connectNats,
  ensureStreams,
  isLivePublisher,
  type PublisherRegistration,
  readPublisherRegistry,
  registerPublisher,
} from "@minutes/nats-streams";
import {
  PublicationStore,
  type PublicationStoreShape,
  storeConfigFromDatabaseConfig,
} from "@minutes/publication-store";
import { type TokenOrigin, tokenExpiredNote, tokenExpiryNotice } from "@minutes/token-vault";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  Cause,
  Duration,
  Effect,
  Either,
  Exit,
  FiberSet,
  Option,
  Redacted,
  Runtime,
  Schedule,
  Schema,
  Scope,
} from "effect";
import type { Logger as Pino } from "pino";
import { type ArchiveRunOptions, runArchive } from "./archive.js";
import { type ActiveClient, lazyClient, makeConfluenceProvider } from "./confluence-provider.js";
import { type ConsumeLoop, startConsumeLoop } from "./consume-loop.js";
import { CONTAINER_CACHE_SIZE, ContainerCache } from "./containers.js";
import { makeDatabaseWatch } from "./database-watch.js";
import { ConfluenceDisabledError } from "./errors.js";
import { startGaveUpLoop } from "./gave-up.js";
import { makeIndexPages } from "./index-page.js";
import { makePino, pinoLoggerLayer } from "./logger.js";
import {
  type ConsumerStart,
  type ConsumerStartOptions,
  effectiveAckWaitMs,
  ensureConsumer,
  makeJetStreamRepair,
} from "./nats.js";
import { makeOutcomeSink } from "./outcomes.js";
import {
  type Disposition,
  type IncomingMessage,
  makePublishPipeline,
  type PipelineStep,
} from "./PublishPipeline.js";
import { defaultRenderThreads, makeRenderPool, renderSettingsOf } from "./render-pool.js";

/**
 * The reply to a command request (an archive run, an index refresh): its result, or `{ error }`
 * for any failure, a defect included, so the requester (the gateway) never waits out its timeout
 * for a reply that cannot come. A defect is logged with its cause; the reply only names it. A stop
 * interrupting the handling sends nothing (the fiber is interrupted, so no handler runs).
 */
export const commandReply = <E extends { readonly message: string }, R>(
  what: string,
  handling: Effect.Effect<string, E, R>,
): Effect.Effect<string, never, R> =>
  handling.pipe(
    Effect.catchAllCause((cause) => {
      const failure = Cause.failureOption(cause);
      if (Option.isSome(failure)) return Effect.succeed(JSON.stringify({ error: failure.value.message }));
      return Effect.logError(`${what} failed unexpectedly`).pipe(
        Effect.annotateLogs({ cause: Cause.pretty(cause) }),
        Effect.as(
          JSON.stringify({ error: `${what} failed unexpectedly in the publisher; its log has the details` }),
        ),
      );
    }),
  );

/** Options of {@link startPublisher}. */
export interface PublisherOptions {
  readonly config: MinutesConfig;
  /** Vault file used when `vault.file` is not set. */
  readonly defaultVaultFile: string;
  readonly proxy?: ConfluenceClientConfig["proxy"];
  /** Lease owner and log name; default a random id per process. */
  readonly instanceId?: string;
  /** Extra Confluence client settings (tests). */
  readonly clientOverrides?: Partial<ConfluenceClientConfig>;
  /** Test hook after each pipeline step; a defect simulates a crash there. */
  readonly afterStep?: (step: PipelineStep, jobId: string) => Effect.Effect<void>;
  readonly logger?: Pino;
  /**
   * How often the publisher refreshes its presence in the publisher registry (default
   * `PUBLISHER_HEARTBEAT_MS`); the gateway's status counts it as gone after three missed ones.
   */
  readonly heartbeatIntervalMs?: number;
  /** Webhook requests open at once (default `WEBHOOK_CONCURRENCY`; tests). */
  readonly webhookConcurrency?: number;
  /** Webhook sends waiting at most; newer ones are dropped (default `WEBHOOK_BACKLOG`; tests). */
  readonly webhookBacklog?: number;
  /** Least time between two log lines about dropped webhook sends (default `WEBHOOK_DROP_REPORT_MS`; tests). */
  readonly webhookDropReportMs?: number;
  /** Container pages (year, month, archive) remembered at most (default `CONTAINER_CACHE_SIZE`; tests). */
  readonly containerCacheSize?: number;
  /**
   * How often a running publisher looks at its token's expiry again, warning when it has expired or
   * expires within `confluence.token_expiry_warning_days` (default `TOKEN_EXPIRY_CHECK_MS`, a day; tests).
   */
  readonly tokenExpiryCheckMs?: number;
  /**
   * The clock (epoch ms) the token's expiry is judged by: the warnings at start and at each check,
   * and the note on a refused token (default `Date.now`; tests fix it, so that the days left do
   * not depend on when, before or after midnight UTC, they run).
   */
  readonly now?: () => number;
}

/** How often a running publisher warns about a token that expired or expires soon: once a day. */
export const TOKEN_EXPIRY_CHECK_MS = 86_400_000;

/** How often a publisher refreshes its presence in the publisher registry, by default. */
export const PUBLISHER_HEARTBEAT_MS = 5_000;

/** A started publisher. */
export interface RunningPublisher {
  readonly instanceId: string;
  /** Messages being processed now. */
  readonly inFlight: () => number;
  /** Where the Confluence token came from. */
  readonly tokenSource: () => "vault" | "config" | "none";
  /**
   * Graceful stop: stop pulling, finish or leave in-flight messages (`publisher.shutdown_grace_seconds`;
   * the ones left are logged), close store and NATS. `reason` goes in the log (e.g. the signal).
   */
  readonly stop: (reason?: string) => Promise<void>;
}

/**
 * Starts consuming and publishing. Fails when a file the configuration names cannot be used
 * (`confluence.page_template`, `confluence.ca_file`; and the proxy URLs: checked first, before connecting anywhere)
 * or when NATS or the database cannot be reached. A missing Confluence token is not fatal (it
 * can be added to the vault later, no restart needed) but is logged as a warning at start.
 */
export const startPublisher = async (options: PublisherOptions): Promise<RunningPublisher> => {
  const { config } = options;
  const template = readTemplate(config.confluence.page_template);
  checkCaFile(config.confluence.ca_file);
  checkProxyConfig(options.proxy);
  const instanceId = options.instanceId ?? `publisher-${randomUUID().slice(0, 8)}`;
  const now = options.now ?? Date.now;
  const log = (options.logger ?? makePino(config.logging.level)).child({ instance: instanceId });
  const scope = Effect.runSync(Scope.make());
  const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) =>
    Effect.runPromise(effect.pipe(Scope.extend(scope), Effect.provide(pinoLoggerLayer(log))));
  const startedAt = new Date().toISOString();

  try {
    // Fails naming NATS and its servers (without credentials), as the gateway does.
    const nc: NatsConnection = await connectNats(config.nats.url, {
      name: instanceId,
      maxReconnectAttempts: -1,
      // Each publish and request would otherwise build an Error for an async stack trace.
      noAsyncTraces: true,
    });
    await run(
      Scope.addFinalizer(
        scope,
        Effect.promise(() => nc.drain().catch(() => undefined)),
      ),
    );
    const jsm: JetStreamManager = await jetstreamManager(nc);
    const js = jetstream(nc);
    // Registered as soon as NATS answers, so that a start failing later (database, render threads)
    // counts as a start without a clean stop. Only `stop` removes the presence: a failed start
    // or a dead process leaves it, its heartbeat halted, for the gateway to count.
    let registryFailing = false;
    const registration: PublisherRegistration = await registerPublisher(
      js,
      jsm,
      config.nats,
      {
        version: 1,
        instanceId,
        host: hostname(),
        pid: process.pid,
        publisherVersion: PUBLISHER_VERSION,
        startedAt,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? PUBLISHER_HEARTBEAT_MS,
      },
      (error) => {
        // Said once per failing streak, not at every heartbeat.
        if (!registryFailing)
          log.warn(
            { err: String(error) },
            "could not write this publisher's presence to the publisher registry",
          );
        registryFailing = true;
      },
    );
    await run(Scope.addFinalizer(scope, Effect.sync(registration.halt)));
    await ensureStreams(jsm, config.nats);
    // Before the consumer: one created on a stream that holds messages starts where the store says
    // work stopped (an operator deleted it, or nats.consumer was renamed), not at the beginning.
    const store: PublicationStoreShape = await run(
      PublicationStore.make(storeConfigFromDatabaseConfig(config.database)),
    );
    const consumerStart: ConsumerStartOptions = {
      progress: (query) => Effect.runPromise(store.streamProgress(query)),
      pendingWaitsForPublish: !config.confluence.auto_publish || !config.confluence.enabled,
      created: (start) => logConsumerStart(log, config.nats, start),
    };
    await ensureConsumer(jsm, config.nats, consumerStart);
    // A NATS restarted without its data has neither streams nor consumer: found missing, they are
    // re-created here (at most once a second, whoever finds them missing).
    const repair = makeJetStreamRepair(
      jsm,
      config.nats,
      {
        created: (what) => log.warn({ created: what }, "re-created a missing stream or consumer"),
        failed: (error) =>
          log.warn({ err: String(error) }, "could not re-create the streams and the consumer"),
      },
      { start: consumerStart },
    );
    const provider = makeConfluenceProvider({
      config,
      defaultVaultFile: options.defaultVaultFile,
      ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
      ...(options.clientOverrides !== undefined ? { clientOverrides: options.clientOverrides } : {}),
    });
    // Suspended: the client to close is the one in use at the stop, not the none there is now.
    await run(
      Scope.addFinalizer(
        scope,
        Effect.suspend(() => provider.close()),
      ),
    );

    const containers = new ContainerCache(options.containerCacheSize ?? CONTAINER_CACHE_SIZE);
    const ackWaitMs = effectiveAckWaitMs(config.nats);
    const sink = await run(
      makeOutcomeSink(js, config, {
        repair,
        ...(options.webhookConcurrency !== undefined
          ? { webhookConcurrency: options.webhookConcurrency }
          : {}),
        ...(options.webhookBacklog !== undefined ? { webhookBacklog: options.webhookBacklog } : {}),
        ...(options.webhookDropReportMs !== undefined
          ? { webhookDropReportMs: options.webhookDropReportMs }
          : {}),
      }),
    );
    let botIdentity: ReadonlyArray<string> = [];
    // Index refreshes run in fibers the stop interrupts (and waits for) before it closes the
    // Confluence client: a refresh is shared by the publications and commands that asked for it,
    // so it does not end with any one of them.
    const indexRuns = await run(FiberSet.make<void, never>());
    const runIndex = await run(
      FiberSet.runtimePromise(indexRuns)<never>().pipe(Effect.withTracerEnabled(false)),
    );
    const indexPages = config.confluence.advanced_settings.create_index_page
      ? makeIndexPages(config, store, () => botIdentity, { run: (refresh) => runIndex(refresh) })
      : undefined;
    // No tracer is configured: spans (one per `Effect.fn` call, several per message) would only
    // cost CPU and garbage on the hot path.
    const runtime = await run(Effect.runtime<never>().pipe(Effect.withTracerEnabled(false)));
    // Disabled: events are stored and wait (see the pipeline); commands fail, visibly and
    // retryably, without asking Confluence anything.
    const enabled = config.confluence.enabled;
    for (const warning of ignoredSettingWarnings(config)) log.warn(warning);
    if (!enabled)
      log.warn(
        "publishing to Confluence is disabled (confluence.enabled is false): protocols are stored as pending; enable it, then publish or replay them",
      );
    /** The token in use as the warnings and failure messages describe it; `undefined` before one was resolved. */
    const tokenInUse = (): (TokenOrigin & { readonly expiresAt: Date | null }) | undefined => {
      const token = provider.tokenExpiry();
      if (token === undefined) return undefined;
      const vaultPassword = config.vault.password;
      return {
        ...token,
        url: config.confluence.base_url,
        username: config.confluence.username,
        vaultConfigured: vaultPassword !== null && Redacted.value(vaultPassword) !== "",
      };
    };
    // One pipeline for the process. Its Confluence client is resolved at the first Confluence call
    // of each message, not before the message is read: a Confluence that hangs, or a token that is
    // missing, must not keep the protocol from being stored and its record from saying why.
    const confluence = lazyClient(
      (): Effect.Effect<ActiveClient, { readonly _tag: string; readonly message: string }> =>
        enabled
          ? provider.get().pipe(
              Effect.tap((active) => {
                botIdentity = active.identity;
              }),
            )
          : Effect.fail(new ConfluenceDisabledError()),
      config.confluence.deployment ?? "cloud",
    );
    // Protocols are converted on worker threads, started (and checked) before the first message.
    const renderThreads = config.publisher.render_threads ?? defaultRenderThreads();
    const renderer = await run(
      makeRenderPool({
        threads: renderThreads,
        settings: renderSettingsOf(config.confluence),
        template,
        timeoutMs: config.publisher.render_timeout_seconds * 1000,
        onThreadExit: ({ exitCode, rendering, timedOut, jobId }) =>
          log.warn(
            { exitCode, rendering, timedOut, ...(jobId !== undefined ? { jobId } : {}) },
            timedOut
              ? "a render thread was stopped: its protocol took longer than publisher.render_timeout_seconds to convert (the publication fails); a new thread takes its place"
              : rendering
                ? "a render thread stopped while converting a protocol (its message is redelivered); a new thread takes its place"
                : "a render thread stopped; a new thread takes its place",
          ),
      }),
    );
    const pipeline = makePublishPipeline(
      {
        config,
        owner: instanceId,
        botIdentity: () => botIdentity,
        // Renewed while an attempt runs; after a crash it runs out about when the crashed
        // attempt's message comes back (the ack wait after its last heartbeat).
        leaseMs: Math.max(ackWaitMs, 5_000),
        busyDelayMs: Math.min(ackWaitMs, 2_000),
        ...(options.afterStep !== undefined ? { afterStep: options.afterStep } : {}),
        ...(template !== undefined ? { template } : {}),
        renderer,
        ...(indexPages !== undefined ? { indexPages } : {}),
        containers,
        // Confluence cannot say that a token expired; the record of its expiry can.
        failureNote: (error) => {
          const token = error._tag === "ConfluenceAuthenticationError" ? tokenInUse() : undefined;
          return token === undefined ? undefined : tokenExpiredNote(token, now());
        },
      },
      store,
      confluence,
      sink,
    );
    // The signal interrupts the handling's fiber (a stop that gives up on it after the grace
    // period); the promise settles once the interruption has finished.
    const handle = (message: IncomingMessage, signal: AbortSignal): Promise<Disposition> =>
      Runtime.runPromise(runtime)(pipeline.handle(message), { signal });

    // Messages kept through a database outage are tried again once it answers (database-watch.ts).
    const databaseAnswers = () => Effect.runPromise(Effect.isSuccess(store.health()));
    const databaseBack = makeDatabaseWatch({
      answers: databaseAnswers,
      onBack: (waiting) =>
        log.info({ waiting }, "the database answers again; trying the messages kept through the outage"),
    }).back;

    // Messages JetStream gave up on: their jobs are recorded failed (see gave-up.ts).
    const gaveUpLoop = await startGaveUpLoop({
      databaseBack,
      js,
      jsm,
      nats: config.nats,
      log,
      giveUp: (message, signal) => Runtime.runPromise(runtime)(pipeline.giveUp(message), { signal }),
    });

    // Archive runs, scheduled and requested, one at a time per process.
    const archiveLock = Effect.unsafeMakeSemaphore(1);
    const archive = (options: ArchiveRunOptions) =>
      archiveLock.withPermits(1)(
        Effect.flatMap(provider.get(), (active) =>
          runArchive(
            { config, store, instance: instanceId, containers, indexPages, botIdentity: active.identity },
            active.client,
            options,
          ),
        ),
      );
    if (enabled && config.confluence.advanced_settings.archive_old_pages) {
      const every = Duration.minutes(config.confluence.advanced_settings.archive_interval_minutes);
      // Once per period across the publishers: the one holding the store's schedule lock runs it
      // (always this one on SQLite); two at once reported each other's pages as failures.
      const scheduled = Effect.flatMap(store.holdsSchedule("archive"), (mine) =>
        mine
          ? Effect.asVoid(archive({}))
          : Effect.logInfo("scheduled archive run left to the publisher that runs them"),
      );
      await run(
        Effect.forkScoped(
          scheduled.pipe(
            // A defect too: the schedule must go on (and say so) rather than end without a word.
            Effect.catchAllCause((cause) => {
              const failure = Cause.failureOption(cause);
              return Effect.logWarning("archive run failed; trying again at the next interval").pipe(
                Effect.annotateLogs(
                  Option.isSome(failure)
                    ? { error: failure.value._tag, reason: failure.value.message }
                    : { error: "defect", reason: Cause.pretty(cause) },
                ),
              );
            }),
            Effect.repeat(Schedule.spaced(every)),
          ),
        ),
      );
    }
    // The archive-run and index-refresh requests are handled in fibers the stop interrupts (and
    // waits for) before it closes the Confluence client, the store and NATS.
    const handlers = await run(FiberSet.make<unknown, never>());
    const runHandler = await run(FiberSet.runtime(handlers)<never>().pipe(Effect.withTracerEnabled(false)));
    // `POST /api/archive/run`: the gateway asks, one publisher of the queue group answers.
    nc.subscribe(archiveRunSubject(config.nats.subject_prefix), {
      queue: `${config.nats.consumer}-archive`,
      callback: (error, msg) => {
        if (error !== null) return;
        runHandler(
          commandReply(
            "the archive run",
            Schema.decodeUnknown(ArchiveRunRequestJson)(msg.string() || "{}").pipe(
              Effect.flatMap(
                (request): Effect.Effect<ArchiveRunResult, { readonly message: string }> =>
                  enabled
                    ? archive({ olderThanDays: request.olderThanDays })
                    : Effect.fail(new ConfluenceDisabledError()),
              ),
              Effect.map((result) => Schema.encodeSync(ArchiveRunResultJson)(result)),
            ),
          ).pipe(Effect.map((reply) => msg.respond(reply))),
        );
      },
    });

    // A record deleted through the gateway: one publisher of the queue group rewrites its index.
    if (indexPages !== undefined) {
      nc.subscribe(indexRefreshSubject(config.nats.subject_prefix), {
        queue: `${config.nats.consumer}-index`,
        callback: (error, msg) => {
          if (error !== null) return;
          runHandler(
            commandReply(
              "the index refresh",
              Schema.decodeUnknown(IndexRefreshRequestJson)(msg.string()).pipe(
                Effect.mapError((e) => ({
                  message: formatParseIssues(e)
                    .map((i) => i.message)
                    .join("; "),
                })),
                Effect.flatMap((location) =>
                  Effect.flatMap(provider.get(), (active) => indexPages.refresh(location, active.client)),
                ),
                Effect.as(Schema.encodeSync(IndexRefreshResultJson)({ instance: instanceId })),
              ),
            ).pipe(Effect.map((reply) => msg.respond(reply))),
          );
        },
      });
    }

    const consumer = await js.consumers.get(config.nats.stream, config.nats.consumer);
    const loop: ConsumeLoop = await startConsumeLoop({
      consumer,
      reopen: async () => {
        if (!(await repair())) throw new Error("the streams and the consumer could not be re-created");
        return js.consumers.get(config.nats.stream, config.nats.consumer);
      },
      concurrency: config.nats.concurrency,
      ackWaitMs,
      handle,
      databaseBack,
      // With a live peer, messages kept through this instance's database outage go to the peer.
      handOff: {
        livePeer: async () => {
          const read = await readPublisherRegistry(js, jsm, config.nats);
          if (read === null) return false;
          const serverNow = read.serverTime?.getTime() ?? Date.now();
          // Alive as the gateway's status counts it.
          return read.publishers.some(
            (p) => p.presence.instanceId !== instanceId && isLivePublisher(p, serverNow),
          );
        },
        databaseAnswers,
        maxDeliver: config.nats.max_deliver,
      },
      onError: (message, error, fields) => log.error({ ...fields, err: String(error) }, message),
      onNotice: (level, message, fields) =>
        log[level]({ ...fields, stream: config.nats.stream, consumer: config.nats.consumer }, message),
    });
    // Which database (absolute SQLite path; PostgreSQL host, port and name): the gateway must
    // read the same one, and a relative sqlite_path depends on the working directory.
    log.info(
      { stream: config.nats.stream, consumer: config.nats.consumer, database: store.location },
      "publisher started",
    );
    if (enabled) {
      // Not fatal: the token may be added to the vault later (its file is watched). But every
      // publication fails until then, and the log should say so once, now, not per message.
      const token = await Effect.runPromise(Effect.either(provider.checkToken()));
      if (Either.isLeft(token))
        log.warn(
          { reason: token.left.reason },
          `${token.left.message.replace(/\.?$/, ".")} Publications will fail until this is fixed (the vault file is re-read when it changes: no restart needed).`,
        );
      // A token that expired or expires soon: said now, and again once a day while that lasts (the
      // token is resolved anew each time: a rotated one is judged by its own expiry).
      const warnExpiry = () => {
        const token = tokenInUse();
        const notice =
          token === undefined
            ? undefined
            : tokenExpiryNotice(token, now(), config.confluence.token_expiry_warning_days);
        if (token !== undefined && notice !== undefined)
          log.warn(
            { tokenSource: token.source, tokenExpiresAt: token.expiresAt?.toISOString() ?? null },
            `${notice.charAt(0).toUpperCase()}${notice.slice(1)}.`,
          );
      };
      warnExpiry();
      await run(
        Effect.forkScoped(
          Effect.sleep(options.tokenExpiryCheckMs ?? TOKEN_EXPIRY_CHECK_MS).pipe(
            Effect.zipRight(Effect.either(provider.checkToken())),
            Effect.zipRight(Effect.sync(warnExpiry)),
            Effect.forever,
          ),
        ),
      );
    }

    let stopped: Promise<void> | undefined;
    return {
      instanceId,
      inFlight: loop.inFlight,
      tokenSource: provider.tokenSource,
      stop: (reason) => {
        stopped ??= (async () => {
          log.info(reason !== undefined ? { reason } : {}, "stopping");
          await Promise.all([
            loop.stop(config.publisher.shutdown_grace_seconds * 1000),
            gaveUpLoop.stop(config.publisher.shutdown_grace_seconds * 1000),
          ]);
          // The clean stop: the gateway no longer lists it, nor counts it as a crash.
          await registration.deregister();
          await Effect.runPromise(Scope.close(scope, Exit.void));
          log.info("publisher stopped");
        })();
        return stopped;
      },
    };
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void));
    throw error;
  }
};

// internal

/** The publisher's release, shown by the gateway's status. */
const PUBLISHER_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
})();

/**
 * Says where a consumer this publisher created starts, when the stream held messages: a warning
 * when it skips some (the consumer was deleted or renamed while the stream was kept), with how
 * many and why; an info line when it delivers them all again.
 */
const logConsumerStart = (log: Pino, nats: MinutesConfig["nats"], start: ConsumerStart): void => {
  const fields = { stream: nats.stream, consumer: nats.consumer, reason: start.reason };
  if (start._tag === "From")
    log.warn(
      {
        ...fields,
        startSequence: start.sequence,
        skipped: start.skipped,
        firstSequence: start.firstSequence,
      },
      start.skipped === 1
        ? `created the consumer at stream message ${start.sequence}: the message before it (${start.firstSequence}) is not delivered again, as ${start.reason}`
        : `created the consumer at stream message ${start.sequence}: the ${start.skipped} messages before it (${start.firstSequence}–${start.sequence - 1}) are not delivered again, as ${start.reason}`,
    );
  else if (start.messages > 0)
    log.info(
      { ...fields, messages: start.messages },
      `created the consumer at the start of the stream: all ${start.messages} ${start.messages === 1 ? "message" : "messages"} it holds are delivered, as ${start.reason}`,
    );
};

/** The page template's text, read once at start; an unreadable file stops the start with its path. */
const readTemplate = (path: string | null): string | undefined => {
  if (path === null) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(
      `confluence.page_template: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
};
