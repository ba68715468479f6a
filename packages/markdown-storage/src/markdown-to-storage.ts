// The converter: Markdown (CommonMark + GFM) → Confluence storage format. micromark parses (in pieces
// for large documents, see parse-chunks.ts), `annotate` makes the look-ahead decisions, and
// micromark's own compiler runs with our handlers overriding the constructs Confluence spells
// differently. Output is always well-formed XML; any internal failure degrades to escaped text.

import { compile } from "micromark";
import { gfmHtml } from "micromark-extension-gfm";
import type { Event, HtmlExtension } from "micromark-util-types";
import { annotate } from "./annotate.js";
import { isoDate } from "./due-date.js";
import { codeHandlers } from "./handle/code.js";
import { footnoteHandlers } from "./handle/footnote.js";
import { headingHandlers } from "./handle/heading.js";
import { htmlHandlers } from "./handle/html.js";
import { type InlineState, lineEndingHandlers } from "./handle/line-ending.js";
import { listHandlers } from "./handle/list.js";
import { mediaHandlers } from "./handle/media.js";
import { quoteHandlers } from "./handle/quote.js";
import { tableHandlers } from "./handle/table.js";
import { withoutFrontMatter } from "./meeting-fields.js";
import { type ParsedMarkdown, parsedOf } from "./parse-protocol.js";
import { escapeXml, sanitizeXmlChars } from "./xml-text.js";

/** What is known about the meeting, for the date element and the info panel. */
export interface MeetingSummary {
  /** Meeting date as `YYYY-MM-DD`; anything else is ignored. */
  readonly date?: string | null;
  readonly topic?: string | null;
  /** Names for the info panel, e.g. `extractParticipants(parsed)`; shown as given, escaped. */
  readonly participants?: ReadonlyArray<string>;
}

/** Publication metadata shown in a collapsed block at the bottom of the page. */
export interface PublicationMetadata {
  readonly jobId: string;
  readonly sourceFile: string;
  readonly generatedAt: string;
  readonly contentHash: string;
}

/**
 * Options of `markdownToStorage`; every feature is off by default. The first four mirror the config
 * keys `content_macros.add_toc`, `content_macros.add_date_macro`, `content_macros.add_info_panel` and
 * `include_metadata`; `deployment` mirrors `confluence.deployment`.
 */
export interface StorageOptions {
  /**
   * The Confluence the page is for (default `cloud`). It decides the `code` macro's `language`:
   * Data Center renders a language it does not know as an error box, so for `datacenter` the
   * languages only Cloud knows (`go`, `json`, `typescript`, …) become `none` (no highlighting).
   */
  readonly deployment?: "cloud" | "datacenter";
  /** Put a `toc` macro at the top. */
  readonly addToc?: boolean;
  /** Put the meeting date (`meeting.date`) at the top as `<time datetime="YYYY-MM-DD" />`. */
  readonly addDateMacro?: boolean;
  /** Put an `info` panel with topic, date and participants at the top (only the known ones). */
  readonly addInfoPanel?: boolean;
  /** Append an `expand` macro with job id, source file, generation time and content hash. */
  readonly includeMetadata?: boolean;
  readonly meeting?: MeetingSummary;
  readonly metadata?: PublicationMetadata;
  /**
   * Re-emit balanced `sub`, `sup`, `u`, `kbd`, `mark` tags; all other raw HTML stays escaped text
   * except `<br>` (always a line break) and comments (never shown), whatever this says.
   */
  readonly allowSafeHtml?: boolean;
  /**
   * Documents longer than this many characters are parsed in runs of top-level blocks of about this
   * size (default 16 KiB). It only affects speed; the output is the same for every value. Ignored
   * when the Markdown comes as a `ParsedMarkdown` (give it to `parseProtocol` then).
   */
  readonly chunkSize?: number;
}

/** Compiles the parsed events; `undefined` if the parser, the compiler or a handler failed. */
const convertBody = (
  parsed: ReadonlyArray<Event> | undefined,
  options: StorageOptions,
): string | undefined => {
  if (parsed === undefined) return undefined;
  try {
    const { annotations, events } = annotate(parsed, options.allowSafeHtml === true);
    const inline: InlineState = { paragraphDepth: 0, afterHardBreak: false, verbatim: false };
    const handlers: Array<HtmlExtension> = [
      gfmHtml(),
      tableHandlers(),
      codeHandlers(inline, options.deployment ?? "cloud"),
      mediaHandlers(annotations),
      listHandlers(annotations, { next: 0 }, inline),
      lineEndingHandlers(inline, annotations),
      headingHandlers(inline, annotations),
      quoteHandlers(annotations),
      htmlHandlers(annotations, inline),
      footnoteHandlers(),
    ];
    return compile({ htmlExtensions: handlers })(events as Parameters<ReturnType<typeof compile>>[0]);
  } catch {
    return undefined;
  }
};

