/**
 * The publisher registry: a JetStream stream (`<stream>_PUBLISHERS`) holding one presence message
 * per publisher instance, like a KV bucket with history 1 (a plain stream: the three operations
 * needed do not justify the KV client). A publisher writes it at start and at every heartbeat and
 * purges it at a clean stop; one that dies keeps a stale message until the stream's age limit, so
 * the gateway sees both who runs now and who recently stopped without a clean stop. Only
 * publishers create the stream: a missing registry means no publisher of this version ran yet.
 * Heartbeat times are the server's, so a read also says the server's time: a reader compares them
 * with that, not with its own clock, which may be off.
 */

import {
  PUBLISHER_MISSED_HEARTBEATS,
  PUBLISHER_REGISTRY_MAX_AGE_MS,
  type PublisherPresence,
  PublisherPresenceJson,
  publisherPresenceSubject,
  publisherPresenceWildcard,
  publisherRegistryStreamName,
} from "@minutes/contracts";
import {
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { Either, Schema } from "effect";
import { isAlreadyThere, isNotFound } from "./ensure-streams.js";

/** The `nats` keys the registry depends on. */
export interface RegistryConfigKeys {
  readonly stream: string;
  readonly subject_prefix: string;
}

/** A registered publisher: its presence and the server's time of its last heartbeat. */
export interface RegisteredPublisher {
  readonly presence: PublisherPresence;
  readonly lastHeartbeatAt: Date;
}

/**
 * Whether a registered publisher is alive at `nowMs` (the server's clock, as
 * {@link PublisherRegistryRead.serverTime} gives it): its last heartbeat is within
 * `PUBLISHER_MISSED_HEARTBEATS` of its own heartbeat intervals. The one rule for the gateway's
 * status and a publisher looking for a peer to hand messages to.
 */
export const isLivePublisher = (publisher: RegisteredPublisher, nowMs: number): boolean =>
  nowMs - publisher.lastHeartbeatAt.getTime() <=
  PUBLISHER_MISSED_HEARTBEATS * publisher.presence.heartbeatIntervalMs;

/** One read of the registry, from {@link readPublisherRegistry}. */
export interface PublisherRegistryRead {
  readonly publishers: ReadonlyArray<RegisteredPublisher>;
  /**
   * The NATS server's time when the read ended (estimated from a server timestamp taken during the
   * read plus the time elapsed since), to compare `lastHeartbeatAt` with instead of the local clock:
   * a reader whose clock is ahead of the server's would otherwise see live publishers as dead.
   * `null` when the server gave no time: an empty registry on a server older than 2.10.
   */
  readonly serverTime: Date | null;
}

/** A publisher's registration, from {@link registerPublisher}. */
export interface PublisherRegistration {
  /**
   * Stops the heartbeat and leaves the presence as it is, as a dead process would (a failed start
   * uses it: a start that did not end in a clean stop).
   */
  readonly halt: () => void;
  /** The clean stop: stops the heartbeat and removes the presence. Never rejects. */
  readonly deregister: () => Promise<void>;
}

/** How many registry messages {@link readPublisherRegistry} reads at most: the newest ones. */
export const PUBLISHER_REGISTRY_READ_LIMIT = 500;

/**
 * Creates the registry stream where missing (memory storage: presences are only worth their
 * heartbeats; the age limit is `PUBLISHER_REGISTRY_MAX_AGE_MS`). Tolerates another publisher
 * creating it at the same moment; an existing stream is left as it is.
 */
export const ensurePublisherRegistry = async (
  jsm: JetStreamManager,
  nats: RegistryConfigKeys,
): Promise<void> => {
  const name = publisherRegistryStreamName(nats.stream);
  try {
    await jsm.streams.info(name);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await jsm.streams.add({
      name,
      subjects: [publisherPresenceWildcard(nats.subject_prefix)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.Memory,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.Old,
      max_age: nanos(PUBLISHER_REGISTRY_MAX_AGE_MS),
    });
  } catch (error) {
    if (!isAlreadyThere(error)) throw error;
  }
};

/**
 * Registers a publisher: creates the registry where missing, writes `presence` now (resolves once
 * it is stored) and again every `presence.heartbeatIntervalMs`. A failed write (NATS away, the
 * registry deleted: it is created again) goes to `failed` and is tried at the next heartbeat;
 * registering never rejects, so the registry can never keep a publisher from working (a `failed`
 * that throws is ignored). A write can take longer than the interval (the publish timeout, then
 * creating the registry and writing again): a heartbeat due while one is in flight is skipped, and
 * `deregister` waits for it, so no write lands after the clean stop's purge.
 */
export const registerPublisher = async (
  js: JetStreamClient,
  jsm: JetStreamManager,
  nats: RegistryConfigKeys,
  presence: PublisherPresence,
  failed: (error: unknown) => void,
): Promise<PublisherRegistration> => {
  const subject = publisherPresenceSubject(presence.instanceId, nats.subject_prefix);
  // Its uptime, by the monotonic clock from the start it reports (both readings of its own clock,
  // so a clock that is off does not matter; one that jumps between the two would).
  const started = performance.now() - Math.max(0, Date.now() - Date.parse(presence.startedAt));
  const body = () =>
    Schema.encodeSync(PublisherPresenceJson)({
      ...presence,
      uptimeMs: Math.max(0, Math.round(performance.now() - started)),
    });
  // The caller's listener must not turn into a rejection: not from the timer (an unhandled
  // rejection), not from `deregister` (documented never to reject).
  const report = (error: unknown) => {
    try {
      failed(error);
    } catch {
      // Nothing left to tell: the listener itself failed.
    }
  };
  let stopped = false;
  const write = async (): Promise<void> => {
    try {
      await js.publish(subject, body());
    } catch {
      // No stream answers (a NATS restarted without its data, or a first start): create it and
      // write once more.
      try {
        await ensurePublisherRegistry(jsm, nats);
        if (!stopped) await js.publish(subject, body());
      } catch (error) {
        report(error);
      }
    }
  };
  await write();
  // The write in flight, if any: at most one at a time, whose end the clean stop awaits.
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inFlight !== undefined) return;
    inFlight = write().finally(() => {
      inFlight = undefined;
    });
  }, presence.heartbeatIntervalMs);
  // The heartbeat never keeps a process alive on its own.
  timer.unref();
  const halt = () => {
    stopped = true;
    clearInterval(timer);
  };
  return {
    halt,
    deregister: async () => {
      halt();
      // A heartbeat written after the purge would bring the presence back.
      await inFlight;
      await jsm.streams.purge(publisherRegistryStreamName(nats.stream), { filter: subject }).then(
        () => undefined,
        (error: unknown) => report(error),
      );
    },
  };
};

