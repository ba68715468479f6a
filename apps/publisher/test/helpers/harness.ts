// A real pipeline for one test: a unique JetStream stream and consumer on the machine's NATS, a
// fresh SQLite file (or PostgreSQL database), a sandbox Confluence, and publishers started
// against them. Everything is torn down by `close()`.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  type ConfluenceClientService,
  clientConfigFromSettings,
  makeConfluenceClient,
} from "@minutes/confluence-core";
import { type Sandbox, type SandboxMode, type SandboxUser, startSandbox } from "@minutes/confluence-sandbox";
import {
  type DeepPartial,
  gaveUpStreamName,
  loadConfig,
  type MinutesConfig,
  type MinutesConfigInput,
  type ProtocolReadyInput,
  protocolReadySubject,
  publisherRegistryStreamName,
} from "@minutes/contracts";
import { PublicationStore, type PublicationStoreShape } from "@minutes/publication-store";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Effect, Either, Exit, Redacted, Scope } from "effect";
import { type Logger, pino } from "pino";
import { afterEach, expect } from "vitest";
import { type PublisherOptions, type RunningPublisher, startPublisher } from "../../src/index.js";

export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
export const PG_URL = process.env.PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export interface HarnessOptions {
  readonly mode?: SandboxMode;
  readonly database?: "sqlite" | "postgresql";
  readonly config?: DeepPartial<MinutesConfigInput>;
  /** Spaces of the sandbox (default: MEETINGS only). */
  readonly spaces?: ReadonlyArray<string>;
  /** Users of the sandbox, the first one Minutes' (default: the sandbox's, with random account ids). */
  readonly sandboxUsers?: ReadonlyArray<SandboxUser>;
  /** The publishers' logger (default: silent, or TEST_LOG_LEVEL). */
  readonly logger?: Logger;
  /** Options of every publisher the harness starts, its own first included. */
  readonly publisher?: Partial<PublisherOptions>;
}

export interface Harness {
  readonly sandbox: Sandbox;
  readonly config: MinutesConfig;
  readonly store: PublicationStoreShape;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly nc: NatsConnection;
  readonly startPublisher: (options?: Partial<PublisherOptions>) => Promise<RunningPublisher>;
  /** Stops every publisher started so far (the harness's own first): the next one is alone. */
  readonly stopPublishers: () => Promise<void>;
  readonly submit: (
    event: Partial<ProtocolReadyInput> & { jobId: string },
    msgId?: string,
  ) => Promise<number>;
  readonly publishRaw: (subject: string, data: string) => Promise<number>;
  /** Runs SQL on the PostgreSQL database's server as an administrator (PostgreSQL harnesses only). */
  readonly pgAdmin: (sql: string) => Promise<void>;
  /** The PostgreSQL database's name (PostgreSQL harnesses only). */
  readonly pgDatabase: string;
  readonly close: () => Promise<void>;
}

const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** Starts NATS stream, store and sandbox for one test. */
export const startHarness = async (options: HarnessOptions = {}): Promise<Harness> => {
  const id = randomUUID().replace(/-/g, "").slice(0, 12);
  const dir = mkdtempSync(join(tmpdir(), "minutes-publisher-"));
  // What is up so far, undone in reverse when a later step of the start fails: a publisher that
  // cannot start must not leave a sandbox, a database, streams or a temp dir behind.
  const undo: Array<() => Promise<unknown>> = [async () => rmSync(dir, { recursive: true, force: true })];
  try {
    return await startIn(id, dir, undo, options);
  } catch (e) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw e;
  }
};

