// A consumer created anew on a stream that holds messages (an operator deleted it, or
// nats.consumer was renamed, while the stream was kept) starts where the publication store says
// work stopped: a deleted record is not made again from its old event, an old forced publish does
// not write another version, and what was not finished is still delivered. With nothing from
// this stream in the store (a first deployment, a stream created anew) it delivers everything.
import { gaveUpStreamName, publishRequestedSubject } from "@minutes/contracts";
import { ensureStreams } from "@minutes/nats-streams";
import { DeliverPolicy } from "@nats-io/jetstream";
import { Effect, Option } from "effect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { PipelineStep } from "../src/index.js";
import { gaveUpConsumerName, maxDeliveriesAdvisorySubject } from "../src/nats.js";
import { eventually, type Harness, harnessPerTest, pagesOfJob, recordIn } from "./helpers/harness.js";

const open = harnessPerTest();

const protocol = (title: string, line = "- decided") =>
  `# Meeting Protocol: ${title}\n\nDate: 2025-09-02\n\n${line}\n`;

/** A logger that keeps info lines and above as parsed JSON. */
const capture = () => {
  const lines: Array<{ level: number; msg: string; [key: string]: unknown }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines, about: (text: string) => lines.filter((l) => l.msg.includes(text)) };
};

/** A forced publish of the job, as `POST /api/jobs/:jobId/publish?force=true` sends it. */
const forcePublish = (h: Harness, jobId: string) =>
  h.publishRaw(
    publishRequestedSubject(jobId, h.config.nats.subject_prefix),
    JSON.stringify({ jobId, trigger: "manual", force: true, requestedAt: new Date().toISOString() }),
  );

/** The job's record once its page is at `version`. */
const atVersion = (h: Harness, jobId: string, version: number) =>
  eventually(
    async () => {
      const r = await recordIn(h, jobId, "published");
      return r.pageVersion === version ? r : undefined;
    },
    20_000,
    `job ${jobId} at page version ${version}`,
  );

/** The versions of the job's one page. */
const versionsOf = (h: Harness, jobId: string) => {
  const pages = pagesOfJob(h, jobId);
  expect(pages).toHaveLength(1);
  return pages[0]?.versions.length;
};

/** Waits until `consumer` has every message up to `through` answered: nothing more comes from it. */
const drained = (h: Harness, consumer: string, through: number) =>
  eventually(
    async () => {
      const info = await h.jsm.consumers.info(h.config.nats.stream, consumer);
      return info.ack_floor.stream_seq >= through && info.num_ack_pending === 0 && info.num_pending === 0
        ? info
        : undefined;
    },
    30_000,
    `consumer ${consumer} to answer every message up to ${through}`,
  );

const lastSequence = async (h: Harness) => (await h.jsm.streams.info(h.config.nats.stream)).state.last_seq;

