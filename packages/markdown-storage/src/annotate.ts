// One pass over micromark's events before compiling, deciding what needs look-ahead: which block
// quotes are GitHub alerts, which lists are task lists (every item has a checkbox), which inline
// HTML tags are balanced safe tags, what raw HTML shows at all (comments nothing, `<br>` a break), and
// which soft breaks end a labelled field line (`Date: …` / `Topic: …`) rather than wrap prose, and
// which links go to a heading of the page (heading-anchors.ts).
// Decisions are stored per token, so the compile handlers stay single-pass and the total cost stays
// linear.

import { decodeString } from "micromark-util-decode-string";
import type { Event, Token } from "micromark-util-types";
import { type AnchorAnnotations, HeadingAnchors } from "./heading-anchors.js";
import { escapeXml } from "./xml-text.js";

/** Confluence admonition macro names used for GitHub alerts. */
export type AlertMacro = "info" | "tip" | "note" | "warning";

const alertMacros: Record<string, AlertMacro> = {
  NOTE: "info",
  TIP: "tip",
  IMPORTANT: "note",
  WARNING: "note",
  CAUTION: "warning",
};

const alertMarker = /^\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*(?:\r\n|\r|\n|$)/i;

/** Per-token decisions made before compiling. */
export interface Annotations extends AnchorAnnotations {
  readonly alerts: WeakMap<Token, AlertMacro>;
  readonly taskLists: WeakSet<Token>;
  /** First paragraph of each task item → its `ac:task-status`. */
  readonly taskParagraphs: WeakMap<Token, "complete" | "incomplete">;
  readonly taskChecks: WeakSet<Token>;
  /** `htmlText` tokens re-emitted as markup (`""` for a comment), with the markup to emit. */
  readonly safeHtml: WeakMap<Token, string>;
  /** `htmlFlow` tokens holding a comment or only `<br>` tags, with the whole output for the block. */
  readonly htmlBlocks: WeakMap<Token, string>;
  /** Line endings that write nothing: after a `<br>` (like after a hard break) or a hidden HTML block. */
  readonly silentLineEndings: WeakSet<Token>;
  /** Soft line breaks before a labelled line of a labelled paragraph, kept as line breaks (see `FieldLines`). */
  readonly fieldBreaks: WeakSet<Token>;
  /**
   * Email autolinks written with GFM's `mailto:` or `xmpp:` scheme, which micromark leaves out of the
   * link (it links `foo@bar.baz` of `xmpp:foo@bar.baz` as `mailto:foo@bar.baz`): the scheme and, for
   * `xmpp:`, the resource (`/home`) that belong to the link.
   */
  readonly schemeAutolinks: WeakMap<Token, SchemeAutolink>;
  /** Text runs whose end (the scheme) or start (the resource) moved into such a link: characters left out. */
  readonly trimmedData: WeakMap<Token, { start: number; end: number }>;
}

/** See `Annotations.schemeAutolinks`. */
export interface SchemeAutolink {
  /** As written (`Mailto`); the link's URL has it in lower case. */
  readonly scheme: string;
  readonly resource: string;
}

/** A `mailto:` or `xmpp:` right before an email autolink, not the end of a longer word. */
const autolinkScheme = /(?:^|[^A-Za-z0-9+.-])(mailto|xmpp):$/i;
/** An xmpp resource: one `/` segment of letters, digits, `@` and `.` (a final `.` is punctuation). */
const xmppResource = /^\/[A-Za-z0-9@.]*[A-Za-z0-9@]/;

/**
 * A paragraph being read for labelled lines: `Date: 2025-10-14` then `**Chair:** Priya` on the next
 * line, as meeting processors write a protocol's header. When the paragraph's first line starts with
 * a label (see `startsWithLabel`), the soft break before each later line that starts with a label is
 * meant as a line break; a line without a label continues the line before it (wrapped prose, joined
 * with a space as everywhere else). A paragraph whose first line has no label keeps all its soft
 * breaks as spaces. A later line's label must start with a capital (or a digit, or a letter of a
 * script without case) unless the first line's label starts in lower case (`date: …` / `topic: …`):
 * hard-wrapped prose often continues with a lower-case phrase and a colon (`next steps: Tom …`).
 */
