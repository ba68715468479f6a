// Line scanners that run before micromark: splitting a document into runs of top-level blocks,
// finding candidate reference/footnote definitions, and capping absurd container nesting.
// micromark gets slower per byte as documents grow, so large documents are parsed in pieces; these
// scanners only propose cuts, and `parse-chunks.ts` verifies each cut against micromark's own events.

const SPACE = 32;
const TAB = 9;

const isBlankLine = (text: string, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB && c !== 13) return false;
  }
  return true;
};

/** Characters that may begin the first line of a chunk: not indentation, quotes or list markers. */
const canStartChunk = (code: number): boolean =>
  !(
    Number.isNaN(code) ||
    code === SPACE ||
    code === TAB ||
    code === 13 ||
    code === 10 ||
    code === 62 || // >
    code === 45 || // -
    code === 43 || // +
    code === 42 || // *
    (code >= 48 && code <= 57)
  );

interface Fence {
  readonly char: number;
  readonly size: number;
}

/** A fence opener (0–3 spaces, 3+ backticks or tildes) at `start`, if any. */
const fenceAt = (text: string, start: number, end: number): Fence | undefined => {
  let i = start;
  while (i < end && i - start < 3 && text.charCodeAt(i) === SPACE) i++;
  const char = text.charCodeAt(i);
  if (char !== 96 && char !== 126) return undefined;
  let size = 0;
  while (i < end && text.charCodeAt(i) === char) {
    i++;
    size++;
  }
  if (size < 3) return undefined;
  if (char === 96 && text.indexOf("`", i) !== -1 && text.indexOf("`", i) < end) return undefined;
  return { char, size };
};

const closesFence = (text: string, start: number, end: number, fence: Fence): boolean => {
  let i = start;
  while (i < end && i - start < 3 && text.charCodeAt(i) === SPACE) i++;
  let size = 0;
  while (i < end && text.charCodeAt(i) === fence.char) {
    i++;
    size++;
  }
  return size >= fence.size && isBlankLine(text, i, end);
};

