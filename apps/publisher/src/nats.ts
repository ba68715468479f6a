/**
 * JetStream set-up shared by the consume loop and the tests: the publishers' durable pull consumer
 * (the streams come from @minutes/nats-streams, shared with the gateway), at start and again,
 * with the streams, whenever they are found missing (a NATS restarted without its data). Designed for
 * Debian's nats-server 2.9.10 as well as newer servers: one filter subject, and no consumer
 * `backoff`. The pipeline naks a failed delivery with its own delay (`backoff_seconds`), so a
 * consumer backoff would only schedule redeliveries after an ack timeout, and the server would
 * shrink `ack_wait` to `backoff[0]` (5 s by default): a message whose handling kept the event loop
 * busy longer than that (seconds of rendering a large protocol) missed its heartbeats and was
 * delivered again while it ran. Without it, `ack_wait` is what a message may go unanswered, and the
 * time after which a crashed publisher's messages come back. Every step tolerates another
 * publisher or gateway doing the same at the same moment.
 */

import { gaveUpStreamName, type MinutesConfig, protocolStreamWildcard } from "@minutes/contracts";
import {
  coalescedRepair,
  createMissingStreams,
  isAlreadyThere,
  isNotFound,
  type RepairListener,
} from "@minutes/nats-streams";
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/**
 * The ack wait the server applies to the publishers' consumer: `ack_wait_seconds` (the consumer has
 * no `backoff`, which would replace it with `backoff[0]`).
 */
export const effectiveAckWaitMs = (nats: MinutesConfig["nats"]): number => nats.ack_wait_seconds * 1000;

/** Creates or updates the durable pull consumer of the publishers. */
export const ensureConsumer = async (jsm: JetStreamManager, nats: MinutesConfig["nats"]): Promise<void> => {
  await ensureConsumerOf(jsm, nats, true);
};

/**
 * Re-creates both streams and the durable consumer when something found them missing (what
 * exists is left as it is: updating is for the start). Callers at the same moment share one
 * attempt, and an attempt starts at most once per `minIntervalMs` (a caller inside that interval
 * gets the last attempt's result); resolves whether they now exist, and never rejects.
 */
export const makeJetStreamRepair = (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  hear: RepairListener,
  minIntervalMs = 1_000,
): (() => Promise<boolean>) =>
  coalescedRepair(
    async () => {
      await createMissingStreams(jsm, nats, (stream) => hear.created(`stream ${stream}`));
      if (await ensureConsumerOf(jsm, nats, false)) hear.created(`consumer ${nats.consumer}`);
    },
    hear.failed,
    minIntervalMs,
  );

// internal

/** Creates the consumer or (with `updateExisting`) updates it; resolves whether it created it. */
const ensureConsumerOf = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  updateExisting: boolean,
): Promise<boolean> => {
  const config = {
    durable_name: nats.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: protocolStreamWildcard(nats.subject_prefix),
    ack_wait: nanos(Math.round(nats.ack_wait_seconds * 1000)),
    max_deliver: nats.max_deliver,
    max_ack_pending: Math.max(nats.concurrency * 4, 64),
  };
  const { durable_name: _name, deliver_policy: _deliver, filter_subject: _filter, ...editable } = config;
  // An update merges into the consumer's stored config: `backoff: undefined` takes out the backoff
  // a consumer created by an earlier version has (and with it the shrunken ack wait).
  const update = () =>
    jsm.consumers.update(nats.stream, nats.consumer, { ...editable, backoff: undefined } as typeof editable);
  try {
    await jsm.consumers.info(nats.stream, nats.consumer);
    if (updateExisting) await update();
    return false;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    // Another publisher may create it between our look and our add: the same config is
    // accepted as is; a different one (newer servers refuse the add) becomes ours by an update.
    await jsm.consumers.add(nats.stream, config);
    return true;
  } catch (error) {
    if (!isAlreadyThere(error)) throw error;
    if (updateExisting) await update();
    return false;
  }
};

/** JetStream's advisory for a message of `consumer` that reached its `max_deliver`. */
export const maxDeliveriesAdvisorySubject = (stream: string, consumer: string): string =>
  `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`;

/** The stream sequence and delivery count of a max-deliveries advisory, if it is one. */
export const parseMaxDeliveries = (
  text: string,
): { readonly streamSequence: number; readonly deliveries: number } | undefined => {
  try {
    const advisory = JSON.parse(text) as { stream_seq?: unknown; deliveries?: unknown };
    return typeof advisory.stream_seq === "number" && typeof advisory.deliveries === "number"
      ? { streamSequence: advisory.stream_seq, deliveries: advisory.deliveries }
      : undefined;
  } catch {
    return undefined;
  }
};

/** The durable consumer of the gave-up stream (`<consumer>_gave_up`). */
export const gaveUpConsumerName = (nats: MinutesConfig["nats"]): string => `${nats.consumer}_gave_up`;

/**
 * How long a publisher may take to record one max-deliveries advisory (read the message, write
 * the record) before JetStream gives the advisory to another publisher.
 */
export const GAVE_UP_ACK_WAIT_MS = 30_000;

/**
 * Creates the gave-up stream (JetStream stores the max-deliveries advisories of the publishers'
 * consumer in it; a work queue, so a recorded advisory goes) and its durable consumer, where
 * missing. Resolves what it created ("stream X", "consumer Y"). What exists is left as it is.
 */
export const ensureGaveUp = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
): Promise<ReadonlyArray<string>> => {
  const created: Array<string> = [];
  const stream = gaveUpStreamName(nats.stream);
  const addUnlessThere = async (look: () => Promise<unknown>, add: () => Promise<unknown>, what: string) => {
    try {
      await look();
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await add();
      created.push(what);
    } catch (error) {
      if (!isAlreadyThere(error)) throw error;
    }
  };
  await addUnlessThere(
    () => jsm.streams.info(stream),
    () =>
      jsm.streams.add({
        name: stream,
        subjects: [maxDeliveriesAdvisorySubject(nats.stream, nats.consumer)],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        max_age: nanos(Math.round(nats.max_age_days * 86_400_000)),
      }),
    `stream ${stream}`,
  );
  const consumer = gaveUpConsumerName(nats);
  await addUnlessThere(
    () => jsm.consumers.info(stream, consumer),
    () =>
      jsm.consumers.add(stream, {
        durable_name: consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(GAVE_UP_ACK_WAIT_MS),
        // Recording waits for the database as long as it takes: an advisory is never given up on.
        max_deliver: -1,
      }),
    `consumer ${consumer}`,
  );
  return created;
};
