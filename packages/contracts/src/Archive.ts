/**
 * Archive runs: the gateway's `POST /api/archive/run` asks one publisher (NATS request/reply on
 * `archiveRunSubject`, queue group) to move the pages of old meetings to the archive now, and
 * answers with what that run did. The scheduled job produces the same result in the logs.
 */
import { Schema } from "effect";

/**
 * The largest `olderThanDays` a run takes: 100 years. Larger ages name no meeting anyone keeps,
 * and far larger ones put the cut-off date outside what a `Date` holds.
 */
export const MAX_ARCHIVE_AGE_DAYS = 36_500;

/** What to archive; the configured `archive_after_days` when `olderThanDays` is absent. */
export const ArchiveRunRequest = Schema.Struct({
  olderThanDays: Schema.optional(
    Schema.Int.pipe(
      Schema.positive({ message: () => "expected a whole number of days greater than 0" }),
      Schema.lessThanOrEqualTo(MAX_ARCHIVE_AGE_DAYS, {
        message: () => `expected at most ${MAX_ARCHIVE_AGE_DAYS} days (100 years)`,
      }),
    ),
  ),
}).annotations({ identifier: "ArchiveRunRequest" });
export type ArchiveRunRequest = typeof ArchiveRunRequest.Type;

/** A page the run could not archive, and why (it is tried again on the next run). */
export const ArchiveFailure = Schema.Struct({
  jobId: Schema.String,
  pageId: Schema.NullOr(Schema.String),
  reason: Schema.String,
}).annotations({ identifier: "ArchiveFailure" });
export type ArchiveFailure = typeof ArchiveFailure.Type;

/** The result of one archive run. */
export const ArchiveRunResult = Schema.Struct({
  /** Meetings strictly before this date (YYYY-MM-DD) were archived. */
  before: Schema.String,
  /** Pages moved to the archive and recorded `archived` by this run. */
  archived: Schema.Number,
  failed: Schema.Array(ArchiveFailure),
  /** The publisher instance that ran it. */
  instance: Schema.String,
  durationMs: Schema.Number,
}).annotations({ identifier: "ArchiveRunResult" });
export type ArchiveRunResult = typeof ArchiveRunResult.Type;

/** The request and reply as JSON text on the NATS subject. */
export const ArchiveRunRequestJson = Schema.parseJson(ArchiveRunRequest);
export const ArchiveRunResultJson = Schema.parseJson(ArchiveRunResult);
