import { describe, expect, it } from "vitest";
import { ndjsonLines } from "../src/ndjson-lines.js";
import { HttpProblem } from "../src/problem.js";

class TooLarge extends Error {}

/** The lines `ndjsonLines` reads from exactly these chunks. */
const linesOf = async (
  chunks: ReadonlyArray<Uint8Array | string>,
  limitBytes = 1_000_000,
): Promise<Array<string>> => {
  async function* body() {
    for (const chunk of chunks) yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  }
  const out: Array<string> = [];
  for await (const batch of ndjsonLines(body(), { limitBytes, tooLarge: () => new TooLarge() }))
    out.push(...batch);
  return out;
};

/** `bytes` cut into chunks at every one of `cuts`. */
const cutAt = (bytes: Uint8Array, ...cuts: Array<number>): Array<Uint8Array> => {
  const edges = [0, ...cuts, bytes.length];
  return edges.slice(1).map((end, i) => bytes.subarray(edges[i], end));
};

const failureOf = async (chunks: ReadonlyArray<Uint8Array | string>, limitBytes?: number) =>
  linesOf(chunks, limitBytes).then(
    () => undefined,
    (error: unknown) => error,
  );

describe("JSON Lines of a body read in chunks", () => {
  it("splits like text.split on the whole body, with \\r\\n and a last line without its newline", async () => {
    expect(await linesOf(["a\nb\r\nc"])).toEqual(["a", "b", "c"]);
    expect(await linesOf(["a\n"])).toEqual(["a", ""]);
    expect(await linesOf([])).toEqual([""]);
    expect(await linesOf(["\n\n"])).toEqual(["", "", ""]);
  });

  it("joins a line split across chunks, at every place it can be cut", async () => {
    const text = '{"kind":"header"}\r\n{"kind":"end"}\nlast';
    const expected = ['{"kind":"header"}', '{"kind":"end"}', "last"];
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++)
      expect(await linesOf(cutAt(bytes, cut)), `cut at ${cut}`).toEqual(expected);
    // One byte per chunk: a line read in many pieces, and "\r" and "\n" in different chunks.
    expect(await linesOf(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it("decodes multi-byte characters split across chunks", async () => {
    const text = '{"title":"Café – 会議 😀"}\n{"title":"ü"}';
    const expected = ['{"title":"Café – 会議 😀"}', '{"title":"ü"}'];
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++)
      expect(await linesOf(cutAt(bytes, cut)), `cut at ${cut}`).toEqual(expected);
    expect(await linesOf(Array.from(bytes, (b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it("drops a leading byte order mark only", async () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
    expect(await linesOf([bom.subarray(0, 2), bom.subarray(2), "a\n\uFEFFb"])).toEqual(["a", "\uFEFFb"]);
  });

  it("refuses bytes that are not UTF-8 with a 400 naming their offset in the body", async () => {
    const latin1 = Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x22); // ISO-8859-1 "café" and a quote
    const refused = await failureOf(["0123456789", latin1]);
    expect(refused).toBeInstanceOf(HttpProblem);
    expect((refused as HttpProblem).statusCode).toBe(400);
    expect((refused as HttpProblem).detail).toBe(
      "the body is not valid UTF-8: the bytes at offset 13 (e9 22) are not a UTF-8 character; send the text as UTF-8",
    );
    // A character cut off by the end of the body, its first bytes in an earlier chunk.
    const cutOff = await failureOf(["ab", Uint8Array.of(0xe2), Uint8Array.of(0x82)]);
    expect((cutOff as HttpProblem).detail).toBe(
      "the body is not valid UTF-8: the bytes at offset 2 (e2 82) are not a UTF-8 character; send the text as UTF-8",
    );
  });

  it("stops with the limit's error once more bytes than the limit arrived", async () => {
    expect(await linesOf(["12345", "67890"], 10)).toEqual(["1234567890"]);
    expect(await failureOf(["12345", "67890", "1"], 10)).toBeInstanceOf(TooLarge);
  });
});
