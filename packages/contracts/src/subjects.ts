/**
 * NATS names and stream settings, defined once so no app spells a subject. Job ids become one
 * subject token each: ids that are already safe tokens stay readable, others are encoded (NATS
 * tokens cannot hold `.`, `*`, `>` or whitespace). Events and commands share the
 * `minutes.protocol.>` prefix so one durable consumer with one filter subject (all that NATS
 * 2.9 allows) sees both.
 */

/** Prefix of every subject in the protocol stream. */
export const PROTOCOL_SUBJECT_ROOT = "minutes.protocol";
/** Subject prefix of `ProtocolReady` v1 events; one subject per job. */
export const PROTOCOL_READY_PREFIX = `${PROTOCOL_SUBJECT_ROOT}.ready.v1`;
/** Subject prefix of `PublishRequested` v1 commands; one subject per job. */
export const PUBLISH_REQUESTED_PREFIX = `${PROTOCOL_SUBJECT_ROOT}.publish.v1`;
/** Subject prefix of publication outcome events (`published`, `failed`, ...). */
export const PUBLICATION_EVENT_PREFIX = "minutes.publication";
/** Stream holding publication outcome events. */
export const PUBLICATION_STREAM_SUFFIX = "_OUTCOMES";

/** Subject carrying the `ProtocolReady` events of one job. */
export const protocolReadySubject = (jobId: string): string =>
  `${PROTOCOL_READY_PREFIX}.${subjectToken(jobId)}`;

/** Subject carrying the `PublishRequested` commands of one job. */
export const publishRequestedSubject = (jobId: string): string =>
  `${PUBLISH_REQUESTED_PREFIX}.${subjectToken(jobId)}`;

/** Wildcard subject matching every job's `ProtocolReady` events. */
export const protocolReadyWildcard = (): string => `${PROTOCOL_READY_PREFIX}.>`;

/** Wildcard matching every subject the publishers consume. */
export const protocolStreamWildcard = (): string => `${PROTOCOL_SUBJECT_ROOT}.>`;

/** Subject of a publication outcome, e.g. `minutes.publication.published`. */
export const publicationEventSubject = (outcome: string): string => `${PUBLICATION_EVENT_PREFIX}.${outcome}`;

/** Encodes an arbitrary id as one NATS subject token. */
export const subjectToken = (id: string): string =>
  /^[A-Za-z0-9_-]{1,200}$/.test(id) ? id : `~${Buffer.from(id, "utf8").toString("base64url")}`;

/** The settings of the two streams, as plain data each app hands to `jsm.streams.add`. */
export interface StreamSettings {
  readonly name: string;
  readonly subjects: ReadonlyArray<string>;
  readonly duplicateWindowMs: number;
  readonly maxAgeMs: number;
}

/** The protocol stream: events and commands, kept `max_age_days`, de-duplicated by message id. */
export const protocolStreamSettings = (nats: {
  readonly stream: string;
  readonly duplicate_window_seconds: number;
  readonly max_age_days: number;
}): StreamSettings => ({
  name: nats.stream,
  subjects: [protocolStreamWildcard()],
  duplicateWindowMs: Math.round(nats.duplicate_window_seconds * 1000),
  maxAgeMs: Math.round(nats.max_age_days * 86_400_000),
});

/** The outcome stream (`<stream>_OUTCOMES`): what happened to each publication attempt. */
export const outcomeStreamSettings = (nats: {
  readonly stream: string;
  readonly duplicate_window_seconds: number;
  readonly max_age_days: number;
}): StreamSettings => ({
  name: `${nats.stream}${PUBLICATION_STREAM_SUFFIX}`,
  subjects: [`${PUBLICATION_EVENT_PREFIX}.>`],
  duplicateWindowMs: Math.round(nats.duplicate_window_seconds * 1000),
  maxAgeMs: Math.round(nats.max_age_days * 86_400_000),
});