/**
 * The registered publishers and the server's time, or `null` when the registry does not exist (no
 * publisher of this version has started). Reads the newest `PUBLISHER_REGISTRY_READ_LIMIT`
 * messages at most (a running publisher's heartbeat keeps its message among the newest); a
 * presence that does not decode is skipped. The server's time comes from the stream info's `ts`
 * (servers 2.10 and later) or else from the creation time of the consumer the read uses. Rejects
 * with the JetStream error when NATS does not answer.
 */
export const readPublisherRegistry = async (
  js: JetStreamClient,
  jsm: JetStreamManager,
  nats: RegistryConfigKeys,
  limit: number = PUBLISHER_REGISTRY_READ_LIMIT,
): Promise<PublisherRegistryRead | null> => {
  const name = publisherRegistryStreamName(nats.stream);
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(name);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  // A server timestamp and the local monotonic time it was received at: only the elapsed time is
  // taken from the local clock, never its reading.
  let reference = serverReference(info.ts);
  const serverTime = () =>
    reference === undefined ? null : new Date(reference.server + performance.now() - reference.at);
  const state = info.state;
  if (state.messages === 0) return { publishers: [], serverTime: serverTime() };
  const consumer = await js.consumers.get(name, {
    filter_subjects: publisherPresenceWildcard(nats.subject_prefix),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(state.first_seq, state.last_seq - limit + 1),
  });
  // The server created the consumer a moment ago (the last step of `get`).
  reference ??= serverReference((await consumer.info(true)).created);
  const found: Array<RegisteredPublisher> = [];
  try {
    // Ends at the last message; `expires` only bounds a read whose messages went meanwhile.
    const messages = await consumer.fetch({ max_messages: Math.min(state.messages, limit), expires: 2_000 });
    for await (const message of messages) {
      const decoded = Schema.decodeUnknownEither(PublisherPresenceJson)(message.string());
      if (Either.isRight(decoded)) found.push({ presence: decoded.right, lastHeartbeatAt: message.time });
      if (message.info.pending === 0) break;
    }
  } finally {
    // Gone now rather than after its inactivity threshold: the status may be polled.
    await consumer.delete().catch(() => false);
  }
  return { publishers: found, serverTime: serverTime() };
};

// internal

/** A server timestamp (ISO, nanoseconds allowed) with the local monotonic time it was received at. */
const serverReference = (
  timestamp: string | undefined,
): { readonly server: number; readonly at: number } | undefined => {
  const server = timestamp === undefined ? Number.NaN : Date.parse(timestamp);
  return Number.isFinite(server) ? { server, at: performance.now() } : undefined;
};
