/**
 * Creates or updates the protocol and outcome streams from the contracts' settings, so the
 * gateway can accept events before any publisher ever ran, and re-creates them when a publish
 * finds no stream (a NATS restarted without its data). Updating keeps retention and
 * de-duplication in line with the configuration on every start. Intake pays nothing for this
 * while the streams exist: only a failed publish looks at them.
 */

import {
  type MinutesConfig,
  outcomeStreamSettings,
  protocolStreamSettings,
  type StreamSettings,
} from "@minutes/contracts";
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { JetStreamPublishError, type JetStreamPublisher } from "./jetstream-publisher.js";

/** The names of the two streams for a configuration. */
export const streamNames = (
  nats: MinutesConfig["nats"],
): { readonly protocol: string; readonly outcome: string } => ({
  protocol: protocolStreamSettings(nats).name,
  outcome: outcomeStreamSettings(nats).name,
});

/**
 * Makes sure both streams exist with the configured subjects, duplicate window and age. Safe
 * while publishers and other gateways do the same: a stream created by someone else between our
 * look and our add gets our settings as an update.
 */
export const ensureStreams = async (jsm: JetStreamManager, nats: MinutesConfig["nats"]): Promise<void> => {
  await ensureStream(jsm, protocolStreamSettings(nats), true);
  await ensureStream(jsm, outcomeStreamSettings(nats), true);
};

/** Whether a JetStream error says the stream or consumer does not exist. */
export const isNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound);

/** Re-creates the streams; resolves whether they exist now and never rejects. */
export type StreamRepair = () => Promise<boolean>;

/** What a repair tells the log: each stream it created, and why an attempt failed. */
export interface RepairListener {
  readonly created: (stream: string) => void;
  readonly failed: (error: unknown) => void;
}

/**
 * Creates the streams that are missing, for callers that found one missing (existing streams
 * are left as they are: that is `ensureStreams`' job at start). Callers at the same moment share
 * one attempt, and an attempt starts at most once per `minIntervalMs`: a caller inside that
 * interval gets the last attempt's result without a round trip, so a burst of failing requests
 * costs NATS one check.
 */
export const makeStreamRepair = (
  jsm: JetStreamManager,
  nats: MinutesConfig["nats"],
  hear: RepairListener,
  minIntervalMs = 1_000,
): StreamRepair => {
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
          if (await ensureStream(jsm, settings, false)) hear.created(settings.name);
        }
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

/**
 * `publisher` with one more try for a publish that found no stream (no responders, or JetStream
 * answering "stream not found"): the streams are repaired, then the publish is sent again. That
 * is safe: nothing was stored, and the msgID de-duplicates anyway. Other failures, and a second
 * failure, reject as before. A publish that succeeds costs nothing more.
 */
export const withStreamRepair = (
  publisher: JetStreamPublisher,
  repair: StreamRepair,
): JetStreamPublisher => ({
  publish: (subject, payload, msgID, timeoutMs) =>
    publisher.publish(subject, payload, msgID, timeoutMs).catch(async (error: unknown) => {
      if (!foundNoStream(error) || !(await repair())) throw error;
      return publisher.publish(subject, payload, msgID, timeoutMs);
    }),
  close: publisher.close,
});

/** Which of the two streams exist; `null` when JetStream did not answer. */
export const streamsFound = async (
  jsm: JetStreamManager,
  streams: { readonly protocol: string; readonly outcome: string },
): Promise<{ readonly protocol: boolean; readonly outcome: boolean } | null> => {
  const exists = (name: string) =>
    jsm.streams.info(name).then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    );
  try {
    const [protocol, outcome] = await Promise.all([exists(streams.protocol), exists(streams.outcome)]);
    return { protocol, outcome };
  } catch {
    return null;
  }
};

// internal

/** JetStream's "stream name already in use" (with a different configuration). */
const STREAM_NAME_IN_USE = 10058;

const foundNoStream = (error: unknown): boolean =>
  error instanceof JetStreamPublishError && (error.code === 503 || /stream not found/i.test(error.message));

/**
 * Creates the stream, or (with `update`) gives an existing one the configured settings; resolves
 * whether it created it.
 */
const ensureStream = async (jsm: JetStreamManager, s: StreamSettings, update: boolean): Promise<boolean> => {
  const wanted = {
    subjects: [...s.subjects],
    duplicate_window: nanos(s.duplicateWindowMs),
    max_age: nanos(s.maxAgeMs),
  };
  const lookAndUpdate = async () => {
    const info = await jsm.streams.info(s.name);
    if (update) await jsm.streams.update(s.name, { ...info.config, ...wanted });
  };
  try {
    await lookAndUpdate();
    return false;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await jsm.streams.add({ name: s.name, ...wanted });
    return true;
  } catch (error) {
    // Someone else created it since we looked, with settings the server tells apart from ours.
    if (!(error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE)) throw error;
    await lookAndUpdate();
    return false;
  }
};
