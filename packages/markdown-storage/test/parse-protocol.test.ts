import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { markdownToStorage, type StorageOptions } from "../src/markdown-to-storage.js";
import { extractMeetingInfo } from "../src/meeting-info.js";
import { parseProtocol } from "../src/parse-protocol.js";
import { corpusRoot, loadCorpus } from "./helpers/corpus.js";

/** micromark, counting parses and failing on demand (as stack exhaustion would). */
const micromark = vi.hoisted(() => ({ parses: 0, failing: false }));
vi.mock("micromark", async (importOriginal) => {
  const actual = await importOriginal<typeof import("micromark")>();
  return {
    ...actual,
    // Every parse of a text ends in one postprocess (the parser itself is made once and reused).
    postprocess: (...args: Parameters<typeof actual.postprocess>) => {
      micromark.parses++;
      if (micromark.failing) throw new RangeError("Maximum call stack size exceeded");
      return actual.postprocess(...args);
    },
  };
});

afterEach(() => {
  micromark.failing = false;
});

const protocolsRoot = join(corpusRoot, "..", "protocols");
const expected: Record<string, { readonly date: string | null; readonly topic: string | null }> = JSON.parse(
  readFileSync(join(protocolsRoot, "expected.json"), "utf8"),
);
const protocols = Object.keys(expected).map(
  (file) => [file, readFileSync(join(protocolsRoot, file), "utf8")] as const,
);

const options: StorageOptions = {
  addToc: true,
  addDateMacro: true,
  addInfoPanel: true,
  allowSafeHtml: true,
  meeting: { date: "2025-09-02", topic: "Sync", participants: ["Ana"] },
};

/** Meeting info and storage output from one parse, and from the two standalone calls. */
const bothWays = (markdown: string, filename?: string, chunkSize?: number) => {
  const parsed = parseProtocol(markdown, { chunkSize });
  return {
    shared: {
      info: extractMeetingInfo(parsed, filename),
      plain: markdownToStorage(parsed),
      options: markdownToStorage(parsed, options),
    },
    standalone: {
      info: extractMeetingInfo(markdown, filename),
      plain: markdownToStorage(markdown),
      options: markdownToStorage(markdown, options),
    },
  };
};

describe("parseProtocol", () => {
  it.each(protocols)("gives the standalone meeting info and storage output for %s", (file, markdown) => {
    const { shared, standalone } = bothWays(markdown, file);
    expect(shared).toEqual(standalone);
    expect(shared.info).toEqual({ date: expected[file]?.date, topic: expected[file]?.topic });
  });

  it.each([
    [
      "front matter",
      "---\ntitle: Budget review\ndate: 2025-09-02\n---\n# Heading\n\nTopic: ignored\n",
      "Budget review",
    ],
    [
      "front matter that is no field",
      "---\nsubject: Not a field\ndate: 2025-09-02\n---\nTopic: Body field\n",
      "Body field",
    ],
    ["invalid front matter", "---\n: [\n---\n# Heading\n\nTopic: Field\nDate: 2025-09-02\n", "Field"],
    [
      "control characters",
      "# Sync\u0007 notes\n\nDate: 2025-09-02\u0001\n\nText \u0000 here \uFFFF.\n",
      "Sync\uFFFD notes",
    ],
    ["a byte order mark", "\uFEFF# Weekly\n\nDate: 2025-09-02\n", "Weekly"],
    ["deep nesting", `${"- ".repeat(100)}x\n\n# Deep\n\nDate: 2025-09-02\n`, "Deep"],
    [
      "a body beyond the scan limit",
      `# Long\n\nDate: 2025-09-02\n\n${"Filler text here.\n\n".repeat(4_000)}`,
      "Long",
    ],
  ])(
    "gives the standalone results for a document with %s",
    (_, markdown, topic) => {
      const { shared, standalone } = bothWays(markdown, "sync.md");
      expect(shared).toEqual(standalone);
      expect(shared.info).toEqual({ date: "2025-09-02", topic });
      // The 75 KB document takes seconds; on a loaded 2-core CI machine several times that.
    },
    120_000,
  );

  it("gives the standalone storage output for every CommonMark and GFM example", () => {
    const different = loadCorpus()
      .filter(({ markdown }) => {
        const parsed = parseProtocol(markdown);
        return (
          markdownToStorage(parsed) !== markdownToStorage(markdown) ||
          markdownToStorage(parsed, options) !== markdownToStorage(markdown, options)
        );
      })
      .map((c) => `${c.file}#${c.example}`);
    expect(different).toEqual([]);
  }, 120_000);

  it("gives the same results parsed in tiny chunks", () => {
    for (const [file, markdown] of protocols) {
      const tiny = bothWays(markdown, file, 1).shared;
      expect(tiny).toEqual(bothWays(markdown, file).standalone);
    }
  });

  it("converts the same whichever runs first and however often", () => {
    const [file, markdown] = protocols[0] ?? ["", ""];
    const parsed = parseProtocol(markdown);
    const first = markdownToStorage(parsed, options);
    const info = extractMeetingInfo(parsed, file);
    expect(markdownToStorage(parsed, options)).toBe(first);
    expect(extractMeetingInfo(parsed, file)).toEqual(info);
    expect(first).toBe(markdownToStorage(markdown, options));
  });

  it("parses a protocol once for meeting info and conversion, twice when it has front matter", () => {
    const markdown = "# Weekly sync\n\nDate: 2025-09-02\n\n- [ ] Send the minutes\n";
    micromark.parses = 0;
    const parsed = parseProtocol(markdown);
    extractMeetingInfo(parsed, "weekly.md");
    markdownToStorage(parsed, options);
    expect(micromark.parses).toBe(1);

    micromark.parses = 0;
    const withFrontMatter = parseProtocol(`---\ntopic: Weekly\n---\n${markdown}`);
    extractMeetingInfo(withFrontMatter);
    markdownToStorage(withFrontMatter);
    expect(micromark.parses).toBe(2);
  });

  it("falls back to escaped text and never throws when the parser fails", () => {
    const markdown = "---\ntopic: Board\n---\n# Heading <b>\n\nDate: 2025-09-02\n";
    micromark.failing = true;
    const parsed = parseProtocol(markdown);
    const body = markdownToStorage(parsed);
    expect(body).toBe(markdownToStorage(markdown));
    // The front matter is metadata, left off the page here too.
    expect(body).toBe("<p># Heading &lt;b&gt;</p>\n<p>Date: 2025-09-02\n</p>");
    expect(extractMeetingInfo(parsed, "board_20251014.md")).toEqual({ date: "2025-10-14", topic: "Board" });
    expect(extractMeetingInfo(markdown, "board_20251014.md")).toEqual({ date: "2025-10-14", topic: "Board" });
  });
});
