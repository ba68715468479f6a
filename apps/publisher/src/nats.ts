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
 *
 * A consumer created on a stream that already holds messages (an operator deleted it, or
 * `nats.consumer` was renamed, while the stream was kept) starts where the publication store says
 * work stopped, not at the beginning: delivered again, a deleted record's old event would make
 * the record and its page anew, and old forced publish commands would each write a page version.
 * Any doubt (nothing from this stream in the store, a sequence it cannot place or check) delivers
 * everything, as before: an event skipped is lost, one delivered again is mostly `unchanged`.
 */

import {
  gaveUpStreamName,
  type MinutesConfig,
  protocolReadySubject,
  protocolStreamWildcard,
  publishRequestedSubject,
} from "@minutes/contracts";
import {
  coalescedRepair,
  createMissingStreams,
  isAlreadyThere,
  isNotFound,
  type RepairListener,
} from "@minutes/nats-streams";
import type { HandledMark, StreamProgress, StreamProgressQuery } from "@minutes/publication-store";
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

/**
 * What the publication store says about the protocol stream: `PublicationStore.streamProgress`,
 * as a promise.
 */
export type ReadStreamProgress = (query: StreamProgressQuery) => Promise<StreamProgress>;

/** How a consumer created on a stream that holds messages decides where it starts. */
export interface ConsumerStartOptions {
  /** Where the publication store says work stopped. */
  readonly progress: ReadStreamProgress;
  /**
   * Whether a `pending` record waits for a publish command (`auto_publish` off, or Confluence
   * disabled) rather than for its message to come again (`StreamProgressQuery.pendingWaitsForPublish`).
   */
  readonly pendingWaitsForPublish: boolean;
  /** Told where a consumer this call created starts (for the log); not called when it found one. */
  readonly created?: ((start: ConsumerStart) => void) | undefined;
}

/**
 * Where a created consumer starts: at the beginning of the stream (`All`: every message it holds
 * is delivered), or at `sequence`, the `skipped` messages from `firstSequence` on not delivered.
 * `reason` says why, in words for the log.
 */
export type ConsumerStart =
  | { readonly _tag: "All"; readonly messages: number; readonly reason: string }
  | {
      readonly _tag: "From";
      readonly sequence: number;
      readonly firstSequence: number;
      readonly skipped: number;
      readonly reason: string;
    };

/** The protocol stream as `consumerStartOf` needs it (from `StreamInfo.state`). */
export interface StreamExtent {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly messages: number;
}

/**
 * Another durable consumer of the publishers' subjects on the stream with messages outstanding
 * (the one before `nats.consumer` was renamed, say): every message after `ackFloor` may be one
 * its publishers held when they stopped, without a trace in the store.
 */
export interface OutstandingConsumer {
  readonly name: string;
  readonly ackFloor: number;
}

/**
 * Where a consumer created on a stream holding messages starts: the lowest of the store's
 * unfinished sequence, the one after its highest handled one (once `handledCheck` found that
 * message in the stream as the store describes it, or says why not: `undefined` when it did) and
 * the one after another consumer's ack floor. Everything (`All`) when the store holds nothing
 * from this stream, cannot place an unfinished record, or names a handled message the stream does
 * not hold as described; and when the start would skip nothing.
 */
