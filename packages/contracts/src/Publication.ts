/**
 * A publication record as the gateway shows it and the store returns it: one per job, carrying
 * the page it owns and, when it failed, why. Timestamps are ISO strings so the same shape is
 * the HTTP body, the export line and the store's return value.
 */
import { Schema } from "effect";
import { PublicationStatus } from "./PublicationStatus.js";

const NullableString = Schema.NullOr(Schema.String);

/** What started a publication attempt. */
export const PublicationTrigger = Schema.Literal("event", "manual", "retry", "replay", "import", "archive");
export type PublicationTrigger = typeof PublicationTrigger.Type;

/** A publication record. */
export const Publication = Schema.Struct({
  id: Schema.Number,
  jobId: Schema.String,
  status: PublicationStatus,
  pageId: NullableString,
  pageUrl: NullableString,
  spaceKey: Schema.String,
  parentPageId: NullableString,
  pageTitle: NullableString,
  contentHash: NullableString,
  pageVersion: Schema.NullOr(Schema.Number),
  streamSequence: Schema.NullOr(Schema.Number),
  attempts: Schema.Number,
  retryCount: Schema.Number,
  errorMessage: NullableString,
  errorTag: NullableString,
  trigger: PublicationTrigger,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  lastRetryAt: NullableString,
  publishedAt: NullableString,
  latencyMs: Schema.NullOr(Schema.Number),
  /** The meeting's date (YYYY-MM-DD) as of the last publication; the index page and archiving use it. */
  meetingDate: NullableString,
  /** When the page was moved to the archive; `null` while it is not archived. */
  archivedAt: NullableString,
}).annotations({ identifier: "Publication" });
export type Publication = typeof Publication.Type;

/** One recorded page version written by Minutes (version history). */
export const PublicationVersion = Schema.Struct({
  jobId: Schema.String,
  publicationId: Schema.Number,
  pageId: Schema.String,
  pageVersion: Schema.Number,
  contentHash: Schema.String,
  pageTitle: Schema.String,
  trigger: PublicationTrigger,
  createdAt: Schema.String,
}).annotations({ identifier: "PublicationVersion" });
export type PublicationVersion = typeof PublicationVersion.Type;

/** Publication statistics over a time window. */
export const PublicationStats = Schema.Struct({
  since: NullableString,
  until: NullableString,
  total: Schema.Number,
  byStatus: Schema.Record({ key: Schema.String, value: Schema.Number }),
  bySpace: Schema.Record({ key: Schema.String, value: Schema.Number }),
  successRate: Schema.NullOr(Schema.Number),
  retries: Schema.Number,
  latencyMs: Schema.Struct({ p50: Schema.NullOr(Schema.Number), p95: Schema.NullOr(Schema.Number) }),
  perDay: Schema.Array(
    Schema.Struct({
      day: Schema.String,
      published: Schema.Number,
      failed: Schema.Number,
      total: Schema.Number,
    }),
  ),
}).annotations({ identifier: "PublicationStats" });
export type PublicationStats = typeof PublicationStats.Type;
