/**
 * Commands and outcomes around a publication. A manual publish, a retry or a replay does not
 * talk to a publisher directly: it is a `PublishRequested` on the protocol stream, handled by
 * whichever publisher instance pulls it, from the job's latest stored protocol. Each attempt
 * ends in a `PublicationOutcome` event (for notifications and replay progress).
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

/** How one publication attempt ended. */
export const PublicationOutcomeKind = Schema.Literal(
  "published",
  "unchanged",
  "skipped",
  "failed",
  "rejected",
);
export type PublicationOutcomeKind = typeof PublicationOutcomeKind.Type;

/** Event emitted after every publication attempt. */
export const PublicationOutcome = Schema.Struct({
  outcome: PublicationOutcomeKind,
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
  /** Event time → outcome, when the attempt published a page. */
  latencyMs: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null }),
  /** Confluence calls retried during this attempt, and how many of them were 429s. */
  retries: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  rateLimited: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  occurredAt: IsoTimestamp,
}).annotations({ identifier: "PublicationOutcome" });
export type PublicationOutcome = typeof PublicationOutcome.Type;
export const PublicationOutcomeJson = Schema.parseJson(PublicationOutcome);