export const consumerStartOf = (
  stream: StreamExtent,
  progress: StreamProgress,
  handledCheck: string | undefined,
  others: ReadonlyArray<OutstandingConsumer> = [],
): ConsumerStart => {
  const all = (reason: string): ConsumerStart => ({ _tag: "All", messages: stream.messages, reason });
  if (stream.messages === 0) return all("the stream holds no messages");
  if (progress.unplaced !== null)
    return all(
      `the record of job ${progress.unplaced.jobId} is ${progress.unplaced.status} without a stream sequence (its own or its protocol's), so its message could be any of them`,
    );
  const handled = progress.handled;
  if (handled === null)
    return all(
      "the publication store holds nothing from this stream (a first deployment, a stream created anew, or protocols saved before Minutes kept when JetStream stored their events)",
    );
  if (handled.sequence > stream.lastSequence)
    return all(
      `the highest message the publication store has handled, ${handled.sequence} (job ${handled.jobId}), is beyond the stream's last (${stream.lastSequence}): it numbers another stream's messages`,
    );
  if (handledCheck !== undefined) return all(handledCheck);
  let sequence = handled.sequence + 1;
  let reason = `the highest message the publication store has handled is ${handled.sequence} (job ${handled.jobId}), and no job it knows is unfinished below it`;
  const unfinished = progress.unfinished;
  if (unfinished !== null && unfinished.sequence < sequence) {
    sequence = unfinished.sequence;
    reason = `the lowest message a job not yet finished may need is ${unfinished.sequence}: ${unfinishedWords(unfinished)} (the highest message the publication store has handled is ${handled.sequence}, job ${handled.jobId})`;
  }
  for (const other of others) {
    if (other.ackFloor + 1 < sequence) {
      sequence = other.ackFloor + 1;
      reason = `consumer ${other.name} of the same subjects (the one before nats.consumer was renamed?) still has messages outstanding after ${other.ackFloor}, which its publishers may have held without a trace in the publication store`;
    }
  }
  if (sequence <= stream.firstSequence)
    return all(
      `the start it would take, ${sequence}, is not past the stream's first message (${stream.firstSequence}): ${reason}`,
    );
  return {
    _tag: "From",
    sequence,
    firstSequence: stream.firstSequence,
    skipped: sequence - stream.firstSequence,
    reason,
  };
};

/**
 * Creates or updates the durable pull consumer of the publishers. With `start`, a consumer it
 * creates on a stream holding messages starts where the publication store says work stopped
 * (`consumerStartOf`); without, it delivers everything the stream holds.
 */
export const ensureConsumer = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  start?: ConsumerStartOptions,
): Promise<void> => {
  await ensureConsumerOf(jsm, nats, true, start);
};

/**
 * Re-creates both streams and the durable consumer when something found them missing (what
 * exists is left as it is: updating is for the start). A consumer deleted while the stream was
 * kept starts as `ensureConsumer` says (with `start`); after NATS lost its data the stream is new,
 * and everything it holds is delivered. Callers at the same moment share one attempt, and an
 * attempt starts at most once per `minIntervalMs` (a caller inside that interval gets the last
 * attempt's result); resolves whether they now exist, and never rejects.
 */
export const makeJetStreamRepair = (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  hear: RepairListener,
  options: { readonly start?: ConsumerStartOptions; readonly minIntervalMs?: number } = {},
): (() => Promise<boolean>) =>
  coalescedRepair(
    async () => {
      await createMissingStreams(jsm, nats, (stream) => hear.created(`stream ${stream}`));
      if (await ensureConsumerOf(jsm, nats, false, options.start)) hear.created(`consumer ${nats.consumer}`);
    },
    hear.failed,
    options.minIntervalMs ?? 1_000,
  );

// internal

/** Creates the consumer or (with `updateExisting`) updates it; resolves whether it created it. */
const ensureConsumerOf = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  updateExisting: boolean,
  start: ConsumerStartOptions | undefined,
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
  // Where it starts is the creator's to decide, once: a server refuses to change it, and an
  // update must not try.
  const { durable_name: _name, deliver_policy: _deliver, filter_subject: _filter, ...editable } = config;
  // An update merges into the consumer's stored config: `backoff: undefined` takes out the backoff
  // a consumer created by an earlier version has (and with it the shrunken ack wait).
  const update = () =>
    jsm.consumers.update(nats.stream, nats.consumer, { ...editable, backoff: undefined } as typeof editable);
  const exists = () => consumerExists(jsm, nats.stream, nats.consumer);
  if (await exists()) {
    if (updateExisting) await update();
    return false;
  }
  const planned = start === undefined ? undefined : await planConsumerStart(jsm, nats, start);
  try {
    await jsm.consumers.add(
      nats.stream,
      planned?._tag === "From"
        ? { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: planned.sequence }
        : config,
    );
  } catch (error) {
    // Another publisher created it between our look and our add. The same config is accepted as
    // is; one that starts elsewhere (its own look at the store, a moment earlier) is refused,
    // "start sequence can not be updated" on 2.9 (no code of its own), "already exists" on newer
    // servers: the first one stands, and only what may change is updated.
    if (!isAlreadyThere(error) && !(await exists())) throw error;
    if (updateExisting) await update();
    return false;
  }
  if (planned !== undefined) start?.created?.(planned);
  return true;
};

