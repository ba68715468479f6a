/**
 * Publisher presence: each running publisher keeps one message on its own subject of the registry
 * stream (`publisherRegistryStreamName`, one message per subject, like a KV bucket), written at
 * its start and again at every heartbeat, and purged by its clean stop. The gateway's status reads
 * them: the server's timestamp of an instance's message is its last heartbeat, so a publisher that
 * died (killed, out of memory, crashed) keeps a stale message until the stream's age limit.
 */
import { Schema } from "effect";
import { IsoTimestamp } from "./ProtocolReady.js";

/** One publisher instance as it registers itself. */
export const PublisherPresence = Schema.Struct({
  version: Schema.Literal(1),
  /** The instance id (its log name and lease owner). */
  instanceId: Schema.String,
  host: Schema.String,
  pid: Schema.Int,
  /** The publisher's release. */
  publisherVersion: Schema.String,
  /** By the publisher's clock, as it reports it. */
  startedAt: IsoTimestamp,
  /**
   * How long the publisher had been running when it wrote this presence, by its own monotonic
   * clock. With the server's timestamp of the message it gives the start by the server's clock,
   * whatever the publisher's clock says; absent from publishers that predate it.
   */
  uptimeMs: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  /** How often it writes its presence again; it counts as gone after three missed heartbeats. */
  heartbeatIntervalMs: Schema.Int.pipe(Schema.positive()),
}).annotations({ identifier: "PublisherPresence" });
export type PublisherPresence = typeof PublisherPresence.Type;

/** The presence as JSON text, the registry message's body. */
export const PublisherPresenceJson = Schema.parseJson(PublisherPresence);

/** How many heartbeats a publisher may miss before the status counts it as gone. */
export const PUBLISHER_MISSED_HEARTBEATS = 3;

/**
 * How long the registry keeps an instance's last message: a publisher that died without a clean
 * stop stays visible (as gone) this long after its last heartbeat, which is what lets the status
 * count the starts that did not end in a clean stop. At least the longest crash-loop window.
 */
export const PUBLISHER_REGISTRY_MAX_AGE_MS = 15 * 60_000;
