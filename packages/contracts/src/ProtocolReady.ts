/**
 * The event the meeting processor emits when a protocol is ready. It is the one shape that
 * crosses gateway → JetStream → publisher; changes stay additive (new optional fields), and a
 * breaking change becomes a new schema version and subject run side by side.
 */
import { Schema } from "effect";

/** Identifier of a meeting-processor job; a job owns at most one Confluence page. */
export const JobId = Schema.String.pipe(
  Schema.minLength(1, { message: () => "must not be empty" }),
  Schema.maxLength(200, { message: () => "must be at most 200 characters" }),
  Schema.filter((s) => !hasControlCharacters(s), { message: () => "must not contain control characters" }),
  Schema.filter((s) => isWellFormed(s), { message: () => LONE_SURROGATE }),
  Schema.brand("JobId"),
  Schema.annotations({ identifier: "JobId", description: "Meeting-processor job id (1–200 characters)" }),
);
export type JobId = typeof JobId.Type;

/**
 * Text without U+0000. Neither database stores it in a text column (PostgreSQL refuses it, and
 * SQLite's bound strings end there), so it is refused with the field named, not half-stored.
 */
const withoutNul = <A extends string, I, R>(self: Schema.Schema<A, I, R>) =>
  self.pipe(
    Schema.filter((s) => !s.includes("\u0000"), {
      message: () => "must not contain the NUL character (U+0000)",
    }),
  );

/**
 * Where a value (a parsed JSON body, a query, an import line) holds a string with U+0000: its path
 * (`spaceKey`, `labels[2]`, `metadata.topic`; `""` for the value itself), or `undefined` when none
 * does. Neither database can store or compare such a string, so it is refused up front, not
 * answered with a database error.
 */
export const nulPath = (value: unknown, path = ""): string | undefined => {
  if (typeof value === "string") return value.includes("\u0000") ? path : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, inner] of Object.entries(value)) {
    const keyPath = path === "" ? key : `${path}.${key}`;
    if (key.includes("\u0000")) return keyPath;
    const found = nulPath(inner, keyPath);
    if (found !== undefined) return found;
  }
  return undefined;
};

/**
 * Text that is Unicode: no lone surrogate, which only a `\uD800`–`\uDFFF` escape in JSON can
 * give. Encoding it to UTF-8 (for NATS, a database, Confluence) silently turns it into U+FFFD, so
 * it is refused with the field named instead.
 */
const wellFormed = <A extends string, I, R>(self: Schema.Schema<A, I, R>) =>
  self.pipe(Schema.filter((s) => isWellFormed(s), { message: () => LONE_SURROGATE }));

/**
 * Text with more than white space in it. The JSON Schema (and so the OpenAPI document) says it
 * too: `minLength: 1` and a pattern asking for one non-white-space character (ECMAScript's `\S`
 * is the complement of what `trim` removes).
 */
const notBlank = <A extends string, I, R>(self: Schema.Schema<A, I, R>) =>
  self.pipe(
    Schema.filter((s) => s.trim().length > 0, {
      message: () => "must not be empty",
      jsonSchema: { minLength: 1, pattern: "\\S" },
    }),
  );

/** Plain text of the event: Unicode without U+0000. */
const text = <A extends string, I, R>(self: Schema.Schema<A, I, R>) => wellFormed(withoutNul(self));

/** A calendar date `YYYY-MM-DD` that exists (2025-02-30 does not). */
export const MeetingDate = Schema.String.pipe(
  Schema.filter((s) => isCalendarDate(s), {
    message: (issue) => `expected a date YYYY-MM-DD, got ${JSON.stringify(issue.actual)}`,
  }),
  Schema.annotations({
    identifier: "MeetingDate",
    description: "Calendar date YYYY-MM-DD",
    jsonSchema: { format: "date" },
  }),
);

/** An ISO 8601 timestamp with a time zone, e.g. `2025-09-02T10:00:00Z`. */
export const IsoTimestamp = Schema.String.pipe(
  Schema.filter((s) => isIsoTimestamp(s), {
    message: (issue) =>
      `expected an ISO 8601 timestamp with time zone, got ${JSON.stringify(issue.actual)}${plusHint(issue.actual)}`,
  }),
  Schema.annotations({
    identifier: "IsoTimestamp",
    description: "ISO 8601 timestamp",
    // JSON Schema (and OpenAPI) read `format` from here, not from a plain `format` annotation.
    jsonSchema: { format: "date-time" },
  }),
);