describe("a consumer created anew on a kept stream", () => {
  it("starts after what the store handled: a deleted record stays deleted, an old forced publish does not run again", async () => {
    const log = capture();
    const h = await open({ logger: log.logger });
    const { stream, consumer } = h.config.nats;
    await h.submit({ jobId: "kept", markdown: protocol("Kept") });
    await h.submit({ jobId: "deleted", markdown: protocol("Deleted") });
    await recordIn(h, "kept", "published");
    const deleted = await recordIn(h, "deleted", "published");
    await forcePublish(h, "kept");
    await atVersion(h, "kept", 2);
    // Through the gateway's API, the record only (the page stays, as without deletePage=true).
    await Effect.runPromise(h.store.deletePublication(deleted.id));

    await h.stopPublishers();
    await h.jsm.consumers.delete(stream, consumer);
    const last = await lastSequence(h);
    expect(last).toBe(3);
    await h.startPublisher();

    // New events still come, and by then everything the new consumer had to deliver is answered.
    const next = await h.submit({ jobId: "next", markdown: protocol("Next") });
    await recordIn(h, "next", "published");
    await drained(h, consumer, next);
    expect(Option.isNone(await Effect.runPromise(h.store.findByJob("deleted")))).toBe(true);
    expect(versionsOf(h, "kept")).toBe(2);
    expect((await recordIn(h, "kept", "published")).pageVersion).toBe(2);
    expect(versionsOf(h, "deleted")).toBe(1);

    const created = await h.jsm.consumers.info(stream, consumer);
    expect(created.config.deliver_policy).toBe(DeliverPolicy.StartSequence);
    expect(created.config.opt_start_seq).toBe(4);
    const warned = log.about("created the consumer at stream message 4");
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, startSequence: 4, skipped: 3, firstSequence: 1, consumer });
    expect(warned[0]?.msg).toContain("the 3 messages before it (1–3) are not delivered again");
    expect(warned[0]?.msg).toContain("the highest message the publication store has handled is 3 (job kept)");
  });

  it("still delivers the message of a job whose publication had not finished", async () => {
    let hang = true;
    const h = await open({
      config: { publisher: { shutdown_grace_seconds: 1 } },
      // The publisher publishing "unfinished" stops while its attempt runs (held after the claim).
      publisher: {
        afterStep: (step: PipelineStep, jobId: string) =>
          hang && jobId === "unfinished" && step === "claimed" ? Effect.never : Effect.void,
      },
    });
    const { stream, consumer } = h.config.nats;
    await h.submit({ jobId: "forced", markdown: protocol("Forced") });
    await recordIn(h, "forced", "published");
    await forcePublish(h, "forced");
    await atVersion(h, "forced", 2);
    const unfinished = await h.submit({ jobId: "unfinished", markdown: protocol("Unfinished") });
    await recordIn(h, "unfinished", "publishing");
    await h.submit({ jobId: "after", markdown: protocol("After") });
    await recordIn(h, "after", "published");

    await h.stopPublishers();
    await h.jsm.consumers.delete(stream, consumer);
    hang = false;
    await h.startPublisher();

    // Once the stopped attempt's lease has run out, the job is published from its message.
    const published = await recordIn(h, "unfinished", "published");
    expect(published.pageId).not.toBeNull();
    await drained(h, consumer, await lastSequence(h));
    expect(versionsOf(h, "forced")).toBe(2);
    expect(versionsOf(h, "after")).toBe(1);
    expect((await h.jsm.consumers.info(stream, consumer)).config.opt_start_seq).toBe(unfinished);
  });

  it("delivers a message the renamed consumer's publishers held without a trace in the store", async () => {
    const h = await open();
    const { stream, consumer } = h.config.nats;
    await h.submit({ jobId: "forced", markdown: protocol("Forced") });
    await recordIn(h, "forced", "published");
    await forcePublish(h, "forced");
    await atVersion(h, "forced", 2);
    await h.stopPublishers();

    // A publisher took "held" and stopped before it saved anything (it waited for a slot); "later"
    // was published meanwhile by another one.
    const held = await h.submit({ jobId: "held", markdown: protocol("Held") });
    const taken = await (await h.js.consumers.get(stream, consumer)).next({ expires: 5_000 });
    expect(taken?.seq).toBe(held);
    const alive = setInterval(() => taken?.working(), 300);
    try {
      await h.startPublisher();
      await h.submit({ jobId: "later", markdown: protocol("Later") });
      await recordIn(h, "later", "published");
      await h.stopPublishers();

      // nats.consumer renamed: the old consumer stays, with "held" outstanding. (A renamed
      // publisher does not start while the gave-up stream's consumer of the old name, whose
      // consumer still exists, is there: the stream goes, and the renamed publisher makes it anew.)
      await h.jsm.streams.delete(gaveUpStreamName(stream));
      const renamed = `${consumer}_renamed`;
      await h.startPublisher({ config: { ...h.config, nats: { ...h.config.nats, consumer: renamed } } });
      await recordIn(h, "held", "published");
      await drained(h, renamed, await lastSequence(h));
      expect(versionsOf(h, "forced")).toBe(2);
      expect((await h.jsm.consumers.info(stream, renamed)).config.opt_start_seq).toBe(held);
    } finally {
      clearInterval(alive);
    }
  });
});

