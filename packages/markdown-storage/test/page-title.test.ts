import { readFileSync } from "node:fs";
import { Effect, Either, Exit, Schema } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extractMeetingInfo } from "../src/meeting-info.js";
import { generatePageTitle, MAX_PAGE_TITLE_LENGTH, PageTitleError } from "../src/page-title.js";

const fixtures = new URL("./fixtures/meeting-info/", import.meta.url);
const expected: Record<string, { date: string | null; topic: string | null; title: string | null }> =
  JSON.parse(readFileSync(new URL("expected.json", fixtures), "utf8"));

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemes = (text: string): string[] => Array.from(segmenter.segment(text), (s) => s.segment);

const titleOf = (info: { date: string | null; topic: string | null }, format?: string): string =>
  Either.getOrThrow(generatePageTitle(info, format));

const errorOf = (info: { date: string | null; topic: string | null }, format?: string): PageTitleError => {
  const result = generatePageTitle(info, format);
  if (Either.isRight(result)) throw new Error(`expected a PageTitleError, got the title ${result.right}`);
  return result.left;
};

describe("the sample protocols", () => {
  it.each(Object.entries(expected))("%s yields the expected page title", (file, want) => {
    const info = extractMeetingInfo(readFileSync(new URL(file, fixtures), "utf8"), file);
    const result = generatePageTitle(info);
    if (want.title === null) {
      expect(Either.isLeft(result)).toBe(true);
      expect(errorOf(info).reason).toBe("MissingDate");
    } else {
      expect(result).toEqual(Either.right(want.title));
    }
  });
});

describe("generatePageTitle", () => {
  it("uses the format YYYYMMDD - {topic} by default", () => {
    expect(titleOf({ date: "2025-09-02", topic: "Confluence Integration" })).toBe(
      "20250902 - Confluence Integration",
    );
  });

  it.each([
    ["YYYY-MM-DD {topic}", "2025-09-02 Budget"],
    ["{topic} (DD.MM.YYYY)", "Budget (02.09.2025)"],
    ["Protokoll DD.MM.YYYY: {topic}", "Protokoll 02.09.2025: Budget"],
    ["YYYY/{topic}/MM", "2025/Budget/09"],
    ["{topic}", "Budget"],
    ["Weekly YYYY", "Weekly 2025"],
  ])("fills the format %j", (format, title) => {
    expect(titleOf({ date: "2025-09-02", topic: "Budget" }, format)).toBe(title);
  });

  it("does not replace tokens that appear inside the topic", () => {
    expect(titleOf({ date: "2025-09-02", topic: "MM and DD review of YYYY {topic}" })).toBe(
      "20250902 - MM and DD review of YYYY {topic}",
    );
  });

  it("collapses and trims whitespace in the topic and the format", () => {
    expect(
      titleOf({ date: "2025-09-02", topic: "  Budget \n\t review  " }, "  YYYYMMDD   -  {topic}  "),
    ).toBe("20250902 - Budget review");
  });

  it("removes control characters from the topic", () => {
    expect(titleOf({ date: "2025-09-02", topic: "Budget\u0000\u0007review" })).toBe(
      "20250902 - Budget review",
    );
  });

  it("needs no date when the format has no date token", () => {
    expect(titleOf({ date: null, topic: "weekly sync" }, "{topic}")).toBe("weekly sync");
  });

  it("fails with MissingDate when the format needs the missing date", () => {
    const error = errorOf({ date: null, topic: "weekly sync" });
    expect(error).toBeInstanceOf(PageTitleError);
    expect(error._tag).toBe("PageTitleError");
    expect(error.reason).toBe("MissingDate");
    expect(error.message).toBe(
      'The page title format "YYYYMMDD - {topic}" needs a meeting date, but none was given or found in the protocol.',
    );
  });

  it.each(["2025-02-30", "2025-13-01", "2025-9-2", "02.09.2025", ""])(
    "fails with InvalidDate for the date %j",
    (date) => {
      const error = errorOf({ date, topic: "Budget" });
      expect(error.reason).toBe("InvalidDate");
      expect(error.message).toContain(JSON.stringify(date));
    },
  );

  it("accepts 29 February in a leap year only", () => {
    expect(titleOf({ date: "2024-02-29", topic: "Leap" })).toBe("20240229 - Leap");
    expect(titleOf({ date: "2000-02-29", topic: "Leap" })).toBe("20000229 - Leap");
    expect(errorOf({ date: "2100-02-29", topic: "Leap" }).reason).toBe("InvalidDate");
  });

  it.each([
    ["YYYYMMDD - {topic}", "20250902"],
    ["YYYY-MM-DD: {topic}", "2025-09-02"],
    ["{topic} - YYYY-MM-DD", "2025-09-02"],
    ["{topic} (YYYY-MM-DD)", "(2025-09-02)"],
    ["YYYY-MM-DD ({topic})", "2025-09-02"],
    ["YYYY-MM-DD [{topic}]", "2025-09-02"],
    ["YYYY-MM-DD - {topic} - Minutes", "2025-09-02 - Minutes"],
    ["Minutes | {topic} | YYYY", "Minutes | 2025"],
  ])("drops the separator next to a missing topic in %j", (format, title) => {
    expect(titleOf({ date: "2025-09-02", topic: null }, format)).toBe(title);
    expect(titleOf({ date: "2025-09-02", topic: "  " }, format)).toBe(title);
  });

  it("fails with EmptyTitle when nothing is left of the title", () => {
    const error = errorOf({ date: null, topic: null }, "{topic}");
    expect(error.reason).toBe("EmptyTitle");
    expect(error.message).toContain("empty title");
  });

  it("is a Schema.TaggedError that can be encoded and checked", () => {
    const error = errorOf({ date: null, topic: "x" });
    expect(Schema.is(PageTitleError)(error)).toBe(true);
    expect(Schema.encodeSync(PageTitleError)(error)).toEqual({
      _tag: "PageTitleError",
      reason: "MissingDate",
      format: "YYYYMMDD - {topic}",
      date: null,
    });
  });

  it("can be yielded inside Effect.gen, failing with the PageTitleError", async () => {
    const title = (date: string | null) =>
      Effect.gen(function* () {
        return yield* generatePageTitle({ date, topic: "Budget" });
      });
    expect(await Effect.runPromise(title("2025-09-02"))).toBe("20250902 - Budget");
    const exit = await Effect.runPromiseExit(title(null));
    expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe(
      "PageTitleError",
    );
  });
});

