/**
 * Prometheus metrics on a private prom-client Registry (never the global one, so tests and
 * several apps in one process do not collide). Gauges are read at scrape time (the store's
 * `countByStatus`, one indexed statement, and the consumer backlog; no sample when unknown, with
 * `minutes_database_up` / `minutes_consumer_up` saying so); latency, retries, 429s and Confluence time come from the outcome feed, so
 * they count what happened while this gateway was running — including `deferred` events, the
 * only ones a delivery given back for a later try sends. Confluence time is one observation per
 * attempt (what the event carries), not per request: with the request counter, the mean per
 * request is a division, and a per-request histogram would need every duration in the event.
 * Every outcome label exists from the start at 0, so a `rate(...{outcome="failed"}[5m])` alert
 * has a series to evaluate after a restart. The token's expiry is read at scrape time too,
 * following the vault file as the status does.
 */
import { PUBLICATION_EVENT_KINDS, PUBLICATION_STATUSES, type PublicationOutcome } from "@minutes/contracts";
import type { PublicationStoreShape } from "@minutes/publication-store";
import { Effect } from "effect";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { PublishHealth } from "./publish-health.js";

/**
 * Reads the publisher consumer's backlog (pending + ack pending), or `null` when the consumer is
 * missing or cannot be read (NATS down).
 */
export type BacklogReader = () => Promise<number | null>;

/** Reads the Confluence token in use: where it comes from and its recorded expiry (null: unknown). */
export type TokenExpiryReader = () => Promise<{
  readonly source: "vault" | "config" | "none";
  readonly expiresAt: Date | null;
}>;

