// `GET /status/confluence` and the publisher registry, over the real NATS server: publisher
// starts are simulated in-process with the registration code every publisher runs; a dead process
// is a registration whose heartbeat was halted without the clean stop.
import { type PublisherPresence, protocolStreamWildcard } from "@minutes/contracts";
import { type PublisherRegistration, registerPublisher } from "@minutes/nats-streams";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import { eventually, type Harness, protocolBody, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
let fake: FakePublisher | undefined;
const registrations: Array<PublisherRegistration> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  const [f, harness] = [fake, h];
  fake = undefined;
  h = undefined;
  await cleanUp(
    ...registrations.splice(0).map((r) => () => r.halt()),
    () => f?.stop(),
    () => harness?.close(),
  );
});

/**
 * Registers a publisher instance as `startPublisher` does (heartbeat every `heartbeatMs`), on a
 * process whose clock is `clockOffsetMs` off (its start and uptime are read from it).
 */
const start = async (harness: Harness, instanceId: string, heartbeatMs = 50, clockOffsetMs = 0) => {
  const realNow = Date.now.bind(Date);
  // Only when off: a test's own mock of the clock (the gateway's) must stay as it is.
  const clock =
    clockOffsetMs === 0
      ? undefined
      : vi.spyOn(Date, "now").mockImplementation(() => realNow() + clockOffsetMs);
  try {
    const presence: PublisherPresence = {
      version: 1,
      instanceId,
      host: "pub-host-1",
      pid: 31337,
      publisherVersion: "0.1.0",
      startedAt: new Date(Date.now()).toISOString(),
      heartbeatIntervalMs: heartbeatMs,
    };
    const registration = await registerPublisher(
      jetstream(harness.nc),
      await jetstreamManager(harness.nc),
      harness.config.nats,
      presence,
      (error) => {
        throw error;
      },
    );
    registrations.push(registration);
    return { registration, presence };
  } finally {
    clock?.mockRestore();
  }
};

/** A start that dies without the clean stop (SIGKILL, out of memory, a crash). */
const startAndDie = async (harness: Harness, instanceId: string) => {
  const started = await start(harness, instanceId);
  started.registration.halt();
  return started.presence;
};

const status = async (harness: Harness, withKey = false) => {
  const res = await harness.app.inject({
    method: "GET",
    url: "/status/confluence",
    ...(withKey ? { headers: harness.auth } : {}),
  });
  return { code: res.statusCode, body: res.json() };
};

const post = (harness: Harness, jobId: string) =>
  harness.app.inject({
    method: "POST",
    url: "/api/protocols",
    headers: harness.auth,
    payload: protocolBody(jobId),
  });

/** The publishers' consumer, as a publisher creates it at its start. */
const addConsumer = async (harness: Harness) =>
  (await jetstreamManager(harness.nc)).consumers.add(harness.config.nats.stream, {
    durable_name: harness.config.nats.consumer,
    ack_policy: AckPolicy.Explicit,
    filter_subject: protocolStreamWildcard(harness.config.nats.subject_prefix),
    ack_wait: nanos(60_000),
  });

