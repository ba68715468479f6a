/**
 * Commands and outcomes around a publication. A manual publish, a retry or a replay does not
 * talk to a publisher directly: it is a `PublishRequested` on the protocol stream, handled by
 * whichever publisher instance pulls it, from the job's latest stored protocol. Each attempt
 * ends in a `PublicationOutcome` event (for notifications, metrics and replay progress): a final
 * one, or `deferred` when the message goes back to JetStream for a later delivery — so listeners
 * waiting for the end of a job must look at `isFinalOutcome`, not at any event of the job.
 */
import { Schema } from "effect";
import { IsoTimestamp, JobId } from "./ProtocolReady.js";

/** Ask the publishers to (re)publish a job's latest stored protocol. */
export const PublishRequested = Schema.Struct({
  schemaVersion: Schema.optionalWith(Schema.Literal(1), { default: () => 1 as const }),
  jobId: JobId,
  trigger: Schema.Literal("manual", "retry", "replay"),
  /** Write a new page version even when the content is unchanged. */
  force: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  replayId: Schema.optional(Schema.String),
  requestedAt: IsoTimestamp,
}).annotations({ identifier: "PublishRequested" });
export type PublishRequested = typeof PublishRequested.Type;
export const PublishRequestedJson = Schema.parseJson(PublishRequested);

/** How a job's publication ended for good: its message was acknowledged or terminated. */
export const PublicationOutcomeKind = Schema.Literal(
  "published",
  "unchanged",
  "skipped",
  "failed",
  "rejected",
);
export type PublicationOutcomeKind = typeof PublicationOutcomeKind.Type;

/**
 * What an outcome event says: a final `PublicationOutcomeKind`, or `deferred` — the attempt
 * failed for a passing reason (network, 429, 5xx) and its message was given back to JetStream
 * for a later delivery. A deferred job is not finished: another event follows.
 */
export const PublicationEventKind = Schema.Literal(...PublicationOutcomeKind.literals, "deferred");
export type PublicationEventKind = typeof PublicationEventKind.Type;

/** Every kind an outcome event may carry, final ones first (metrics list each one from the start). */
export const PUBLICATION_EVENT_KINDS: ReadonlyArray<PublicationEventKind> = PublicationEventKind.literals;

/** Whether an outcome event ends its job's publication (everything but `deferred`). */
export const isFinalOutcome = (kind: PublicationEventKind): kind is PublicationOutcomeKind =>
  kind !== "deferred";

/**
 * Event emitted after every publication attempt. Consumers built before `deferred` existed fail
 * to decode such an event (its subject is `<prefix>.publication.deferred`): upgrade them first.
 */
export const PublicationOutcome = Schema.Struct({
  outcome: PublicationEventKind,
  jobId: Schema.String,
  publicationId: Schema.NullOr(Schema.Number),
  trigger: Schema.String,
  replayId: Schema.optional(Schema.String),
  pageId: Schema.NullOr(Schema.String),
  pageUrl: Schema.NullOr(Schema.String),
  pageTitle: Schema.NullOr(Schema.String),
  pageVersion: Schema.NullOr(Schema.Number),
  spaceKey: Schema.NullOr(Schema.String),
  errorTag: Schema.NullOr(Schema.String),
  errorMessage: Schema.NullOr(Schema.String),
  /**
   * The JetStream sequence of the protocol event this outcome is about (what `POST /api/protocols`
   * answered as `streamSequence`): on `published`, `unchanged` and `skipped` the protocol the page
   * now holds or, for `skipped`, was not given. Null for a protocol that did not come from the
   * stream; absent from events of publishers before this field.
   */
  protocolSequence: Schema.optional(Schema.NullOr(Schema.Number)),
  /**
   * Event time → outcome of the publication the record holds: on `published`, this attempt's; on
   * `unchanged` and `skipped` (no page written) the record's latency from its last publication,
   * not this attempt's, so a latency measurement takes it from `published` events only (the
   * gateway's `minutes_publish_latency_seconds` does). Null on `failed`, `rejected` and `deferred`.
   */
  latencyMs: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null }),
  /**
   * Confluence calls retried during this attempt, and how many of them were 429s. On `deferred`
   * events the call that failed counts too: it is retried on the next delivery.
   */
  retries: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  rateLimited: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /**
   * HTTP requests this attempt sent to Confluence (each retry is one more), and the milliseconds
   * spent waiting for their answers, summed: concurrent requests each count in full, the waits
   * between retries not at all. Absent from events of publishers that do not measure them (and
   * never defaulted to 0: "not measured" is not "no time"). Consumers decoding with the schema
   * before these fields existed ignore them.
   */
  confluenceRequests: Schema.optional(Schema.Number),
  confluenceMs: Schema.optional(Schema.Number),
  /** Which delivery of the message this attempt handled (1 for the first); on `deferred` events. */
  deliveryCount: Schema.optional(Schema.Number),
  /** How long JetStream waits before delivering the message again; on `deferred` events. */
  redeliveryDelayMs: Schema.optional(Schema.Number),
  occurredAt: IsoTimestamp,
}).annotations({ identifier: "PublicationOutcome" });
export type PublicationOutcome = typeof PublicationOutcome.Type;
export const PublicationOutcomeJson = Schema.parseJson(PublicationOutcome);
