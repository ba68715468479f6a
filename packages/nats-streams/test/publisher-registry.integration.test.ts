// Against the machine's NATS (NATS_URL): each test uses a registry of its own name and deletes it.
import { randomUUID } from "node:crypto";
import { type PublisherPresence, publisherRegistryStreamName } from "@minutes/contracts";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type PublisherRegistration,
  type PublisherRegistryRead,
  readPublisherRegistry,
  registerPublisher,
} from "../src/index.js";

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let nats: { readonly stream: string; readonly subject_prefix: string };
const registrations: Array<PublisherRegistration> = [];

beforeEach(async () => {
  nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  const id = randomUUID().replaceAll("-", "").slice(0, 12);
  nats = { stream: `REG_${id}`, subject_prefix: `reg${id}` };
});

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const r of registrations.splice(0)) r.halt();
  await jsm.streams.delete(publisherRegistryStreamName(nats.stream)).catch(() => undefined);
  await nc.close();
});

const presence = (instanceId: string, heartbeatIntervalMs = 60_000): PublisherPresence => ({
  version: 1,
  instanceId,
  host: "host-a",
  pid: 4242,
  publisherVersion: "0.1.0",
  startedAt: new Date().toISOString(),
  heartbeatIntervalMs,
});

const register = async (instanceId: string, heartbeatIntervalMs?: number) => {
  const r = await registerPublisher(js, jsm, nats, presence(instanceId, heartbeatIntervalMs), (e) => {
    throw e;
  });
  registrations.push(r);
  return r;
};

const ids = (found: PublisherRegistryRead | null) =>
  found?.publishers.map((p) => p.presence.instanceId).sort() ?? null;

/** Polls until `check` returns a value, for at most 10 s. */
const eventually = async <A>(check: () => Promise<A | undefined>): Promise<A> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe("the publisher registry", () => {
  it("reads null while no publisher ever registered, so an older deployment is not judged by it", async () => {
    expect(await readPublisherRegistry(js, jsm, nats)).toBeNull();
  });

  it("lists each registered publisher once with the server's time of its last heartbeat", async () => {
    const before = Date.now();
    await register("pub-a");
    await register("pub-b");
    const found = await readPublisherRegistry(js, jsm, nats);
    expect(ids(found)).toEqual(["pub-a", "pub-b"]);
    const a = found?.publishers.find((p) => p.presence.instanceId === "pub-a");
    expect(a?.presence).toMatchObject({ host: "host-a", pid: 4242, publisherVersion: "0.1.0" });
    expect(a?.lastHeartbeatAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
  });

  it("refreshes the heartbeat while running and keeps one message per publisher", async () => {
    await register("pub-beat", 50);
    const first = (await readPublisherRegistry(js, jsm, nats))?.publishers[0]?.lastHeartbeatAt.getTime() ?? 0;
    const later = await eventually(async () => {
      const found = await readPublisherRegistry(js, jsm, nats);
      const t = found?.publishers[0]?.lastHeartbeatAt.getTime() ?? 0;
      return t > first ? found : undefined;
    });
    expect(ids(later)).toEqual(["pub-beat"]);
    expect((await jsm.streams.info(publisherRegistryStreamName(nats.stream))).state.messages).toBe(1);
  });

  it("keeps a halted publisher's presence (a dead process) but removes a cleanly stopped one", async () => {
    const dead = await register("pub-dead");
    const clean = await register("pub-clean");
    dead.halt();
    await clean.deregister();
    expect(ids(await readPublisherRegistry(js, jsm, nats))).toEqual(["pub-dead"]);
  });

  it("creates the registry again when it was deleted while publishers run", async () => {
    await register("pub-again", 50);
    await jsm.streams.delete(publisherRegistryStreamName(nats.stream));
    const found = await eventually(async () => {
      const read = await readPublisherRegistry(js, jsm, nats);
      return read !== null && read.publishers.length > 0 ? read : undefined;
    });
    expect(ids(found)).toEqual(["pub-again"]);
  });

  it("reads the newest messages when there are more than the limit", async () => {
    for (const id of ["pub-1", "pub-2", "pub-3"]) await register(id);
    expect(ids(await readPublisherRegistry(js, jsm, nats, 2))).toEqual(["pub-2", "pub-3"]);
  });

  it("says the server's time of the read, the time to compare heartbeats with", async () => {
    await register("pub-time");
    const before = Date.now();
    const read = await readPublisherRegistry(js, jsm, nats);
    const after = Date.now();
    const heartbeat = read?.publishers[0]?.lastHeartbeatAt.getTime() ?? Number.NaN;
    const serverTime = read?.serverTime?.getTime() ?? Number.NaN;
    // The server runs on this machine: its clock is this clock.
    expect(serverTime).toBeGreaterThanOrEqual(before - 50);
    expect(serverTime).toBeLessThanOrEqual(after + 50);
    expect(serverTime).toBeGreaterThanOrEqual(heartbeat);
  });

  it("skips a heartbeat while the previous write is in flight, and a clean stop waits for that write", async () => {
    const publish = vi.spyOn(js, "publish");
    // Only the heartbeat's timer is driven by the test; NATS keeps its real timers.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const registration = await register("pub-slow", 1_000);
    // The first write creates the registry and writes once more.
    const atStart = publish.mock.calls.length;
    // Two heartbeats fall due before the first one's write can have been answered.
    vi.advanceTimersByTime(2_000);
    expect(publish).toHaveBeenCalledTimes(atStart + 1);
    const heartbeat = publish.mock.results[atStart]?.value as Promise<unknown>;
    let landed = false;
    void heartbeat.then(() => {
      landed = true;
    });
    await registration.deregister();
    expect(landed).toBe(true);
    vi.useRealTimers();
    expect(ids(await readPublisherRegistry(js, jsm, nats))).toEqual([]);
  });

  it("never rejects nor leaves an unhandled rejection when the failure listener throws", async () => {
    const unhandled: Array<unknown> = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // A stream of the registry's name that does not take the presence subjects: every write fails.
      const name = publisherRegistryStreamName(nats.stream);
      await jsm.streams.add({ name, subjects: [`other${nats.subject_prefix}.>`] });
      const failures: Array<unknown> = [];
      vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
      const registration = await registerPublisher(js, jsm, nats, presence("pub-throws", 1_000), (error) => {
        failures.push(error);
        throw new Error("the listener broke");
      });
      registrations.push(registration);
      expect(failures).toHaveLength(1);
      vi.advanceTimersByTime(1_000);
      await eventually(async () => (failures.length === 2 ? true : undefined));
      // The clean stop's purge fails too: the registry is gone.
      await jsm.streams.delete(name);
      await expect(registration.deregister()).resolves.toBeUndefined();
      expect(failures).toHaveLength(3);
      // Rejections are reported once the current macrotask ends.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
