// The publishers' durable consumer on the machine's NATS: its ack wait is `ack_wait_seconds`, with
// no consumer `backoff` (which the server would make the ack wait), also for a consumer an earlier
// version created with one; where one created at the same moment by another publisher starts stays
// that publisher's choice.
import { protocolStreamWildcard } from "@minutes/contracts";
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { effectiveAckWaitMs, ensureConsumer } from "../src/index.js";
import type { ConsumerStart } from "../src/nats.js";
import { harnessPerTest } from "./helpers/harness.js";

const open = harnessPerTest();

describe("the publishers' consumer", () => {
  it("waits ack_wait_seconds for an answer, also after an earlier version gave it a backoff", async () => {
    const h = await open({ config: { nats: { ack_wait_seconds: 30, backoff_seconds: [2, 4] } } });
    const { stream, consumer } = h.config.nats;
    const created = await h.jsm.consumers.info(stream, consumer);
    expect(created.config.backoff).toBeUndefined();
    expect(created.config.ack_wait).toBe(nanos(30_000));
    expect(effectiveAckWaitMs(h.config.nats)).toBe(30_000);

    // As an earlier version left it: the server then waits backoff[0] (2 s) for an answer.
    await h.jsm.consumers.update(stream, consumer, { backoff: [nanos(2_000), nanos(4_000)] });
    expect((await h.jsm.consumers.info(stream, consumer)).config.ack_wait).toBe(nanos(2_000));

    await ensureConsumer(h.jsm, h.config.nats);
    const updated = await h.jsm.consumers.info(stream, consumer);
    expect(updated.config.backoff).toBeUndefined();
    expect(updated.config.ack_wait).toBe(nanos(30_000));
    expect(updated.config.max_deliver).toBe(h.config.nats.max_deliver);
  });

  it("keeps where a consumer another publisher created a moment earlier starts, and updates only the rest", async () => {
    const h = await open();
    const { stream, consumer, subject_prefix } = h.config.nats;
    await h.stopPublishers();
    await h.jsm.consumers.delete(stream, consumer);
    await h.submit({ jobId: "one" });
    await h.submit({ jobId: "two" });
    const told: Array<ConsumerStart> = [];
    await ensureConsumer(h.jsm, h.config.nats, {
      pendingWaitsForPublish: false,
      // Between this publisher's look and its add, another one creates the consumer at message 2
      // (its own look at the store, a moment earlier; this one finds nothing and would start at 1).
      progress: async (query) => {
        await h.jsm.consumers.add(stream, {
          durable_name: consumer,
          ack_policy: AckPolicy.Explicit,
          filter_subject: protocolStreamWildcard(subject_prefix),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: 2,
          ack_wait: nanos(7_000),
        });
        return Effect.runPromise(h.store.streamProgress(query));
      },
      created: (start) => void told.push(start),
    });
    const info = await h.jsm.consumers.info(stream, consumer);
    expect(info.config.deliver_policy).toBe(DeliverPolicy.StartSequence);
    expect(info.config.opt_start_seq).toBe(2);
    expect(info.config.ack_wait).toBe(nanos(2_000));
    expect(told).toEqual([]);
  });
});
