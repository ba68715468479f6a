import { jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import {
  JetStreamPublishError,
  type JetStreamPublisher,
  makeJetStreamPublisher,
  pubAckOf,
} from "../src/jetstream-publisher.js";
import { NATS_URL, unique } from "./helpers/harness.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const answer = (body: string, status?: number) => ({
  data: new TextEncoder().encode(body),
  ...(status === undefined ? {} : { headers: headers(status, "No Responders") }),
  json: <T>() => JSON.parse(body) as T,
});

describe("pubAckOf", () => {
  it("reads a PubAck, and turns every other answer into an error", () => {
    expect(pubAckOf(answer('{"stream":"S","seq":7}'))).toEqual({ stream: "S", seq: 7, duplicate: false });
    expect(pubAckOf(answer('{"stream":"S","seq":7,"duplicate":true,"domain":"d"}'))).toEqual({
      stream: "S",
      seq: 7,
      duplicate: true,
      domain: "d",
    });
    const failures = [
      answer("", 503),
      answer('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}'),
      answer('{"stream":"","seq":1}'),
      answer("not json"),
    ].map((a) => pubAckOf(a));
    for (const f of failures) expect(f).toBeInstanceOf(JetStreamPublishError);
    expect(failures.map((f) => (f instanceof JetStreamPublishError ? [f.code, f.message] : f))).toEqual([
      [503, "no JetStream stream stores the subject (no responders)"],
      [503, "maximum messages exceeded"],
      [undefined, "invalid ack response"],
      [undefined, "JetStream answered something that is not JSON"],
    ]);
  });
});

describe("makeJetStreamPublisher (real NATS)", () => {
  const setUp = async (): Promise<{ nc: NatsConnection; publisher: JetStreamPublisher; subject: string }> => {
    const id = unique();
    const nc = await connect({ servers: NATS_URL });
    cleanups.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: `PUB_${id}`, subjects: [`pub_${id}.>`] });
    cleanups.push(() => jsm.streams.delete(`PUB_${id}`));
    const publisher = makeJetStreamPublisher(nc);
    cleanups.push(async () => publisher.close());
    return { nc, publisher, subject: `pub_${id}.x` };
  };

  it("resolves once stored, de-duplicates on the msgID, and keeps concurrent publishes apart", async () => {
    const { publisher, subject } = await setUp();
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => publisher.publish(subject, `{"i":${i}}`, `m-${i}`, 5_000)),
    );
    expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    const again = await publisher.publish(subject, "{}", "m-7", 5_000);
    expect(again).toMatchObject({ duplicate: true, seq: acks[7]!.seq });
  });

  it("fails when no stream stores the subject, when nobody answers in time, and once closed", async () => {
    const { nc, publisher, subject } = await setUp();
    await expect(publisher.publish(`nostream_${unique()}.x`, "{}", "a", 5_000)).rejects.toMatchObject({
      code: 503,
    });
    // A plain subscriber takes the message and never answers, as a stuck server would.
    const silent = `silent_${unique()}`;
    const sub = nc.subscribe(silent);
    cleanups.push(async () => sub.unsubscribe());
    await nc.flush();
    await expect(publisher.publish(silent, "{}", "b", 50)).rejects.toThrow("no acknowledgement within 50 ms");

    const waiting = publisher.publish(silent, "{}", "c", 5_000);
    publisher.close();
    await expect(waiting).rejects.toThrow(/closed/);
    await expect(publisher.publish(subject, "{}", "d", 5_000)).rejects.toThrow(/closed/);
  });

  it("fails publishes awaiting an ack when the connection closes", async () => {
    // A connection of its own: closing it must not take the other tests' cleanup with it.
    const nc = await connect({ servers: NATS_URL });
    cleanups.push(() => nc.close());
    const publisher = makeJetStreamPublisher(nc);
    const silent = `silent_${unique()}`;
    const sub = nc.subscribe(silent);
    await nc.flush();
    const waiting = publisher.publish(silent, "{}", "e", 5_000);
    sub.unsubscribe();
    await nc.close();
    await expect(waiting).rejects.toBeInstanceOf(JetStreamPublishError);
    await expect(publisher.publish(silent, "{}", "f", 5_000)).rejects.toThrow(/closed/);
  });
});
