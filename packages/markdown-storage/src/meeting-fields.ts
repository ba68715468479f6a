// The rules that read a meeting's date and topic out of text: date forms, labelled lines and table
// rows, the first H1, YAML front matter and file names. They see strings only; which parts of a
// document count is decided by the caller (meeting-info.ts walks micromark's events, the tests walk
// an mdast tree as a reference), so both share every rule here and differ only in the walk.

import { parseDocument } from "yaml";

/** How much of the Markdown (UTF-16 code units, after front matter) is parsed for fields and the H1. */
export const MEETING_INFO_SCAN_LIMIT = 64 * 1024;

/**
 * Reads a text that is one date, optionally with a weekday before and a time after, and returns
 * it as `YYYY-MM-DD`; `null` if the text is anything else or the date does not exist.
 *
 * Accepted: `YYYY-MM-DD`, `YYYY/MM/DD`, `DD.MM.YYYY`, `DD/MM/YYYY` (day first), `D Month YYYY`
 * and `Month D, YYYY` with English, Russian (genitive, optional `г.`) and German month names.
 *
 * @example
 * parseDate("Donnerstag, 20. November 2025, 14:00 Uhr") // → "2025-11-20"
 * parseDate("2025-02-30") // → null
 */
export const parseDate = (text: string): string | null => {
  let trimmed = collapse(text);
  while (/[.,;]$/u.test(trimmed)) trimmed = trimmed.slice(0, -1);
  const found = findDate(trimmed);
  return found !== null && found.start === 0 && found.end === trimmed.length ? found.iso : null;
};

/** The date and topic found, before the event's own values are applied. */
export interface FoundMeeting {
  readonly date: string | null;
  readonly topic: string | null;
}

/** What a scan of the text found: the first labelled date and topic, and the first H1's. */
export interface Scan {
  date: string | null;
  topic: string | null;
  heading: FoundMeeting | null;
}

/** A scan that has found nothing yet. */
export const emptyScan = (): Scan => ({ date: null, topic: null, heading: null });

/** Whether both fields are known: later fields and the H1 cannot change the answer then. */
const isComplete = (scan: Scan): boolean => scan.date !== null && scan.topic !== null;

/** Takes the first top-level H1's text (any whitespace; it is collapsed here). */
export const addHeading = (scan: Scan, text: string): void => {
  if (scan.heading === null) scan.heading = readHeading(text);
};

/**
 * Reads each line of a paragraph or heading (plain text, lines split at `\n`) as a labelled
 * field; `true` once the scan is complete.
 */
export const addLines = (scan: Scan, text: string): boolean => {
  for (const line of text.split("\n")) {
    const pair = splitLine(line);
    if (pair !== null && addField(scan, ...pair)) return true;
  }
  return false;
};

/** Reads a table row (each cell's plain text) as a labelled field if it has two cells. */
export const addRow = (scan: Scan, cells: ReadonlyArray<string>): boolean => {
  if (cells.length !== 2) return false;
  return addField(scan, stripColon(collapse((cells[0] ?? "").replace(TAGS, ""))), collapse(cells[1] ?? ""));
};

/** Front matter first, then the fields, the H1 and the file name (see `extractMeetingInfo`). */
export const resolveMeeting = (
  data: Record<string, unknown> | null,
  scan: Scan,
  filename: string | undefined,
): FoundMeeting => {
  const fromName = filename === undefined ? undefined : parseFilename(filename);
  const date = frontMatterDate(data) ?? scan.date ?? scan.heading?.date ?? fromName?.date ?? null;
  const topic = frontMatterTopic(data) ?? scan.topic ?? scan.heading?.topic ?? fromName?.topic ?? null;
  return { date, topic };
};

/** What a scan reads of a protocol: its front matter, and the text to parse for fields and the H1. */
export interface ScanSource {
  readonly data: Record<string, unknown> | null;
  /**
   * The whole protocol when it has no front matter and fits {@link MEETING_INFO_SCAN_LIMIT} (a
   * parse of the whole protocol then serves as is), otherwise the start of the body.
   */
  readonly text: string;
  /** Whether `text` is the whole protocol. */
  readonly whole: boolean;
}

/** Splits off the front matter and picks the text to scan. */
export const scanSource = (markdown: string): ScanSource => {
  const { data, body, hasFrontMatter } = splitFrontMatter(markdown);
  if (!hasFrontMatter && body.length <= MEETING_INFO_SCAN_LIMIT) return { data, text: markdown, whole: true };
  return { data, text: limitLength(body, MEETING_INFO_SCAN_LIMIT), whole: false };
};

