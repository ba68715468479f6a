// NATS restarted without its JetStream data, on a nats-server of the test's own: the running
// publishers find their consumer (and its stream) missing, re-create streams and consumer
// themselves — several at once, without tripping over each other — and publish what comes next,
// with no restart and no gateway.
import { outcomeStreamSettings, protocolStreamSettings } from "@minutes/contracts";
import { type NatsServer, startNatsServer } from "@minutes/vitest-config/nats-server";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, type Harness, pagesOfJob, recordIn, startHarness } from "./helpers/harness.js";

let nats: NatsServer | undefined;
let h: Harness | undefined;
afterEach(async () => {
  // The harness first: it stops the publishers and deletes the streams while NATS still runs.
  await h?.close();
  h = undefined;
  await nats?.close();
  nats = undefined;
});

const protocol = (title: string) => `# Meeting Protocol: ${title}\n\nDate: 2025-09-02\n\n- decided\n`;

describe("a NATS restarted without its data", () => {
  it("has the running publishers re-create streams and consumer, and publish again", async () => {
    nats = await startNatsServer();
    h = await startHarness({ config: { nats: { url: nats.url } } });
    const harness = h;
    await h.startPublisher(); // a second instance: both find the consumer gone at the same moment
    for (const jobId of ["before-wipe-1", "before-wipe-2", "updated-after-wipe"]) {
      await h.submit({ jobId, markdown: protocol(jobId) });
      await recordIn(h, jobId, "published");
    }

    await nats.stop();
    nats.wipe();
    await nats.start();

    // Nothing else runs against this server: only the publishers can bring these back.
    const { stream, consumer } = h.config.nats;
    const info = await eventually(
      () => harness.jsm.consumers.info(stream, consumer),
      20_000,
      "the publishers to re-create the consumer",
    );
    expect(info.config.max_deliver).toBe(h.config.nats.max_deliver);
    expect(info.config.filter_subject).toBe(`${h.config.nats.subject_prefix}.protocol.>`);
    await h.jsm.streams.info(outcomeStreamSettings(h.config.nats).name);
    expect((await h.jsm.streams.info(protocolStreamSettings(h.config.nats).name)).state.messages).toBe(0);

    // A job from before: its sequence in the new stream is lower than the one stored with its
    // protocol, yet the new event is the newer one and updates the page.
    const before = await recordIn(h, "updated-after-wipe", "published");
    expect(before.streamSequence).toBe(3);
    await h.submit({ jobId: "updated-after-wipe", markdown: protocol("updated-after-wipe, corrected") });
    const updated = await eventually(
      async () => {
        const r = await recordIn(harness, "updated-after-wipe", "published");
        return r.pageVersion === 2 ? r : undefined;
      },
      20_000,
      "the corrected protocol to be published",
    );
    expect(updated.streamSequence).toBe(1);
    expect(pagesOfJob(h, "updated-after-wipe")[0]?.versions.at(-1)?.title).toContain("corrected");

    for (const jobId of ["after-wipe-1", "after-wipe-2", "after-wipe-3"]) {
      await h.submit({ jobId, markdown: protocol(jobId) });
    }
    for (const jobId of ["after-wipe-1", "after-wipe-2", "after-wipe-3"]) {
      const record = await recordIn(h, jobId, "published");
      expect(record.pageId).not.toBeNull();
      expect(pagesOfJob(h, jobId)).toHaveLength(1);
    }
    // The outcome events of the new publications reached the re-created outcome stream.
    await eventually(
      async () => {
        const outcomes = await harness.jsm.streams.info(outcomeStreamSettings(harness.config.nats).name);
        return outcomes.state.messages >= 4 ? true : undefined;
      },
      10_000,
      "the outcome events",
    );
  });

  it("re-creates a consumer deleted while NATS kept running", async () => {
    nats = await startNatsServer();
    h = await startHarness({ config: { nats: { url: nats.url } } });
    const harness = h;
    const { stream, consumer } = h.config.nats;
    await h.jsm.consumers.delete(stream, consumer);
    await eventually(
      () => harness.jsm.consumers.info(stream, consumer),
      10_000,
      "the publisher to re-create the consumer",
    );
    await h.submit({ jobId: "after-delete", markdown: protocol("After delete") });
    await recordIn(h, "after-delete", "published");
  });
});