interface FieldLines {
  readonly paragraph: Token;
  /** Open tokens inside the paragraph: 0 for its direct children. */
  depth: number;
  atLineStart: boolean;
  /** Whether the first line starts with a label; `undefined` until its first token is seen. */
  labelled: boolean | undefined;
  /** Whether the first line's label starts with a lower-case letter, so later ones may too. */
  lowerCase: boolean;
  /** The line ending before the line being started. */
  lineEnding: Token | undefined;
}

const safeTags = new Set(["sub", "sup", "u", "kbd", "mark"]);
const safeTag = /^<(\/?)([A-Za-z]+)[ \t]*(\/?)>$/;
/** `<br>`, `<br/>`, `<br />` in any case: a line break whatever `allowSafeHtml` says. */
const lineBreakTag = /^<br[ \t]*\/?>$/i;
const lineBreakTagsOnly = /^(?:\s*<br[ \t]*\/?>)+\s*$/i;

/**
 * The text inline raw HTML shows on a page converted without `allowSafeHtml`: nothing for a comment,
 * a line break (`\n`) for a `<br>` tag, and itself (escaped by the converter) for anything else.
 */
export const shownInlineHtml = (html: string): string =>
  html.startsWith("<!--") ? "" : lineBreakTag.test(html) ? "\n" : html;

/** Token types whose output is one element around inline content: safe tags must balance inside. */
const inlineScopes = new Set<string>([
  "paragraph",
  "atxHeadingText",
  "setextHeadingText",
  "tableHeader",
  "tableData",
  "emphasis",
  "strong",
  "strikethrough",
  "link",
  "image",
  "label",
  "htmlFlow",
]);

/** What a continuation line of a paragraph may start with before its text (container prefixes). */
const linePrefixes = new Set<string>(["whitespace", "linePrefix", "listItemIndent", "blockQuotePrefix"]);

interface ListFrame {
  readonly token: Token;
  items: number;
  readonly tasks: Array<readonly [paragraph: Token, check: Token, checked: boolean]>;
  /** Open tokens inside the list: 0 for its direct children (item prefixes and the items' blocks). */
  depth: number;
  /** Blocks seen so far in the current item. */
  itemBlocks: number;
  /** Lists that are an item's later blocks: a task list's item may hold only task lists there. */
  readonly nested: Array<Token>;
  /** Whether an item holds a block other than its first paragraph and nested lists. */
  foreign: boolean;
}

/** Direct children of a list that are no block of an item. */
const listChrome = new Set<string>([
  "listItemPrefix",
  "linePrefix",
  "listItemIndent",
  "lineEnding",
  "lineEndingBlank",
  "whitespace",
  "blockQuotePrefix",
  "definition",
]);

/**
 * Notes a direct child of a list: a new item, or a block of the current item. A Confluence task
 * holds only inline text (STORAGE-FORMAT.md §5); after it, a task list may hold nested task lists
 * and nothing else, so any other later block keeps the list from being a task list.
 */
const listChild = (list: ListFrame, type: string, token: Token): void => {
  if (type === "listItemPrefix") list.itemBlocks = 0;
  if (listChrome.has(type)) return;
  list.itemBlocks++;
  if (list.itemBlocks === 1) return;
  if (type === "listOrdered" || type === "listUnordered") list.nested.push(token);
  else list.foreign = true;
};

interface TagFrame {
  readonly open: Array<readonly [name: string, token: Token]>;
  readonly counts: Map<string, number>;
}

const skippable = new Set<string>([
  "blockQuotePrefix",
  "blockQuoteMarker",
  "blockQuotePrefixWhitespace",
  "linePrefix",
  "lineEndingBlank",
  "content",
]);

/**
 * Notes the GFM scheme of the autolink literal entered at `index` when it is an email address:
 * `mailto:` or `xmpp:` ending the text right before it joins the link, and so does an `xmpp:`
 * address's resource starting the text right after it (GFM 0.29, examples 633–635).
 */
