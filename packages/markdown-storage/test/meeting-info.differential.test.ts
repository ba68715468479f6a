import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extractMeetingInfo } from "../src/meeting-info.js";
import { parseProtocol } from "../src/parse-protocol.js";
import { corpusRoot, loadCorpus } from "./helpers/corpus.js";
import { referenceMeetingInfo } from "./helpers/meeting-info-reference.js";

const protocolsRoot = join(corpusRoot, "..", "protocols");
/** Timeout of the large cases: seconds alone, several times that on a 2-core CI machine testing every package at once. */
const SLOW = 240_000;

/**
 * Yields to the event loop. These tests run for tens of seconds; a test that never yields keeps
 * vitest's worker from answering its RPC, which then times out on a loaded machine.
 */
const breather = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The documents on which the event scan and the mdast scan disagree (standalone or shared, tiny chunks). */
const disagreements = async (documents: ReadonlyArray<string>): Promise<Array<unknown>> => {
  const found: Array<unknown> = [];
  for (const [index, markdown] of documents.entries()) {
    if (index % 50 === 49) await breather();
    const reference = referenceMeetingInfo(markdown);
    const standalone = extractMeetingInfo(markdown);
    const shared = extractMeetingInfo(parseProtocol(markdown, { chunkSize: 1 }));
    if (
      JSON.stringify(standalone) !== JSON.stringify(reference) ||
      JSON.stringify(shared) !== JSON.stringify(reference)
    )
      found.push({ markdown, reference, standalone, shared });
  }
  return found;
};

describe("the event scan agrees with the mdast reference", () => {
  it("on every sample protocol", async () => {
    const files = Object.keys(JSON.parse(readFileSync(join(protocolsRoot, "expected.json"), "utf8")));
    expect(files.length).toBeGreaterThan(5);
    const documents = files.map((file) => readFileSync(join(protocolsRoot, file), "utf8"));
    expect(await disagreements(documents)).toEqual([]);
  });

  it(
    "on every CommonMark and GFM example, as it is and as a field, an H1 and a table row",
    async () => {
      const documents = loadCorpus().flatMap(({ markdown }) => [
        markdown,
        `Topic: ${markdown}`,
        `# ${markdown}`,
        `| Topic | ${markdown.split("\n")[0]} |\n| --- | --- |\n`,
      ]);
      expect(documents.length).toBeGreaterThan(2500);
      // Most corpus examples hold no field: the variants put their inline syntax into one.
      expect(
        documents.filter((markdown) => extractMeetingInfo(markdown).topic !== null).length,
      ).toBeGreaterThan(1000);
      expect(await disagreements(documents)).toEqual([]);
    },
    SLOW,
  );

  it(
    "on generated protocol-like documents",
    async () => {
      const prefix = fc.constantFrom(
        "",
        "",
        "",
        "# ",
        "## ",
        "> ",
        "- ",
        "1. ",
        "    ",
        "- [ ] ",
        "| ",
        "[^1]: ",
      );
      const label = fc.constantFrom(
        "Date",
        "**Date:**",
        "Topic",
        "*Topic*",
        "Тема",
        "Datum",
        "Meeting date",
        "Date & Time",
        "**Datum/Uhrzeit:**",
        "Title",
        "`Date`",
        "Da\\te",
        "D&#97;te",
        "[Topic](x)",
        "![Topic](i)",
      );
      const separator = fc.constantFrom(": ", " — ", " - ", ":", " | ", "", " ");
      const value = fc.constantFrom(
        "2025-09-02",
        "02.09.2025",
        "Sept. 30, 2025",
        "Budget",
        "*Budget* plan",
        "`x|y`",
        "`a\\|b`",
        "` a\nb `",
        "[Plan][r]",
        "[Plan]",
        "[a\nb](u)",
        "<b>x</b>",
        "&amp;",
        "&#0;",
        "\\*",
        "www.x.org",
        "<http://a.b>",
        "a@b.co",
        "~~old~~ new",
        "[^1]",
        "![alt *x*](u)",
        "![a <b\n c> `d`](u)",
        "![a\\\nb  \nc](u)",
        "\u0001",
        "",
      );
      const ending = fc.constantFrom("\n", "\n", "\n\n", "\r\n", "\r", "  \n", "\\\n", "\n===\n", "\n---\n");
      const block = fc.constantFrom("", "", "", "| --- | --- |\n", "```\n", "[r]: /u\n", "<div>\n", "\n");
      const line = fc
        .tuple(prefix, label, separator, fc.array(value, { maxLength: 3 }), ending, block)
        .map(([p, l, s, v, e, b]) => `${p}${l}${s}${v.join(" ")}${e}${b}`);
      const row = fc
        .tuple(label, fc.array(value, { maxLength: 2 }))
        .map(([l, v]) => `| ${l} | ${v.join(" ").replace(/\n/gu, " ")} |\n| --- | --- |\n\n`);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.oneof(line, line, row), { maxLength: 12 }), async (lines) => {
          expect(await disagreements([lines.join("")])).toEqual([]);
          await breather();
        }),
        { numRuns: 1000 },
      );
    },
    SLOW,
  );
});
