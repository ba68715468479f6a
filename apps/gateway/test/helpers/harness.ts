/**
 * A gateway over the real NATS server (unique streams per harness, deleted on close) and a
 * SQLite file in a temp dir. Nothing is mocked: tests talk to it with `app.inject`.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  type DeepPartial,
  gaveUpStreamName,
  loadConfig,
  type MinutesConfig,
  type MinutesConfigInput,
  outcomeStreamSettings,
  protocolStreamSettings,
  publisherRegistryStreamName,
} from "@minutes/contracts";
import { PublicationStore, type PublicationStoreShape } from "@minutes/publication-store";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Effect, Either, Exit, Scope } from "effect";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { buildApp, REDACT_PATHS } from "../../src/app.js";
import type { ConfluenceAccess } from "../../src/confluence.js";
import type { GatewayContext, PublisherLivenessSettings } from "../../src/context.js";

export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

/** A running gateway plus its dependencies. */
export interface Harness {
  readonly app: FastifyInstance;
  readonly ctx: GatewayContext;
  readonly config: MinutesConfig;
  readonly nc: NatsConnection;
  readonly store: PublicationStoreShape;
  readonly apiKey: string;
  readonly auth: { readonly authorization: string };
  readonly dir: string;
  /** Everything the logger wrote (JSON lines). */
  readonly logs: () => string;
  readonly close: () => Promise<void>;
}

export interface HarnessOptions {
  readonly overrides?: DeepPartial<MinutesConfigInput>;
  readonly confluence?: (config: MinutesConfig) => ConfluenceAccess;
  /** Reuse this temp dir's database (e.g. a second gateway on the same store). */
  readonly sqlitePath?: string;
  /** SQLite busy timeout of the gateway's store (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Receives every SQL statement the gateway's store runs (MikroORM's `debug` lines). */
  readonly storeLog?: (line: string) => void;
  /** The status's crash-loop window and count (the gateway's defaults when absent). */
  readonly publisherLiveness?: PublisherLivenessSettings;
  /** How long an import's upload may send nothing (the gateway's default when absent). */
  readonly importIdleTimeoutMs?: number;
  /** How long an import's whole upload may take (the gateway's default when absent). */
  readonly importUploadTimeoutMs?: number;
  /** The clock the token's expiry is judged by (`Date.now` when absent). */
  readonly now?: () => number;
}

/** A random suffix for unique names. */
export const unique = (): string => randomBytes(6).toString("hex");

const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      typeof cur === "object" &&
      cur !== null &&
      !Array.isArray(cur) &&
      typeof v === "object" &&
      v !== null &&
      !Array.isArray(v)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
};

/** Starts a harness. */
export const startHarness = async (options: HarnessOptions = {}): Promise<Harness> => {
  const id = unique();
  const apiKey = `key-${unique()}${unique()}`;
  const dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
  const base = {
    nats: { url: NATS_URL, stream: `T_${id}`, consumer: `C_${id}`, subject_prefix: `t_${id}` },
    // Tests poll freely; the rate-limit test sets its own limit.
    gateway: { api_keys: [apiKey], publish_wait_ms: 3_000, rate_limit_per_minute: 100_000 },
    database: { type: "sqlite", sqlite_path: options.sqlitePath ?? join(dir, "store.sqlite") },
    logging: { level: "info" },
  };
  const loaded = loadConfig({
    env: {},
    overrides: merge(
      base,
      (options.overrides ?? {}) as Record<string, unknown>,
    ) as DeepPartial<MinutesConfigInput>,
  });
  if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
  const config = loaded.right;
  let written = "";
  const logger = pino(
    { level: "info", redact: { paths: REDACT_PATHS, censor: "[redacted]" } },
    new Writable({
      write(chunk, _encoding, done) {
        written += String(chunk);
        done();
      },
    }),
  );
  // What is up so far, undone in reverse by `close`, or at once when a later step of the start
  // fails: nothing (connection, streams, store, temp dir) is left behind either way.
  const undo: Array<() => Promise<unknown>> = [
    () => rm(dir, { recursive: true, force: true }),
    () => deleteStreams(config),
  ];
  const undoAll = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
  };
  let started: Omit<Harness, "apiKey" | "auth" | "dir" | "logs" | "close">;
  try {
    const nc = await connect({ servers: config.nats.url });
    undo.push(async () => {
      if (!nc.isClosed()) await nc.close();
    });
    const scope = Effect.runSync(Scope.make());
    undo.push(() => Effect.runPromise(Scope.close(scope, Exit.void)));
    const store = await Effect.runPromise(
      Scope.extend(
        PublicationStore.make({
          type: "sqlite",
          sqlitePath: config.database.sqlite_path,
          ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
          ...(options.storeLog !== undefined ? { debug: true, logger: options.storeLog } : {}),
        }),
        scope,
      ),
    );
    const confluence = options.confluence?.(config);
    if (confluence !== undefined) undo.push(() => confluence.close());
    const { app, ctx } = await buildApp({
      config,
      nats: nc,
      store,
      confluence,
      logger,
      publisherLiveness: options.publisherLiveness,
      importIdleTimeoutMs: options.importIdleTimeoutMs,
      importUploadTimeoutMs: options.importUploadTimeoutMs,
      now: options.now,
    });
    undo.push(() => app.close());
    started = { app, ctx, config, nc, store };
  } catch (e) {
    await undoAll();
    throw e;
  }
  return {
    ...started,
    apiKey,
    auth: { authorization: `Bearer ${apiKey}` },
    dir,
    logs: () => written,
    // Each step runs even when an earlier one fails; a second call finds nothing left to undo.
    close: undoAll,
  };
};

/**
 * Listens on a free port of 127.0.0.1, for tests that need real HTTP (raw sockets, Node's own
 * parser); returns the base URL. The harness's `close` closes the server too.
 */
export const listen = (h: Harness): Promise<string> => h.app.listen({ host: "127.0.0.1", port: 0 });

/** Deletes the harness's streams with a fresh connection (the harness's may be closed). */
export const deleteStreams = async (config: MinutesConfig): Promise<void> => {
  const nc = await connect({ servers: config.nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of [
      protocolStreamSettings(config.nats).name,
      outcomeStreamSettings(config.nats).name,
      gaveUpStreamName(config.nats.stream),
      publisherRegistryStreamName(config.nats.stream),
    ]) {
      await jsm.streams.delete(name).catch(() => false);
    }
  } finally {
    await nc.close();
  }
};

/** Polls `check` until it returns a value (not `undefined`) or the deadline passes. */
export const eventually = async <A>(
  check: () => Promise<A | undefined> | A | undefined,
  { timeoutMs = 15_000, intervalMs = 25, what = "condition" } = {},
): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
};

/** A valid `ProtocolReady` body. */
export const protocolBody = (
  jobId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  jobId,
  markdown: `# Meeting ${jobId}\n\n- item one\n- item two\n`,
  filename: `${jobId}.md`,
  occurredAt: "2026-11-26T10:00:00Z",
  ...extra,
});
