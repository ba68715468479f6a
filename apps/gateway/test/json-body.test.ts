import { describe, expect, it } from "vitest";
import { charsetProblem, decodeUtf8, firstInvalidUtf8Offset } from "../src/json-body.js";
import { HttpProblem } from "../src/problem.js";

describe("UTF-8 bodies", () => {
  it("names the offset of the first byte sequence that is not UTF-8", () => {
    const at = (...bytes: Array<number>) => firstInvalidUtf8Offset(Uint8Array.from(bytes));
    expect(at(0x61, 0xc3, 0xa9, 0x62)).toBe(4); // "aéb": valid, the offset is the length
    expect(at(0x63, 0x61, 0x66, 0xe9, 0x22)).toBe(3); // ISO-8859-1 "café" followed by a quote
    expect(at(0xc0, 0x80)).toBe(0); // an overlong NUL
    expect(at(0x61, 0xe0, 0x80, 0x80)).toBe(1); // an overlong three-byte form
    expect(at(0xed, 0xa0, 0x80)).toBe(0); // a surrogate, U+D800, encoded
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0); // over U+10FFFF
    expect(at(0x61, 0xe2, 0x82)).toBe(1); // cut short at the end
    expect(at(0x80)).toBe(0); // a continuation byte with nothing before it
    expect(at(0xf0, 0x9f, 0x98, 0x80)).toBe(4); // U+1F600
  });

  it("agrees with the strict decoder on which bodies are UTF-8", () => {
    const strict = new TextDecoder("utf-8", { fatal: true });
    // Mostly valid text with a few random bytes: the cases that matter are near the boundaries.
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let n = 0; n < 2_000; n++) {
      const text = Buffer.from(`é€😀a${"x".repeat(Math.floor(random() * 4))}`);
      const bytes = Uint8Array.from(text, (b) => (random() < 0.15 ? Math.floor(random() * 256) : b));
      let valid = true;
      try {
        strict.decode(bytes);
      } catch {
        valid = false;
      }
      const offset = firstInvalidUtf8Offset(bytes);
      expect(offset === bytes.length, Buffer.from(bytes).toString("hex")).toBe(valid);
      if (!valid) expect(() => strict.decode(bytes.subarray(0, offset))).not.toThrow();
    }
  });

  it("decodes UTF-8 without its byte order mark, and refuses anything else with a 400 naming the bytes", () => {
    expect(decodeUtf8(Buffer.from('\ufeff{"a":"é"}'))).toBe('{"a":"é"}');
    const refused = decodeUtf8(Buffer.from([0x7b, 0x22, 0x63, 0x61, 0x66, 0xe9, 0x22, 0x7d]));
    expect(refused).toBeInstanceOf(HttpProblem);
    expect((refused as HttpProblem).statusCode).toBe(400);
    expect((refused as HttpProblem).detail).toBe(
      "the body is not valid UTF-8: the bytes at offset 5 (e9 22 7d) are not a UTF-8 character; send the text as UTF-8",
    );
  });

  it("takes no charset or UTF-8 in any usual spelling, and answers 415 naming any other", () => {
    for (const type of [
      undefined,
      "application/json",
      "application/json; charset=utf-8",
      "application/json;charset=UTF-8",
      'application/json; charset="utf-8"',
      "application/json; charset=utf8",
      "application/json; foo=bar",
    ]) {
      expect(charsetProblem(type, "application/json"), type).toBeUndefined();
    }
    const latin1 = charsetProblem("application/json; charset=ISO-8859-1", "application/json");
    expect(latin1?.statusCode).toBe(415);
    expect(latin1?.detail).toBe(
      'send the body as UTF-8 (application/json with no charset, or charset=utf-8); charset "iso-8859-1" is not accepted',
    );
    expect(charsetProblem('application/json; charset="utf-16"', "application/json")?.detail).toContain(
      'charset "utf-16"',
    );
  });
});