// internal

/** A date found in a line: its ISO form and the span it covers (weekday and time included). */
interface FoundDate {
  readonly iso: string;
  readonly start: number;
  readonly end: number;
}

/** Month names by month (English, Russian genitive, German), with their usual abbreviations. */
const MONTH_NAMES = [
  "january jan января januar jänner",
  "february feb февраля februar",
  "march mar марта märz maerz mär",
  "april apr апреля",
  "may мая mai",
  "june jun июня juni",
  "july jul июля juli",
  "august aug августа",
  "september sept sep сентября",
  "october oct октября oktober okt",
  "november nov ноября",
  "december dec декабря dezember dez",
];
const MONTHS = new Map(
  MONTH_NAMES.flatMap((names, i) => names.split(" ").map((name) => [name, i + 1] as const)),
);

/** Weekdays a date may start with; two-letter abbreviations are left out (`do`, `so` are words). */
const WEEKDAYS = [
  "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun",
  "понедельник вторник среда четверг пятница суббота воскресенье",
  "montag dienstag mittwoch donnerstag freitag samstag sonnabend sonntag",
].flatMap((names) => names.split(" "));

const alternation = (words: readonly string[]): string =>
  [...words].sort((a, b) => b.length - a.length).join("|");

const MONTH = `(${alternation([...MONTHS.keys()])})\\.?`;
const WEEKDAY_PREFIX = `(?:(?<![\\p{L}\\p{N}])(?:${alternation(WEEKDAYS)})\\.?,?\\s+)?`;
const TIME = "\\d{1,2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?";
const ZONE =
  "(?:(?:\\s*(?:utc|gmt)(?:\\s*[+-]\\d{1,2}(?::?\\d{2})?)?|\\s*(?:cest|cet|eest|eet|west|wet|msk|мск|bst|edt|est|cdt|cst|mdt|mst|pdt|pst|ist|jst|aedt|aest)|z|[+-]\\d{2}:?\\d{2})(?![\\p{L}]))";
const TIME_SUFFIX =
  `(?:(?:T|\\s*,?\\s*(?:(?:at|um|в|von|from|с)\\s+)?)${TIME}(?:\\s*[-–—]\\s*${TIME})?` +
  `(?:\\s*(?:am|pm|a\\.m\\.|p\\.m\\.))?(?:\\s*uhr)?${ZONE}?)?`;
const YEAR_SUFFIX = "(?:\\s*(?:года|г(?:\\.|(?![\\p{L}]))))?";
const SUFFIX = `${YEAR_SUFFIX}${TIME_SUFFIX}`;

type DateParts = (m: RegExpExecArray) => readonly [year: string, month: string | number, day: string];

/** Wraps one accepted form with the optional weekday before it and the time after it. */
const dateForm = (pattern: RegExp, parts: DateParts): readonly [RegExp, DateParts] => [
  new RegExp(`${WEEKDAY_PREFIX}(?<![\\p{L}\\p{N}])(?:${pattern.source})(?![\\p{N}])${SUFFIX}`, "giu"),
  parts,
];

/** One regular expression per accepted form; each reads a single line, never the document. */
const DATE_FORMS: ReadonlyArray<readonly [RegExp, DateParts]> = [
  // 2025-09-02, 2025/09/02
  dateForm(/(\d{4})([-/])(\d{1,2})\2(\d{1,2})/, (m) => [m[1]!, m[3]!, m[4]!]),
  // 02.09.2025, 02/09/2025 (day first)
  dateForm(/(\d{1,2})([./])(\d{1,2})\2(\d{4})/, (m) => [m[4]!, m[3]!, m[1]!]),
  // 2 September 2025, 3 ноября 2025 г., 7. Oktober 2025
  dateForm(
    new RegExp(`(\\d{1,2})(?:\\.|st|nd|rd|th)?\\s*(?:of\\s+)?(?<![\\p{L}])${MONTH},?\\s+(\\d{4})`),
    (m) => [m[3]!, MONTHS.get(m[2]!.toLowerCase()) ?? 0, m[1]!],
  ),
  // September 30, 2025
  dateForm(new RegExp(`(?<![\\p{L}])${MONTH}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})`), (m) => [
    m[3]!,
    MONTHS.get(m[1]!.toLowerCase()) ?? 0,
    m[2]!,
  ]),
];

/**
 * The earliest existing date in a line of text, with the span to cut when it is removed. Callers
 * pass collapsed text: runs of whitespace would make the optional `\s*` pieces backtrack.
 */
