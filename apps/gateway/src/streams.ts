/**
 * The gateway's side of the streams (created or updated at start by `ensureStreams` from
 * @minutes/nats-streams, so it can accept events before any publisher ever ran): re-creates them
 * when a publish finds no stream (a NATS restarted without its data), and tells health which
 * exist. Intake pays nothing for this while the streams exist: only a failed publish looks at them.
 */

import { type MinutesConfig, outcomeStreamSettings, protocolStreamSettings } from "@minutes/contracts";
import {
  coalescedRepair,
  createMissingStreams,
  isNotFound,
  type RepairListener,
} from "@minutes/nats-streams";
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { FastifyBaseLogger } from "fastify";
import { JetStreamPublishError, type JetStreamPublisher } from "./jetstream-publisher.js";

/** The names of the two streams for a configuration. */
export const streamNames = (
  nats: MinutesConfig["nats"],
): { readonly protocol: string; readonly outcome: string } => ({
  protocol: protocolStreamSettings(nats).name,
  outcome: outcomeStreamSettings(nats).name,
});

/** Re-creates the streams; resolves whether they exist now and never rejects. */
export type StreamRepair = () => Promise<boolean>;

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
): StreamRepair =>
  coalescedRepair(() => createMissingStreams(jsm, nats, hear.created), hear.failed, minIntervalMs);

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

const foundNoStream = (error: unknown): boolean =>
  error instanceof JetStreamPublishError && (error.code === 503 || /stream not found/i.test(error.message));

/**
 * The latest message on `subject` (one job's `ProtocolReady` events) in the protocol stream; null
 * when there is none, or when JetStream cannot say (logged, so a caller's fallback is not silent).
 */
export const latestOnSubject = async (
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  log: FastifyBaseLogger,
): Promise<StoredMsg | null> => {
  try {
    return await jsm.streams.getMessage(stream, { last_by_subj: subject });
  } catch (error) {
    if (!isNotFound(error)) log.warn({ err: error, subject }, "could not read the job's latest event");
    return null;
  }
};
