import { describe, expect, it } from "vitest";
import {
  capContainerNesting,
  findDefinitionCandidates,
  splitAtBlockBoundaries,
} from "../src/split-blocks.js";
import { normalizeIdentifier } from "../src/url.js";

describe("splitAtBlockBoundaries", () => {
  it("returns pieces that concatenate to the input", () => {
    const md = "# A\n\npara\n\n- item\n\n  more\n\nlast\n";
    const pieces = splitAtBlockBoundaries(md, 1);
    expect(pieces.join("")).toBe(md);
    expect(pieces).toEqual(["# A\n\n", "para\n\n- item\n\n  more\n\n", "last\n"]);
  });

  it("never cuts inside fenced code, even at a blank line followed by text", () => {
    const md = "```\ncode\n\ntext inside\n```\n\nafter\n";
    expect(splitAtBlockBoundaries(md, 1)).toEqual(["```\ncode\n\ntext inside\n```\n\n", "after\n"]);
  });

  it("never cuts before indented, quoted or list lines, which may continue the block before", () => {
    const md = "a\n\n    code\n\n> q\n\n- l\n\n1. n\n";
    expect(splitAtBlockBoundaries(md, 1)).toEqual(["a\n\n    code\n\n> q\n\n- l\n\n1. n\n"]);
  });

  it("keeps documents shorter than the chunk size whole", () => {
    expect(splitAtBlockBoundaries("a\n\nb\n", 100)).toEqual(["a\n\nb\n"]);
  });
});

describe("findDefinitionCandidates", () => {
  it("finds reference and footnote labels after container markers, normalised", () => {
    const found = findDefinitionCandidates("[Foo  Bar]: /x\n> - [^Note]: text\n[not]\n", normalizeIdentifier);
    expect([...found.definitions]).toEqual(["FOO BAR"]);
    expect([...found.footnotes]).toEqual(["NOTE"]);
  });
});

describe("capContainerNesting", () => {
  it("escapes the marker that would open a level beyond the limit", () => {
    expect(capContainerNesting(`${"- ".repeat(70)}x`, 64)).toBe(`${"- ".repeat(64)}\\${"- ".repeat(6)}x`);
    expect(capContainerNesting(`${"1. ".repeat(70)}x`, 64)).toBe(
      `${"1. ".repeat(64)}1\\. ${"1. ".repeat(5)}x`,
    );
  });

  it("returns ordinary documents unchanged", () => {
    const md = "- a\n  - b\n> > c\n";
    expect(capContainerNesting(md, 64)).toBe(md);
  });
});
