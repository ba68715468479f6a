// Against the machine's NATS (NATS_URL): each test uses a registry of its own name and deletes it.
import { randomUUID } from "node:crypto";
import { type PublisherPresence, publisherRegistryStreamName } from "@minutes/contracts";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type PublisherRegistration,
  type RegisteredPublisher,
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

const ids = (found: ReadonlyArray<RegisteredPublisher> | null) =>
  found?.map((p) => p.presence.instanceId).sort() ?? null;

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
    const a = found?.find((p) => p.presence.instanceId === "pub-a");
    expect(a?.presence).toMatchObject({ host: "host-a", pid: 4242, publisherVersion: "0.1.0" });
    expect(a?.lastHeartbeatAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
  });

  it("refreshes the heartbeat while running and keeps one message per publisher", async () => {
    await register("pub-beat", 50);
    const first = (await readPublisherRegistry(js, jsm, nats))?.[0]?.lastHeartbeatAt.getTime() ?? 0;
    const later = await eventually(async () => {
      const found = await readPublisherRegistry(js, jsm, nats);
      const t = found?.[0]?.lastHeartbeatAt.getTime() ?? 0;
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
      return read !== null && read.length > 0 ? read : undefined;
    });
    expect(ids(found)).toEqual(["pub-again"]);
  });

  it("reads the newest messages when there are more than the limit", async () => {
    for (const id of ["pub-1", "pub-2", "pub-3"]) await register(id);
    expect(ids(await readPublisherRegistry(js, jsm, nats, 2))).toEqual(["pub-2", "pub-3"]);
  });
});
