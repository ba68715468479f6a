/**
 * Finds a protocol's meeting date and topic in its Markdown (front matter, labelled fields, the
 * first H1) or, failing that, in its file name. Structure comes from micromark's events, the same
 * events the converter compiles, so a caller holding a `ParsedMarkdown` pays for one parse in all;
 * code blocks never count, and regular expressions only read single lines. The text rules live in
 * meeting-fields.ts; this module only decides which text is a paragraph, a heading or a table row.
 */

import { decodeString } from "micromark-util-decode-string";
import type { Event, Token } from "micromark-util-types";
import { shownInlineHtml } from "./annotate.js";
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
 * - date: front matter `date`; the first labelled field (`Date`, `Meeting date`, `Дата`,
 *   `Дата совещания`, `Дата встречи`, `Datum`, …) whose value holds a date; the first date in the
 *   first H1; a date in the file name (`YYYYMMDD`, `YYYY-MM-DD`, `YYYY_MM_DD`).
 * - topic: front matter `topic`, then `title`; the first labelled field (`Topic`, `Subject`, `Тема`,
 *   `Thema`, `Betreff`); the first H1 as plain text without its date and without a generic prefix
 *   (`Protokoll: Betriebsrat` → `Betriebsrat`; a generic heading alone is skipped); the file name
 *   without extension and date, separators as spaces.
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
 * shift); invalid YAML counts as no front matter. Never throws.
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

/** The plain text of each cell of a table row. */
const cells = (events: ReadonlyArray<Event>, from: number, to: number): Array<string> => {
  const texts: Array<string> = [];
  for (let index = from + 1; index < to; index++) {
    const [kind, token] = events[index] as Event;
    if (kind === "enter" && (token.type === "tableHeader" || token.type === "tableData")) {
      const end = exitIndex(events, index);
      texts.push(plainText(events, index, end, true));
      index = end;
    }
  }
  return texts;
};

/** The index of the event that exits the token entered at `enter` (the last event if none does). */
const exitIndex = (events: ReadonlyArray<Event>, enter: number): number => {
  const token = (events[enter] as Event)[1];
  for (let index = enter + 1; index < events.length; index++) {
    const event = events[index] as Event;
    if (event[1] === token && event[0] === "exit") return index;
  }
  return events.length - 1;
};

/**
 * The plain text of the inline content between two events, as mdast-util-from-markdown's values
 * would give it: text with escapes and references decoded and soft line breaks as they are written,
 * inline code's value, `\n` for a hard break, an image's alt text (which, as mdast's `alt`, includes
 * raw HTML and drops breaks); links and emphasis give their text, footnote calls nothing. Inline raw
 * HTML gives the text the page shows for it (`shownInlineHtml`): the converter writes it as escaped
 * text, so `# Review of <Service> API` is read with `<Service>`; a comment gives nothing, `<br>` a `\n`.
 * `inTable`: inline code in table cells reads `\|` as `|`, as mdast-util-gfm-table does.
 */
const plainText = (events: ReadonlyArray<Event>, from: number, to: number, inTable: boolean): string => {
  let text = "";
  /** The outermost image whose alt text is being read. */
  let alt: Token | undefined;
  /** A hard break includes the line ending after it. */
  let afterBreak = false;
  for (let index = from + 1; index < to; index++) {
    const [kind, token, context] = events[index] as Event;
    if (kind === "exit") {
      if (token === alt) alt = undefined;
      continue;
    }
    const type: string = token.type;
    switch (type) {
      case "data":
      case "characterEscapeValue":
      case "autolinkProtocol":
      case "autolinkEmail":
      case "literalAutolinkHttp":
      case "literalAutolinkWww":
      case "literalAutolinkEmail":
        text += context.sliceSerialize(token);
        break;
      case "characterReference":
        text += decodeString(context.sliceSerialize(token));
        index = exitIndex(events, index);
        break;
      case "lineEnding":
        if (afterBreak) afterBreak = false;
        else text += context.sliceSerialize(token);
        break;
      case "hardBreakEscape":
      case "hardBreakTrailing":
        if (alt === undefined) text += "\n";
        afterBreak = true;
        break;
      case "codeText": {
        const end = exitIndex(events, index);
        const code = literal(events, index, end, "codeTextData");
        text += inTable
          ? code.replace(/\\([\\|])/gu, (match, char: string) => (char === "|" ? "|" : match))
          : code;
        index = end;
        break;
      }
      case "htmlText": {
        const end = exitIndex(events, index);
        const html = literal(events, index, end, "htmlTextData");
        text += alt !== undefined ? html : shownInlineHtml(html);
        index = end;
        break;
      }
      case "image":
        alt ??= token;
        break;
      case "resource":
      case "reference":
      case "gfmFootnoteCall":
        index = exitIndex(events, index);
        break;
      default:
    }
  }
  return text;
};

/** The value of inline code or raw HTML: its data tokens and line endings, without padding or prefixes. */
const literal = (events: ReadonlyArray<Event>, from: number, to: number, data: string): string => {
  let value = "";
  for (let index = from + 1; index < to; index++) {
    const [kind, token, context] = events[index] as Event;
    if (kind === "enter" && (token.type === data || token.type === "lineEnding"))
      value += context.sliceSerialize(token);
  }
  return value;
};
