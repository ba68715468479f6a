import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import * as convert from "../src/convert.js";
import * as api from "../src/index.js";

it("exports exactly the public API", () => {
  expect(Object.keys(api).sort()).toEqual(
    [
      "contentHash",
      "extractMeetingInfo",
      "extractParticipants",
      "formatPageTitle",
      "generatePageTitle",
      "markdownToStorage",
      "MAX_PAGE_TITLE_LENGTH",
      "MEETING_INFO_SCAN_LIMIT",
      "normalizeMarkdown",
      "parseDate",
      "parseProtocol",
      "PageTitleError",
    ].sort(),
  );
});

it("exports what the README names: parseDate and the two limits", () => {
  expect(api.parseDate("Donnerstag, 20. November 2025, 14:00 Uhr")).toBe("2025-11-20");
  expect(api.parseDate("2025-02-30")).toBeNull();
  expect(api.MEETING_INFO_SCAN_LIMIT).toBe(64 * 1024);
  expect(api.MAX_PAGE_TITLE_LENGTH).toBe(255);
  expect(api.MAX_PAGE_TITLE_LENGTH).toBe(convert.MAX_PAGE_TITLE_LENGTH);
});

it("exports from the light entry what rendering needs, the same functions as the main entry", () => {
  expect(Object.keys(convert).sort()).toEqual(
    [
      "DEFAULT_PAGE_TITLE_FORMAT",
      "extractMeetingInfo",
      "extractParticipants",
      "formatPageTitle",
      "markdownToStorage",
      "MAX_PAGE_TITLE_LENGTH",
      "parseProtocol",
    ].sort(),
  );
  expect(convert.markdownToStorage).toBe(api.markdownToStorage);
  expect(convert.formatPageTitle).toBe(api.formatPageTitle);
});

it("keeps Effect out of the light entry (a render thread loads it)", () => {
  // Every module the entry imports, transitively, and the packages they import.
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (url: URL) => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    const source = readFileSync(url, "utf8");
    for (const [, spec] of source.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+"([^"]+)";/gms)) {
      if (spec === undefined) continue;
      if (spec.startsWith(".")) visit(new URL(spec.replace(/\.js$/, ".ts"), url));
      else packages.add(spec.split("/")[0] ?? spec);
    }
  };
  visit(new URL("../src/convert.ts", import.meta.url));
  expect(seen.size).toBeGreaterThan(10);
  // Type-only imports load nothing and are not counted.
  expect([...packages].sort()).toEqual([
    "micromark",
    "micromark-extension-gfm",
    "micromark-util-decode-string",
    "yaml",
  ]);
});
