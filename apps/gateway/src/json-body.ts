/**
 * Request bodies as text, strictly: bytes that are not UTF-8 are refused with their offset instead
 * of being decoded to U+FFFD (what Fastify's parsers do), and a charset other than UTF-8 is a 415.
 * The JSON parser keeps Fastify's protection against `__proto__` and `constructor.prototype` keys
 * (secure-json-parse), but says which key it refused, and where a syntax error is. Accepted
 * bodies cost one strict decode and one parse; only refused ones pay for the explanations.
 */
import type { FastifyRequest, preParsingHookHandler } from "fastify";
import { parse as secureJsonParse } from "secure-json-parse";
import { HttpProblem } from "./problem.js";

/** Charset labels accepted for a text body (the WHATWG Encoding Standard's usual ones for UTF-8). */
const UTF8_LABELS: ReadonlySet<string> = new Set(["utf-8", "utf8", "unicode-1-1-utf-8"]);

/**
 * A 415 problem when the `content-type` header declares a charset other than UTF-8; undefined
 * otherwise (no charset means UTF-8, as RFC 8259 requires for JSON).
 */
export const charsetProblem = (
  contentType: string | undefined,
  mediaType: string,
): HttpProblem | undefined => {
  // Most clients send no parameters: the regular expression runs only when there are some.
  if (contentType === undefined || !contentType.includes(";")) return undefined;
  const charset = CHARSET.exec(contentType)?.[2]?.toLowerCase();
  if (charset === undefined || UTF8_LABELS.has(charset)) return undefined;
  return new HttpProblem({
    status: 415,
    detail: `send the body as UTF-8 (${mediaType} with no charset, or charset=utf-8); charset ${JSON.stringify(charset)} is not accepted`,
  });
};

/**
 * A 415 problem when the `content-encoding` header names a coding other than `identity` (gzip,
 * deflate, br…), with `Accept-Encoding: identity` as RFC 9110 §15.5.16 asks; undefined otherwise.
 * Bodies are not decompressed: the body limit would then bound the compressed size only, and a
 * few KB of gzip can expand to gigabytes. Without this the compressed bytes reached the UTF-8
 * check and were refused as "not valid UTF-8", which says nothing of the cause.
 */
export const contentEncodingProblem = (contentEncoding: string | undefined): HttpProblem | undefined => {
  if (contentEncoding === undefined) return undefined;
  const codings = contentEncoding
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length === 0) return undefined;
  return new HttpProblem({
    status: 415,
    detail: `Content-Encoding ${JSON.stringify(codings.join(", "))} is not accepted: send the body uncompressed (no Content-Encoding header)`,
    headers: { "accept-encoding": "identity" },
  });
};

/**
 * `preParsing` hook refusing a body sent with a `Content-Encoding` (see {@link contentEncodingProblem})
 * before anything reads it.
 */
export const refuseContentEncoding: preParsingHookHandler = (request, _reply, payload, done) => {
  const refused = contentEncodingProblem(request.headers["content-encoding"]);
  if (refused === undefined) done(null, payload);
  else done(refused);
};

/**
 * The body as text, or a 400 problem naming the offset of its first byte sequence that is not
 * UTF-8. A leading byte order mark is dropped (as JSON parsers do).
 */
export const decodeUtf8 = (body: Uint8Array): string | HttpProblem => {
  try {
    return UTF8.decode(body);
  } catch {
    return notUtf8Problem(body, 0);
  }
};

/**
 * The 400 for `bytes`, a piece of a body starting at byte `start`, that are not all UTF-8: it names
 * the body offset of the first bad byte sequence and shows its bytes.
 */
export const notUtf8Problem = (bytes: Uint8Array, start: number): HttpProblem => {
  const at = firstInvalidUtf8Offset(bytes);
  const shown = Array.from(bytes.subarray(at, at + 4), (b) => b.toString(16).padStart(2, "0"));
  return new HttpProblem({
    status: 400,
    detail: `the body is not valid UTF-8: the bytes at offset ${start + at} (${shown.join(" ")}) are not a UTF-8 character; send the text as UTF-8`,
  });
};

/**
 * Fastify's content-type parser for `application/json` (`parseAs: "buffer"`): a 415 for another
 * charset, a 400 for bytes that are not UTF-8, for an empty body, for JSON that does not parse
 * (with the byte offset the parser names) and for a `__proto__` or `constructor.prototype` key.
 */
export const parseJsonBody = (
  request: FastifyRequest,
  body: Buffer,
  done: (error: Error | null, body?: unknown) => void,
): void => {
  const value = jsonOf(request.headers["content-type"], body);
  // Outside any try: an error thrown by what `done` runs must not be answered as a parse error.
  if (value instanceof HttpProblem) done(value, undefined);
  else done(null, value);
};

