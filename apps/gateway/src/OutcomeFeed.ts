/**
 * One background ordered consumer on the outcome stream, started with the gateway, delivering
 * every `PublicationOutcome` published from then on to in-process listeners: metrics, replay
 * progress and "publish now" waits. Ordered consumers are ephemeral and need no cleanup; an
 * outcome published while the gateway is down is not seen (the store stays the source of truth).
 */

import {
  type PublicationOutcome,
  PublicationOutcomeJson,
  publicationEventWildcard,
} from "@minutes/contracts";
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import { Either, Schema } from "effect";
import type { FastifyBaseLogger } from "fastify";

/** Receives every outcome; must not throw (a throwing listener is logged and skipped). */
export type OutcomeListener = (outcome: PublicationOutcome) => void;

/** The running feed. */
export interface OutcomeFeed {
  /** Adds a listener; returns the function that removes it. */
  readonly subscribe: (listener: OutcomeListener) => () => void;
  /** Stops the consumer and waits for the loop to end. */
  readonly stop: () => Promise<void>;
}

/** Starts the feed; resolves once the consumer exists on the server (outcomes from now on are seen). */
export const startOutcomeFeed = async (
  js: JetStreamClient,
  stream: string,
  subjectPrefix: string,
  log: FastifyBaseLogger,
): Promise<OutcomeFeed> => {
  const listeners = new Set<OutcomeListener>();
  const consumer = await js.consumers.get(stream, {
    filter_subjects: publicationEventWildcard(subjectPrefix),
    deliver_policy: DeliverPolicy.New,
  });
  const messages: ConsumerMessages = await consumer.consume();
  const decode = Schema.decodeUnknownEither(PublicationOutcomeJson);
  const loop = (async () => {
    for await (const m of messages) {
      const decoded = decode(m.string());
      if (Either.isLeft(decoded)) {
        log.warn({ subject: m.subject, seq: m.seq }, "ignoring an undecodable publication outcome");
        continue;
      }
      for (const listener of listeners) {
        try {
          listener(decoded.right);
        } catch (error) {
          log.error({ err: error }, "outcome listener failed");
        }
      }
    }
  })().catch((error: unknown) => log.error({ err: error }, "outcome feed stopped"));
  return {
    subscribe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    stop: async () => {
      await messages.close();
      await loop;
    },
  };
};
