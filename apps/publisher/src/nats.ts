/**
 * JetStream set-up shared by the consume loop and the tests: the protocol and outcome streams
 * (created or updated from configuration) and the publishers' durable pull consumer. Designed
 * for Debian's nats-server 2.9.10 as well as newer servers: one filter subject, `backoff`
 * trimmed to `max_deliver` (the server refuses longer lists), and since 2.9 turns `ack_wait`
 * into `backoff[0]`, the consume loop keeps long publications alive with `working()`.
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
  await ensureStream(jsm, protocolStreamSettings(nats));
  await ensureStream(jsm, outcomeStreamSettings(nats));
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
  try {
    await jsm.consumers.info(nats.stream, nats.consumer);
    const { durable_name: _name, deliver_policy: _deliver, filter_subject: _filter, ...editable } = config;
    await jsm.consumers.update(nats.stream, nats.consumer, editable);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.consumers.add(nats.stream, config);
  }
};

// internal

const consumerBackoffMs = (nats: MinutesConfig["nats"]): Array<number> =>
  nats.backoff_seconds
    .slice(0, Math.max(nats.max_deliver - 1, 0))
    .map((s) => Math.max(1, Math.round(s * 1000)));

const ensureStream = async (jsm: JetStreamManager, settings: StreamSettings): Promise<void> => {
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
    await jsm.streams.update(settings.name, config);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.streams.add(config);
  }
};

const isNotFound = (e: unknown): boolean =>
  e instanceof JetStreamApiError
    ? e.code === 404 || /not found/i.test(e.message)
    : e instanceof Error && /not found/i.test(e.message);
