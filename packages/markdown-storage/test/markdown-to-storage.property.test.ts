import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { githubSlug } from "../src/heading-anchors.js";
import { markdownToStorage } from "../src/index.js";
import { activeContent, taskListProblems, xmlError } from "./helpers/xml.js";

/**
 * Runs of a property: `n` scaled by MINUTES_PROPERTY_RUNS (default 1; e.g. 10 for a deep run). Each
 * property runs synchronously in its worker, so the default keeps each well inside the test
 * timeout on a loaded 2-core machine (10,000 random documents took 30 s there).
 */
const runs = (n: number): number =>
  Math.max(1, Math.round(n * Number(process.env.MINUTES_PROPERTY_RUNS ?? 1)));

const fragments = [
  "# ",
  "## ",
  "> ",
  "> [!NOTE]\n",
  "- ",
  "* ",
  "1. ",
  "3) ",
  "- [ ] ",
  "- [x] ",
  "    ",
  "\t",
  "```",
  "```js\n",
  "~~~",
  "\n",
  "\n\n",
  "*",
  "**",
  "_",
  "~~",
  "`",
  "[",
  "]",
  "(",
  ")",
  "![",
  "](",
  "[^1]",
  "[^1]: ",
  "[a]: ",
  "|",
  "| --- |",
  ":-:",
  "---",
  "***",
  "\\",
  "  \n",
  "<",
  ">",
  "</",
  "/>",
  "<script>",
  "</script>",
  "<iframe src=x>",
  "<img onerror=alert(1)>",
  '<a href="javascript:alert(1)">',
  "<br>",
  "<sub>",
  "</sub>",
  "<u>",
  "</u>",
  "<!--",
  "-->",
  "<![CDATA[",
  "]]>",
  "javascript:alert(1)",
  "JaVaScRiPt:x",
  "data:text/html,x",
  "vbscript:x",
  "https://example.com",
  "www.x.org",
  "a@b.co",
  "&amp;",
  "&nbsp;",
  "&copy;",
  "&#0;",
  "&#x1F600;",
  "&#xD800;",
  "&bogus;",
  "&",
  '"',
  "'",
  "\u0000",
  "\u0001",
  "\u000B",
  "\u001F",
  "\uFFFE",
  "\uFFFF",
  "\uD800",
  "\uDC00",
  "\r",
  "\r\n",
  "(due 2026-07-27)",
  "(срок: 31.12.2026)",
  "](#text)",
  "](#footnote-1)",
  "[^1]: ",
  "Footnote 1",
  "text",
  "é",
];

const documents = fc
  .array(fc.oneof(fc.constantFrom(...fragments), fc.string({ maxLength: 4 })), { maxLength: 24 })
  .map((parts) => parts.join(""));

describe("markdownToStorage on random documents", () => {
  it("never throws, always yields well-formed XML and never emits active content", () => {
    fc.assert(
      fc.property(documents, fc.boolean(), (md, allowSafeHtml) => {
        const output = markdownToStorage(md, { allowSafeHtml });
        expect(xmlError(output)).toBeUndefined();
        expect(activeContent(output)).toEqual([]);
        expect(taskListProblems(output)).toEqual([]);
      }),
      { numRuns: runs(2_500) },
    );
    // Bounded by the number of documents, not by time: a loaded CI machine needs longer.
  }, 300_000);

  it("gives the same output when parsed in tiny chunks", () => {
    fc.assert(
      fc.property(documents, (md) => {
        expect(markdownToStorage(md, { chunkSize: 1 })).toBe(markdownToStorage(md));
      }),
      { numRuns: runs(1_000) },
    );
  }, 300_000);
});

/** Headings and in-page links to them, with repeated texts, punctuation, markup and footnotes. */
const headingTexts = [
  "Notes",
  "notes",
  "Notes!",
  "Open *questions*",
  "Über & `code`",
  "Footnote 1",
  "A  B",
  "x",
];
const anchorDocuments = fc
  .array(
    fc.oneof(
      fc.constantFrom(...headingTexts).map((text) => `## ${text}`),
      fc.constantFrom(...headingTexts).map((text) => `${text}\n---`),
      {
        // Links are what the property checks: draw them twice as often, mostly to a first heading.
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom(...headingTexts), fc.constantFrom("", "", "", "-1", "-2", "-1-1"))
          .map(([text, n]) => `See [*it*](#${githubSlug(text)}${n}) and a footnote[^1].`),
      },
      fc.constant("[^1]: Note."),
    ),
    { maxLength: 12 },
  )
  .map((blocks) => blocks.join("\n\n"));

describe("in-page links to headings", () => {
  it("name exactly one anchor macro each, and no two anchors share a name", () => {
    let headingLinks = 0;
    fc.assert(
      fc.property(anchorDocuments, (md) => {
        const output = markdownToStorage(md);
        expect(xmlError(output)).toBeUndefined();
        const macros = [...output.matchAll(/<ac:parameter ac:name="">([^<]*)<\/ac:parameter>/g)].map(
          (m) => m[1],
        );
        expect(new Set(macros).size).toBe(macros.length);
        for (const [, name] of output.matchAll(/<ac:link ac:anchor="([^"]*)">/g)) {
          expect(macros).toContain(name);
          if (!name?.startsWith("footnote-")) headingLinks++;
        }
        expect(markdownToStorage(md, { chunkSize: 1 })).toBe(output);
      }),
      { numRuns: runs(300) },
    );
    // The links to headings were there to check: the loop above did not just run zero times.
    expect(headingLinks).toBeGreaterThan(runs(300) / 5);
  }, 300_000);
});

/** A line of code that no container or fence reading can mistake for anything but code. */
const codeLine = fc.stringMatching(/^[a-z0-9=();.#*+-][a-z0-9 =();.#*+-]{0,11}$/);
const containers = ["- ", "* ", "1. ", "- [ ] ", "> ", "> [!NOTE]"] as const;

/** `content` as the body of one container: a list item (opening with a paragraph), a quote or an alert. */
const wrap = (container: (typeof containers)[number], content: ReadonlyArray<string>): Array<string> => {
  const indent = (by: string) => content.map((line) => (line === "" ? "" : by + line));
  const quoted = content.map((line) => (line === "" ? ">" : `> ${line}`));
  switch (container) {
    case "> ":
      return quoted;
    case "> [!NOTE]":
      return ["> [!NOTE]", ...quoted];
    case "1. ":
      return ["1. Item:", ...indent("   ")];
    default:
      return [`${container}Item:`, ...indent("  ")];
  }
};

describe("code blocks in containers", () => {
  it("keep every line in any nesting of tight lists, task lists, quotes and alerts", () => {
    fc.assert(
      fc.property(
        fc.array(codeLine, { minLength: 1, maxLength: 4 }),
        fc.array(fc.constantFrom(...containers), { maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        (lines, nesting, fenced, intro) => {
          let content = fenced
            ? [...(intro ? ["Intro:"] : []), "```", ...lines, "```"]
            : [...(intro ? ["Intro:"] : []), "", ...lines.map((line) => `    ${line}`)];
          for (const container of [...nesting].reverse()) content = wrap(container, content);
          const output = markdownToStorage(`${content.join("\n")}\n`);
          expect(output).toContain(
            `<ac:plain-text-body><![CDATA[${lines.join("\n")}]]></ac:plain-text-body>`,
          );
          expect(taskListProblems(output)).toEqual([]);
        },
      ),
      { numRuns: runs(1_000) },
    );
  }, 300_000);
});