/** Where a consumer about to be created on the protocol stream should start. */
const planConsumerStart = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  options: ConsumerStartOptions,
): Promise<ConsumerStart> => {
  const info = await jsm.streams.info(nats.stream);
  const stream: StreamExtent = {
    firstSequence: info.state.first_seq,
    lastSequence: info.state.last_seq,
    messages: info.state.messages,
  };
  const empty: StreamProgress = { handled: null, unfinished: null, unplaced: null };
  if (stream.messages === 0) return consumerStartOf(stream, empty, undefined);
  const progress = await options.progress({
    // `created` carries nanoseconds; the stored instants of messages are whole milliseconds.
    streamCreatedAt: new Date(Math.floor(Date.parse(info.created))),
    firstSequence: stream.firstSequence,
    pendingWaitsForPublish: options.pendingWaitsForPublish,
  });
  const handledCheck =
    progress.handled === null ||
    progress.handled.sequence < stream.firstSequence ||
    progress.handled.sequence > stream.lastSequence
      ? undefined
      : await checkHandled(jsm, nats, progress.handled);
  return consumerStartOf(stream, progress, handledCheck, await outstandingConsumers(jsm, nats));
};

/**
 * Whether the stream holds the store's highest handled message as the store describes it: a
 * message of that job at that sequence (and, for the job's protocol's own event, stored at the
 * instant the store kept). `undefined` when it does; else why not, for the log.
 */
const checkHandled = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  handled: HandledMark,
): Promise<string | undefined> => {
  const message = await jsm.streams.getMessage(nats.stream, { seq: handled.sequence });
  const said = `the highest message the publication store has handled, ${handled.sequence} (job ${handled.jobId})`;
  if (message === null) return `${said}, is not in the stream to check`;
  const event = protocolReadySubject(handled.jobId, nats.subject_prefix);
  const command = publishRequestedSubject(handled.jobId, nats.subject_prefix);
  if (handled.storedAt === null) {
    if (message.subject === event || message.subject === command) return undefined;
  } else if (
    message.subject === event &&
    Math.abs(message.time.getTime() - Date.parse(handled.storedAt)) <= STORED_AT_TOLERANCE_MS
  ) {
    return undefined;
  }
  return `${said}, is another message in this stream (${message.subject}, stored ${message.time.toISOString()}): the store's sequences are not this stream's`;
};

/** Stored instants are whole milliseconds: the stream's own may round the other way. */
const STORED_AT_TOLERANCE_MS = 1;

/**
 * The other durable pull consumers of the publishers' subjects on the stream that have messages
 * delivered and not yet acknowledged, with the sequence everything up to which they acknowledged.
 */
const outstandingConsumers = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
): Promise<ReadonlyArray<OutstandingConsumer>> => {
  const subjects = protocolStreamWildcard(nats.subject_prefix);
  const found: Array<OutstandingConsumer> = [];
  for await (const consumer of jsm.consumers.list(nats.stream)) {
    const c = consumer.config;
    const ours = (c.filter_subject ?? subjects) === subjects || c.filter_subject === "";
    if (
      consumer.name === nats.consumer ||
      c.durable_name === undefined ||
      c.deliver_subject !== undefined ||
      c.ack_policy !== AckPolicy.Explicit ||
      !ours ||
      consumer.num_ack_pending === 0
    )
      continue;
    // A consumer created at a sequence reports an ack floor of 0 until it acknowledges one.
    const startedAt = c.deliver_policy === DeliverPolicy.StartSequence ? (c.opt_start_seq ?? 1) - 1 : 0;
    found.push({ name: consumer.name, ackFloor: Math.max(consumer.ack_floor.stream_seq, startedAt) });
  }
  return found;
};

