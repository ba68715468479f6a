// The publishers' durable consumer on the machine's NATS: its ack wait is `ack_wait_seconds`, with
// no consumer `backoff` (which the server would make the ack wait), also for a consumer an earlier
// version created with one.
import { nanos } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { effectiveAckWaitMs, ensureConsumer } from "../src/index.js";
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
});
