/**
 * A request body as JSON Lines while it arrives: bytes are decoded as strict UTF-8 (a character
 * may be split between chunks; bytes that are not UTF-8 are a 400 naming their offset) and split
 * at "\n" (a "\r" before it is dropped). Memory holds one chunk and the line being read, not the
 * body; the price is that a bad byte late in the body is found only once its chunk arrives.
 */
import { notUtf8Problem } from "./json-body.js";

/** Limits of `ndjsonLines`. */
export interface NdjsonLinesOptions {
  /** Most bytes the body may have; more fails with `tooLarge()`. */
  readonly limitBytes: number;
  /** The problem for a body over `limitBytes` (the route's 413). */
  readonly tooLarge: () => Error;
}

/**
 * The lines of `body`, as `text.split("\n")` would give them for the whole decoded text (the last
 * one is yielded also when empty, as after a final "\n"), one batch per chunk that ends at least
 * one line. A leading byte order mark is dropped, as `decodeUtf8` does. Fails (throws) with a 400
 * `HttpProblem` for bytes that are not UTF-8 and with `tooLarge()` once more than `limitBytes`
 * bytes arrived; an error of `body` (a client that went away) is thrown as it is.
 */
export async function* ndjsonLines(
  body: AsyncIterable<Uint8Array>,
  options: NdjsonLinesOptions,
): AsyncGenerator<ReadonlyArray<string>, void, undefined> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  // The bytes of a character the last chunk ended in the middle of (at most 3), and where they start.
  let carry: Uint8Array = EMPTY;
  let offset = 0;
  let received = 0;
  let first = true;
  // The pieces of the line being read: joined once, when its "\n" arrives (a long line read in
  // many chunks is not copied once per chunk).
  let pieces: Array<string> = [];
  for await (const chunk of body) {
    received += chunk.length;
    if (received > options.limitBytes) throw options.tooLarge();
    const bytes = carry.length === 0 ? chunk : concat(carry, chunk);
    const keep = unfinishedTail(bytes);
    const whole = bytes.subarray(0, bytes.length - keep);
    let text = decode(decoder, whole, offset);
    // Copied: a view would keep the whole chunk alive.
    carry = bytes.slice(bytes.length - keep);
    offset += whole.length;
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    const lines: Array<string> = [];
    let start = 0;
    for (;;) {
      const end = text.indexOf("\n", start);
      if (end === -1) break;
      pieces.push(text.slice(start, end));
      lines.push(lineOf(pieces));
      pieces = [];
      start = end + 1;
    }
    if (start < text.length) pieces.push(text.slice(start));
    if (lines.length > 0) yield lines;
  }
  // A body that ends in the middle of a character.
  if (carry.length > 0) decode(decoder, carry, offset);
  yield [lineOf(pieces)];
}

// internal

const EMPTY = new Uint8Array(0);
const BOM = 0xfeff;

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

/** The line of `pieces`, without the "\r" of a "\r\n" line end. */
const lineOf = (pieces: ReadonlyArray<string>): string => {
  const line = pieces.length === 1 ? (pieces[0] as string) : pieces.join("");
  return line.endsWith("\r") ? line.slice(0, -1) : line;
};

/**
 * How many bytes at the end of `bytes` start a character that is not complete yet (0 to 3):
 * a lead byte followed by fewer continuation bytes than it announces. Anything else, valid or
 * not, is left to the decoder.
 */
const unfinishedTail = (bytes: Uint8Array): number => {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k] as number;
    if (b < 0x80) return 0;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return length > k ? k : 0;
    }
  }
  return 0;
};

/** `bytes` (which start at `offset` in the body) as text; throws the 400 naming the first bad byte. */
const decode = (decoder: InstanceType<typeof TextDecoder>, bytes: Uint8Array, offset: number): string => {
  try {
    return decoder.decode(bytes);
  } catch {
    throw notUtf8Problem(bytes, offset);
  }
};