/** Last-resort rendering when the parser fails (e.g. stack exhaustion): escaped text paragraphs. */
const fallback = (markdown: string): string =>
  sanitizeXmlChars(markdown)
    .split(/\r?\n[ \t]*\r?\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => `<p>${escapeXml(block)}</p>`)
    .join("\n");

const timeElement = (date: string | null | undefined): string | undefined => {
  const m = date == null ? null : /^(\d{4})-(\d{2})-(\d{2})$/.exec(date.trim());
  if (m === null) return undefined;
  const iso = isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  return iso === undefined ? undefined : `<time datetime="${iso}" />`;
};

const text = (value: string): string => escapeXml(sanitizeXmlChars(value));

const infoPanel = (meeting: MeetingSummary): string | undefined => {
  const rows: Array<string> = [];
  const topic = meeting.topic?.trim();
  if (topic) rows.push(`<p><strong>Topic:</strong> ${text(topic)}</p>`);
  const date = timeElement(meeting.date);
  if (date !== undefined) rows.push(`<p><strong>Date:</strong> ${date}</p>`);
  const people = (meeting.participants ?? []).map((p) => p.trim()).filter((p) => p !== "");
  if (people.length > 0) rows.push(`<p><strong>Participants:</strong> ${text(people.join(", "))}</p>`);
  if (rows.length === 0) return undefined;
  return `<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Meeting</ac:parameter><ac:rich-text-body>${rows.join("")}</ac:rich-text-body></ac:structured-macro>`;
};

const metadataBlock = (metadata: PublicationMetadata): string => {
  const row = (name: string, value: string): string => `<tr><th>${name}</th><td>${text(value)}</td></tr>`;
  return (
    '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Publication metadata</ac:parameter>' +
    `<ac:rich-text-body><table><tbody>${row("Job ID", metadata.jobId)}${row("Source file", metadata.sourceFile)}` +
    `${row("Generated at", metadata.generatedAt)}${row("Content hash", metadata.contentHash)}</tbody></table>` +
    "</ac:rich-text-body></ac:structured-macro>"
  );
};

/**
 * Converts Markdown (CommonMark + GFM) to a Confluence storage-format fragment. The Markdown may come
 * as the result of `parseProtocol`, to share one parse with `extractMeetingInfo`; the output is the
 * same as for the text itself.
 *
 * Pure and synchronous; never throws. The result is always well-formed XML once wrapped in an element
 * declaring the `ac` and `ri` namespaces. Raw HTML is escaped as text (see `allowSafeHtml`), except
 * that `<br>` is a line break and comments are dropped; `javascript:`, `vbscript:` and `data:` URLs
 * are dropped too. Content macros are off unless enabled. A link to a heading of the same document by
 * its GitHub slug (`[actions](#action-items)`) becomes `ac:link ac:anchor`, and only such a heading gets
 * an `anchor` macro; links to other Markdown files stay `<a href>` (their page titles are unknown).
 *
 * @example
 * markdownToStorage("- [ ] Send minutes (due 2026-07-27)")
 * // '<ac:task-list>\n<ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete</ac:task-status>' +
 * // '<ac:task-body>Send minutes <time datetime="2026-07-27" /></ac:task-body></ac:task>\n</ac:task-list>'
 */
export const markdownToStorage = (
  markdown: string | ParsedMarkdown,
  options: StorageOptions = {},
): string => {
  const parsed = parsedOf(markdown, options);
  const body = convertBody(parsed.events, options) ?? fallback(withoutFrontMatter(parsed.markdown));
  const head: Array<string> = [];
  if (options.addToc === true) head.push('<ac:structured-macro ac:name="toc" />');
  if (options.addDateMacro === true) {
    const date = timeElement(options.meeting?.date);
    if (date !== undefined) head.push(`<p>${date}</p>`);
  }
  if (options.addInfoPanel === true && options.meeting !== undefined) {
    const panel = infoPanel(options.meeting);
    if (panel !== undefined) head.push(panel);
  }
  const tail: Array<string> = [];
  if (options.includeMetadata === true && options.metadata !== undefined)
    tail.push(metadataBlock(options.metadata));
  if (head.length === 0 && tail.length === 0) return body;
  return [...head, body.replace(/\n+$/, ""), ...tail].filter((part) => part !== "").join("\n");
};
