import { describe, expect, it } from "vitest";
import { contentHash, normalizeMarkdown } from "../src/index.js";

describe("contentHash", () => {
  it("returns the sha256 hex digest of the normalised Markdown", () => {
    expect(contentHash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("gives the same hash regardless of line-ending style, BOM and trailing whitespace", () => {
    const base = contentHash("# Title\n\nText\n");
    expect(contentHash("\uFEFF# Title\r\n\r\nText  \r\n\r\n")).toBe(base);
    expect(contentHash("# Title\r\rText")).toBe(base);
  });

  it("gives the same hash for composed and decomposed Unicode", () => {
    expect(contentHash("Caf\u00e9")).toBe(contentHash("Cafe\u0301"));
  });

  it("changes when the visible content changes", () => {
    expect(contentHash("a")).not.toBe(contentHash("b"));
    expect(normalizeMarkdown("a  \nb")).toBe("a\nb");
  });
});
