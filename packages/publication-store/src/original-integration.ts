/**
 * Moving over from the original integration: its `confluence_publications` rows (which page each
 * job owns) as lines of Minutes' backup format, for `POST /api/import`. A record made this way
 * names its page but no page version or content hash: the publisher takes that page over on the
 * job's next protocol, as the original would have updated it, instead of giving the job a second
 * page (see the publisher's README, "Which page is the job's").
 */
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION } from "./ExportLine.js";

/** A row of the original's `confluence_publications` table, as SQLite returns it. */
export interface OriginalPublicationRow {
  readonly id: unknown;
  readonly job_id: unknown;
  readonly confluence_page_id: unknown;
  readonly confluence_page_url: unknown;
  readonly confluence_space_key: unknown;
  readonly parent_page_id: unknown;
  readonly page_title: unknown;
  readonly publication_status: unknown;
  readonly created_at: unknown;
  readonly updated_at: unknown;
  readonly error_message: unknown;
  readonly retry_count: unknown;
  readonly last_retry_at: unknown;
}

/** A row that could not be used, and why. */
export interface OriginalRowIssue {
  /** The row's `id` (or its position, 1-based, when it has none). */
  readonly row: string;
  readonly reason: string;
}

/** The lines to import and what was left out. */
export interface OriginalImport {
  /** The header line, one publication line per job (its latest row), then the end line. */
  readonly lines: ReadonlyArray<string>;
  /** Jobs with a line. */
  readonly jobs: number;
  /** Older rows of a job that has a newer one (the original kept a row per attempt). */
  readonly superseded: number;
  readonly issues: ReadonlyArray<OriginalRowIssue>;
}

/**
 * Turns the original's rows into import lines: per job the latest row (by `updated_at`, then
 * `id`), its status `published` or `failed` (any other status becomes `failed`, saying which),
 * timestamps as UTC instants (SQLite's `CURRENT_TIMESTAMP` has no zone and is UTC), and the
 * meeting date read from a title in the original's default format (`YYYYMMDD - topic`).
 */
export const originalImportLines = (
  rows: ReadonlyArray<OriginalPublicationRow>,
  now = new Date(),
): OriginalImport => {
  const issues: Array<OriginalRowIssue> = [];
  const latest = new Map<
    string,
    { readonly row: OriginalPublicationRow; readonly at: number; readonly id: number }
  >();
  let superseded = 0;
  for (const [index, row] of rows.entries()) {
    const name = row.id === null || row.id === undefined ? `#${index + 1}` : String(row.id);
    const jobId = text(row.job_id);
    const missing =
      jobId === null
        ? "job_id"
        : text(row.confluence_space_key) === null
          ? "confluence_space_key"
          : undefined;
    if (jobId === null || missing !== undefined) {
      issues.push({ row: name, reason: `${missing} is empty` });
      continue;
    }
    const at = instant(row.updated_at) ?? instant(row.created_at) ?? 0;
    const id = Number(row.id);
    const seen = latest.get(jobId);
    if (seen !== undefined) {
      superseded++;
      if (seen.at > at || (seen.at === at && seen.id > id)) continue;
    }
    latest.set(jobId, { row, at, id });
  }
  const lines = [JSON.stringify({ kind: "header", format: EXPORT_FORMAT, version: EXPORT_FORMAT_VERSION })];
  let nextId = Math.max(0, ...[...latest.values()].map((l) => (Number.isSafeInteger(l.id) ? l.id : 0))) + 1;
  for (const [jobId, { row, id }] of latest) {
    const status = text(row.publication_status) ?? "published";
    const published = status === "published";
    const pageId = text(row.confluence_page_id);
    const pageTitle = text(row.page_title);
    const createdAt = isoOf(row.created_at) ?? isoOf(row.updated_at) ?? now.toISOString();
    const updatedAt = isoOf(row.updated_at) ?? createdAt;
    const retryCount = Number.isSafeInteger(Number(row.retry_count))
      ? Math.max(0, Number(row.retry_count))
      : 0;
    const errorMessage = published
      ? null
      : (text(row.error_message) ??
        (status === "failed"
          ? "failed in the original integration"
          : `status "${status}" in the original integration`));
    lines.push(
      JSON.stringify({
        kind: "publication",
        id: Number.isSafeInteger(id) && id > 0 ? id : nextId++,
        jobId,
        status: published ? "published" : "failed",
        pageId,
        pageUrl: pageId === null ? null : text(row.confluence_page_url),
        spaceKey: text(row.confluence_space_key),
        parentPageId: text(row.parent_page_id),
        pageTitle,
        contentHash: null,
        pageVersion: null,
        streamSequence: null,
        attempts: retryCount + 1,
        retryCount,
        errorMessage,
        errorTag: published ? null : "OriginalIntegrationError",
        trigger: "import",
        createdAt,
        updatedAt,
        lastRetryAt: isoOf(row.last_retry_at),
        publishedAt: published ? updatedAt : null,
        latencyMs: null,
        meetingDate: meetingDateOf(pageTitle),
        archivedAt: null,
      }),
    );
  }
  // The end line an export closes with: an import refuses a file of this version without it.
  lines.push(JSON.stringify({ kind: "end", protocols: 0, publications: lines.length - 1, versions: 0 }));
  return { lines, jobs: latest.size, superseded, issues };
};

// internal

const text = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  const s = String(value).trim();
  return s === "" ? null : s;
};

/** SQLite's `YYYY-MM-DD HH:MM:SS[.fff]` (UTC, no zone) or an ISO 8601 instant, in ms. */
const instant = (value: unknown): number | undefined => {
  const s = text(value);
  if (s === null) return undefined;
  const zoneless = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(s);
  const ms = Date.parse(zoneless ? `${s.replace(" ", "T")}${s.length > 10 ? "" : "T00:00:00"}Z` : s);
  return Number.isNaN(ms) ? undefined : ms;
};

const isoOf = (value: unknown): string | null => {
  const ms = instant(value);
  return ms === undefined ? null : new Date(ms).toISOString();
};

/** `2025-09-02` from a title `20250902 - Topic` (the original's `page_title_format`), if it is a real day. */
const meetingDateOf = (title: string | null): string | null => {
  const m = title === null ? null : /^(\d{4})(\d{2})(\d{2})\b/.exec(title);
  if (!m) return null;
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === date ? date : null;
};
