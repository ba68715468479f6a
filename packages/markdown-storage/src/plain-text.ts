// The text a walk over micromark's events reads from inline content, as mdast-util-from-markdown's
// values would give it and as the page shows it: meeting info (meeting-info.ts) and participants
// (participants.ts) read fields from it. Only the events between two indexes are read, so a caller
// walks the document once and hands each paragraph, heading or cell over.

import { decodeString } from "micromark-util-decode-string";
import type { Event, Token } from "micromark-util-types";
import { shownInlineHtml } from "./annotate.js";

/** The plain text of each cell of a table row. */
export const cells = (events: ReadonlyArray<Event>, from: number, to: number): Array<string> => {
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
export const exitIndex = (events: ReadonlyArray<Event>, enter: number): number => {
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
export const plainText = (
  events: ReadonlyArray<Event>,
  from: number,
  to: number,
  inTable: boolean,
): string => {
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
