/**
 * The publisher's own failures, besides Confluence's and the store's: an event that does not
 * decode, a page a person edited, a title taken by someone else's page, a job with no stored
 * protocol, a protocol too slow to convert. `classify` is the one place deciding what is retried
 * and what fails at once.
 */
import { Schema } from "effect";

/** The message is not a valid event or command; retrying it cannot help. */
export class EventRejectedError extends Schema.TaggedError<EventRejectedError>()("EventRejectedError", {
  reason: Schema.String,
}) {
  override get message(): string {
    return `Invalid event: ${this.reason}`;
  }
}

/** A person edited the page since Minutes wrote its last version (`on_manual_edit: fail`). */
export class ManualEditError extends Schema.TaggedError<ManualEditError>()("ManualEditError", {
  pageId: Schema.String,
  ourVersion: Schema.Number,
  currentVersion: Schema.Number,
  editedBy: Schema.String,
}) {
  override get message(): string {
    return `Page ${this.pageId} was edited in Confluence by ${this.editedBy} (version ${this.currentVersion}; Minutes wrote version ${this.ourVersion}). Not overwritten: merge the edit into the protocol if it should stay, then publish with force=true to overwrite the page; or set confluence.on_manual_edit to "overwrite" or "skip" for every page.`;
  }
}

/** Both the title and its job-specific variant belong to pages this job does not own. */
export class TitleTakenError extends Schema.TaggedError<TitleTakenError>()("TitleTakenError", {
  spaceKey: Schema.String,
  title: Schema.String,
  pageId: Schema.String,
  /** The job-specific title and the page holding it, when that one was tried too. */
  alsoTaken: Schema.optional(Schema.Struct({ title: Schema.String, pageId: Schema.String })),
}) {
  override get message(): string {
    return this.alsoTaken === undefined
      ? `The title "${this.title}" is taken in space ${this.spaceKey} by page ${this.pageId}, which another job or a person owns.`
      : `The title "${this.title}" is taken in space ${this.spaceKey} by page ${this.pageId}, and "${this.alsoTaken.title}" by page ${this.alsoTaken.pageId}, which other jobs or people own.`;
  }
}

/** The job's page was archived with Confluence Cloud's archive, which keeps it read-only. */
export class PageArchivedError extends Schema.TaggedError<PageArchivedError>()("PageArchivedError", {
  pageId: Schema.String,
}) {
  override get message(): string {
    return `Page ${this.pageId} is archived in Confluence. Restore it there, then retry the publication to update it.`;
  }
}

/** `confluence.enabled` is false: Minutes keeps protocols but writes nothing to Confluence. */
export class ConfluenceDisabledError extends Schema.TaggedError<ConfluenceDisabledError>()(
  "ConfluenceDisabledError",
  {},
) {
  override get message(): string {
    return "Publishing to Confluence is disabled (confluence.enabled is false). Enable it, then publish or retry.";
  }
}

/**
 * A publish or retry command names a job with no stored protocol: none was received, or a cleanup
 * removed it after the gateway accepted the command (the gateway checks at that time, so this is
 * the race between the two). Only sending the protocol again helps.
 */
export class ProtocolMissingError extends Schema.TaggedError<ProtocolMissingError>()("ProtocolMissingError", {
  jobId: Schema.String,
}) {
  override get message(): string {
    return `No protocol is stored for job ${JSON.stringify(this.jobId)} any more (a cleanup removed it after the publish or retry was requested, or none was received), so there is nothing to publish: send the protocol again (POST /api/protocols).`;
  }
}

/**
 * JetStream gave up on a message: its last delivery ended without an answer (the publisher died
 * handling it, or it ran past the ack wait), and `max_deliver` allows no other.
 */
export class DeliveriesExhaustedError extends Schema.TaggedError<DeliveriesExhaustedError>()(
  "DeliveriesExhaustedError",
  { deliveries: Schema.Number, streamSequence: Schema.Number },
) {
  override get message(): string {
    return `Gave up after ${this.deliveries} deliveries of stream message ${this.streamSequence}: none of them finished (the publisher stopped while handling it, or it ran longer than the ack wait; see the publishers' logs). Retry the publication, or send the protocol again.`;
  }
}

/**
 * Converting a protocol took longer than `publisher.render_timeout_seconds`, and was stopped (its
 * render thread terminated). Final: the same Markdown takes as long on every delivery and on every
 * publisher. Such a protocol is valid but holds constructs the converter is slow on (its time
 * grows with the square of their length), so the fix is in the protocol.
 */
export class RenderTimeoutError extends Schema.TaggedError<RenderTimeoutError>()("RenderTimeoutError", {
  /** The deadline that ran out. */
  seconds: Schema.Number,
  /** The size of the protocol's Markdown (UTF-8). */
  bytes: Schema.Number,
}) {
  override get message(): string {
    return `Converting the protocol (${formatSize(this.bytes)} of Markdown) took longer than ${this.seconds} s and was stopped. It holds Markdown that is slow to convert: long stretches of emphasis characters with little text between them (such as "*_*_*_…"), or of one-character lines each followed by a "=" or "-" line. Fix the protocol (escape those characters with a backslash, or remove them) and send it again; publisher.render_timeout_seconds sets the limit.`;
  }
}

const RETRYABLE = new Set([
  "StoreUnavailableError",
  "ConfluenceRateLimitedError",
  "ConfluenceServerError",
  "ConfluenceNetworkError",
  "ConfluenceVersionConflictError",
  // Another job created a page with this title at the same moment: the next attempt sees it
  // and takes the job-specific title.
  "ConfluenceTitleConflictError",
  // The record changed under us (deleted or moved by the API, or another attempt): look again.
  "InvalidTransitionError",
  "PublicationNotFoundError",
]);

/**
 * Whether a failure may succeed later: network, 429, 5xx, version races (already retried
 * in-process by the client, so here they mean "try again on a later delivery") and database
 * outages. Everything else (authentication, permission, validation, manual edits, title
 * conflicts, invalid events) fails the publication at once.
 */
export const isRetryableFailure = (e: { readonly _tag: string }): boolean => RETRYABLE.has(e._tag);

// internal

const formatSize = (bytes: number): string =>
  bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