const schemeAutolink = (events: ReadonlyArray<Event>, index: number, annotations: Annotations): void => {
  const [, link, context] = events[index] as Event;
  const email = events[index + 1]?.[1];
  if (email === undefined || email.type !== "literalAutolinkEmail") return;
  const before = events[index - 1];
  if (before === undefined || before[0] !== "exit" || before[1].type !== "data") return;
  if (before[1].end.offset !== link.start.offset) return;
  const text = context.sliceSerialize(before[1]);
  const scheme = autolinkScheme.exec(text)?.[1];
  if (scheme === undefined) return;
  // The scheme must not be the resource an earlier xmpp link already took from this text.
  const taken = annotations.trimmedData.get(before[1])?.start ?? 0;
  if (text.length - scheme.length - 1 < taken) return;
  trim(annotations, before[1]).end = scheme.length + 1;
  let resource = "";
  const exit = exitOf(events, index);
  const after = events[exit + 1];
  if (
    scheme.toLowerCase() === "xmpp" &&
    after !== undefined &&
    after[0] === "enter" &&
    after[1].type === "data"
  ) {
    if (after[1].start.offset === link.end.offset) {
      resource = xmppResource.exec(context.sliceSerialize(after[1]))?.[0] ?? "";
      if (resource !== "") trim(annotations, after[1]).start = resource.length;
    }
  }
  annotations.schemeAutolinks.set(email, { scheme, resource });
};

const trim = (annotations: Annotations, data: Token): { start: number; end: number } => {
  let trimmed = annotations.trimmedData.get(data);
  if (trimmed === undefined) {
    trimmed = { start: 0, end: 0 };
    annotations.trimmedData.set(data, trimmed);
  }
  return trimmed;
};

/**
 * Walks the events once and returns the annotations plus the events to compile (alert markers
 * removed). `allowSafeHtml` turns on the safe-tag analysis.
 */