/** The gateway's metrics. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<string>;
  private readonly retries: Counter<string>;
  private readonly rateLimited: Counter<string>;
  private readonly outcomes: Counter<"outcome">;
  private readonly confluenceTime: Histogram<string>;
  private readonly confluenceRequests: Counter<string>;
  private readonly readStore: () => Promise<void>;
  private readonly readConsumer: () => Promise<void>;

  constructor(
    store: PublicationStoreShape,
    backlog: BacklogReader,
    intake: () => PublishHealth,
    token: TokenExpiryReader = async () => ({ source: "none", expiresAt: null }),
  ) {
    const registers = [this.registry];
    // Counted by the publisher wrapper; read at scrape time (a counter set to its running total).
    new Counter({
      name: "minutes_events_stored_total",
      help: "Events and commands JetStream stored for this gateway (a 202 or 201 to the sender)",
      registers,
      collect() {
        this.reset();
        this.inc(intake().stored);
      },
    });
    new Counter({
      name: "minutes_events_refused_total",
      help: "Events and commands JetStream did not store for this gateway (answered 503): NATS down, a stream that cannot store",
      registers,
      collect() {
        this.reset();
        this.inc(intake().refused);
      },
    });
    // The store and the consumer are each read once per scrape (one read sets two gauges), so an
    // unknown value is no sample at all: a repeated old count, or an unlabelled gauge's reset (a 0),
    // would read as "nothing waiting" to an alert. The `_up` gauges say why a sample is absent.
    const databaseUp = new Gauge({
      name: "minutes_database_up",
      help: "1 when the publication store answered this scrape's read, 0 when it did not (minutes_publications then has no samples)",
      registers,
    });
    const publications = new Gauge({
      name: "minutes_publications",
      help: "Publication records by status (from the store); no samples while the store cannot be read",
      labelNames: ["status"] as const,
      registers,
    });
    const consumerUp = new Gauge({
      name: "minutes_consumer_up",
      help: "1 when the publisher consumer was found at this scrape, 0 when it is missing or NATS cannot be asked (minutes_consumer_pending then has no sample)",
      registers,
    });
    const consumerPending = new Gauge({
      name: "minutes_consumer_pending",
      help: "Messages the publisher consumer has not yet acknowledged (pending + ack pending); no sample while it cannot be read",
      registers,
    });
    this.readStore = async () => {
      // One group-by the status index covers: `stats` would read every record on every scrape.
      const counts = await Effect.runPromise(Effect.either(store.countByStatus()));
      publications.reset();
      databaseUp.set(counts._tag === "Right" ? 1 : 0);
      if (counts._tag === "Right")
        for (const status of PUBLICATION_STATUSES) publications.set({ status }, counts.right[status]);
    };
    this.readConsumer = async () => {
      const n = await backlog().catch(() => null);
      consumerUp.set(n === null ? 0 : 1);
      // `remove()` with no labels drops the unlabelled sample (a `reset()` would export 0).
      if (n === null) consumerPending.remove();
      else consumerPending.set(n);
    };
    consumerPending.remove();
    // Labelled with the token's source, so that an unknown expiry is no sample at all (an unlabelled
    // gauge's reset is a 0, which `expiry - time() < 14*86400` would read as long expired).
    new Gauge({
      name: "minutes_confluence_token_expiry_timestamp_seconds",
      help: "When the Confluence token in use expires (Unix seconds), as recorded with it in the vault or confluence.token_expires_at; absent when unknown. Alert on minutes_confluence_token_expiry_timestamp_seconds - time() < 14*86400",
      labelNames: ["source"] as const,
      registers,
      async collect() {
        this.reset();
        const { source, expiresAt } = await token().catch(() => ({ source: "none", expiresAt: null }));
        if (expiresAt !== null && source !== "none") this.set({ source }, expiresAt.getTime() / 1000);
      },
    });
    this.latency = new Histogram({
      name: "minutes_publish_latency_seconds",
      help: "Time from the protocol event to its published page (one observation per published outcome)",
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    });
    this.retries = new Counter({
      name: "minutes_confluence_retries_total",
      help: "Confluence calls retried by the publishers",
      registers,
    });
    this.rateLimited = new Counter({
      name: "minutes_confluence_rate_limited_total",
      help: "Confluence answers 429 (rate limited) seen by the publishers",
      registers,
    });
    this.outcomes = new Counter({
      name: "minutes_publication_outcomes_total",
      help: "Publication attempts by outcome (deferred: given back for a later delivery, not final)",
      labelNames: ["outcome"] as const,
      registers,
    });
    for (const outcome of PUBLICATION_EVENT_KINDS) this.outcomes.inc({ outcome }, 0);
    this.confluenceTime = new Histogram({
      name: "minutes_confluence_time_seconds",
      help: "Time one publication attempt spent waiting for Confluence's answers, summed over its requests (waits between retries excluded)",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.confluenceRequests = new Counter({
      name: "minutes_confluence_requests_total",
      help: "HTTP requests the publishers sent to Confluence, retries included",
      registers,
    });
  }

  /** Counts one outcome event. */
  readonly observe = (o: PublicationOutcome): void => {
    this.outcomes.inc({ outcome: o.outcome });
    // Only an attempt that wrote the page measures "event to published page": an `unchanged` or
    // `skipped` event carries the record's latency from its last publication, which was observed
    // then (a replay over N unchanged jobs would add N old samples).
    if (o.outcome === "published" && o.latencyMs !== null && o.latencyMs >= 0)
      this.latency.observe(o.latencyMs / 1000);
    if (o.retries > 0) this.retries.inc(o.retries);
    if (o.rateLimited > 0) this.rateLimited.inc(o.rateLimited);
    // Absent from older publishers' events; an attempt that asked Confluence nothing (a rejected
    // event, Confluence disabled) is no observation of Confluence's speed.
    if (o.confluenceRequests !== undefined && o.confluenceRequests > 0) {
      this.confluenceRequests.inc(o.confluenceRequests);
      if (o.confluenceMs !== undefined && o.confluenceMs >= 0)
        this.confluenceTime.observe(o.confluenceMs / 1000);
    }
  };

  /** The text exposition, after reading the store and the consumer for it. */
  readonly text = async (): Promise<string> => {
    await Promise.all([this.readStore(), this.readConsumer()]);
    return this.registry.metrics();
  };

  /** Its content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
