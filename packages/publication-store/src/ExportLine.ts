/**
 * The JSON Lines backup format: one self-describing object per line with a `kind` field, so a
 * single file restores publications, their protocols and the page version history. Lines are
 * validated with these schemas on import; unknown kinds are errors, not silently dropped. A file
 * opens with its header and (from version 2) closes with an end line counting what it holds, so
 * an import can tell a whole export from one cut short at a line boundary.
 */
import { Publication, PublicationVersion } from "@minutes/contracts";
import { Schema } from "effect";
import { Instant, StoredProtocol } from "./StoredProtocol.js";

/** Name written in the header line; an import refuses files of another format. */
export const EXPORT_FORMAT = "minutes-publication-store" as const;
/**
 * Version of the line format; bump it (and keep reading the old one) on breaking changes. 2 added
 * the end line; an import still reads version 1 files, which end without one.
 */
export const EXPORT_FORMAT_VERSION = 2 as const;

const NullableInstant = Schema.NullOr(Instant);

/** First line of every export: the format and its version (1, or the current one). */
export const HeaderLine = Schema.Struct({
  kind: Schema.Literal("header"),
  format: Schema.Literal(EXPORT_FORMAT),
  version: Schema.Literal(1, EXPORT_FORMAT_VERSION),
});

/** A count of lines: a whole number, at least 0. */
const LineCount = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 0, {
    message: (issue) => `expected a whole number ≥ 0, got ${String(issue.actual)}`,
  }),
);

/**
 * Last line of an export (format version 2 on): how many lines of each kind come before it. An
 * import of a version 2 file without it, or whose counts differ from the lines read, writes nothing.
 */
export const EndLine = Schema.Struct({
  kind: Schema.Literal("end"),
  protocols: LineCount,
  publications: LineCount,
  versions: LineCount,
});

/** A protocol line. */
export const ProtocolLine = Schema.Struct({
  kind: Schema.Literal("protocol"),
  ...StoredProtocol.fields,
  // Absent from exports made before Minutes kept it.
  streamStoredAt: Schema.optionalWith(NullableInstant, { default: () => null }),
});

/** A publication line: the contract's `Publication` with checked timestamps. */
export const PublicationLine = Schema.Struct({
  kind: Schema.Literal("publication"),
  ...Publication.fields,
  createdAt: Instant,
  updatedAt: Instant,
  lastRetryAt: NullableInstant,
  publishedAt: NullableInstant,
  // Absent from exports made before page organisation existed.
  meetingDate: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  archivedAt: Schema.optionalWith(NullableInstant, { default: () => null }),
});

/** A page version line (linked to its publication by `jobId` on import). */
export const VersionLine = Schema.Struct({
  kind: Schema.Literal("version"),
  ...PublicationVersion.fields,
  createdAt: Instant,
});

/** Any line of an export. */
export const ExportLine = Schema.Union(HeaderLine, ProtocolLine, PublicationLine, VersionLine, EndLine);
/** See the schema. */
export type ExportLine = typeof ExportLine.Type;

/** Parses one JSON line into an `ExportLine`. */
export const ExportLineJson = Schema.parseJson(ExportLine);