/** Why an unfinished job's message is still needed, in words for the log. */
const unfinishedWords = (u: NonNullable<StreamProgress["unfinished"]>): string =>
  u.reason === "publishing"
    ? `job ${u.jobId} is being published (or its publisher stopped) by a message from ${u.sequence} on`
    : u.reason === "pending"
      ? `job ${u.jobId} is pending, its message from ${u.sequence} on to come again`
      : `job ${u.jobId}'s protocol from message ${u.sequence} is stored, its publication not recorded`;

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
export const gaveUpConsumerName = (nats: MinutesConfig["nats"]): string =>
  `${nats.consumer}${GAVE_UP_SUFFIX}`;

/**
 * How long a publisher may take to record one max-deliveries advisory (read the message, write
 * the record) before JetStream gives the advisory to another publisher.
 */
export const GAVE_UP_ACK_WAIT_MS = 30_000;

/**
 * Creates the gave-up stream (JetStream stores the max-deliveries advisories of the publishers'
 * consumer in it; a work queue, so a recorded advisory goes) and its durable consumer, where
 * missing. Resolves what it created or changed ("stream X", "consumer Y", …). What exists is left
 * as it is, but for a renamed `nats.consumer`: the stream then also takes the advisories of the
 * new name, and the gave-up consumer of a former name goes once its consumer on the protocol
 * stream is gone (a work queue takes one unfiltered consumer). While that one still exists, this
 * fails and says which consumer to remove.
 */
export const ensureGaveUp = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
): Promise<ReadonlyArray<string>> => {
  const created: Array<string> = [];
  const stream = gaveUpStreamName(nats.stream);
  const subject = maxDeliveriesAdvisorySubject(nats.stream, nats.consumer);
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
        subjects: [subject],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        max_age: nanos(Math.round(nats.max_age_days * 86_400_000)),
      }),
    `stream ${stream}`,
  );
  const info = await jsm.streams.info(stream);
  const subjects = info.config.subjects ?? [];
  if (!subjects.includes(subject)) {
    // Advisories stored for the former name stay, and are recorded like the new name's.
    await jsm.streams.update(stream, { ...info.config, subjects: [...subjects, subject] });
    created.push(`subject ${subject} of stream ${stream}`);
  }
  const consumer = gaveUpConsumerName(nats);
  const addConsumer = () =>
    jsm.consumers.add(stream, {
      durable_name: consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(GAVE_UP_ACK_WAIT_MS),
      // Recording waits for the database as long as it takes: an advisory is never given up on.
      max_deliver: -1,
    });
  await addUnlessThere(
    () => jsm.consumers.info(stream, consumer),
    async () => {
      for await (const other of await jsm.consumers.list(stream)) {
        if (other.name === consumer) continue;
        const former = other.name.endsWith(GAVE_UP_SUFFIX)
          ? other.name.slice(0, -GAVE_UP_SUFFIX.length)
          : null;
        if (former !== null && !(await consumerExists(jsm, nats.stream, former))) {
          await jsm.consumers.delete(stream, other.name);
          created.push(`removed consumer ${other.name} (its consumer ${former} is gone)`);
        } else {
          throw new Error(
            `the gave-up stream ${stream} already has the consumer ${other.name}${former === null ? "" : `, for the consumer ${former} of stream ${nats.stream}, which still exists`}: a work queue takes only one. If nats.consumer was renamed from ${former ?? "it"}, delete the former consumer (nats consumer rm ${nats.stream} ${former ?? other.name}) and start again`,
          );
        }
      }
      await addConsumer();
    },
    `consumer ${consumer}`,
  );
  return created;
};

/** What `gaveUpConsumerName` appends to the name of the publishers' consumer. */
const GAVE_UP_SUFFIX = "_gave_up";

const consumerExists = async (jsm: JetStreamManager, stream: string, name: string): Promise<boolean> => {
  try {
    await jsm.consumers.info(stream, name);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
};
