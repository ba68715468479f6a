/**
 * The JSON Lines backup format: one self-describing object per line with a `kind` field, so a
 * single file restores publications, their protocols and the page version history. Lines are
 * validated with these schemas on import; unknown kinds are errors, not silently dropped.
 */
import { Publication, PublicationVersion } from "@minutes/contracts";
import { Schema } from "effect";
import { Instant, StoredProtocol } from "./StoredProtocol.js";

/** Name written in the header line; an import refuses files of another format. */
export const EXPORT_FORMAT = "minutes-publication-store" as const;
/** Version of the line format; bump it (and keep reading the old one) on breaking changes. */
export const EXPORT_FORMAT_VERSION = 1 as const;

const NullableInstant = Schema.NullOr(Instant);

/** First line of every export. */
export const HeaderLine = Schema.Struct({
  kind: Schema.Literal("header"),
  format: Schema.Literal(EXPORT_FORMAT),
  version: Schema.Literal(EXPORT_FORMAT_VERSION),
});

/** A protocol line. */
export const ProtocolLine = Schema.Struct({ kind: Schema.Literal("protocol"), ...StoredProtocol.fields });

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
export const ExportLine = Schema.Union(HeaderLine, ProtocolLine, PublicationLine, VersionLine);
/** See the schema. */
export type ExportLine = typeof ExportLine.Type;

/** Parses one JSON line into an `ExportLine`. */
export const ExportLineJson = Schema.parseJson(ExportLine);
