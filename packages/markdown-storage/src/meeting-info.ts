/**
 * Finds a protocol's meeting date and topic in its Markdown (front matter, labelled fields, the
 * first H1) or, failing that, in its file name. Structure comes from micromark's events, the same
 * events the converter compiles, so a caller holding a `ParsedMarkdown` pays for one parse in all;
 * code blocks never count, and regular expressions only read single lines. The text rules live in
 * meeting-fields.ts; this module only decides which text is a paragraph, a heading or a table row.
 */

import type { Event } from "micromark-util-types";
import {
  addHeading,
  addLines,
  addRow,
  emptyScan,
  resolveMeeting,
  type Scan,
  scanSource,
} from "./meeting-fields.js";
import { contentsOf, type ParsedMarkdown, parseText } from "./parse-protocol.js";
import { cells, exitIndex, plainText } from "./plain-text.js";

export { MEETING_INFO_SCAN_LIMIT, parseDate } from "./meeting-fields.js";

/** The meeting date and topic found in a protocol; `null` where nothing was found. */
export interface MeetingInfo {
  /** The meeting date as `YYYY-MM-DD` (a date that exists), or `null`. */
  readonly date: string | null;
  /** The topic as plain text with collapsed whitespace (never empty), or `null`. */
  readonly topic: string | null;
}

/**
 * Extracts the meeting date and topic from a protocol, given as text or as the result of
 * `parseProtocol` (the same answer either way). For each value the first rule that matches wins:
 *
 * - date: front matter `date`; the first labelled field (`Date`, `Meeting date`, `Date & Time`,
 *   `Дата`, `Дата совещания`, `Datum`, `Datum/Uhrzeit`, …) whose value holds a date (there also
 *   `20250902` and `02.09.25`); the first date in the first H1; a date in the file name (`YYYYMMDD`,
 *   `YYYY-MM-DD`, `YYYY_MM_DD`).
 * - topic: front matter `topic`, then `title`; the first labelled field (`Topic`, `Subject`,
 *   `Title`, `Meeting title`, `Тема`, `Thema`, `Betreff`, `Titel`); the first H1 as plain text
 *   without its date and without a generic prefix (`Protokoll: Betriebsrat` → `Betriebsrat`; a
 *   generic heading alone is skipped); the file name without extension and date, separators as
 *   spaces, unless that is generic too (`meeting_20250902.md`).
 *
 * Labelled fields are lines of paragraphs, list items and headings (`**Date:** 2025-09-02`,
 * `Meeting date — 14/10/2025`) or two-cell table rows (`| Datum | 20.11.2025 |`); code blocks and HTML
 * blocks are ignored. Inline raw HTML is read as the page shows it (the converter escapes it as
 * text): `# Review of <Service> API` gives the topic `Review of <Service> API`; comments give
 * nothing, and tags around a label (`<b>Date:</b> 2025-09-02`) do not hide the field. Only the first {@link MEETING_INFO_SCAN_LIMIT} characters after the front matter
 * are parsed: a longer body is cut at the last line end within the limit and parsed on its own, so a
 * block straddling the mark is read as far as the cut. The text is read as the converter reads it:
 * characters XML forbids (C0 controls, U+FFFE/U+FFFF, lone surrogates) are U+FFFD. YAML front matter
 * is read with the YAML 1.2 core schema, so `date: 2025-09-02` stays the written string (no time-zone
 * shift); front matter whose YAML is invalid or over 16 KiB gives no date or topic and, as on the
 * page, is skipped; a leading `---` block of valid YAML that is no mapping is Markdown (a rule and a
 * setext heading), as on the page. Never throws.
 *
 * The event's own `meetingDate` and `topic` win over this; applying them is the caller's job.
 *
 * @example
 * extractMeetingInfo("# Protokoll: Betriebsrat\n\nDatum: 20.11.2025\n")
 * // → { date: "2025-11-20", topic: "Betriebsrat" }
 */
export const extractMeetingInfo = (markdown: string | ParsedMarkdown, filename?: string): MeetingInfo => {
  const parsed = contentsOf(markdown);
  const source = scanSource(parsed?.markdown ?? String(markdown));
  // Without front matter and within the limit, the text to scan is the whole protocol: exactly
  // what `parseProtocol` parsed, so its events serve and the answer cannot differ.
  const events = source.whole && parsed !== undefined ? parsed.events : parseText(source.text);
  return resolveMeeting(source.data, events === undefined ? emptyScan() : scanEvents(events), filename);
};

// internal

/**
 * Walks the events in document order like the mdast tree they would build: the first top-level
 * depth-1 heading is the H1; paragraphs, headings (any depth, anywhere) and table rows are fields.
 * Code and HTML blocks are skipped whole. Stops as soon as both fields are known.
 */
const scanEvents = (events: ReadonlyArray<Event>): Scan => {
  const scan = emptyScan();
  let depth = 0;
  for (let index = 0; index < events.length; index++) {
    const [kind, token] = events[index] as Event;
    if (kind === "exit") {
      depth--;
      continue;
    }
    const type: string = token.type;
    switch (type) {
      case "paragraph": {
        const end = exitIndex(events, index);
        if (addLines(scan, plainText(events, index, end, false))) return scan;
        index = end;
        continue;
      }
      case "atxHeading":
      case "setextHeading": {
        const end = exitIndex(events, index);
        const { level, text } = heading(events, index, end);
        if (depth === 0 && level === 1) addHeading(scan, text);
        if (addLines(scan, text)) return scan;
        index = end;
        continue;
      }
      case "tableRow": {
        const end = exitIndex(events, index);
        if (addRow(scan, cells(events, index, end))) return scan;
        index = end;
        continue;
      }
      case "codeFenced":
      case "codeIndented":
      case "htmlFlow":
        index = exitIndex(events, index);
        continue;
      default:
        depth++;
    }
  }
  return scan;
};

/** A heading's level (`#` or `===` is 1) and its text. */
const heading = (
  events: ReadonlyArray<Event>,
  from: number,
  to: number,
): { readonly level: number; readonly text: string } => {
  let level = 0;
  let text = "";
  for (let index = from + 1; index < to; index++) {
    const [kind, token, context] = events[index] as Event;
    if (kind === "exit") continue;
    const type: string = token.type;
    if (type === "atxHeadingText" || type === "setextHeadingText") {
      const end = exitIndex(events, index);
      text = plainText(events, index, end, false);
      index = end;
    } else if (type === "atxHeadingSequence" && level === 0) {
      level = context.sliceSerialize(token).length;
    } else if (type === "setextHeadingLineSequence") {
      level = context.sliceSerialize(token).startsWith("=") ? 1 : 2;
    }
  }
  return { level, text };
};
