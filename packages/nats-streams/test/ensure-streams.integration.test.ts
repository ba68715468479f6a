// Against the machine's NATS (NATS_URL): each test uses streams of its own name and deletes them.
import { randomUUID } from "node:crypto";
import { outcomeStreamSettings, type StreamConfigKeys } from "@minutes/contracts";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, nanos } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMissingStreams, ensureStreams, isNotFound } from "../src/index.js";

let nc: NatsConnection;
let jsm: JetStreamManager;
let nats: StreamConfigKeys;

beforeEach(async () => {
  nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
  jsm = await jetstreamManager(nc);
  const id = randomUUID().replaceAll("-", "").slice(0, 12);
  nats = {
    stream: `ENSURE_${id}`,
    subject_prefix: `ensure${id}`,
    duplicate_window_seconds: 60,
    max_age_days: 1,
  };
});

afterEach(async () => {
  for (const name of [nats.stream, outcomeStreamSettings(nats).name]) {
    await jsm.streams.delete(name).catch(() => undefined);
  }
  await nc.close();
});

describe("ensureStreams", () => {
  it("creates both streams, and a second run gives them changed settings", async () => {
    await ensureStreams(jsm, nats);
    const protocol = await jsm.streams.info(nats.stream);
    expect(protocol.config.duplicate_window).toBe(nanos(60_000));
    expect((await jsm.streams.info(outcomeStreamSettings(nats).name)).config.subjects).toEqual(
      outcomeStreamSettings(nats).subjects,
    );

    const changed = { ...nats, duplicate_window_seconds: 30 };
    await ensureStreams(jsm, changed);
    expect((await jsm.streams.info(nats.stream)).config.duplicate_window).toBe(nanos(30_000));
  });

  it("refuses to move a stream holding events to another subject prefix, saying what to do", async () => {
    await ensureStreams(jsm, nats);
    await jetstream(nc).publish(`${nats.subject_prefix}.protocol.job-1`, "{}");
    const moved = { ...nats, subject_prefix: `${nats.subject_prefix}b` };
    const refused = ensureStreams(jsm, moved);
    await expect(refused).rejects.toThrow(
      `stream "${nats.stream}" holds 1 messages under "${nats.subject_prefix}.protocol.>", but the configuration (nats.subject_prefix) now gives it "${moved.subject_prefix}.protocol.>"`,
    );
    await expect(refused).rejects.toThrow(/give the new prefix a stream of its own \(nats\.stream\)/);
    // The events stay where the publishers read them.
    expect((await jsm.streams.info(nats.stream)).config.subjects).toEqual([
      `${nats.subject_prefix}.protocol.>`,
    ]);
  });

  it("moves an empty stream to a new subject prefix", async () => {
    await ensureStreams(jsm, nats);
    const moved = { ...nats, subject_prefix: `${nats.subject_prefix}b` };
    await ensureStreams(jsm, moved);
    expect((await jsm.streams.info(nats.stream)).config.subjects).toEqual([
      `${moved.subject_prefix}.protocol.>`,
    ]);
  });

  it("names the stream that already stores the subjects when nats.stream was renamed", async () => {
    await ensureStreams(jsm, nats);
    const renamed = { ...nats, stream: `${nats.stream}_NEW` };
    await expect(ensureStreams(jsm, renamed)).rejects.toThrow(
      `cannot create stream "${renamed.stream}": stream "${nats.stream}" already stores "${nats.subject_prefix}.protocol.>". Set nats.stream back to "${nats.stream}"`,
    );
    await jsm.streams.delete(renamed.stream).catch(() => undefined);
  });

  it("is safe while others do the same at the same moment", async () => {
    await Promise.all([ensureStreams(jsm, nats), ensureStreams(jsm, nats), ensureStreams(jsm, nats)]);
    expect((await jsm.streams.info(nats.stream)).config.name).toBe(nats.stream);
  });
});

describe("createMissingStreams", () => {
  it("creates only what is missing, names it, and leaves an existing stream's settings alone", async () => {
    await ensureStreams(jsm, nats);
    await jsm.streams.delete(outcomeStreamSettings(nats).name);
    const created: Array<string> = [];
    await createMissingStreams(jsm, { ...nats, duplicate_window_seconds: 30 }, (s) => created.push(s));
    expect(created).toEqual([outcomeStreamSettings(nats).name]);
    expect((await jsm.streams.info(nats.stream)).config.duplicate_window).toBe(nanos(60_000));
  });
});

describe("isNotFound", () => {
  it("says yes to JetStream's stream not found and no to other errors", async () => {
    const missing = await jsm.streams.info(`${nats.stream}_MISSING`).catch((error: unknown) => error);
    expect(isNotFound(missing)).toBe(true);
    expect(isNotFound(new Error("timeout"))).toBe(false);
  });
});
