// Parses Markdown into micromark events, piece by piece for large documents, so the total cost stays
// linear. Pieces come from `splitAtBlockBoundaries`; each cut is verified on micromark's own events
// (a piece must not end inside fenced code or a multi-line HTML block) and merged with the next piece
// otherwise. Reference and footnote labels are shared across pieces, so `[x]` resolves to a
// definition anywhere in the document, exactly as in a whole-document parse.

import { parse, postprocess, preprocess } from "micromark";
import { gfm } from "micromark-extension-gfm";
import type { Event, ParseContext } from "micromark-util-types";
import { findDefinitionCandidates, splitAtBlockBoundaries } from "./split-blocks.js";
import { normalizeIdentifier } from "./url.js";

type FootnoteParseContext = ParseContext & { gfmFootnotes?: Array<string> };

/**
 * One parser for every parse: `parse` combines micromark's constructs with GFM's on each call, a
 * few per cent of a small protocol's conversion. A parse is synchronous (postprocessing runs every
 * nested tokenizer before it returns), so one context serves them all once its per-parse state
 * (definitions, lazy lines, footnote labels) is reset.
 */
const parser: FootnoteParseContext = parse({ extensions: [gfm()] });

interface Labels {
  readonly definitions: Array<string>;
  readonly footnotes: Array<string>;
}

const parsePiece = (text: string, labels: Labels | undefined): Array<Event> => {
  parser.defined = labels?.definitions ?? [];
  if (labels !== undefined) parser.gfmFootnotes = labels.footnotes;
  else delete parser.gfmFootnotes;
  parser.lazy = {};
  try {
    return postprocess(parser.document().write(preprocess()(text, undefined, true)));
  } finally {
    // The labels belong to the caller; the parser keeps none of them for the next parse.
    parser.defined = [];
    delete parser.gfmFootnotes;
    parser.lazy = {};
  }
};

const htmlBlockCloser: ReadonlyArray<readonly [RegExp, RegExp]> = [
  [/^ {0,3}<(?:script|pre|style|textarea)(?:[\s>]|$)/i, /<\/(?:script|pre|style|textarea)>/i],
  [/^ {0,3}<!--/, /-->/],
  [/^ {0,3}<\?/, /\?>/],
  [/^ {0,3}<!\[CDATA\[/, /\]\]>/],
  [/^ {0,3}<![A-Za-z]/, />/],
];

/** Block types that, entered after an open fenced code or HTML block, show that block has ended. */
const LATER_BLOCKS = new Set([
  "paragraph",
  "atxHeading",
  "setextHeading",
  "thematicBreak",
  "codeIndented",
  "definition",
  "table",
  "codeFenced",
  "htmlFlow",
]);

/**
 * Whether the last leaf block of a piece, at any depth (a list item or block quote may hold it), is
 * fenced code without a closing fence or an HTML block of kinds 1–5 without its end marker: such a
 * block may continue into the next piece, or end differently there (its trailing blank lines belong
 * to it at the end of a document but not before a following block). Erring on "open" only costs a
 * merge of two pieces.
 */
const endsInsideOpenBlock = (events: ReadonlyArray<Event>): boolean => {
  let last: Event | undefined;
  let fences = 0;
  for (const event of events) {
    if (event[0] !== "enter") continue;
    const type = event[1].type;
    if (type === "codeFencedFence") fences++;
    else if (LATER_BLOCKS.has(type)) {
      last = type === "codeFenced" || type === "htmlFlow" ? event : undefined;
      fences = 0;
    }
  }
  if (last === undefined) return false;
  const token = last[1];
  if (token.type === "codeFenced") return fences < 2;
  const text = last[2].sliceSerialize(token);
  for (const [open, close] of htmlBlockCloser) {
    if (open.test(text)) return !close.test(text.slice(text.search(/</) + 2));
  }
  return false;
};

interface LabelUse {
  readonly defined: Set<string>;
  readonly definedFootnotes: Set<string>;
  readonly used: Set<string>;
  readonly usedFootnotes: Set<string>;
}

const collectLabels = (pieces: ReadonlyArray<ReadonlyArray<Event>>): LabelUse => {
  const use: LabelUse = {
    defined: new Set(),
    definedFootnotes: new Set(),
    used: new Set(),
    usedFootnotes: new Set(),
  };
  for (const events of pieces) {
    for (const [kind, token, context] of events) {
      if (kind !== "exit") continue;
      const type: string = token.type;
      if (type === "definitionLabelString")
        use.defined.add(normalizeIdentifier(context.sliceSerialize(token)));
      else if (type === "gfmFootnoteDefinitionLabelString")
        use.definedFootnotes.add(normalizeIdentifier(context.sliceSerialize(token)));
      else if (type === "labelText" || type === "referenceString")
        use.used.add(normalizeIdentifier(context.sliceSerialize(token)));
      else if (type === "gfmFootnoteCallString")
        use.usedFootnotes.add(normalizeIdentifier(context.sliceSerialize(token)));
    }
  }
  return use;
};

const mismatch = (
  candidates: ReadonlySet<string>,
  defined: ReadonlySet<string>,
  used: ReadonlySet<string>,
): boolean => {
  for (const label of defined) if (!candidates.has(label)) return true;
  for (const label of candidates) if (!defined.has(label) && used.has(label)) return true;
  return false;
};

/** Events of one piece, each carrying its own tokenizer context for `sliceSerialize`. */
export type PieceEvents = ReadonlyArray<Event>;

/**
 * Parses Markdown into micromark events. Documents longer than `chunkSize` characters are parsed in
 * pieces at safe block boundaries; the concatenated events compile to the same output as a
 * whole-document parse.
 */
export const parseMarkdown = (markdown: string, chunkSize: number): Array<PieceEvents> => {
  const texts = splitAtBlockBoundaries(markdown, chunkSize);
  if (texts.length === 1) return [parsePiece(markdown, undefined)];
  const candidates = findDefinitionCandidates(markdown, normalizeIdentifier);
  const parseAll = (labels: () => Labels): Array<PieceEvents> => {
    const shared = labels();
    const out: Array<PieceEvents> = [];
    let index = 0;
    while (index < texts.length) {
      let text = texts[index] ?? "";
      let events = parsePiece(text, shared);
      while (index + 1 < texts.length && endsInsideOpenBlock(events)) {
        index++;
        text += texts[index] ?? "";
        events = parsePiece(text, shared);
      }
      out.push(events);
      index++;
    }
    return out;
  };
  const first = parseAll(() => ({
    definitions: [...candidates.definitions],
    footnotes: [...candidates.footnotes],
  }));
  const use = collectLabels(first);
  if (
    !mismatch(candidates.definitions, use.defined, use.used) &&
    !mismatch(candidates.footnotes, use.definedFootnotes, use.usedFootnotes)
  )
    return first;
  return parseAll(() => ({ definitions: [...use.defined], footnotes: [...use.definedFootnotes] }));
};

/** The tokens of a piece list as one event array (for the compiler). */
export const concatEvents = (pieces: ReadonlyArray<PieceEvents>): Array<Event> => {
  if (pieces.length === 1) return pieces[0] as Array<Event>;
  const all: Array<Event> = [];
  for (const piece of pieces) for (const event of piece) all.push(event);
  return all;
};