/** The offset of the first byte that does not start or continue a UTF-8 character (RFC 3629). */
export const firstInvalidUtf8Offset = (bytes: Uint8Array): number => {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The length of the sequence and the range of its second byte (overlong forms, surrogates
    // and code points over U+10FFFF are not UTF-8).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    const second = bytes[i + 1];
    if (second === undefined || second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return bytes.length;
};

// internal

/** The parsed body, or the problem refusing it (a JSON value is never an `HttpProblem`). */
const jsonOf = (contentType: string | undefined, body: Buffer): unknown => {
  const refused = charsetProblem(contentType, "application/json");
  if (refused !== undefined) return refused;
  if (body.length === 0) {
    return new HttpProblem({
      status: 400,
      detail: "the body is empty although the content type is application/json; send a JSON object",
    });
  }
  const text = decodeUtf8(body);
  if (text instanceof HttpProblem) return text;
  try {
    return secureJsonParse(text, PARSE_OPTIONS) as unknown;
  } catch (error) {
    return jsonProblem(error, text, body);
  }
};

const CHARSET = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i;

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Fastify's defaults: such keys are an error, not silently dropped. */
const PARSE_OPTIONS = { protoAction: "error", constructorAction: "error" } as const;

/** secure-json-parse's message for both kinds of forbidden key. */
const FORBIDDEN_KEY = "Object contains forbidden prototype property";

const jsonProblem = (error: unknown, text: string, body: Buffer): HttpProblem => {
  const message = error instanceof Error ? error.message : String(error);
  if (message === FORBIDDEN_KEY) {
    const found = forbiddenKeyOf(JSON.parse(text) as unknown);
    const key = found?.key ?? "__proto__";
    return new HttpProblem({
      status: 400,
      detail: `the body is valid JSON, but the key ${key} is not allowed: it could change the prototype of the object that receives it`,
      errors: [{ path: found?.path ?? key, message: `the key ${key} is not allowed` }],
    });
  }
  // V8 names the character where parsing stopped ("… in JSON at position 8"); clients see bytes.
  // Without a position it shows a piece of the body instead ("Unexpected token 'x', "…" is not
  // valid JSON"), which is dropped: the token is enough.
  const at = POSITION.exec(message);
  const reason = message.replace(POSITION, "").replace(SNIPPET, "");
  const where =
    at === null
      ? ""
      : ` at byte ${bomLength(body) + Buffer.byteLength(text.slice(0, Number(at[1])), "utf8")}`;
  return new HttpProblem({
    status: 400,
    detail: `the body is not valid JSON: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}${where}`,
  });
};

const POSITION = / in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/;
const SNIPPET = /, ".*" is not valid JSON$/s;

/** The decoder drops a byte order mark, so positions in the text start after it. */
const bomLength = (body: Buffer): number =>
  body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;

interface Visit {
  readonly value: object;
  readonly parent: Visit | undefined;
  readonly key: string | number | undefined;
}

/**
 * The first forbidden key in `value`, breadth first like secure-json-parse, and its path
 * (`labels[0].__proto__`). Iterative, with parent links: a body nested 200 000 levels deep costs
 * neither the stack nor a path string per level.
 */
const forbiddenKeyOf = (value: unknown): { readonly key: string; readonly path: string } | undefined => {
  if (typeof value !== "object" || value === null) return undefined;
  let level: Array<Visit> = [{ value, parent: undefined, key: undefined }];
  while (level.length > 0) {
    const next: Array<Visit> = [];
    for (const visit of level) {
      const node = visit.value as Record<string, unknown>;
      if (Object.hasOwn(node, "__proto__")) return { key: "__proto__", path: pathOf(visit, "__proto__") };
      const ctor = Object.hasOwn(node, "constructor") ? node.constructor : undefined;
      if (typeof ctor === "object" && ctor !== null && Object.hasOwn(ctor, "prototype")) {
        return { key: "constructor.prototype", path: pathOf(visit, "constructor.prototype") };
      }
      for (const [key, child] of Object.entries(node)) {
        if (typeof child === "object" && child !== null) {
          next.push({ value: child, parent: visit, key: Array.isArray(node) ? Number(key) : key });
        }
      }
    }
    level = next;
  }
  return undefined;
};

const pathOf = (visit: Visit, last: string): string => {
  const parts: Array<string | number> = [];
  for (let v: Visit | undefined = visit; v?.key !== undefined; v = v.parent) parts.push(v.key);
  return parts
    .reverse()
    .reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "")
    .concat(parts.length > 0 ? `.${last}` : last);
};
