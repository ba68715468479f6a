/**
 * One background ordered consumer on the outcome stream, started with the gateway, delivering
 * every `PublicationOutcome` published from then on to in-process listeners: metrics, replay
 * progress and "publish now" waits. Ordered consumers are ephemeral and need no cleanup; an
 * outcome published while the gateway is down is not seen (the store stays the source of truth).
 *
 * When its consumer or the stream goes missing (a NATS restart drops ephemeral consumers; one
 * without its data drops the stream too), the feed has the streams re-created and follows on:
 * from the next outcome on the same stream (told apart by its creation time), or from the first
 * outcome of a re-created one — the client's own recovery would wait for the old sequence there.
 */

import {
  type PublicationOutcome,
  PublicationOutcomeJson,
  publicationEventWildcard,
} from "@minutes/contracts";
import { isNotFound } from "@minutes/nats-streams";
import {
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { Either, Schema } from "effect";
import type { FastifyBaseLogger } from "fastify";
import type { StreamRepair } from "./streams.js";

/** Receives every outcome; must not throw (a throwing listener is logged and skipped). */
export type OutcomeListener = (outcome: PublicationOutcome) => void;

/** The running feed. */
export interface OutcomeFeed {
  /** Adds a listener; returns the function that removes it. */
  readonly subscribe: (listener: OutcomeListener) => () => void;
  /** Stops the consumer and waits for the loop to end. */
  readonly stop: () => Promise<void>;
}

/** What the feed needs to follow the stream again after it went missing. */
export interface OutcomeFeedRecovery {
  readonly jsm: JetStreamManager;
  readonly repair: StreamRepair;
}

/** The longest pause between attempts to follow the stream again. */
export const FEED_MAX_PAUSE_MS = 15_000;

/** Starts the feed; resolves once the consumer exists on the server (outcomes from now on are seen). */
export const startOutcomeFeed = async (
  js: JetStreamClient,
  stream: string,
  subjectPrefix: string,
  log: FastifyBaseLogger,
  { jsm, repair }: OutcomeFeedRecovery,
): Promise<OutcomeFeed> => {
  const listeners = new Set<OutcomeListener>();
  const decode = Schema.decodeUnknownEither(PublicationOutcomeJson);
  const start = await jsm.streams.info(stream);
  // Which stream the feed follows (a re-created one has another creation time), and how far.
  let created = start.created;
  let lastSeq = start.state.last_seq;
  let stopping = false;
  let wake: () => void = () => {};

  const open = async (fromSeq: number): Promise<ConsumerMessages> => {
    const consumer = await js.consumers.get(stream, {
      filter_subjects: publicationEventWildcard(subjectPrefix),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: fromSeq,
    });
    // Missing consumer or stream: end the pull, so `follow` decides where to go on from.
    return consumer.consume({ abort_on_missing_resource: true });
  };
  let messages = await open(lastSeq + 1);

  /** Delivers until the pull ends: `undefined` when it was closed, else the error that ended it. */
  const deliver = async (pulling: ConsumerMessages): Promise<unknown> => {
    try {
      for await (const m of pulling) {
        lastSeq = m.seq;
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
      return undefined;
    } catch (error) {
      return error ?? new Error("the pull ended");
    }
  };

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /** A new pull where the feed left off, or `undefined` once stopping. */
  const follow = async (): Promise<ConsumerMessages | undefined> => {
    for (let attempt = 0; !stopping; attempt++) {
      if (attempt > 0) await pause(Math.min(FEED_MAX_PAUSE_MS, 250 * 2 ** attempt));
      if (stopping) return undefined;
      try {
        const info = await jsm.streams.info(stream).catch(async (error: unknown) => {
          if (!isNotFound(error) || !(await repair())) throw error;
          return jsm.streams.info(stream);
        });
        if (info.created !== created) {
          log.warn({ stream }, "the outcome stream was re-created; following it from its first outcome");
          created = info.created;
          lastSeq = 0;
        }
        const next = await open(lastSeq + 1);
        if (!stopping) return next;
        // Never iterated: `close()` would wait for an iteration that never comes.
        next.stop();
      } catch (error) {
        log.warn({ err: error, stream }, "cannot follow the outcome stream yet; trying again");
      }
    }
    return undefined;
  };

  const loop = (async () => {
    for (;;) {
      const ended = await deliver(messages);
      if (stopping || ended === undefined) return;
      log.info(
        { stream, reason: ended instanceof Error ? ended.message : String(ended) },
        "the outcome feed lost its consumer; following the stream again",
      );
      const next = await follow();
      if (next === undefined) return;
      messages = next;
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
      stopping = true;
      wake();
      await messages.close();
      await loop;
    },
  };
};
