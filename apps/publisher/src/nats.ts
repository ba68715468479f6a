/**
 * JetStream set-up shared by the consume loop and the tests: the protocol and outcome streams
 * (created or updated from configuration) and the publishers' durable pull consumer, at start and
 * again whenever they are found missing (a NATS restarted without its data). Designed for
 * Debian's nats-server 2.9.10 as well as newer servers: one filter subject, `backoff` trimmed to
 * `max_deliver` (the server refuses longer lists), and since 2.9 turns `ack_wait` into
 * `backoff[0]`, the consume loop keeps long publications alive with `working()`. Every step
 * tolerates another publisher or gateway doing the same at the same moment.
 */

import {
  type MinutesConfig,
  outcomeStreamSettings,
  protocolStreamSettings,
  protocolStreamWildcard,
  type StreamSettings,
} from "@minutes/contracts";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/** Creates or updates both streams so their settings follow the configuration. */
export const ensureStreams = async (jsm: JetStreamManager, nats: MinutesConfig["nats"]): Promise<void> => {
  await ensureStream(jsm, protocolStreamSettings(nats), true);
  await ensureStream(jsm, outcomeStreamSettings(nats), true);
};

/** The ack wait the server actually applies: `backoff[0]` when a backoff is set (2.9 behaviour). */
export const effectiveAckWaitMs = (nats: MinutesConfig["nats"]): number => {
  const backoff = consumerBackoffMs(nats);
  return backoff.length > 0
    ? Math.min(backoff[0] as number, nats.ack_wait_seconds * 1000)
    : nats.ack_wait_seconds * 1000;
};

/** Creates or updates the durable pull consumer of the publishers. */
export const ensureConsumer = async (jsm: JetStreamManager, nats: MinutesConfig["nats"]): Promise<void> => {
  await ensureConsumerOf(jsm, nats, true);
};

/** What a repair tells the log: what it created (`stream X`, `consumer Y`), and why it failed. */
export interface RepairListener {
  readonly created: (what: string) => void;
  readonly failed: (error: unknown) => void;
}

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
): (() => Promise<boolean>) => {
  let running: Promise<boolean> | undefined;
  let startedAt = Number.NEGATIVE_INFINITY;
  let last = false;
  return () => {
    if (running !== undefined) return running;
    if (Date.now() - startedAt < minIntervalMs) return Promise.resolve(last);
    startedAt = Date.now();
    running = (async () => {
      try {
        for (const settings of [protocolStreamSettings(nats), outcomeStreamSettings(nats)]) {
          if (await ensureStream(jsm, settings, false)) hear.created(`stream ${settings.name}`);
        }
        if (await ensureConsumerOf(jsm, nats, false)) hear.created(`consumer ${nats.consumer}`);
        last = true;
      } catch (error) {
        hear.failed(error);
        last = false;
      } finally {
        running = undefined;
      }
      return last;
    })();
    return running;
  };
};

// internal

/** Creates the consumer or (with `updateExisting`) updates it; resolves whether it created it. */
const ensureConsumerOf = async (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  updateExisting: boolean,
): Promise<boolean> => {
  const backoff = consumerBackoffMs(nats);
  const config = {
    durable_name: nats.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: protocolStreamWildcard(nats.subject_prefix),
    ack_wait: nanos(Math.round(nats.ack_wait_seconds * 1000)),
    max_deliver: nats.max_deliver,
    max_ack_pending: Math.max(nats.concurrency * 4, 64),
    ...(backoff.length > 0 ? { backoff: backoff.map((ms) => nanos(ms)) } : {}),
  };
  const { durable_name: _name, deliver_policy: _deliver, filter_subject: _filter, ...editable } = config;
  const update = () => jsm.consumers.update(nats.stream, nats.consumer, editable);
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

const consumerBackoffMs = (nats: MinutesConfig["nats"]): Array<number> =>
  nats.backoff_seconds
    .slice(0, Math.max(nats.max_deliver - 1, 0))
    .map((s) => Math.max(1, Math.round(s * 1000)));

/**
 * Creates the stream, or (with `updateExisting`) gives an existing one the configured settings;
 * resolves whether it created it.
 */
const ensureStream = async (
  jsm: JetStreamManager,
  settings: StreamSettings,
  updateExisting: boolean,
): Promise<boolean> => {
  const config: Partial<StreamConfig> & { name: string } = {
    name: settings.name,
    subjects: [...settings.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(settings.duplicateWindowMs),
    max_age: nanos(settings.maxAgeMs),
  };
  try {
    await jsm.streams.info(settings.name);
    if (updateExisting) await jsm.streams.update(settings.name, config);
    return false;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  try {
    await jsm.streams.add(config);
    return true;
  } catch (error) {
    // A gateway or another publisher created it since we looked, with settings the server
    // tells apart from ours (then the add fails, and ours come as an update).
    if (!isAlreadyThere(error)) throw error;
    if (updateExisting) await jsm.streams.update(settings.name, config);
    return false;
  }
};

const isNotFound = (e: unknown): boolean =>
  e instanceof JetStreamApiError
    ? e.code === 404 || /not found/i.test(e.message)
    : e instanceof Error && /not found/i.test(e.message);

/** "stream name already in use", "consumer already exists", "consumer name already in use". */
const isAlreadyThere = (e: unknown): boolean =>
  e instanceof JetStreamApiError &&
  (e.code === STREAM_NAME_IN_USE ||
    e.code === CONSUMER_NAME_IN_USE ||
    e.code === CONSUMER_EXISTS ||
    /already (in use|exists)/i.test(e.message));

const STREAM_NAME_IN_USE = 10058;
const CONSUMER_NAME_IN_USE = 10013;
const CONSUMER_EXISTS = 10148;