const startIn = async (
  id: string,
  dir: string,
  undo: Array<() => Promise<unknown>>,
  options: HarnessOptions,
): Promise<Harness> => {
  const sandbox = await startSandbox({
    mode: options.mode ?? "cloud",
    port: 0,
    ...(options.spaces !== undefined ? { spaces: options.spaces.map((key) => ({ key })) } : {}),
    ...(options.sandboxUsers !== undefined ? { users: options.sandboxUsers } : {}),
  });
  undo.push(() => sandbox.close());
  const database = options.database ?? "sqlite";
  const pgDb = `minutes_pub_${id}`;
  if (database === "postgresql") {
    await pgAdmin(`CREATE DATABASE ${pgDb}`);
    undo.push(() => pgAdmin(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`));
  }

  const loaded = loadConfig({
    overrides: merge(
      {
        confluence: {
          enabled: true,
          base_url: sandbox.baseUrl,
          deployment: sandbox.mode,
          username: sandbox.user.email,
          api_token: sandbox.user.token,
          auto_publish: true,
          timeout: 5,
          max_retries: 2,
          retry_delay: 0.05,
        },
        nats: {
          url: NATS_URL,
          stream: `T_${id}`,
          subject_prefix: `t${id}`,
          consumer: `c_${id}`,
          ack_wait_seconds: 2,
          backoff_seconds: [1, 1, 1],
          max_deliver: 4,
          concurrency: 4,
          duplicate_window_seconds: 60,
          max_age_days: 1,
        },
        database:
          database === "sqlite"
            ? { type: "sqlite", sqlite_path: join(dir, "minutes.sqlite") }
            : { type: "postgresql", url: PG_URL.replace(/\/[^/]*$/, `/${pgDb}`) },
        vault: { file: join(dir, "tokens.vault") },
        // Rendering on the event loop unless a test asks for threads (their number would follow the machine).
        publisher: { shutdown_grace_seconds: 5, render_threads: 0 },
      },
      options.config ?? {},
    ) as DeepPartial<MinutesConfigInput>,
  });
  if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
  const config = loaded.right;
  undo.push(() => deleteStreams(config));

  const publishers: Array<RunningPublisher> = [];
  const startOne = async (extra: Partial<PublisherOptions> = {}) => {
    const p = await startPublisher({
      config,
      defaultVaultFile: join(dir, "tokens.vault"),
      logger: options.logger ?? quiet,
      clientOverrides: { gatewayUrl: sandbox.origin },
      ...options.publisher,
      ...extra,
    });
    publishers.push(p);
    return p;
  };
  undo.push(async () => {
    for (const p of publishers) await p.stop().catch(() => undefined);
  });
  // The first publisher creates the streams and the consumer.
  await startOne();

  const scope = Effect.runSync(Scope.make());
  undo.push(() => Effect.runPromise(Scope.close(scope, Exit.void)));
  const store = await Effect.runPromise(
    PublicationStore.make({
      type: config.database.type,
      sqlitePath: config.database.sqlite_path,
      ...(database === "postgresql" ? { url: PG_URL.replace(/\/[^/]*$/, `/${pgDb}`) } : {}),
    }).pipe(Scope.extend(scope)),
  );

  const nc = await connect({ servers: config.nats.url });
  undo.push(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);

  return {
    sandbox,
    config,
    store,
    js,
    jsm,
    nc,
    startPublisher: startOne,
    stopPublishers: async () => {
      for (const p of publishers) await p.stop();
    },
    submit: async (event, msgId) => {
      const full = {
        markdown: "# Weekly sync\n\nDate: 2025-09-02\n\n- item",
        filename: `${event.jobId}.md`,
        occurredAt: new Date().toISOString(),
        ...event,
      };
      const ack = await js.publish(
        protocolReadySubject(event.jobId, config.nats.subject_prefix),
        JSON.stringify(full),
        {
          msgID: msgId ?? randomUUID(),
        },
      );
      return ack.seq;
    },
    publishRaw: async (subject, data) => (await js.publish(subject, data, { msgID: randomUUID() })).seq,
    pgAdmin,
    pgDatabase: pgDb,
    close: async () => {
      // Each step runs even when an earlier one fails, so no stream or database is left behind.
      const steps: Array<() => Promise<unknown>> = [
        ...publishers.map((p) => () => p.stop()),
        () => Effect.runPromise(Scope.close(scope, Exit.void)),
        () => deleteStreams(config, jsm),
        () => nc.drain(),
        () => sandbox.close(),
        ...(database === "postgresql" ? [() => pgAdmin(`DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`)] : []),
      ];
      for (const step of steps) await step().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * For a test file: `open` starts a harness for the current test, closed after it (call at the
 * top level of the file).
 */
export const harnessPerTest = (): ((options?: HarnessOptions) => Promise<Harness>) => {
  let current: Harness | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return async (options) => {
    current = await startHarness(options);
    return current;
  };
};

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export const eventually = async <A>(
  check: () => Promise<A | undefined> | A | undefined,
  timeoutMs = 20_000,
  what = "condition",
): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
};

/** The job's publication record once it reached `status`. */
export const recordIn = async (h: Harness, jobId: string, status: string, timeoutMs = 20_000) =>
  eventually(
    async () => {
      const r = await Effect.runPromise(h.store.findByJob(jobId));
      return r._tag === "Some" && r.value.status === status ? r.value : undefined;
    },
    timeoutMs,
    `job ${jobId} to be ${status}`,
  );

/** Runs `use` with a Confluence client of its own (its own caches) on the harness's sandbox. */
export const withClient = async <A>(
  h: Harness,
  use: (client: ConfluenceClientService) => Promise<A>,
): Promise<A> => {
  const scope = Effect.runSync(Scope.make());
  try {
    const client = await Effect.runPromise(
      makeConfluenceClient(
        clientConfigFromSettings(h.config.confluence, Redacted.make(h.sandbox.user.token), {
          gatewayUrl: h.sandbox.origin,
        }),
      ).pipe(Scope.extend(scope)),
    );
    return await use(client);
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void));
  }
};

/** A short meeting protocol with `body` under its Decisions heading. */
export const protocol = (title: string, body = "- decision one") =>
  `# Meeting Protocol: ${title}\n\nDate: 2025-09-02\n\n## Decisions\n${body}\n`;

const authors = new WeakMap<Harness, ReturnType<Harness["sandbox"]["addUser"]>>();

/** The person who writes pages in a test's sandbox (one per harness), not Minutes' account. */
export const authorOf = (h: Harness) => {
  const person =
    authors.get(h) ?? h.sandbox.addUser({ displayName: "An Author", email: "author@example.com" });
  authors.set(h, person);
  return person;
};

/** Calls the sandbox's REST API as {@link authorOf}'s person; `path` is under the site base. */
export const restAsPerson = async (h: Harness, method: string, path: string, body?: unknown) => {
  const person = authorOf(h);
  return fetch(`${h.sandbox.baseUrl}${path}`, {
    method,
    headers: {
      authorization:
        h.sandbox.mode === "cloud"
          ? `Basic ${Buffer.from(`${person.email}:${person.token}`).toString("base64")}`
          : `Bearer ${person.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
};

/**
 * A person's page in the TEAM space ("Team decisions"), and the job's page moved under it by that
 * person (Confluence Cloud's move, across spaces). Returns the space and the new parent's id.
 */
export const moveToTeamAsPerson = async (h: Harness, pageId: string) => {
  const team = h.sandbox.state.spaces().find((s) => s.key === "TEAM");
  if (team === undefined) throw new Error('the harness has no TEAM space (spaces: [..., "TEAM"])');
  const created = await restAsPerson(h, "POST", "/api/v2/pages", {
    spaceId: String(team.id),
    status: "current",
    title: "Team decisions",
    body: { representation: "storage", value: "<p>ours</p>" },
  });
  expect(created.status).toBe(200);
  const target = String(((await created.json()) as { id: string }).id);
  const moved = await restAsPerson(h, "PUT", `/rest/api/content/${pageId}/move/append/${target}`);
  expect(moved.status).toBe(200);
  return { team, target };
};

/** Pages of the MEETINGS and TEAM spaces, in any status, whose job property names `jobId`. */
export const markedPagesOfJob = (h: Harness, jobId: string) =>
  [...h.sandbox.state.pages("MEETINGS"), ...h.sandbox.state.pages("TEAM")].filter((p) =>
    p.properties.some(
      (prop) => prop.key === "minutes.job" && (prop.value as { jobId?: string }).jobId === jobId,
    ),
  );

/** Current pages of the sandbox's MEETINGS space that carry this job's property. */
export const pagesOfJob = (h: Harness, jobId: string) =>
  h.sandbox.state
    .pages("MEETINGS")
    .filter((p) => p.status === "current")
    .filter((p) =>
      p.properties.some(
        (prop) => prop.key === "minutes.job" && (prop.value as { jobId?: string }).jobId === jobId,
      ),
    );

/** Deep-merges test overrides over the harness defaults. */
const merge = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isObj = (x: unknown): x is Record<string, unknown> =>
      typeof x === "object" && x !== null && !Array.isArray(x);
    out[k] = isObj(b) && isObj(v) ? merge(b, v) : v;
  }
  return out;
};

/** Deletes the streams a publisher of `config` creates, each even when another one fails. */
const deleteStreams = async (config: MinutesConfig, through?: JetStreamManager): Promise<void> => {
  if (through === undefined) {
    const nc = await connect({ servers: config.nats.url });
    try {
      await deleteStreams(config, await jetstreamManager(nc));
    } finally {
      await nc.close();
    }
    return;
  }
  for (const name of [
    config.nats.stream,
    `${config.nats.stream}_OUTCOMES`,
    gaveUpStreamName(config.nats.stream),
    publisherRegistryStreamName(config.nats.stream),
  ])
    await through.streams.delete(name).catch(() => false);
};

const pgAdmin = async (sql: string): Promise<void> => {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
};

/** A publisher started as a process of its own (`dist/main.js`, as in production) on a harness's stream and store. */
export interface PublisherProcess {
  readonly child: import("node:child_process").ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** Stops it (SIGTERM, the graceful stop) and waits for it to end. */
  readonly stop: () => Promise<number | null>;
}

/**
 * Starts `apps/publisher/dist/main.js` with the harness's NATS, stream, consumer, store and
 * sandbox (with `overrides` deep-merged over them), so that a test can pause it (SIGSTOP) or
 * kill it (SIGKILL) as a host would. Resolves once it pulls from the durable consumer: start it
 * while no other publisher runs (`h.stopPublishers()`). Killed when the test's harness closes.
 * Data Center sandboxes only: a Cloud sandbox needs the in-process `gatewayUrl` override.
 */
export const spawnPublisherProcess = async (
  h: Harness,
  overrides: DeepPartial<MinutesConfigInput> = {},
): Promise<PublisherProcess> => {
  const { spawn } = await import("node:child_process");
  const { writeFileSync } = await import("node:fs");
  const { fileURLToPath } = await import("node:url");
  if (h.sandbox.mode !== "datacenter") throw new Error("spawnPublisherProcess needs a Data Center sandbox");
  const dir = mkdtempSync(join(tmpdir(), "minutes-publisher-process-"));
  const n = h.config.nats;
  const input = merge(
    {
      confluence: {
        enabled: true,
        base_url: h.sandbox.baseUrl,
        deployment: h.sandbox.mode,
        username: h.sandbox.user.email,
        api_token: h.sandbox.user.token,
        auto_publish: true,
        timeout: 5,
        max_retries: 2,
        retry_delay: 0.05,
      },
      nats: {
        url: NATS_URL,
        stream: n.stream,
        subject_prefix: n.subject_prefix,
        consumer: n.consumer,
        ack_wait_seconds: n.ack_wait_seconds,
        backoff_seconds: [...n.backoff_seconds],
        max_deliver: n.max_deliver,
        concurrency: n.concurrency,
        duplicate_window_seconds: n.duplicate_window_seconds,
        max_age_days: n.max_age_days,
      },
      database:
        h.config.database.type === "postgresql"
          ? { type: "postgresql", url: PG_URL.replace(/\/[^/]*$/, `/${h.pgDatabase}`) }
          : { type: "sqlite", sqlite_path: h.config.database.sqlite_path },
      vault: { file: join(dir, "tokens.vault") },
      publisher: { shutdown_grace_seconds: 5, render_threads: 0 },
      logging: { level: process.env.TEST_LOG_LEVEL ?? "warn" },
    },
    overrides,
  );
  const configFile = join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(input), { mode: 0o600 });
  const main = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
  const child = spawn(process.execPath, [main, "--config", configFile], {
    stdio: ["ignore", process.env.TEST_LOG_LEVEL ? "inherit" : "ignore", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let ended = false;
  void exited.then(() => {
    ended = true;
    rmSync(dir, { recursive: true, force: true });
  });
  spawned.push(child);
  await eventually(
    async () => {
      if (ended) throw new Error("the publisher process ended at start");
      const info = await h.jsm.consumers.info(n.stream, n.consumer);
      return info.num_waiting > 0 ? true : undefined;
    },
    20_000,
    "the publisher process to pull from the consumer",
  );
  return {
    child,
    exited,
    stop: async () => {
      if (!ended) child.kill("SIGTERM");
      return exited;
    },
  };
};

const spawned: Array<import("node:child_process").ChildProcess> = [];
afterEach(() => {
  // A process the test left running (or paused) must not outlive it.
  for (const child of spawned.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    }
  }
});

/** A pino logger that keeps what it was given: each line's message and fields. */
export const captureLog = (): {
  readonly logger: Logger;
  /** The lines logged with `message`. */
  readonly entries: (message: string) => ReadonlyArray<Record<string, unknown>>;
  /** How many lines were logged with `message`. */
  readonly lines: (message: string) => number;
} => {
  const logged: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        logged.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const entries = (message: string) => logged.filter((l) => l.msg === message);
  return { logger: pino({ level: "info" }, sink), entries, lines: (message) => entries(message).length };
};
