// Streams that disappear under a running gateway, on a nats-server of the test's own: a NATS
// restarted without its JetStream data, and a stream deleted by hand. The gateway creates the
// streams again itself (the next event, the outcome feed), follows the new outcome stream, and
// its status says degraded, and why, while the publishers' consumer is missing.
import { type PublicationOutcome, PublicationOutcomeJson, publicationEventSubject } from "@minutes/contracts";
import { type NatsServer, startNatsServer } from "@minutes/vitest-config/nats-server";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Schema } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import { eventually, type Harness, protocolBody, startHarness } from "./helpers/harness.js";

let nats: NatsServer | undefined;
let h: Harness | undefined;
let publisher: FakePublisher | undefined;
afterEach(async () => {
  const [p, harness, server] = [publisher, h, nats];
  publisher = undefined;
  h = undefined;
  nats = undefined;
  await cleanUp(
    () => p?.stop(),
    () => harness?.close(),
    () => server?.close(),
  );
});

const status = async (harness: Harness) => {
  const res = await harness.app.inject({ method: "GET", url: "/status/confluence" });
  return { code: res.statusCode, body: res.json() };
};

const submit = (harness: Harness, jobId: string) =>
  harness.app.inject({
    method: "POST",
    url: "/api/protocols",
    headers: harness.auth,
    payload: protocolBody(jobId),
  });

/** Publishes a `published` outcome as a publisher would. */
const emitOutcome = async (harness: Harness, jobId: string) => {
  const outcome: PublicationOutcome = {
    jobId,
    trigger: "event",
    outcome: "published",
    publicationId: 1,
    pageId: "1",
    pageUrl: "https://confluence.example/pages/1",
    pageVersion: 1,
    pageTitle: jobId,
    spaceKey: "MEETINGS",
    errorTag: null,
    errorMessage: null,
    latencyMs: 10,
    retries: 0,
    rateLimited: 0,
    occurredAt: new Date().toISOString(),
  };
  await jetstream(harness.nc).publish(
    publicationEventSubject("published", harness.config.nats.subject_prefix),
    Schema.encodeSync(PublicationOutcomeJson)(outcome),
  );
};

/** How many `published` outcomes the gateway's outcome feed has seen (its metric). */
const outcomesSeen = (harness: Harness, count: number) =>
  eventually(
    async () => {
      const res = await harness.app.inject({ method: "GET", url: "/metrics/confluence" });
      return res.body.includes(`minutes_publication_outcomes_total{outcome="published"} ${count}`)
        ? true
        : undefined;
    },
    { what: `the outcome feed to have seen ${count} outcomes` },
  );

const consumerMissing = (harness: Harness) =>
  `the consumer ${harness.config.nats.consumer} is missing: events wait until a publisher creates it again (at its start, or when it finds it missing)`;

describe("a NATS restarted without its data", () => {
  it("accepts events again at once, follows the new outcome stream, and is degraded until the consumer is back", async () => {
    nats = await startNatsServer();
    h = await startHarness({ overrides: { nats: { url: nats.url } } });
    const harness = h;
    // The durable consumer, as a publisher leaves it.
    await (await startFakePublisher(h.nc, h.store, h.config)).stop();
    expect(await status(h)).toMatchObject({ code: 200, body: { status: "ok", reasons: [] } });
    await emitOutcome(h, "before-1");
    await emitOutcome(h, "before-2");
    await outcomesSeen(h, 2);

    await nats.stop();
    nats.wipe();
    await nats.start();

    // No publisher runs: the consumer stays missing, and the status says so.
    const degraded = await eventually(
      async () => {
        const s = await status(harness);
        return s.body.nats.connected === true ? s : undefined;
      },
      { what: "the gateway to reconnect" },
    );
    expect(degraded.code).toBe(503);
    expect(degraded.body.status).toBe("degraded");
    expect(degraded.body.consumer).toMatchObject({ found: false, backlog: null });
    expect(degraded.body.reasons).toContain(consumerMissing(h));

    // The first event after the restart is accepted: no 503 "retry later".
    const accepted = await submit(h, "after-wipe");
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ jobId: "after-wipe", streamSequence: 1, duplicate: false });
    // Both streams are back (the outcome stream may still be on its way when the event is in).
    const after = await eventually(
      async () => {
        const s = await status(harness);
        return s.body.nats.streamFound && s.body.nats.outcomeStreamFound ? s : undefined;
      },
      { what: "both streams to be back" },
    );
    expect(after.code).toBe(503);
    expect(after.body.reasons).toEqual([consumerMissing(h)]);

    // The feed follows the re-created outcome stream from its first outcome.
    await emitOutcome(h, "after-1");
    await outcomesSeen(h, 3);

    // A publisher comes back and creates its consumer: ok again, with the event waiting for it.
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const ok = await eventually(async () => {
      const s = await status(harness);
      return s.code === 200 ? s : undefined;
    });
    expect(ok.body).toMatchObject({ status: "ok", reasons: [], consumer: { found: true } });
  });
});

describe("a stream deleted under a running gateway", () => {
  it("shows it missing, and creates it again for the next event", async () => {
    nats = await startNatsServer();
    h = await startHarness({ overrides: { nats: { url: nats.url } } });
    await (await startFakePublisher(h.nc, h.store, h.config)).stop();
    const jsm = await jetstreamManager(h.nc);
    await jsm.streams.delete(h.config.nats.stream);

    const missing = await status(h);
    expect(missing.code).toBe(503);
    expect(missing.body.nats).toMatchObject({ streamFound: false, outcomeStreamFound: true });
    expect(missing.body.reasons).toEqual([
      `the stream ${h.config.nats.stream} is missing: it is created again by the next event`,
      consumerMissing(h),
    ]);

    // Many requests at once find it missing: one re-creation, every event stored once.
    const answers = await Promise.all(
      ["d-1", "d-2", "d-3", "d-4"].map((jobId) => submit(h as Harness, jobId)),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.json().streamSequence))).toEqual(new Set([1, 2, 3, 4]));
    expect((await jsm.streams.info(h.config.nats.stream)).config.duplicate_window).toBe(
      h.config.nats.duplicate_window_seconds * 1_000_000_000,
    );
  });
});
