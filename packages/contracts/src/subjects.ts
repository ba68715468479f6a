/**
 * NATS names, defined once so no app spells a subject. Job ids become one subject token each:
 * ids that are already safe tokens stay readable, others are encoded (NATS tokens cannot hold
 * `.`, `*`, `>` or whitespace).
 */

/** Default JetStream stream holding `ProtocolReady` events. */
export const PROTOCOL_STREAM = "MINUTES_PROTOCOLS";
/** Subject prefix of `ProtocolReady` v1 events; one subject per job. */
export const PROTOCOL_READY_PREFIX = "minutes.protocol.ready.v1";
/** Subject prefix of publication outcome events (`published`, `failed`, ...). */
export const PUBLICATION_EVENT_PREFIX = "minutes.publication";

/** Subject carrying the `ProtocolReady` events of one job. */
export const protocolReadySubject = (jobId: string): string =>
  `${PROTOCOL_READY_PREFIX}.${subjectToken(jobId)}`;

/** Wildcard subject matching every job's `ProtocolReady` events. */
export const protocolReadyWildcard = (): string => `${PROTOCOL_READY_PREFIX}.>`;

/** Subject of a publication outcome, e.g. `minutes.publication.published`. */
export const publicationEventSubject = (outcome: string): string => `${PUBLICATION_EVENT_PREFIX}.${outcome}`;

/** Encodes an arbitrary id as one NATS subject token. */
export const subjectToken = (id: string): string =>
  /^[A-Za-z0-9_-]{1,200}$/.test(id) ? id : `~${Buffer.from(id, "utf8").toString("base64url")}`;