/**
 * A space key as Confluence knows it: a global space's key in upper case (Confluence matches
 * them case-insensitively and stores them upper case, REST-API.md §3), a personal space's
 * (`~user`, `~accountId`) as given. Records, routing, filters and statistics all go through it,
 * so `meetings` and `MEETINGS` are one space everywhere.
 */
export const canonicalSpaceKey = (key: string): string => (key.startsWith("~") ? key : key.toUpperCase());

/** The current version of the `ProtocolReady` wire format. */
export const PROTOCOL_READY_SCHEMA_VERSION = 1 as const;

/**
 * `ProtocolReady` v1: a Markdown protocol for a job. The optional fields override what the
 * publisher would otherwise derive (meeting date and topic from the text, space and parent
 * from configuration and routing).
 */
export const ProtocolReady = Schema.Struct({
  schemaVersion: Schema.optionalWith(Schema.Literal(PROTOCOL_READY_SCHEMA_VERSION), {
    default: () => PROTOCOL_READY_SCHEMA_VERSION,
  }),
  jobId: JobId,
  markdown: Schema.String.pipe(
    notBlank,
    text,
    Schema.annotations({ description: "The protocol as Markdown (CommonMark + GFM)" }),
  ),
  filename: Schema.String.pipe(
    Schema.minLength(1, { message: () => "must not be empty" }),
    Schema.maxLength(255, { message: () => "must be at most 255 characters" }),
    text,
  ),
  occurredAt: IsoTimestamp,
  meetingDate: Schema.optional(MeetingDate),
  // Empty or white space only means no topic: the publisher takes it from the text, as when the
  // field is left out (refusing it would break events stored before, which a replay reads again).
  topic: Schema.optional(Schema.String.pipe(Schema.maxLength(255), text)),
  spaceKey: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/^[A-Za-z0-9~_]{1,255}$/, {
        message: (issue) => `expected a Confluence space key, got ${JSON.stringify(issue.actual)}`,
      }),
    ),
  ),
  parentPageId: Schema.optional(
    Schema.String.pipe(
      Schema.pattern(/^[0-9]{1,20}$/, {
        message: (issue) => `expected a numeric page id, got ${JSON.stringify(issue.actual)}`,
      }),
    ),
  ),
  labels: Schema.optional(Schema.Array(Schema.String.pipe(Schema.maxLength(255), text))),
  source: Schema.optional(Schema.String.pipe(Schema.maxLength(255), text)),
}).annotations({ identifier: "ProtocolReady", title: "ProtocolReady" });
export type ProtocolReady = typeof ProtocolReady.Type;
/** The JSON form accepted on the wire (before defaults are applied). */
export type ProtocolReadyInput = typeof ProtocolReady.Encoded;

/** Codec between a JSON string and a `ProtocolReady`. */
export const ProtocolReadyJson = Schema.parseJson(ProtocolReady);

// internal

const LONE_SURROGATE =
  "must not contain a lone surrogate (an unpaired \\uD800–\\uDFFF escape): it is not Unicode text";

/**
 * A `+05:00` offset sent unencoded in a query string arrives as ` 05:00` (a `+` there means a
 * space), which clients rarely guess from the message alone.
 */
const plusHint = (actual: unknown): string =>
  typeof actual === "string" && SPACE_FOR_OFFSET.test(actual)
    ? " (a + in a URL's query string means a space: send the offset's + as %2B)"
    : "";

const SPACE_FOR_OFFSET = /T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)? \d{2}(?::?\d{2})?$/;

/** `String.prototype.isWellFormed` (Node 20; TypeScript's ES2023 library does not declare it). */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

const hasControlCharacters = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
};

/** True when `s` is `YYYY-MM-DD` naming a day that exists. */
export const isCalendarDate = (s: string): boolean => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
};

/**
 * A timestamp with a time zone whose every field is real: `Date.parse` alone rolls 2026-02-30
 * over to March 2 and accepts hour 24, so the date must be a calendar date and the time a
 * clock time.
 */
export const isIsoTimestamp = (s: string): boolean => {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/.exec(
    s,
  );
  if (m === null || !isCalendarDate(m[1] as string)) return false;
  const [hour, minute, second, offsetHours, offsetMinutes] = [m[2], m[3], m[4], m[5], m[6]].map(Number);
  return (
    (hour as number) <= 23 &&
    (minute as number) <= 59 &&
    (m[4] === undefined || (second as number) <= 59) &&
    (m[5] === undefined || ((offsetHours as number) <= 23 && (offsetMinutes as number) <= 59)) &&
    !Number.isNaN(Date.parse(s))
  );
};