describe("generatePageTitle: the 255-character limit", () => {
  it("keeps a title of exactly 255 characters", () => {
    const topic = "a".repeat(MAX_PAGE_TITLE_LENGTH - "20250902 - ".length);
    expect(titleOf({ date: "2025-09-02", topic })).toBe(`20250902 - ${topic}`);
  });

  it("shortens a long topic to 255 characters ending with an ellipsis", () => {
    const topic = "word ".repeat(100).trim();
    const title = titleOf({ date: "2025-09-02", topic });
    expect(title).toHaveLength(MAX_PAGE_TITLE_LENGTH);
    expect(title).toBe(`20250902 - ${topic.slice(0, MAX_PAGE_TITLE_LENGTH - 12)}…`);
  });

  it("keeps the text after the topic when shortening it", () => {
    const title = titleOf({ date: "2025-09-02", topic: "x".repeat(400) }, "{topic} (YYYY-MM-DD)");
    expect(title).toBe(`${"x".repeat(MAX_PAGE_TITLE_LENGTH - 14)}… (2025-09-02)`);
  });

  it("does not split an emoji ZWJ sequence, a flag or a skin tone", () => {
    for (const emoji of ["👨‍👩‍👧‍👦", "🇩🇪", "👍🏽"]) {
      const topic = emoji.repeat(200);
      const title = titleOf({ date: "2025-09-02", topic });
      expect(title.length).toBeLessThanOrEqual(MAX_PAGE_TITLE_LENGTH);
      const shortened = title.slice("20250902 - ".length, -1);
      expect(graphemes(shortened).every((g) => g === emoji)).toBe(true);
      expect(title.endsWith("…")).toBe(true);
    }
  });

  it("does not separate combining marks from their letter", () => {
    const letter = "e\u0301\u0323";
    const title = titleOf({ date: "2025-09-02", topic: letter.repeat(200) });
    expect(title.length).toBeLessThanOrEqual(MAX_PAGE_TITLE_LENGTH);
    expect(graphemes(title.slice("20250902 - ".length, -1)).every((g) => g === letter)).toBe(true);
  });

  it("cuts the whole title when the format alone is too long", () => {
    const title = titleOf({ date: "2025-09-02", topic: "Budget" }, `YYYY ${"🎉".repeat(200)} {topic}`);
    expect(title.length).toBeLessThanOrEqual(MAX_PAGE_TITLE_LENGTH);
    expect(title.startsWith("2025 🎉")).toBe(true);
    expect(graphemes(title.slice(5, -1)).every((g) => g === "🎉")).toBe(true);
  });

  it("always returns at most 255 characters made of whole graphemes of the topic", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 400 }), (raw) => {
        const topic = raw
          .replace(/\p{Cc}/gu, " ")
          .replace(/\s+/gu, " ")
          .trim();
        fc.pre(topic !== "");
        const title = titleOf({ date: "2025-09-02", topic });
        expect(title.length).toBeLessThanOrEqual(MAX_PAGE_TITLE_LENGTH);
        const body = title.slice("20250902 - ".length);
        if (body !== topic) {
          expect(body.endsWith("…")).toBe(true);
          const kept = graphemes(body.slice(0, -1));
          expect(graphemes(topic).slice(0, kept.length).join("").trimEnd()).toBe(kept.join(""));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("generatePageTitle: brackets", () => {
  it("keeps brackets that are part of the topic", () => {
    expect(titleOf({ date: "2025-09-02", topic: "()" })).toBe("20250902 - ()");
    expect(titleOf({ date: "2025-09-02", topic: "[draft]" })).toBe("20250902 - [draft]");
  });

  it("drops the format's brackets around a missing topic", () => {
    expect(titleOf({ date: "2025-09-02", topic: null }, "YYYYMMDD ({topic})")).toBe("20250902");
  });
});
