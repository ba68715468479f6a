// One micromark parse of a protocol, shared by the meeting-info scan and the converter: parsing is
// most of the cost of both, so a caller that needs both parses once. The parse is of the text the
// converter needs (XML-forbidden characters replaced, absurd container nesting escaped); the events
// are read-only afterwards, so they can be scanned and compiled in any order, any number of times.

import type { Event } from "micromark-util-types";
import { withoutFrontMatter } from "./meeting-fields.js";
import { concatEvents, parseMarkdown } from "./parse-chunks.js";
import { capContainerNesting } from "./split-blocks.js";
import { sanitizeXmlChars } from "./xml-text.js";

declare const ParsedMarkdownBrand: unique symbol;

/**
 * A protocol parsed by {@link parseProtocol}; pass it to `extractMeetingInfo` and
 * `markdownToStorage` instead of the text so that both use one parse. Opaque and immutable.
 */
export interface ParsedMarkdown {
  readonly [ParsedMarkdownBrand]: "ParsedMarkdown";
}

/** Options of {@link parseProtocol}. */
export interface ParseOptions {
  /**
   * Documents longer than this many characters are parsed in runs of top-level blocks of about this
   * size (default 16 KiB). It only affects speed; the output is the same for every value.
   */
  readonly chunkSize?: number | undefined;
}

/**
 * Parses a protocol once, for both `extractMeetingInfo(parsed, filename)` and
 * `markdownToStorage(parsed, options)`; each gives exactly what it gives for the text itself.
 *
 * Never throws: if the parser fails (stack exhaustion on pathological input), the result still
 * works, and the converter falls back to escaped text as it does for a string. Meeting info reads
 * the shared parse unless the protocol starts with front matter or is longer than
 * `MEETING_INFO_SCAN_LIMIT`; then it parses the start of the body on its own, as for a string.
 *
 * @example
 * const parsed = parseProtocol(markdown);
 * const { date, topic } = extractMeetingInfo(parsed, "weekly-sync.md");
 * const body = markdownToStorage(parsed, { addInfoPanel: true, meeting: { date, topic } });
 */
export const parseProtocol = (markdown: string, options: ParseOptions = {}): ParsedMarkdown =>
  parsedOf(markdown, options) as unknown as ParsedMarkdown;

// internal

const DEFAULT_CHUNK_SIZE = 16 * 1024;
const MAX_NESTING = 64;

/** What a {@link ParsedMarkdown} is. */
class Parsed {
  constructor(
    /** The protocol as given. */
    readonly markdown: string,
    /** The events of the whole document; `undefined` if the parser failed. */
    readonly events: ReadonlyArray<Event> | undefined,
  ) {}
}

/** The contents of a {@link ParsedMarkdown}; `undefined` for anything else (such as a string). */
export const contentsOf = (value: unknown): Parsed | undefined =>
  value instanceof Parsed ? value : undefined;

/** The contents of a {@link ParsedMarkdown}, parsing `markdown` first unless it is one already. */
export const parsedOf = (markdown: unknown, options: ParseOptions = {}): Parsed =>
  contentsOf(markdown) ?? new Parsed(String(markdown), parseText(String(markdown), options.chunkSize));

/**
 * The text the converter parses: front matter dropped (it is metadata, read by meeting info),
 * XML-forbidden characters replaced by U+FFFD, container nesting capped.
 */
export const converterText = (markdown: string): string =>
  capContainerNesting(sanitizeXmlChars(withoutFrontMatter(markdown)), MAX_NESTING);

/** The events of {@link converterText}, or `undefined` if the parser failed. */
export const parseText = (markdown: string, chunkSize?: number): ReadonlyArray<Event> | undefined => {
  try {
    const pieces = parseMarkdown(converterText(markdown), Math.max(1, chunkSize ?? DEFAULT_CHUNK_SIZE));
    return concatEvents(pieces);
  } catch {
    return undefined;
  }
};