const htmlBlockEnds: ReadonlyArray<readonly [RegExp, string]> = [
  [/^ {0,3}<(?:script|pre|style|textarea)(?:[\s>]|$)/i, "</"],
  [/^ {0,3}<!--/, "-->"],
  [/^ {0,3}<\?/, "?>"],
  [/^ {0,3}<![A-Za-z]/, ">"],
  [/^ {0,3}<!\[CDATA\[/, "]]>"],
];

/** The end marker of an HTML block of kinds 1–5 (which may contain blank lines) opened by this line. */
const htmlBlockEnd = (line: string): string | undefined => {
  if (!line.trimStart().startsWith("<")) return undefined;
  for (const [start, end] of htmlBlockEnds) if (start.test(line)) return end;
  return undefined;
};

const htmlBlockEndsIn = (line: string, end: string): boolean => {
  if (end !== "</") return line.includes(end);
  return /<\/(?:script|pre|style|textarea)>/i.test(line);
};

/**
 * Splits Markdown into pieces of at least `targetSize` characters (except the last), cutting only
 * after a blank line and before a line that starts a paragraph, heading, thematic break or definition
 * at column 0 outside fenced code and multi-line HTML blocks. Concatenating the pieces gives the input.
 */
export const splitAtBlockBoundaries = (text: string, targetSize: number): Array<string> => {
  if (text.length <= targetSize) return [text];
  const pieces: Array<string> = [];
  let pieceStart = 0;
  let previousBlank = false;
  let fence: Fence | undefined;
  let htmlEnd: string | undefined;
  let lineStart = 0;
  while (lineStart < text.length) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const next = newline === -1 ? text.length : newline + 1;
    if (
      previousBlank &&
      fence === undefined &&
      htmlEnd === undefined &&
      lineStart - pieceStart >= targetSize &&
      canStartChunk(text.charCodeAt(lineStart))
    ) {
      pieces.push(text.slice(pieceStart, lineStart));
      pieceStart = lineStart;
    }
    const blank = isBlankLine(text, lineStart, lineEnd);
    if (fence !== undefined) {
      if (closesFence(text, lineStart, lineEnd, fence)) fence = undefined;
    } else if (htmlEnd !== undefined) {
      if (htmlBlockEndsIn(text.slice(lineStart, lineEnd), htmlEnd)) htmlEnd = undefined;
    } else if (!blank) {
      fence = fenceAt(text, lineStart, lineEnd);
      if (fence === undefined && text.charCodeAt(lineStart) !== TAB) {
        const line = text.slice(lineStart, Math.min(lineEnd, lineStart + 16));
        const end = htmlBlockEnd(line);
        if (end !== undefined && !htmlBlockEndsIn(text.slice(lineStart + 2, lineEnd), end)) htmlEnd = end;
      }
    }
    previousBlank = blank;
    lineStart = next;
  }
  pieces.push(text.slice(pieceStart));
  return pieces;
};

/** Position after the container markers (`>`, list markers, indentation) that open the line at `start`. */
const skipContainerMarkers = (
  text: string,
  start: number,
  end: number,
  onMarker?: (at: number) => boolean,
): number => {
  let i = start;
  for (;;) {
    while (i < end && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
    const c = text.charCodeAt(i);
    let after = -1;
    if (c === 62) after = i + 1;
    else if (
      (c === 45 || c === 43 || c === 42) &&
      (text.charCodeAt(i + 1) === SPACE || text.charCodeAt(i + 1) === TAB)
    )
      after = i + 1;
    else if (c >= 48 && c <= 57) {
      let j = i;
      while (j < end && j - i < 9 && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      const m = text.charCodeAt(j);
      const s = text.charCodeAt(j + 1);
      if ((m === 46 || m === 41) && (s === SPACE || s === TAB)) after = j + 1;
    }
    if (after === -1) return i;
    if (onMarker?.(i) === true) return i;
    i = after;
  }
};

/** Identifiers that may be defined somewhere in the document (a superset, checked after parsing). */
export interface DefinitionCandidates {
  readonly definitions: Set<string>;
  readonly footnotes: Set<string>;
}

/**
 * Finds every `[label]:` and `[^label]:` that starts a line (after container markers) and returns the
 * normalised labels. It may report labels that are not definitions (inside code) and miss labels
 * that span container prefixes; the caller verifies the result against the parsed events.
 */
export const findDefinitionCandidates = (
  text: string,
  normalize: (label: string) => string,
): DefinitionCandidates => {
  const definitions = new Set<string>();
  const footnotes = new Set<string>();
  let lineStart = 0;
  while (lineStart < text.length) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const open = skipContainerMarkers(text, lineStart, lineEnd);
    if (text.charCodeAt(open) === 91) {
      let q = open + 1;
      let close = -1;
      while (q < text.length && q - open < 1002) {
        const c = text.charCodeAt(q);
        if (c === 92) {
          q += 2;
          continue;
        }
        if (c === 91) break;
        if (c === 93) {
          close = q;
          break;
        }
        q++;
      }
      if (close !== -1 && text.charCodeAt(close + 1) === 58) {
        const label = text.slice(open + 1, close);
        if (label.startsWith("^")) footnotes.add(normalize(label.slice(1)));
        else definitions.add(normalize(label));
      }
    }
    lineStart = newline === -1 ? text.length : newline + 1;
  }
  return { definitions, footnotes };
};

/**
 * Escapes the container marker that would open nesting level `maxDepth + 1` on a line
 * (`- - - … - x` with thousands of markers), turning the rest of the line into literal text.
 * micromark's cost grows with the square of the nesting depth on one line; real documents never nest
 * this deep. Returns the input unchanged (same string) when no line needs it.
 */
export const capContainerNesting = (text: string, maxDepth: number): string => {
  let out: Array<string> | undefined;
  let copied = 0;
  let lineStart = 0;
  while (lineStart < text.length) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    if (lineEnd - lineStart > maxDepth * 2) {
      let depth = 0;
      let escapeAt = -1;
      skipContainerMarkers(text, lineStart, lineEnd, (at) => {
        depth++;
        if (depth > maxDepth) {
          escapeAt = at;
          return true;
        }
        return false;
      });
      if (escapeAt !== -1) {
        out ??= [];
        let at = escapeAt;
        while (text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
        out.push(text.slice(copied, at), "\\");
        copied = at;
      }
    }
    lineStart = newline === -1 ? text.length : newline + 1;
  }
  if (out === undefined) return text;
  out.push(text.slice(copied));
  return out.join("");
};