describe("a consumer created on a stream the store knows nothing of", () => {
  it("delivers everything the stream holds on a first deployment", async () => {
    const log = capture();
    const h = await open({ logger: log.logger });
    const { stream, consumer } = h.config.nats;
    // Events the gateway accepted before any publisher ran.
    await h.stopPublishers();
    await h.jsm.consumers.delete(stream, consumer);
    for (const jobId of ["first-1", "first-2", "first-3"])
      await h.submit({ jobId, markdown: protocol(jobId) });
    await h.startPublisher();

    const created = await h.jsm.consumers.info(stream, consumer);
    expect(created.config.deliver_policy).toBe(DeliverPolicy.All);
    for (const jobId of ["first-1", "first-2", "first-3"]) await recordIn(h, jobId, "published");
    const said = log.about("created the consumer at the start of the stream");
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 30, messages: 3, consumer });
    expect(said[0]?.msg).toContain("the publication store holds nothing from this stream");
  });

  it("delivers everything in a stream created anew, though the store handled the sequences it starts again from", async () => {
    const log = capture();
    const h = await open({ logger: log.logger });
    const { stream, consumer } = h.config.nats;
    await h.submit({ jobId: "old-1", markdown: protocol("Old 1") });
    await h.submit({ jobId: "old-2", markdown: protocol("Old 2") });
    await recordIn(h, "old-1", "published");
    await recordIn(h, "old-2", "published");
    await h.stopPublishers();

    // The stream deleted with its consumer and created again (as after NATS lost its data): it
    // counts from 1 again, past the sequences the store holds.
    await h.jsm.streams.delete(stream);
    await ensureStreams(h.jsm, h.config.nats);
    await h.submit({ jobId: "old-1", markdown: protocol("Old 1", "- corrected") });
    for (const jobId of ["new-1", "new-2", "new-3"]) await h.submit({ jobId, markdown: protocol(jobId) });
    expect(await lastSequence(h)).toBe(4);
    await h.startPublisher();

    expect((await h.jsm.consumers.info(stream, consumer)).config.deliver_policy).toBe(DeliverPolicy.All);
    for (const jobId of ["new-1", "new-2", "new-3"]) await recordIn(h, jobId, "published");
    const corrected = await atVersion(h, "old-1", 2);
    expect(corrected.streamSequence).toBe(1);
    const said = log.about("created the consumer at the start of the stream");
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ level: 30, messages: 4 });
    expect(said[0]?.msg).toContain("the publication store holds nothing from this stream");
  });
});

describe("a renamed nats.consumer", () => {
  /** Stores JetStream's max-deliveries advisory of `consumer` for stream message `seq`, as the server would. */
  const adviseGaveUp = (h: Harness, consumer: string, seq: number) =>
    h.js.publish(
      maxDeliveriesAdvisorySubject(h.config.nats.stream, consumer),
      JSON.stringify({
        type: "io.nats.jetstream.advisory.v1.max_deliver",
        stream: h.config.nats.stream,
        consumer,
        stream_seq: seq,
        deliveries: 4,
      }),
    );

  it("takes over the gave-up stream once the former consumer is gone, and records its own give-ups", async () => {
    const h = await open();
    const { stream, consumer } = h.config.nats;
    await h.stopPublishers();
    await h.jsm.consumers.delete(stream, consumer);
    const renamed = `${consumer}_renamed`;
    const nats = { ...h.config.nats, consumer: renamed };
    await h.startPublisher({ config: { ...h.config, nats } });

    const gaveUp = gaveUpStreamName(stream);
    const info = await h.jsm.streams.info(gaveUp);
    expect(info.config.subjects).toContain(maxDeliveriesAdvisorySubject(stream, renamed));
    const names: Array<string> = [];
    for await (const c of await h.jsm.consumers.list(gaveUp)) names.push(c.name);
    expect(names).toEqual([gaveUpConsumerName(nats)]);

    // A message JetStream gave up on under the new name is recorded as failed.
    await h.stopPublishers();
    const sequence = await h.submit({ jobId: "job-renamed", markdown: protocol("Renamed") });
    const taken = await (await h.js.consumers.get(stream, renamed)).next({ expires: 5_000 });
    expect(taken?.seq).toBe(sequence);
    await taken?.ackAck();
    await adviseGaveUp(h, renamed, sequence);
    await h.startPublisher({ config: { ...h.config, nats } });
    const record = await recordIn(h, "job-renamed", "failed");
    expect(record.errorTag).toBe("DeliveriesExhaustedError");
  });

  it("does not start while the former consumer still exists, and says which one to remove", async () => {
    const h = await open();
    const { stream, consumer } = h.config.nats;
    await h.stopPublishers();
    const renamed = `${consumer}_renamed`;
    await expect(
      h.startPublisher({ config: { ...h.config, nats: { ...h.config.nats, consumer: renamed } } }),
    ).rejects.toThrow(`nats consumer rm ${stream} ${consumer}`);
  });
});
