// `GET /status/confluence` and the publisher registry, over the real NATS server: publisher
// starts are simulated in-process with the registration code every publisher runs; a dead process
// is a registration whose heartbeat was halted without the clean stop.
import { type PublisherPresence, protocolStreamWildcard } from "@minutes/contracts";
import { type PublisherRegistration, registerPublisher } from "@minutes/nats-streams";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import { eventually, type Harness, protocolBody, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
let fake: FakePublisher | undefined;
const registrations: Array<PublisherRegistration> = [];
afterEach(async () => {
  for (const r of registrations.splice(0)) r.halt();
  await fake?.stop();
  fake = undefined;
  await h?.close();
  h = undefined;
});

/** Registers a publisher instance as `startPublisher` does (heartbeat every `heartbeatMs`). */
const start = async (harness: Harness, instanceId: string, heartbeatMs = 50) => {
  const presence: PublisherPresence = {
    version: 1,
    instanceId,
    host: "pub-host-1",
    pid: 31337,
    publisherVersion: "0.1.0",
    startedAt: new Date().toISOString(),
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

  it("leaves publishers out (null) while no publisher of this version ever started", async () => {
    h = await startHarness();
    const s = await status(h);
    expect(s.body.publishers).toBeNull();
  });
});