describe("GET /status/confluence and the publisher registry", () => {
  it("says degraded with a crash-loop reason while a publisher keeps starting, pulling and dying", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    expect((await post(harness, "loop-1")).statusCode).toBe(202);
    // Each restarted process pulls again: the consumer always shows an open pull request, which
    // is all the consumer-only check could see.
    const consumer = await jetstream(harness.nc).consumers.get(
      harness.config.nats.stream,
      harness.config.nats.consumer,
    );
    await startAndDie(harness, "pub-crash-1");
    await startAndDie(harness, "pub-crash-2");
    const last = await startAndDie(harness, "pub-crash-3");
    const pull = await consumer.fetch({ max_messages: 1, expires: 30_000 });
    // The open pull request took the message: a publisher is "working" on it, and dies again.
    await pull[Symbol.asyncIterator]().next();
    const degraded = await eventually(async () => {
      const s = await status(harness);
      return s.body.publishers?.uncleanStops === 3 ? s : undefined;
    });
    pull.stop();
    expect(degraded.code).toBe(503);
    expect(degraded.body.status).toBe("degraded");
    expect(degraded.body.reasons).toContain(
      `publishers keep dying (a crash loop?): 3 publisher starts in the last 10 minutes ended without a clean stop (killed, crashed or failed to start), the last start at ${new Date(last.startedAt).toISOString()}`,
    );
    expect(degraded.body.reasons).toContainEqual(
      expect.stringMatching(
        /^no publisher is running while 1 message waits: the last one \(pub-crash-\d, started at \S+\) sent its last heartbeat at \S+$/,
      ),
    );
    expect(degraded.body.publishers).toEqual({
      alive: 0,
      instances: [],
      uncleanStops: 3,
      windowSeconds: 600,
      lastStartedAt: new Date(last.startedAt).toISOString(),
    });
  });

  it("counts only the starts within the configured window, and as many as configured", async () => {
    h = await startHarness({ publisherLiveness: { crashLoopWindowMs: 2_000, crashLoopStarts: 2 } });
    const harness = h;
    await addConsumer(harness);
    await startAndDie(harness, "pub-a");
    await startAndDie(harness, "pub-b");
    const looping = await eventually(async () => {
      const read = await status(harness);
      return read.body.publishers?.uncleanStops === 2 ? read : undefined;
    });
    expect(looping.code).toBe(503);
    expect(looping.body.reasons).toEqual([
      expect.stringMatching(
        /^publishers keep dying \(a crash loop\?\): 2 publisher starts in the last 2 seconds /,
      ),
    ]);
    expect(looping.body.publishers.windowSeconds).toBe(2);
    // Once both starts are older than the window, they are history, not a crash loop.
    const calm = await eventually(async () => {
      const read = await status(harness);
      return read.body.publishers?.uncleanStops === 0 ? read : undefined;
    });
    expect(calm.code).toBe(200);
    expect(calm.body).toMatchObject({ status: "ok", reasons: [] });
  });

  it("judges starts by the NATS server's clock: publishers whose clocks are 20 minutes off still make a crash loop", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    // Each process reads its own clock for its start and its uptime; the gateway reads the server's.
    const startWithClock = async (instanceId: string, offsetMs: number) => {
      const started = await start(harness, instanceId, 50, offsetMs);
      started.registration.halt();
      return started.presence;
    };
    await startWithClock("pub-behind-1", -20 * 60_000);
    await startWithClock("pub-behind-2", -20 * 60_000);
    const last = await startWithClock("pub-ahead-3", 20 * 60_000);
    const looping = await eventually(async () => {
      const read = await status(harness);
      return read.body.publishers?.uncleanStops === 3 ? read : undefined;
    });
    expect(looping.code).toBe(503);
    // The start is said as the publisher reported it.
    expect(looping.body.publishers.lastStartedAt).toBe(last.startedAt);
    expect(looping.body.reasons).toContainEqual(
      expect.stringMatching(
        /^publishers keep dying \(a crash loop\?\): 3 publisher starts in the last 10 minutes /,
      ),
    );
  });

  it("does not count clean stops: they remove the publisher from the registry", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    for (const id of ["pub-clean-1", "pub-clean-2", "pub-clean-3"]) {
      const { registration } = await start(harness, id);
      await registration.deregister();
    }
    const { registration: dead } = await start(harness, "pub-dead");
    dead.halt();
    // The one dead start becomes visible once its heartbeats are missed; the clean ones never are.
    const s = await eventually(async () => {
      const read = await status(harness);
      return read.body.publishers?.uncleanStops === 1 ? read : undefined;
    });
    expect(s.code).toBe(200);
    expect(s.body).toMatchObject({ status: "ok", reasons: [] });
    expect(s.body.publishers).toMatchObject({ alive: 0, instances: [], uncleanStops: 1 });
  });

  it("stays ok and lists a running publisher while its heartbeat goes on, its host only with an API key", async () => {
    h = await startHarness();
    const harness = h;
    const { presence } = await start(harness, "pub-live", 50);
    fake = await startFakePublisher(harness.nc, harness.store, harness.config);
    expect((await post(harness, "live-1")).statusCode).toBe(202);
    // Long past three heartbeat intervals: still alive because it keeps beating.
    const s = await eventually(async () => {
      const read = await status(harness, true);
      const beat = read.body.publishers?.instances[0]?.lastHeartbeatAt;
      return beat !== undefined && Date.parse(beat) > Date.parse(presence.startedAt) + 500 ? read : undefined;
    });
    expect(s.code).toBe(200);
    expect(s.body).toMatchObject({ status: "ok", reasons: [] });
    expect(s.body.publishers).toMatchObject({
      alive: 1,
      uncleanStops: 0,
      lastStartedAt: presence.startedAt,
      instances: [
        {
          instanceId: "pub-live",
          host: "pub-host-1",
          pid: 31337,
          version: "0.1.0",
          startedAt: presence.startedAt,
        },
      ],
    });
    const open = await status(harness);
    expect(open.body.publishers.instances[0]).toMatchObject({
      instanceId: "pub-live",
      host: null,
      pid: null,
    });
  });

  it("says no publisher runs while messages wait and the only one died", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    const dead = await startAndDie(harness, "pub-gone");
    for (const jobId of ["gone-1", "gone-2"]) expect((await post(harness, jobId)).statusCode).toBe(202);
    const s = await eventually(async () => {
      const read = await status(harness);
      return read.body.publishers?.alive === 0 ? read : undefined;
    });
    expect(s.code).toBe(503);
    expect(s.body.reasons).toEqual([
      expect.stringMatching(
        new RegExp(
          `^no publisher is running while 2 messages wait: the last one \\(pub-gone, started at ${dead.startedAt.replaceAll(".", "\\.")}\\) sent its last heartbeat at \\S+$`,
        ),
      ),
    ]);
  });

  it("does not say no publisher runs after a rollback: empty registry, an unregistered publisher working on a message", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    // A publisher of this version ran and stopped cleanly: the registry stays, empty.
    const { registration } = await start(harness, "pub-rolled-back");
    await registration.deregister();
    expect((await post(harness, "rollback-1")).statusCode).toBe(202);
    // An older publisher, which does not register, takes the message and works on it.
    const consumer = await jetstream(harness.nc).consumers.get(
      harness.config.nats.stream,
      harness.config.nats.consumer,
    );
    const pull = await consumer.fetch({ max_messages: 1, expires: 30_000 });
    const taken = await pull[Symbol.asyncIterator]().next();
    expect(taken.done).toBe(false);
    const s = await eventually(async () => {
      const read = await status(harness);
      return read.body.consumer.ackPending === 1 ? read : undefined;
    });
    pull.stop();
    expect(s.body.consumer).toMatchObject({ pending: 0, ackPending: 1, waiting: 0 });
    expect(s.body.publishers).toMatchObject({ alive: 0, instances: [], uncleanStops: 0 });
    expect(s.code).toBe(200);
    expect(s.body).toMatchObject({ status: "ok", reasons: [] });
  });

  it("does not say no publisher runs while an unregistered publisher has a pull request open, whatever dead presences the registry keeps", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    await startAndDie(harness, "pub-killed-at-rollback");
    for (const jobId of ["rollback-2", "rollback-3"])
      expect((await post(harness, jobId)).statusCode).toBe(202);
    // An older publisher with a free slot: two messages in progress, a pull request for a third open.
    const consumer = await jetstream(harness.nc).consumers.get(
      harness.config.nats.stream,
      harness.config.nats.consumer,
    );
    const pull = await consumer.fetch({ max_messages: 3, expires: 30_000 });
    const iterator = pull[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    const s = await eventually(async () => {
      const read = await status(harness);
      return read.body.publishers?.alive === 0 && read.body.consumer.waiting === 1 ? read : undefined;
    });
    pull.stop();
    expect(s.body.consumer).toMatchObject({ pending: 0, ackPending: 2, waiting: 1 });
    expect(s.body.publishers).toMatchObject({ alive: 0, uncleanStops: 1 });
    expect(s.code).toBe(200);
    expect(s.body).toMatchObject({ status: "ok", reasons: [] });
  });

  it("believes the registry only for presences within the crash-loop window: older ones are a rollback's leftovers", async () => {
    h = await startHarness({ publisherLiveness: { crashLoopWindowMs: 3_000, crashLoopStarts: 3 } });
    const harness = h;
    await addConsumer(harness);
    await startAndDie(harness, "pub-long-gone");
    expect((await post(harness, "rollback-4")).statusCode).toBe(202);
    // An older publisher busy with the message: no pull request open while it works.
    const consumer = await jetstream(harness.nc).consumers.get(
      harness.config.nats.stream,
      harness.config.nats.consumer,
    );
    const pull = await consumer.fetch({ max_messages: 1, expires: 30_000 });
    await pull[Symbol.asyncIterator]().next();
    // Degraded while the dead presence is recent (the registry is read once a second, so at
    // least once within the window); ok once it is older than the window.
    const seen: Array<string> = [];
    const s = await eventually(async () => {
      const read = await status(harness);
      if (read.body.publishers?.alive !== 0 || read.body.consumer.ackPending !== 1) return undefined;
      seen.push(...read.body.reasons);
      return read.code === 200 ? read : undefined;
    });
    pull.stop();
    expect(seen).toContainEqual(
      expect.stringMatching(/^no publisher is running while 1 message waits: the last one \(pub-long-gone,/),
    );
    expect(s.body.consumer).toMatchObject({ pending: 0, ackPending: 1, waiting: 0 });
    expect(s.body).toMatchObject({ status: "ok", reasons: [] });
  });

  it("judges heartbeats by the NATS server's clock: a gateway clock 15 s ahead still sees a running publisher", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    await start(harness, "pub-skewed", 50);
    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() + 15_000);
    const s = await eventually(async () => {
      const read = await status(harness);
      return read.body.publishers !== null ? read : undefined;
    });
    expect(s.body.publishers).toMatchObject({
      alive: 1,
      uncleanStops: 0,
      instances: [{ instanceId: "pub-skewed" }],
    });
    expect(s.code).toBe(200);
  });

  it("judges heartbeats by the NATS server's clock: a gateway clock 15 s behind sees a dead publisher within its missed heartbeats", async () => {
    h = await startHarness();
    const harness = h;
    await addConsumer(harness);
    const real = Date.now.bind(Date);
    vi.spyOn(Date, "now").mockImplementation(() => real() - 15_000);
    await startAndDie(harness, "pub-dead-skewed");
    // Dead after 3 missed heartbeats of 50 ms, far less than the skew.
    const s = await eventually(
      async () => {
        const read = await status(harness);
        return read.body.publishers?.uncleanStops === 1 ? read : undefined;
      },
      { timeoutMs: 5_000, what: "the dead publisher counted" },
    );
    expect(s.body.publishers).toMatchObject({ alive: 0, instances: [] });
  });

  it("leaves publishers out (null) while no publisher of this version ever started", async () => {
    h = await startHarness();
    const s = await status(h);
    expect(s.body.publishers).toBeNull();
  });
});