export const annotate = (
  events: ReadonlyArray<Event>,
  allowSafeHtml: boolean,
): { readonly annotations: Annotations; readonly events: ReadonlyArray<Event> } => {
  const annotations: Annotations = {
    alerts: new WeakMap(),
    taskLists: new WeakSet(),
    taskParagraphs: new WeakMap(),
    taskChecks: new WeakSet(),
    safeHtml: new WeakMap(),
    htmlBlocks: new WeakMap(),
    silentLineEndings: new WeakSet(),
    fieldBreaks: new WeakSet(),
    headingAnchors: new WeakMap(),
    anchorLinks: new WeakMap(),
    schemeAutolinks: new WeakMap(),
    trimmedData: new WeakMap(),
  };
  const anchors = new HeadingAnchors();
  let fields: FieldLines | undefined;
  let drop: Uint8Array | undefined;
  const lists: Array<ListFrame> = [];
  const tags: Array<TagFrame> = [{ open: [], counts: new Map() }];
  let paragraph: Token | undefined;

  for (let index = 0; index < events.length; index++) {
    const [kind, token, context] = events[index] as Event;
    const type: string = token.type;
    // An alert's marker line is not compiled, so it is no line of its paragraph either.
    const dropped = drop !== undefined && drop[index] === 1;
    if (!dropped) anchors.event(events, index);
    if (kind === "enter") {
      const list = lists[lists.length - 1];
      if (list !== undefined) {
        if (list.depth === 0) listChild(list, type, token);
        list.depth++;
      }
      if (allowSafeHtml && inlineScopes.has(type)) tags.push({ open: [], counts: new Map() });
      if (fields !== undefined && !dropped) {
        if (fields.depth === 0) {
          if (type === "lineEnding") {
            fields.lineEnding = token;
            fields.atLineStart = true;
          } else if (fields.atLineStart && !linePrefixes.has(type)) {
            fields.atLineStart = false;
            const label = startsWithLabel(events, index);
            if (fields.labelled === undefined) {
              fields.labelled = label !== undefined;
              fields.lowerCase = label === "lower";
            } else if (
              label !== undefined &&
              (label === "other" || fields.lowerCase) &&
              fields.lineEnding !== undefined
            )
              annotations.fieldBreaks.add(fields.lineEnding);
          }
        }
        if (fields.labelled === false) fields = undefined;
        else fields.depth++;
      }
      switch (type) {
        case "paragraph":
          paragraph = token;
          if (!dropped)
            fields = {
              paragraph: token,
              depth: 0,
              atLineStart: true,
              labelled: undefined,
              lowerCase: false,
              lineEnding: undefined,
            };
          break;
        case "listOrdered":
        case "listUnordered":
          lists.push({ token, items: 0, tasks: [], depth: 0, itemBlocks: 0, nested: [], foreign: false });
          break;
        case "taskListCheck": {
          const list = lists[lists.length - 1];
          if (list !== undefined && paragraph !== undefined) {
            let checked = false;
            for (let j = index + 1; j < events.length && j < index + 8; j++) {
              const t: string = (events[j] as Event)[1].type;
              if (t === "taskListCheckValueChecked") checked = true;
              if (t === "taskListCheck") break;
            }
            list.tasks.push([paragraph, token, checked]);
          }
          break;
        }
        case "blockQuote": {
          let j = index + 1;
          while (j < events.length && skippable.has((events[j] as Event)[1].type)) j++;
          const first = events[j];
          if (first !== undefined && first[0] === "enter" && first[1].type === "paragraph") {
            const match = alertMarker.exec(first[2].sliceSerialize(first[1]));
            const macro = match?.[1] === undefined ? undefined : alertMacros[match[1].toUpperCase()];
            if (macro !== undefined) {
              annotations.alerts.set(token, macro);
              drop ??= new Uint8Array(events.length);
              let depth = 0;
              let k = j + 1;
              let end = -1;
              for (; k < events.length; k++) {
                const e = events[k] as Event;
                if (e[0] === "enter") {
                  if (depth === 0 && e[1].type === "lineEnding") {
                    end = k + 1;
                    break;
                  }
                  depth++;
                } else {
                  if (depth === 0) break;
                  depth--;
                }
              }
              const from = end === -1 ? j : j + 1;
              const to = end === -1 ? k : end;
              for (let d = from; d <= to && d < events.length; d++) drop[d] = 1;
            }
          }
          break;
        }
        case "htmlFlow": {
          const end = exitOf(events, index);
          const markup = htmlBlockMarkup(events, index, end);
          if (markup === undefined) break;
          annotations.htmlBlocks.set(token, markup);
          if (markup === "") silenceLineEndingAt(events, end + 1, annotations);
          break;
        }
        case "literalAutolink":
          schemeAutolink(events, index, annotations);
          break;
        case "htmlText": {
          const html = context.sliceSerialize(token);
          if (html.startsWith("<!--")) {
            annotations.safeHtml.set(token, "");
            break;
          }
          if (lineBreakTag.test(html)) {
            annotations.safeHtml.set(token, "<br />");
            silenceLineEndingAt(events, exitOf(events, index) + 1, annotations);
            break;
          }
          if (!allowSafeHtml) break;
          const match = safeTag.exec(html);
          const name = match?.[2]?.toLowerCase();
          if (match === null || name === undefined || !safeTags.has(name)) break;
          const closing = match[1] === "/";
          const selfClosing = match[3] === "/";
          const frame = tags[tags.length - 1] as TagFrame;
          if (!closing && !selfClosing) {
            frame.open.push([name, token]);
            frame.counts.set(name, (frame.counts.get(name) ?? 0) + 1);
          } else if (closing && !selfClosing && (frame.counts.get(name) ?? 0) > 0) {
            for (;;) {
              const top = frame.open.pop();
              if (top === undefined) break;
              frame.counts.set(top[0], (frame.counts.get(top[0]) ?? 1) - 1);
              if (top[0] === name) {
                annotations.safeHtml.set(top[1], `<${name}>`);
                annotations.safeHtml.set(token, `</${name}>`);
                break;
              }
            }
          }
          break;
        }
        default:
      }
    } else {
      if (allowSafeHtml && inlineScopes.has(type) && tags.length > 1) tags.pop();
      if (fields !== undefined && !dropped) {
        if (token === fields.paragraph) fields = undefined;
        else fields.depth--;
      }
      const top = lists[lists.length - 1];
      if (top !== undefined && top.token !== token) top.depth--;
      if (type === "listItemPrefix") {
        if (top !== undefined) top.items++;
      } else if ((type === "listOrdered" || type === "listUnordered") && top?.token === token) {
        const list = lists.pop() as ListFrame;
        const parent = lists[lists.length - 1];
        if (parent !== undefined) parent.depth--;
        if (
          list.items > 0 &&
          list.tasks.length === list.items &&
          !list.foreign &&
          list.nested.every((nested) => annotations.taskLists.has(nested))
        ) {
          annotations.taskLists.add(list.token);
          for (const [p, check, checked] of list.tasks) {
            annotations.taskParagraphs.set(p, checked ? "complete" : "incomplete");
            annotations.taskChecks.add(check);
          }
        }
      }
    }
  }
  anchors.resolve(annotations);
  if (drop === undefined) return { annotations, events };
  const kept: Array<Event> = [];
  for (let i = 0; i < events.length; i++) if (drop[i] !== 1) kept.push(events[i] as Event);
  return { annotations, events: kept };
};

