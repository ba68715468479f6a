import { describe, expect, it } from "vitest";
import { markdownToStorage } from "../src/index.js";
import { splitAtBlockBoundaries } from "../src/split-blocks.js";
import { loadCorpus } from "./helpers/corpus.js";
import { xmlError } from "./helpers/xml.js";

const corpus = loadCorpus();
const whole = (md: string): string => markdownToStorage(md, { chunkSize: Number.MAX_SAFE_INTEGER });
const tiny = (md: string): string => markdownToStorage(md, { chunkSize: 1 });

describe("chunked parsing", () => {
  it("gives the same output as a whole-document parse for every corpus example", () => {
    const different = corpus
      .filter((c) => tiny(c.markdown) !== whole(c.markdown))
      .map((c) => `${c.file}#${c.example}`);
    expect(different).toEqual([]);
  });

  it("gives the same output for concatenations of corpus examples, which really are cut", () => {
    let cut = 0;
    const different: Array<number> = [];
    for (let i = 0; i + 8 <= corpus.length; i += 4) {
      const md = corpus
        .slice(i, i + 8)
        .map((c) => c.markdown)
        .join(i % 8 === 0 ? "\n" : "\n\n");
      if (splitAtBlockBoundaries(md, 1).length > 1) cut++;
      if (tiny(md) !== whole(md)) different.push(i);
    }
    expect(different).toEqual([]);
    expect(cut).toBeGreaterThan(100);
  });

  it("carries no link definition, footnote or lazy line from one document into the next", () => {
    // The parser is reused between documents: what one defines must not resolve in another.
    const alone = (md: string): string => whole(md);
    const second = "[x] and [^1]\n\n> a\nb\n===\n";
    const fresh = alone(second);
    alone("[x]: https://example.com/defined\n\n[^1]: A footnote\n\n> q\nlazy\n===\n");
    expect(alone(second)).toBe(fresh);
    expect(fresh).not.toContain("example.com");
    // In pieces too: labels shared across one document's pieces stay with that document.
    tiny("[y]: https://example.com/pieces\n\n# H\n\n[y]\n");
    expect(tiny("# H\n\n[y]\n")).not.toContain("example.com");
  });

  it("keeps an unclosed HTML or fenced code block inside a list item or quote whole", () => {
    // A cut after such a block would end it at the end of its piece, where its trailing blank lines
    // belong to it; before a following block they do not (found by the property test).
    for (const md of [
      "3) <script>\n\n# ",
      "- <!-- open\n\n# Next",
      "> ```\n> code\n\nAfter",
      "- a\n\n  <pre>\n\n  still\n\nDone",
    ]) {
      expect(tiny(md)).toBe(whole(md));
    }
  });

  it("resolves references and footnotes defined in a later chunk", () => {
    const md = `See [the spec][spec] and a note[^n].\n\n${"Filler paragraph.\n\n".repeat(20)}[spec]: https://example.com/spec\n\n[^n]: The note.\n`;
    expect(tiny(md)).toBe(whole(md));
    expect(tiny(md)).toContain('<a href="https://example.com/spec">the spec</a>');
  });

  it("does not treat a definition-like line inside code as a definition", () => {
    const md = `[x] and [y]\n\n\`\`\`\n[x]: /not-a-definition\n\`\`\`\n\n${"Text.\n\n".repeat(5)}[y]: /real\n`;
    expect(tiny(md)).toBe(whole(md));
    expect(tiny(md)).toContain("<p>[x] and <a");
  });

  it("keeps fenced code and multi-line HTML blocks in one piece", () => {
    const md = "```\na\n\nb\n\nc\n```\n\n<!--\n\nx\n\n-->\n\nafter\n";
    expect(tiny(md)).toBe(whole(md));
    expect(splitAtBlockBoundaries(md, 1).join("")).toBe(md);
  });

  it("numbers task ids across the whole page", () => {
    const md = "- [ ] a\n\nText.\n\n- [x] b\n";
    expect(tiny(md)).toBe(whole(md));
    expect(tiny(md)).toContain("<ac:task-id>2</ac:task-id>");
  });
});

describe("pathological inputs", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["10k nested block quotes", `${">".repeat(10_000)} deep\n`],
    ["10k nested list markers on one line", `${"- ".repeat(10_000)}deep\n`],
    ["10k nested ordered list markers", `${"1. ".repeat(10_000)}deep\n`],
    ["100k emphasis markers", `${"*".repeat(50_000)}a${"_".repeat(50_000)}`],
    ["a 1 MiB single line", "word ".repeat(210_000)],
    ["10k unclosed brackets", "[".repeat(10_000)],
    ["2k nested link labels", `${"[a".repeat(2_000)}${"](b)".repeat(2_000)}`],
  ];
  // Generous timeout: these only check correctness; speed is measured by bench/converter.bench.ts.
  it.each(cases)(
    "converts %s to well-formed XML",
    (_name, md) => {
      const output = markdownToStorage(md);
      expect(output.length).toBeGreaterThan(0);
      expect(xmlError(output)).toBeUndefined();
    },
    180_000,
  );
});
