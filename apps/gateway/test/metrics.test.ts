// GatewayMetrics on its own: what a scrape exports when the store or the consumer cannot be read,
// and which outcome events the latency histogram observes.
import { PUBLICATION_STATUSES, type PublicationOutcome } from "@minutes/contracts";
import { type PublicationStoreShape, StoreUnavailableError } from "@minutes/publication-store";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../src/metrics.js";

const intake = () => ({ stored: 0, refused: 0, lastStoredAt: null, lastRefused: null });

const counts = Object.fromEntries(PUBLICATION_STATUSES.map((s) => [s, 0])) as Record<
  (typeof PUBLICATION_STATUSES)[number],
  number
>;

/** A store whose `countByStatus` answers while `up()` says so. */
const storeThat = (up: () => boolean) =>
  ({
    countByStatus: () =>
      Effect.suspend(() =>
        up()
          ? Effect.succeed({ ...counts, published: 42, failed: 3 })
          : Effect.fail(new StoreUnavailableError({ operation: "countByStatus", reason: "down" })),
      ),
  }) as unknown as PublicationStoreShape;

const outcome = (kind: PublicationOutcome["outcome"], latencyMs: number | null): PublicationOutcome => ({
  outcome: kind,
  jobId: "job-1",
  publicationId: 1,
  trigger: "event",
  pageId: "42",
  pageUrl: null,
  pageTitle: null,
  pageVersion: 1,
  spaceKey: "MEET",
  errorTag: null,
  errorMessage: null,
  latencyMs,
  retries: 0,
  rateLimited: 0,
  occurredAt: "2030-01-01T00:00:00.000Z",
});

describe("GatewayMetrics", () => {
  it("exports no consumer backlog while the consumer is missing, and says it is missing", async () => {
    let backlog: number | null = 7;
    const metrics = new GatewayMetrics(
      storeThat(() => true),
      async () => backlog,
      intake,
    );
    let text = await metrics.text();
    expect(text).toMatch(/^minutes_consumer_pending 7$/m);
    expect(text).toMatch(/^minutes_consumer_up 1$/m);
    backlog = null;
    text = await metrics.text();
    expect(text).not.toMatch(/^minutes_consumer_pending /m);
    expect(text).toMatch(/^minutes_consumer_up 0$/m);
    backlog = 0;
    text = await metrics.text();
    expect(text).toMatch(/^minutes_consumer_pending 0$/m);
    expect(text).toMatch(/^minutes_consumer_up 1$/m);
  });

  it("counts a backlog that cannot be read (NATS down) as no sample too", async () => {
    const metrics = new GatewayMetrics(
      storeThat(() => true),
      () => Promise.reject(new Error("connection closed")),
      intake,
    );
    const text = await metrics.text();
    expect(text).not.toMatch(/^minutes_consumer_pending /m);
    expect(text).toMatch(/^minutes_consumer_up 0$/m);
  });

  it("drops the publication counts while the store cannot be read, and says the database is down", async () => {
    let up = true;
    const metrics = new GatewayMetrics(
      storeThat(() => up),
      async () => 0,
      intake,
    );
    let text = await metrics.text();
    expect(text).toContain('minutes_publications{status="published"} 42');
    expect(text).toMatch(/^minutes_database_up 1$/m);
    up = false;
    text = await metrics.text();
    expect(text).not.toMatch(/^minutes_publications\{/m);
    expect(text).toMatch(/^minutes_database_up 0$/m);
    up = true;
    text = await metrics.text();
    expect(text).toContain('minutes_publications{status="failed"} 3');
    expect(text).toMatch(/^minutes_database_up 1$/m);
  });

  it("observes the latency of published outcomes only, not the old one an unchanged or skipped event repeats", async () => {
    const metrics = new GatewayMetrics(
      storeThat(() => true),
      async () => 0,
      intake,
    );
    metrics.observe(outcome("published", 2_000));
    metrics.observe(outcome("unchanged", 7_123));
    metrics.observe(outcome("skipped", 7_123));
    metrics.observe(outcome("failed", null));
    const text = await metrics.text();
    expect(text).toMatch(/^minutes_publish_latency_seconds_count 1$/m);
    expect(text).toMatch(/^minutes_publish_latency_seconds_sum 2$/m);
    expect(text).toContain('minutes_publication_outcomes_total{outcome="unchanged"} 1');
  });
});
