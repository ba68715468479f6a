import { describe, expect, it } from "vitest";
import { markdownToStorage } from "../src/index.js";
import { comparableCategories, loadCorpus, normalizeHtml } from "./helpers/corpus.js";
import { xmlError } from "./helpers/xml.js";

const corpus = loadCorpus();

describe("CommonMark and GFM corpus", () => {
  it("converts every example to well-formed XML", () => {
    const broken = corpus
      .map((c) => ({ c, error: xmlError(markdownToStorage(c.markdown)) }))
      .filter((r) => r.error !== undefined)
      .map((r) => `${r.c.file}#${r.c.example}: ${r.error}`);
    expect(broken).toEqual([]);
    expect(corpus.length).toBeGreaterThan(700);
  });

  it("matches the reference HTML for at least 96 % of the examples without code, images or raw HTML", () => {
    const comparable = corpus.filter((c) => comparableCategories.has(c.category));
    const matched = comparable.filter(
      (c) => normalizeHtml(markdownToStorage(c.markdown)) === normalizeHtml(c.html),
    );
    const share = matched.length / comparable.length;
    console.log(
      `CommonMark/GFM match: ${matched.length}/${comparable.length} = ${(share * 100).toFixed(1)} % (normalised: ` +
        "Confluence strike/alignment spellings, void tags, whitespace between tags, soft breaks, entity forms)",
    );
    expect(share).toBeGreaterThanOrEqual(0.96);
  });
});