const findDate = (text: string): FoundDate | null => {
  let best: FoundDate | null = null;
  for (const [pattern, parts] of DATE_FORMS) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      if (best !== null && m.index >= best.start) break;
      const [year, month, day] = parts(m);
      const iso = toIsoDate(Number(year), Number(month), Number(day));
      if (iso !== null) {
        best = { iso, start: m.index, end: m.index + m[0].length };
        break;
      }
      pattern.lastIndex = m.index + 1;
    }
  }
  return best;
};

/** `YYYY-MM-DD` for a date that exists and lies in 1900–2199 (other years are ids, not meetings). */
const toIsoDate = (year: number, month: number, day: number): string | null => {
  if (!Number.isInteger(year) || year < 1900 || year > 2199) return null;
  if (!Number.isInteger(month) || month < 1 || month > 12) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (!Number.isInteger(day) || day < 1 || day > daysInMonth) return null;
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
};

// front matter

interface FrontMatter {
  readonly data: Record<string, unknown> | null;
  /** The text after the front matter (all of it, without a BOM, if there is none). */
  readonly body: string;
  /**
   * Whether the text starts with front matter: a closed `---` block at the very start, unless its
   * YAML is valid but no mapping (see `splitFrontMatter`). The page leaves it off and meeting info
   * scans only what follows, so both read the same Markdown.
   */
  readonly hasFrontMatter: boolean;
}

/** The largest front matter (UTF-16 code units) read as YAML. */
const MAX_FRONT_MATTER = 16 * 1024;

/**
 * Splits off a closed `---` block at the very start as front matter: YAML that is a mapping gives
 * its data; YAML that is invalid (a value with `: ` in it, `title: Meeting: Budget`, is a common
 * slip) or too large to read is still front matter, written as metadata and not meant for the page,
 * but gives no data. Valid YAML that is no mapping is no front matter: `---` / `Some text` / `---` is
 * a rule and a setext heading.
 */
