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
  type StreamInfo,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";

/**
 * Creates both streams, or gives existing ones the configured subjects, duplicate window and
 * age. Run it at start: retention and de-duplication then follow the configuration. Refuses (an
 * Error saying what to do) to move a stream that holds messages to other subjects (a changed
 * `nats.subject_prefix`): its events would be left where no publisher or replay reads them. And
 * a stream name that changed while the old stream still stores the subjects is named in the error.
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
  const checkedUpdate = async (info: StreamInfo) => {
    refuseSubjectMove(info, wanted.subjects);
    await update();
  };
  try {
    const info = await jsm.streams.info(s.name);
    if (updateExisting) await checkedUpdate(info);
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
    if (isSubjectOverlap(error)) throw await overlapError(jsm, s, error);
    // Someone else created it since we looked, with settings the server tells apart from ours
    // (then the add fails, and ours come as an update).
    if (!isAlreadyThere(error)) throw error;
    if (updateExisting) await checkedUpdate(await jsm.streams.info(s.name));
    return false;
  }
};

/** JetStream's "subjects overlap with an existing stream". */
const SUBJECT_OVERLAP = 10065;

const isSubjectOverlap = (error: unknown): boolean =>
  error instanceof JetStreamApiError &&
  (error.code === SUBJECT_OVERLAP || /subjects overlap/i.test(error.message));

/**
 * A stream that holds messages keeps its subjects: moving it to others (a changed subject prefix)
 * would leave every event it holds under subjects no consumer filter and no replay reads, and the
 * ones not yet published would be lost without a word.
 */
const refuseSubjectMove = (info: StreamInfo, subjects: ReadonlyArray<string>): void => {
  const current = info.config.subjects ?? [];
  const same = current.length === subjects.length && current.every((subject) => subjects.includes(subject));
  if (same || info.state.messages === 0) return;
  const name = info.config.name;
  throw new Error(
    `stream "${name}" holds ${info.state.messages} messages under ${quoteAll(current)}, but the configuration ` +
      `(nats.subject_prefix) now gives it ${quoteAll(subjects)}: its events would no longer be read. ` +
      `Keep the old nats.subject_prefix; or, once the publishers have published everything (GET /status/confluence ` +
      `shows no backlog), give the new prefix a stream of its own (nats.stream), or purge "${name}" (nats stream purge ${name}) ` +
      "if its events may go.",
  );
};

/** The error for a new stream whose subjects another stream stores (a renamed `nats.stream`). */
const overlapError = async (jsm: JetStreamManager, s: StreamSettings, cause: unknown): Promise<Error> => {
  const holder = await jsm.streams.find(s.subjects[0] as string).catch(() => undefined);
  return new Error(
    holder !== undefined
      ? `cannot create stream "${s.name}": stream "${holder}" already stores ${quoteAll(s.subjects)}. ` +
          `Set nats.stream back to "${holder}", or give this installation its own nats.subject_prefix.`
      : `cannot create stream "${s.name}": another stream already stores ${quoteAll(s.subjects)}; ` +
          "give this installation its own nats.stream and nats.subject_prefix.",
    { cause },
  );
};

const quoteAll = (subjects: ReadonlyArray<string>): string => subjects.map((x) => `"${x}"`).join(", ");
