/**
 * The protocol and outcome streams, created or updated from the contracts' settings by whichever
 * app starts first (gateway or publisher) and again by whoever finds them missing (a NATS
 * restarted without its data). Every step tolerates another gateway or publisher doing the same
 * at the same moment; only the settings the configuration owns are updated, the rest is kept.
 */

import {
  outcomeStreamSettings,
  protocolStreamSettings,
  type StreamConfigKeys,
  type StreamSettings,
} from "@minutes/contracts";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/**
 * Creates both streams, or gives existing ones the configured subjects, duplicate window and
 * age. Run it at start: retention and de-duplication then follow the configuration.
 */
export const ensureStreams = async (jsm: JetStreamManager, nats: StreamConfigKeys): Promise<void> => {
  await ensureStream(jsm, protocolStreamSettings(nats), true);
  await ensureStream(jsm, outcomeStreamSettings(nats), true);
};

/**
 * Creates whichever of the two streams is missing and calls `created` with its name; existing
 * streams are left as they are (updating is `ensureStreams`' job at start). For repairs after
 * something found a stream missing.
 */
export const createMissingStreams = async (
  jsm: JetStreamManager,
  nats: StreamConfigKeys,
  created: (stream: string) => void,
): Promise<void> => {
  for (const settings of [protocolStreamSettings(nats), outcomeStreamSettings(nats)]) {
    if (await ensureStream(jsm, settings, false)) created(settings.name);
  }
};

/** Whether a JetStream error says the stream or consumer does not exist. */
export const isNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError
    ? error.code === JetStreamApiCodes.StreamNotFound ||
      error.code === JetStreamApiCodes.ConsumerNotFound ||
      /not found/i.test(error.message)
    : error instanceof Error && /not found/i.test(error.message);

/**
 * Whether an add failed because someone else created the stream or consumer first ("stream name
 * already in use", "consumer already exists", "consumer name already in use").
 */
export const isAlreadyThere = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === STREAM_NAME_IN_USE ||
    error.code === CONSUMER_NAME_IN_USE ||
    error.code === CONSUMER_EXISTS ||
    /already (in use|exists)/i.test(error.message));

// internal

const STREAM_NAME_IN_USE = 10058;
const CONSUMER_NAME_IN_USE = 10013;
const CONSUMER_EXISTS = 10148;

/**
 * Creates the stream, or (with `updateExisting`) gives an existing one the configured settings;
 * resolves whether it created it.
 */
const ensureStream = async (
  jsm: JetStreamManager,
  s: StreamSettings,
  updateExisting: boolean,
): Promise<boolean> => {
  const wanted = {
    subjects: [...s.subjects],
    duplicate_window: nanos(s.duplicateWindowMs),
    max_age: nanos(s.maxAgeMs),
  };
  // nats.js merges an update into the stream's current configuration.
  const update = () => jsm.streams.update(s.name, wanted);
  try {
    await jsm.streams.info(s.name);
    if (updateExisting) await update();
    return false;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    await jsm.streams.add({
      name: s.name,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      ...wanted,
    });
    return true;
  } catch (error) {
    // Someone else created it since we looked, with settings the server tells apart from ours
    // (then the add fails, and ours come as an update).
    if (!isAlreadyThere(error)) throw error;
    if (updateExisting) await update();
    return false;
  }
};
