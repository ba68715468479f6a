/**
 * NATS names and stream settings, defined once so no app spells a subject. Every subject starts
 * with `nats.subject_prefix` (default `minutes`): JetStream refuses two streams with overlapping
 * subjects, so a second installation (or a test) on the same server uses its own prefix. Job ids
 * become one subject token each: ids that are already safe tokens stay readable, others are
 * encoded (NATS tokens cannot hold `.`, `*`, `>` or whitespace). Events and commands share the
 * `<prefix>.protocol.>` root so one durable consumer with one filter subject (all that NATS 2.9
 * allows) sees both.
 */

/** The default subject prefix. */
export const DEFAULT_SUBJECT_PREFIX = "minutes";
/** Suffix of the stream holding publication outcome events. */
export const PUBLICATION_STREAM_SUFFIX = "_OUTCOMES";

/** Root of every subject in the protocol stream, e.g. `minutes.protocol`. */
export const protocolSubjectRoot = (prefix: string = DEFAULT_SUBJECT_PREFIX): string => `${prefix}.protocol`;
/** Subject prefix of `ProtocolReady` v1 events; one subject per job. */
export const protocolReadyPrefix = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${protocolSubjectRoot(prefix)}.ready.v1`;
/** Subject prefix of `PublishRequested` v1 commands; one subject per job. */
export const publishRequestedPrefix = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${protocolSubjectRoot(prefix)}.publish.v1`;
/** Subject prefix of publication outcome events. */
export const publicationEventPrefix = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${prefix}.publication`;

/** Subject carrying the `ProtocolReady` events of one job. */
export const protocolReadySubject = (jobId: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${protocolReadyPrefix(prefix)}.${subjectToken(jobId)}`;

/** Subject carrying the `PublishRequested` commands of one job. */
export const publishRequestedSubject = (jobId: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${publishRequestedPrefix(prefix)}.${subjectToken(jobId)}`;

/** Wildcard subject matching every job's `ProtocolReady` events. */
export const protocolReadyWildcard = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${protocolReadyPrefix(prefix)}.>`;

/** Wildcard matching every subject the publishers consume. */
export const protocolStreamWildcard = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${protocolSubjectRoot(prefix)}.>`;

/** Subject of a publication outcome, e.g. `minutes.publication.published`. */
export const publicationEventSubject = (outcome: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${publicationEventPrefix(prefix)}.${outcome}`;

/** Wildcard matching every publication outcome. */
export const publicationEventWildcard = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${publicationEventPrefix(prefix)}.>`;

/** Subject of archive-run requests (NATS request/reply; publishers answer in one queue group). */
export const archiveRunSubject = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${prefix}.archive.run.v1`;

/** Subject of index-refresh requests (NATS request/reply; publishers answer in one queue group). */
export const indexRefreshSubject = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${prefix}.index.refresh.v1`;

/** Encodes an arbitrary id as one NATS subject token. */
export const subjectToken = (id: string): string =>
  /^[A-Za-z0-9_-]{1,200}$/.test(id) ? id : `~${Buffer.from(id, "utf8").toString("base64url")}`;

/**
 * The id {@link subjectToken} encoded into a token, or `undefined` for a token it cannot have made
 * (a message put on the stream by hand, bypassing the gateway).
 */
export const jobIdOfSubjectToken = (token: string): string | undefined => {
  if (/^[A-Za-z0-9_-]{1,200}$/.test(token)) return token;
  if (!/^~[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const id = Buffer.from(token.slice(1), "base64url").toString("utf8");
  // Only what `subjectToken` turns into this very token (not a lenient decode of something else).
  return id !== "" && subjectToken(id) === token ? id : undefined;
};

/** The settings of the two streams, as plain data each app hands to `jsm.streams.add`. */
export interface StreamSettings {
  readonly name: string;
  readonly subjects: ReadonlyArray<string>;
  readonly duplicateWindowMs: number;
  readonly maxAgeMs: number;
}

/** The `nats` keys the stream settings depend on. */
export interface StreamConfigKeys {
  readonly stream: string;
  readonly subject_prefix: string;
  readonly duplicate_window_seconds: number;
  readonly max_age_days: number;
}

/** The protocol stream: events and commands, kept `max_age_days`, de-duplicated by message id. */
export const protocolStreamSettings = (nats: StreamConfigKeys): StreamSettings => ({
  name: nats.stream,
  subjects: [protocolStreamWildcard(nats.subject_prefix)],
  duplicateWindowMs: Math.round(nats.duplicate_window_seconds * 1000),
  maxAgeMs: Math.round(nats.max_age_days * 86_400_000),
});

/**
 * The stream (`<stream>_GAVE_UP`) that keeps JetStream's max-deliveries advisories for the
 * publishers' consumer until a publisher recorded the job as failed: an advisory is not lost when
 * no publisher can record it at that moment (the database down, the publisher stopping).
 */
export const gaveUpStreamName = (stream: string): string => `${stream}_GAVE_UP`;

/**
 * The publisher registry (`<stream>_PUBLISHERS`): one presence message per running publisher
 * instance, on `publisherPresenceSubject` (see `PublisherPresence`).
 */
export const publisherRegistryStreamName = (stream: string): string => `${stream}_PUBLISHERS`;

/** Subject of one publisher instance's presence in the registry stream. */
export const publisherPresenceSubject = (
  instanceId: string,
  prefix: string = DEFAULT_SUBJECT_PREFIX,
): string => `${prefix}.publishers.v1.${subjectToken(instanceId)}`;

/** Wildcard matching every publisher's presence. */
export const publisherPresenceWildcard = (prefix: string = DEFAULT_SUBJECT_PREFIX): string =>
  `${prefix}.publishers.v1.>`;

/** The outcome stream (`<stream>_OUTCOMES`): what happened to each publication attempt. */
export const outcomeStreamSettings = (nats: StreamConfigKeys): StreamSettings => ({
  name: `${nats.stream}${PUBLICATION_STREAM_SUFFIX}`,
  subjects: [publicationEventWildcard(nats.subject_prefix)],
  duplicateWindowMs: Math.round(nats.duplicate_window_seconds * 1000),
  maxAgeMs: Math.round(nats.max_age_days * 86_400_000),
});
