/**
 * What Minutes keeps of a `ProtocolReady` event after it is acknowledged: the latest Markdown
 * per job and the event's optional fields, so a failed publication can be retried (or replayed
 * into a restored database) after the event stream has expired the message.
 */
import type { ProtocolReady } from "@minutes/contracts";
import { Schema } from "effect";

/** An ISO 8601 timestamp that `Date.parse` understands. */
export const Instant = Schema.String.pipe(
  Schema.filter((s) => !Number.isNaN(Date.parse(s)), { message: () => "expected an ISO 8601 timestamp" }),
);

/** The event's optional fields kept with a protocol (what routing and titles need). */
export const ProtocolMetadata = Schema.Struct({
  meetingDate: Schema.optional(Schema.String),
  topic: Schema.optional(Schema.String),
  spaceKey: Schema.optional(Schema.String),
  parentPageId: Schema.optional(Schema.String),
  labels: Schema.optional(Schema.Array(Schema.String)),
  source: Schema.optional(Schema.String),
  /**
   * The day of `occurredAt` in the time zone the event gave it in (`occurredAt` is kept as an
   * instant): the meeting's day when neither the event nor the text names one.
   */
  occurredOn: Schema.optional(Schema.String),
});
/** See the schema. */
export type ProtocolMetadata = typeof ProtocolMetadata.Type;

/** A stored protocol: the latest Markdown of a job. */
export const StoredProtocol = Schema.Struct({
  jobId: Schema.String,
  markdown: Schema.String,
  filename: Schema.String,
  metadata: ProtocolMetadata,
  contentHash: Schema.String,
  streamSequence: Schema.NullOr(Schema.Number),
  /**
   * When JetStream stored the event (the NATS server's clock); `null` when unknown (saved without
   * it, or before Minutes kept it). What `saveProtocol` compares a later event's `storedAt` with.
   */
  streamStoredAt: Schema.NullOr(Instant),
  occurredAt: Instant,
  receivedAt: Instant,
  updatedAt: Instant,
});
/** See the schema. */
export type StoredProtocol = typeof StoredProtocol.Type;

/**
 * The metadata kept from an event (or any object with those fields): its optional routing and
 * title fields in a fixed key order, nothing else — so stored JSON, exports and re-imports of
 * the same protocol are byte-identical.
 */
export const protocolMetadataOf = (
  source: Pick<ProtocolReady, "meetingDate" | "topic" | "spaceKey" | "parentPageId" | "labels" | "source"> & {
    /** An event's `occurredAt` as sent: its day becomes `occurredOn`. */
    readonly occurredAt?: string | undefined;
    readonly occurredOn?: string | undefined;
  },
): ProtocolMetadata => {
  const occurredOn = source.occurredOn ?? source.occurredAt?.slice(0, 10);
  return {
    ...(source.meetingDate !== undefined ? { meetingDate: source.meetingDate } : {}),
    ...(source.topic !== undefined ? { topic: source.topic } : {}),
    ...(source.spaceKey !== undefined ? { spaceKey: source.spaceKey } : {}),
    ...(source.parentPageId !== undefined ? { parentPageId: source.parentPageId } : {}),
    ...(source.labels !== undefined ? { labels: [...source.labels] } : {}),
    ...(source.source !== undefined ? { source: source.source } : {}),
    ...(occurredOn !== undefined ? { occurredOn } : {}),
  };
};
