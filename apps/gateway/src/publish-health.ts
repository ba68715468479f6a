/**
 * What the intake's publishes have done since the gateway started: how many events and commands
 * JetStream stored and how many it refused, and the last refusal. A stream that cannot store (a
 * NATS server out of disk, a broken stream) answers every `POST /api/protocols` with a 503 while
 * NATS is connected and the stream exists: without this, `/status/confluence` said `ok` and no
 * metric moved. Messages over `max_payload` are the sender's, not the stream's, and not counted.
 */
import { type JetStreamPublisher, MessageTooLargeError } from "./jetstream-publisher.js";

/** Counts and the last refusal of the gateway's publishes. */
export interface PublishHealth {
  readonly stored: number;
  readonly refused: number;
  /** When JetStream last stored a message (ms since the epoch). */
  readonly lastStoredAt: number | null;
  /** The last refusal: when, and what JetStream (or the connection) said. */
  readonly lastRefused: { readonly at: number; readonly reason: string } | null;
}

/** A publisher that counts what it did. */
export interface TrackedPublisher extends JetStreamPublisher {
  readonly health: () => PublishHealth;
}

/** Counts `publisher`'s outcomes (wrap the outermost publisher: a repaired retry is one publish). */
export const withPublishHealth = (publisher: JetStreamPublisher): TrackedPublisher => {
  let stored = 0;
  let refused = 0;
  let lastStoredAt: number | null = null;
  let lastRefused: PublishHealth["lastRefused"] = null;
  return {
    publish: (subject, payload, msgID, timeoutMs) =>
      publisher.publish(subject, payload, msgID, timeoutMs).then(
        (ack) => {
          stored++;
          lastStoredAt = Date.now();
          return ack;
        },
        (error: unknown) => {
          if (!(error instanceof MessageTooLargeError)) {
            refused++;
            lastRefused = { at: Date.now(), reason: error instanceof Error ? error.message : String(error) };
          }
          throw error;
        },
      ),
    close: publisher.close,
    health: () => ({ stored, refused, lastStoredAt, lastRefused }),
  };
};

/**
 * The status reason while the last publish was refused and none was stored since (cleared by the
 * next stored message), or undefined.
 */
export const refusalReason = (health: PublishHealth): string | undefined => {
  const last = health.lastRefused;
  if (last === null || (health.lastStoredAt !== null && health.lastStoredAt >= last.at)) return undefined;
  return `the event stream refused the last message the gateway sent, at ${new Date(last.at).toISOString()} (${last.reason}), and has stored none since: events are answered 503`;
};