const splitFrontMatter = (markdown: string): FrontMatter => {
  const text = markdown.startsWith("\uFEFF") ? markdown.slice(1) : markdown;
  const open = /^---[ \t]*\r?\n/.exec(text);
  if (open === null) return { data: null, body: text, hasFrontMatter: false };
  const close = /^(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/m;
  const rest = text.slice(open[0].length);
  const end = close.exec(rest);
  if (end === null) return { data: null, body: text, hasFrontMatter: false };
  const body = rest.slice(end.index + end[0].length);
  // Meeting metadata is a few lines. A block larger than this is not read as YAML: the parser's
  // time and memory grow faster than the text on deeply nested input (200 KB of `[` took seconds
  // and, with the rest of the work, the process's memory), and it cannot hold a date or topic
  // worth that. Like front matter that is not valid YAML, it gives no date or topic.
  if (end.index > MAX_FRONT_MATTER) return { data: null, body, hasFrontMatter: true };
  try {
    const doc = parseDocument(rest.slice(0, end.index));
    if (doc.errors.length > 0) return { data: null, body, hasFrontMatter: true };
    const data: unknown = doc.toJS();
    if (!isRecord(data)) return { data: null, body: text, hasFrontMatter: false };
    return { data, body, hasFrontMatter: true };
  } catch {
    return { data: null, body, hasFrontMatter: true };
  }
};

/**
 * The protocol without its front matter (see `splitFrontMatter`): metadata, not content, also when
 * its YAML is invalid. A thematic break followed by a setext heading stays as it is.
 */
export const withoutFrontMatter = (markdown: string): string => {
  if (!/^\uFEFF?---[ \t]*\r?\n/.test(markdown)) return markdown;
  const { body, hasFrontMatter } = splitFrontMatter(markdown);
  return hasFrontMatter ? body : markdown;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);

/** The value of the first key that equals `name` ignoring case. */
const field = (data: Record<string, unknown> | null, name: string): unknown => {
  if (data === null) return undefined;
  const key = Object.keys(data).find((k) => k.trim().toLowerCase() === name);
  return key === undefined ? undefined : data[key];
};

const frontMatterDate = (data: Record<string, unknown> | null): string | null => {
  const value = field(data, "date");
  // The core schema keeps `2025-09-02` a string; a Date only appears if the schema ever changes.
  if (value instanceof Date) {
    return Number.isNaN(value.getTime())
      ? null
      : toIsoDate(value.getUTCFullYear(), value.getUTCMonth() + 1, value.getUTCDate());
  }
  if (typeof value === "number") return compactDate(String(value));
  return typeof value === "string" ? (findDate(collapse(value))?.iso ?? null) : null;
};

const frontMatterTopic = (data: Record<string, unknown> | null): string | null => {
  for (const name of ["topic", "title"]) {
    const value = field(data, name);
    if (typeof value === "string" || typeof value === "number") {
      const topic = collapse(String(value));
      if (topic !== "") return topic;
    }
  }
  return null;
};

// Markdown

/** Cuts at a line end within `limit` so that no line (or surrogate pair) is split. */
const limitLength = (text: string, limit: number): string => {
  if (text.length <= limit) return text;
  const cut = text.lastIndexOf("\n", limit);
  if (cut > 0) return text.slice(0, cut);
  const high = text.charCodeAt(limit - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? limit - 1 : limit);
};

const DATE_LABEL =
  /^(?:(?:meeting )?date(?: ?(?:&|\/|and) ?time)?|date of (?:the )?meeting|when|дата(?: (?:совещания|встречи|заседания|проведения))?(?: ?(?:\/|и) ?время)?|datum(?: der (?:sitzung|besprechung))?(?: ?(?:\/|&|und) ?uhrzeit)?|sitzungsdatum)$/iu;
const TOPIC_LABEL =
  /^(?:(?:meeting )?(?:topic|subject|title)|тема(?: (?:совещания|встречи))?|название|thema|betreff|titel)$/iu;
/** An HTML tag as inline raw HTML spells it, which the page shows as text. */
// One way to match each tag (no optional `/` beside `[^<>]*`), so a run of tags cannot backtrack.
const TAG = "<\\/?[A-Za-z][A-Za-z0-9-]*(?:[\\s/][^<>]*)?>";
const CLOSING_TAG = "<\\/[A-Za-z][A-Za-z0-9-]*\\s*>";
/**
 * `Label: value`, `Label — value`, `Label - value` (a hyphen needs a space before it). Tags around
 * the label (`<b>Date:</b> 2025-09-02`, `<b>Date</b>: …`) are skipped: the page shows them as text,
 * but they are markup its author meant, not part of the label or the value.
 */
const LABELLED_LINE = new RegExp(
  `^(?:${TAG}\\s*)*([\\p{L}][\\p{L} &/]{0,40}?)\\s*(?:${CLOSING_TAG}\\s*)*(?::|\\s-|[–—])\\s*(?:${CLOSING_TAG}\\s*)*(.*)$`,
  "u",
);
const TAGS = new RegExp(TAG, "gu");
/** A tag pair with nothing but spaces between, left where a date was cut out of the H1. */
const EMPTY_TAG_PAIR = /<([A-Za-z][A-Za-z0-9-]*)(?:[\s/][^<>]*)?>\s*<\/\1\s*>/gu;

/** Records a field if its label names the date or the topic; `true` once the scan is complete. */
const addField = (scan: Scan, label: string, value: string): boolean => {
  if (scan.date === null && DATE_LABEL.test(label)) scan.date = labelledDate(collapse(value));
  if (scan.topic === null && TOPIC_LABEL.test(label)) {
    const topic = collapse(value);
    scan.topic = topic === "" ? null : topic;
  }
  return isComplete(scan);
};

/** `20250902` (ISO 8601 basic, as file names have it) as a whole word. */
const BASIC_DATE = /(?<![\p{L}\p{N}])(\d{4})(\d{2})(\d{2})(?![\p{L}\p{N}])/u;
/** `02.09.25`: day, month and a two-digit year of this century, as German protocols write it. */
const SHORT_YEAR_DATE = /(?<![\p{L}\p{N}.])(\d{1,2})\.(\d{1,2})\.(\d{2})(?![\p{L}\p{N}]|\.\p{N})/u;

/**
 * The date of a date field's value: any form `parseDate` reads, or, right after a date label only,
 * `20250902` or `02.09.25` (elsewhere, such numbers are more often ids, versions or amounts).
 */
const labelledDate = (value: string): string | null => {
  const found = findDate(value);
  if (found !== null) return found.iso;
  let best: { readonly iso: string; readonly at: number } | null = null;
  const basic = BASIC_DATE.exec(value);
  if (basic !== null) {
    const iso = toIsoDate(Number(basic[1]), Number(basic[2]), Number(basic[3]));
    if (iso !== null) best = { iso, at: basic.index };
  }
  const short = SHORT_YEAR_DATE.exec(value);
  if (short !== null && (best === null || short.index < best.at)) {
    const iso = toIsoDate(2000 + Number(short[3]), Number(short[2]), Number(short[1]));
    if (iso !== null) best = { iso, at: short.index };
  }
  return best?.iso ?? null;
};

/** A paragraph line as `[label, value]`: `Label: value`, or a table row that Markdown did not parse. */
const splitLine = (line: string): readonly [string, string] | null => {
  const text = line.trim();
  if (text.startsWith("|")) {
    const cells = text.replace(/^\|/u, "").replace(/\|$/u, "").split("|");
    return cells.length === 2
      ? [stripColon(collapse(cells[0]!.replace(TAGS, ""))), collapse(cells[1]!)]
      : null;
  }
  const m = LABELLED_LINE.exec(text);
  return m === null ? null : [collapse(m[1]!), m[2]!];
};

const stripColon = (label: string): string => label.replace(/\s*:$/u, "");

const collapse = (text: string): string => text.replace(/\s+/gu, " ").trim();

// H1

const GENERIC_HEADINGS = [
  "meeting protocol",
  "meeting minutes",
  "meeting notes",
  "meeting",
  "minutes of (?:the )?meeting",
  "minutes",
  "protocol",
  "notes",
  "протокол(?: (?:совещания|встречи|заседания|собрания))?",
  "встреча",
  "совещание",
  "protokoll(?: der (?:sitzung|besprechung))?",
  "sitzungsprotokoll",
  "besprechungsprotokoll",
  "besprechung",
  "sitzung",
].join("|");
const GENERIC_ALONE = new RegExp(`^(?:${GENERIC_HEADINGS})$`, "iu");
const GENERIC_PREFIX = new RegExp(`^(?:${GENERIC_HEADINGS})\\s*(?::|[-–—])\\s*(.+)$`, "iu");
/** Words that tie a date to what comes before it: `Protokoll vom 20.11.2025`, `Sync on 2025-09-02`. */
const DATE_CONNECTOR = /(?:^|\s)(?:on|of|from|dated|vom|am|от)\s*$/iu;
const SEPARATOR = /[\s\-–—:|,;/·•]/u;

/** Trims separators at both ends; a loop, because `/[…]+$/` is quadratic on long separator runs. */
const trimSeparators = (text: string): string => {
  let start = 0;
  let end = text.length;
  while (start < end && SEPARATOR.test(text[start]!)) start++;
  while (end > start && SEPARATOR.test(text[end - 1]!)) end--;
  return text.slice(start, end);
};

const readHeading = (text: string): { date: string | null; topic: string | null } => {
  const heading = collapse(text);
  const found = findDate(heading);
  let rest = heading;
  if (found !== null) {
    const before = heading.slice(0, found.start).replace(DATE_CONNECTOR, "");
    rest = `${before} ${heading.slice(found.end)}`;
  }
  rest = trimSeparators(collapse(rest.replace(EMPTY_TAG_PAIR, "").replace(/\(\s*\)|\[\s*\]/gu, "")));
  const prefixed = GENERIC_PREFIX.exec(rest);
  const topic = prefixed !== null ? trimSeparators(prefixed[1]!) : rest;
  return {
    date: found?.iso ?? null,
    topic: topic === "" || GENERIC_ALONE.test(topic) ? null : topic,
  };
};

// file name

/** A date in a file name: `YYYYMMDD`, `YYYY-MM-DD` or `YYYY_MM_DD`, not inside a longer number. */
const FILENAME_DATE = /(?<!\d)(\d{4})([-_]?)(\d{2})\2(\d{2})(?!\d)/gu;

const compactDate = (text: string): string | null => {
  const m = /^(\d{4})(\d{2})(\d{2})$/u.exec(text);
  return m === null ? null : toIsoDate(Number(m[1]), Number(m[2]), Number(m[3]));
};

const parseFilename = (filename: string): { date: string | null; topic: string | null } => {
  const base = filename.split(/[/\\]/u).pop() ?? "";
  const stem = base.replace(/\.\p{L}[\p{L}\p{N}]{0,9}$/u, "");
  let date: string | null = null;
  let topic = stem;
  for (const m of stem.matchAll(FILENAME_DATE)) {
    const iso = toIsoDate(Number(m[1]), Number(m[3]), Number(m[4]));
    if (iso !== null) {
      date = iso;
      topic = `${stem.slice(0, m.index)} ${stem.slice(m.index + m[0].length)}`;
      break;
    }
  }
  const cleaned = collapse(topic.replace(/[\s_.\-–—]+/gu, " "));
  // `meeting_20250902.md` names no topic, as `# Meeting Notes` alone does not.
  return { date, topic: cleaned === "" || GENERIC_ALONE.test(cleaned) ? null : cleaned };
};