/**
 * A field label: a letter or digit, then up to 39 letters, digits, spaces, hyphens, slashes, dots,
 * ampersands or parenthesised groups of those (`Date`, `Meeting date`, `Datum/Uhrzeit`, `Q&A`,
 * `Date (UTC)`, `Дата`); a parenthesis that is not closed inside it (`see above (ref`) is prose.
 */
const LABEL_CHARS = "\\p{L}\\p{M}\\p{N} \\-/.&";
const LABEL = `[\\p{L}\\p{N}](?:[${LABEL_CHARS}]|\\([${LABEL_CHARS}]*\\)){0,39}`;
/**
 * What ends a label: a colon and a space or the line end (`Date: 2025-09-02`; the space keeps out URLs
 * such as `https://…`, `mailto:x` and times such as `10:30`), or a dash as meeting info reads it
 * (`Meeting date — 14/10/2025`, `Topic – Budget`, `Chair - Priya` with a space before the hyphen).
 */
const SEPARATOR = "(?::(?:[ \\t]|$)|[ \\t]*[–—]|[ \\t]+-(?:[ \\t]|$))";
/** Plain text starting with a label and its separator; `\0` stands for markup. */
const plainLabel = new RegExp(`^${LABEL}${SEPARATOR}`, "u");
/** Emphasised or strong text that is a label with its colon (`**Date:**`). */
const wrappedLabelWithColon = new RegExp(`^${LABEL}:$`, "u");
/** Emphasised or strong text that is a label whose separator follows it (`**Date**: …`). */
const wrappedLabel = new RegExp(`^${LABEL}$`, "u");
const separatorAfterLabel = new RegExp(`^${SEPARATOR}`, "u");
/** A label starting with a lower-case letter (`date: …`). */
const lowerCaseStart = /^\p{Ll}/u;
/** Enough text to decide: a label is at most 40 characters, its colon and a space. */
const LABEL_TEXT = 48;
const LABEL_EVENTS = 256;

/**
 * Whether the line whose first token is entered at `start` starts with a label: plain
 * (`Date: 2025-09-02`), strong or emphasised (`**Date:** …`, `*Date*: …`, `**Date: 2025-09-02**`);
 * `"lower"` when the label starts with a lower-case letter, `"other"` for any other label, `undefined`
 * for none. Reads only the first few characters' events, so a check per line keeps the pass linear.
 */
const startsWithLabel = (events: ReadonlyArray<Event>, start: number): "lower" | "other" | undefined => {
  /** Text inside the strong or emphasis the line starts with. */
  let inner = "";
  /** Text after it, or from the line start if it starts with plain text. */
  let after = "";
  let open = 0;
  let wrapped = false;
  const add = (text: string): void => {
    if (open > 0) inner += text;
    else after += text;
  };
  scan: for (let index = start; index < events.length && index < start + LABEL_EVENTS; index++) {
    const [kind, token, context] = events[index] as Event;
    const type: string = token.type;
    if (kind === "exit") {
      if (type === "strong" || type === "emphasis") {
        if (open === 0) break;
        open--;
      } else if (type === "paragraph") break;
      continue;
    }
    switch (type) {
      case "strong":
      case "emphasis":
        if (inner !== "" || after !== "") {
          add("\0");
          break scan;
        }
        wrapped = true;
        open++;
        break;
      case "strongSequence":
      case "strongText":
      case "emphasisSequence":
      case "emphasisText":
      case "characterEscape":
      case "escapeMarker":
        break;
      case "data":
      case "characterEscapeValue":
        add(context.sliceSerialize(token));
        break;
      case "characterReference":
        add(decodeString(context.sliceSerialize(token)));
        index = exitOf(events, index);
        break;
      case "lineEnding":
        break scan;
      default:
        add("\0");
        break scan;
    }
    if (inner.length + after.length > LABEL_TEXT) break;
  }
  const label = wrapped
    ? wrappedLabelWithColon.test(inner) ||
      plainLabel.test(inner) ||
      (wrappedLabel.test(inner) && separatorAfterLabel.test(after))
    : plainLabel.test(after);
  if (!label) return undefined;
  return lowerCaseStart.test(wrapped ? inner : after) ? "lower" : "other";
};

