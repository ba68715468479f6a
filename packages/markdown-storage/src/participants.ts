// Reads who attended a meeting out of its protocol, for the info panel and page templates. Like
// meeting info it walks micromark's events (one parse, shared through `parseProtocol`), so names are
// read as the page shows them: links as their text, escapes and character references decoded, code
// blocks and HTML blocks never counted. The tradeoff is a fixed set of labels and two shapes (a list
// under a label, or names on a labelled line); anything else gives no participants.

import type { Event } from "micromark-util-types";
import { type ParsedMarkdown, parsedOf } from "./parse-protocol.js";
import { cells, exitIndex, plainText } from "./plain-text.js";

/**
 * The meeting's participants, in the order the protocol lists them, as the page shows each name
 * (`[Alice Smith](mailto:…)` → `Alice Smith`, `bob\_jones` → `bob_jones`, `Müller &amp; Co` →
 * `Müller & Co`). The first of these in document order wins:
 *
 * - a heading (any level) or a line of its own labelled `Participants`, `Attendees`, `Present`,
 *   `Teilnehmer`, `Teilnehmerinnen`, `Teilnehmende`, `Anwesend`, `Anwesende`, `Участники`,
 *   `Присутствовали` or `Присутствующие` (optionally with a colon, any emphasis), directly followed
 *   by a bulleted, numbered or task list: each item's text, nested items included;
 * - a labelled line (`**Attendees:** Priya Raman, Tom Becker (chair); Ana Lima`) in a paragraph,
 *   list item or heading, or a two-cell table row (`| Attendees | Priya, Tom |`): the value split at
 *   commas and semicolons that are not inside parentheses.
 *
 * Code and HTML blocks never count; a label that no list follows is skipped. Front matter is not read.
 * Pass the result of `parseProtocol` to share its parse with `extractMeetingInfo` and
 * `markdownToStorage`. Never throws; `[]` when there is no such list or line (or the parser failed).
 *
 * @example
 * extractParticipants("## Attendees\n- [Alice Smith](mailto:alice@example.com)\n- bob\\_jones\n")
 * // → ["Alice Smith", "bob_jones"]
 */
export const extractParticipants = (markdown: string | ParsedMarkdown): Array<string> => {
  const events = parsedOf(markdown).events;
  return events === undefined ? [] : scanEvents(events);
};

// internal

const LABEL =
  "participants|attendees|present|teilnehmer(?:innen)?|teilnehmende|anwesend|anwesende|участники|присутствовали|присутствующие";
/** A label alone (a heading or a line before a list). */
const LABEL_ALONE = new RegExp(`^(?:${LABEL})\\s*:?$`, "iu");
/** A label with the names after it. */
const LABEL_LINE = new RegExp(`^(?:${LABEL})\\s*:\\s*(.+)$`, "iu");
const LABEL_CELL = new RegExp(`^(?:${LABEL})\\s*:?$`, "iu");

/** Tokens between a block and the next block at its level. */
const gaps = new Set<string>([
  "lineEnding",
  "lineEndingBlank",
  "linePrefix",
  "listItemIndent",
  "blockQuotePrefix",
  "whitespace",
]);

const scanEvents = (events: ReadonlyArray<Event>): Array<string> => {
  for (let index = 0; index < events.length; index++) {
    const [kind, token] = events[index] as Event;
    if (kind === "exit") continue;
    const type: string = token.type;
    switch (type) {
      case "paragraph":
      case "atxHeading":
      case "setextHeading": {
        const end = exitIndex(events, index);
        const lines = blockText(events, index, end).split("\n").map(collapse);
        for (const [n, line] of lines.entries()) {
          const names = LABEL_LINE.exec(line)?.[1];
          if (names !== undefined) return splitNames(names);
          // A label alone introduces a list only as the last line before it.
          if (n === lines.length - 1 && LABEL_ALONE.test(line)) {
            const list = listAfter(events, end);
            if (list !== undefined) return listItems(events, list);
          }
        }
        index = end;
        continue;
      }
      case "tableRow": {
        const end = exitIndex(events, index);
        const row = cells(events, index, end).map(collapse);
        if (row.length === 2 && LABEL_CELL.test(row[0] as string)) return splitNames(row[1] as string);
        index = end;
        continue;
      }
      case "codeFenced":
      case "codeIndented":
      case "htmlFlow":
        index = exitIndex(events, index);
        continue;
      default:
    }
  }
  return [];
};

/** The text of a paragraph or of a heading (its text without the `#` or `===` markers). */
const blockText = (events: ReadonlyArray<Event>, from: number, to: number): string => {
  if ((events[from] as Event)[1].type === "paragraph") return plainText(events, from, to, false);
  for (let index = from + 1; index < to; index++) {
    const [kind, token] = events[index] as Event;
    if (kind === "enter" && (token.type === "atxHeadingText" || token.type === "setextHeadingText"))
      return plainText(events, index, exitIndex(events, index), false);
  }
  return "";
};

/**
 * The index of the list that follows the block exited at `exit`, if the next thing after it (line
 * endings and container prefixes aside) is a list; `undefined` otherwise.
 */
const listAfter = (events: ReadonlyArray<Event>, exit: number): number | undefined => {
  for (let index = exit + 1; index < events.length; index++) {
    const [kind, token] = events[index] as Event;
    const type: string = token.type;
    if (kind === "enter" && gaps.has(type)) {
      index = exitIndex(events, index);
      continue;
    }
    // micromark wraps a paragraph in a `content` token: its exit follows the paragraph's.
    if (kind === "exit" && type === "content") continue;
    return kind === "enter" && (type === "listOrdered" || type === "listUnordered") ? index : undefined;
  }
  return undefined;
};

/** Each item's own text (its first paragraph) in a list and the lists nested in it. */
const listItems = (events: ReadonlyArray<Event>, list: number): Array<string> => {
  const end = exitIndex(events, list);
  const names: Array<string> = [];
  let itemStarted = false;
  for (let index = list + 1; index < end; index++) {
    const [kind, token] = events[index] as Event;
    if (kind === "exit") continue;
    const type: string = token.type;
    if (type === "listItemPrefix") {
      itemStarted = true;
      index = exitIndex(events, index);
    } else if (
      type === "paragraph" ||
      type === "codeFenced" ||
      type === "codeIndented" ||
      type === "htmlFlow"
    ) {
      const exit = exitIndex(events, index);
      if (itemStarted && type === "paragraph") {
        const name = collapse(plainText(events, index, exit, false));
        if (name !== "") names.push(name);
      }
      itemStarted = false;
      index = exit;
    }
  }
  return names;
};

/** Names on a labelled line: split at commas and semicolons outside parentheses. */
const splitNames = (text: string): Array<string> => {
  const names: Array<string> = [];
  let depth = 0;
  let start = 0;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === "(") depth++;
    else if (char === ")") depth = Math.max(0, depth - 1);
    else if ((char === "," || char === ";") && depth === 0) {
      names.push(text.slice(start, at));
      start = at + 1;
    }
  }
  names.push(text.slice(start));
  return names.map(collapse).filter((name) => name !== "");
};

const collapse = (text: string): string => text.replace(/\s+/gu, " ").trim();