/** The index of the exit of the token entered at `enter` (the last index if it has none). */
const exitOf = (events: ReadonlyArray<Event>, enter: number): number => {
  const token = (events[enter] as Event)[1];
  for (let index = enter + 1; index < events.length; index++) {
    const event = events[index] as Event;
    if (event[1] === token && event[0] === "exit") return index;
  }
  return events.length - 1;
};

/** Marks the line ending entered at `index`, if one is, as writing nothing. */
const silenceLineEndingAt = (events: ReadonlyArray<Event>, index: number, annotations: Annotations): void => {
  const event = events[index];
  if (event !== undefined && event[0] === "enter" && event[1].type === "lineEnding")
    annotations.silentLineEndings.add(event[1]);
};

/**
 * What an HTML block between two events shows, if not simply its text: nothing when it is only
 * comments (as in any Markdown rendering), `<br />` for each tag when it is only `<br>` tags, and its
 * text without the comments otherwise; `undefined` for a block with neither (escaped as it is).
 * An unclosed comment is no comment: it stays text, as HTML would hide everything after it.
 */
const htmlBlockMarkup = (events: ReadonlyArray<Event>, from: number, to: number): string | undefined => {
  let text = "";
  for (let index = from + 1; index < to; index++) {
    const [kind, token, context] = events[index] as Event;
    if (kind === "enter" && (token.type === "htmlFlowData" || token.type === "lineEnding"))
      text += context.sliceSerialize(token);
  }
  const shown = withoutComments(text);
  if (shown.trim() === "") return shown === text ? undefined : "";
  if (lineBreakTagsOnly.test(shown)) return `<p>${"<br />".repeat(shown.match(/<br/gi)?.length ?? 0)}</p>`;
  return shown === text ? undefined : `<p>${escapeXml(shown.trim())}</p>`;
};

const isSpace = (text: string, at: number): boolean => text[at] === " " || text[at] === "\t";
const isLineEnding = (text: string, at: number): boolean => text[at] === "\n" || text[at] === "\r";

/**
 * The text without its HTML comments as CommonMark reads them (`<!-->` and `<!--->` included); a
 * comment that fills its line is removed with the line. Linear: once no `-->` follows, no later
 * `<!--` can close either, and only the spaces next to each comment are looked at again.
 */
const withoutComments = (text: string): string => {
  let out = "";
  let copied = 0;
  for (;;) {
    const start = text.indexOf("<!--", copied);
    if (start === -1) break;
    let end: number;
    if (text.startsWith(">", start + 4)) end = start + 5;
    else if (text.startsWith("->", start + 4)) end = start + 6;
    else {
      const close = text.indexOf("-->", start + 4);
      if (close === -1) break;
      end = close + 3;
    }
    let before = start;
    while (before > copied && isSpace(text, before - 1)) before--;
    let after = end;
    while (after < text.length && isSpace(text, after)) after++;
    const fillsLine =
      (before === 0 || isLineEnding(text, before - 1)) &&
      (after === text.length || isLineEnding(text, after));
    out += text.slice(copied, fillsLine ? before : start);
    copied = !fillsLine ? end : text.startsWith("\r\n", after) ? after + 2 : Math.min(after + 1, text.length);
  }
  return copied === 0 ? text : out + text.slice(copied);
};
