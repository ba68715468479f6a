// Measuring functions for the converter benchmark, importable by a later root benchmark: a seeded
// generator of meeting-protocol Markdown, a throughput timer, the scaling ratio and the CommonMark
// match share. Timings are medians of several runs in one process after a warm-up run.

import { createRequire } from "node:module";
import { micromark } from "micromark";
import { gfm, gfmHtml } from "micromark-extension-gfm";
import { markdownToStorage } from "../src/index.js";
import { comparableCategories, loadCorpus, normalizeHtml } from "../test/helpers/corpus.js";

/** A converter under test: Markdown in, markup out. */
export type Convert = (markdown: string) => string;

interface ShowdownConverter {
  makeHtml(markdown: string): string;
}

/** Our converter with default options. */
export const convertStorage: Convert = (markdown) => markdownToStorage(markdown);

/** micromark's own HTML output with GFM, the speed baseline. */
export const convertMicromark: Convert = (markdown) =>
  micromark(markdown, { extensions: [gfm()], htmlExtensions: [gfmHtml()] });

/** showdown-confluence (regular-expression based), for comparison. */
export const convertShowdown: Convert = (() => {
  const showdown = createRequire(import.meta.url)("showdown-confluence") as {
    Converter: new () => ShowdownConverter;
  };
  const converter = new showdown.Converter();
  return (markdown: string) => converter.makeHtml(markdown);
})();

const seeded = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

const words = [
  "budget",
  "release",
  "Confluence",
  "migration",
  "review",
  "deadline",
  "customer",
  "sprint",
  "design",
  "риски",
  "Termin",
  "Änderung",
  "API",
  "latency",
  "incident",
  "roadmap",
  "owner",
  "backlog",
];

/**
 * Deterministic meeting-protocol Markdown of at least `bytes` UTF-16 code units: sections with
 * headings, paragraphs with emphasis/links/code, task lists with due dates, tables, code blocks,
 * quotes and alerts, reference links and footnotes.
 */
export const generateProtocol = (bytes: number, seed = 42): string => {
  const random = seeded(seed);
  const pick = (): string => words[Math.floor(random() * words.length)] ?? "x";
  const sentence = (n: number): string =>
    `${Array.from({ length: n }, (_, i) => {
      const w = pick();
      const r = random();
      if (r < 0.05) return `**${w}**`;
      if (r < 0.1) return `*${w}*`;
      if (r < 0.13) return `\`${w}()\``;
      if (r < 0.15) return `[${w}](https://example.com/${w.toLowerCase()})`;
      if (r < 0.16) return `[${w}][ref-${i % 5}]`;
      return i === 0 ? w[0]?.toUpperCase() + w.slice(1) : w;
    }).join(" ")}.`;
  const parts: Array<string> = [];
  let size = 0;
  let section = 0;
  while (size < bytes) {
    section++;
    const blocks = [
      `## ${section}. ${sentence(3)}`,
      sentence(25 + Math.floor(random() * 30)),
      Array.from(
        { length: 4 },
        (_, i) => `- [${i % 2 ? "x" : " "}] ${sentence(6)} (due 2026-0${1 + (i % 9)}-1${i})`,
      ).join("\n"),
      `| Item | Owner | Status |\n|:-----|:-----:|------:|\n${Array.from({ length: 4 }, () => `| ${pick()} | ${pick()} | ${pick()} |`).join("\n")}`,
      `1. ${sentence(8)}\n2. ${sentence(8)}\n   - ${sentence(5)}\n3. ${sentence(8)}`,
      section % 3 === 0
        ? "```ts\nconst total = items.reduce((a, b) => a + b, 0);\nconsole.log(total);\n```"
        : `> ${sentence(12)}\n> ${sentence(10)}`,
      section % 4 === 0 ? `> [!WARNING]\n> ${sentence(10)}` : `${sentence(12)}[^${section}]`,
      section % 4 === 0 ? "" : `[^${section}]: ${sentence(6)}`,
    ].filter((b) => b !== "");
    const text = blocks.join("\n\n");
    parts.push(text);
    size += text.length + 2;
  }
  parts.push(Array.from({ length: 5 }, (_, i) => `[ref-${i}]: https://example.com/ref/${i}`).join("\n"));
  return parts.join("\n\n");
};

/**
 * Best (minimum) run time in milliseconds of `convert(input)` over `runs` runs after one warm-up; the
 * minimum is the estimate least disturbed by other processes on a shared machine.
 */
export const timeConversion = (convert: Convert, input: string, runs = 3): number => {
  convert(input);
  const times: Array<number> = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    convert(input);
    times.push(performance.now() - start);
  }
  return Math.min(...times);
};

/** Throughput in MiB/s (UTF-8 bytes) of converting all `documents`, median of `runs`. */
export const throughput = (convert: Convert, documents: ReadonlyArray<string>, runs = 3): number =>
  compareThroughput({ only: convert }, documents, runs).only ?? 0;

/**
 * Throughput in MiB/s of several converters on the same documents, with their runs interleaved
 * (a, b, c, a, b, c, …) after one warm-up each, so load from other processes hits all of them alike.
 * Returns the median per converter.
 */
export const compareThroughput = (
  converters: Readonly<Record<string, Convert>>,
  documents: ReadonlyArray<string>,
  runs = 3,
): Record<string, number> => {
  const bytes = documents.reduce((n, d) => n + Buffer.byteLength(d, "utf8"), 0);
  const entries = Object.entries(converters);
  for (const [, convert] of entries) for (const d of documents) convert(d);
  const times = new Map<string, Array<number>>(entries.map(([name]) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, convert] of entries) {
      const start = performance.now();
      for (const d of documents) convert(d);
      times.get(name)?.push(performance.now() - start);
    }
  }
  const result: Record<string, number> = {};
  for (const [name, list] of times) {
    list.sort((a, b) => a - b);
    result[name] = bytes / (1024 * 1024) / ((list[Math.floor(list.length / 2)] ?? 1) / 1000);
  }
  return result;
};

/**
 * time(convert 1 MiB) / time(convert 100 KiB) of the same kind of text (10.24 would be linear): the
 * best of `runs` each, the two sizes alternating (after one warm-up each) so that a machine whose
 * speed drifts during the measurement slows both alike (timed one after the other, the ratio
 * wandered between 9 and 12 on one machine).
 */
export const scalingRatio = (convert: Convert, runs = 9): number => {
  const large = generateProtocol(1024 * 1024, 7);
  const small = large.slice(0, large.indexOf("\n## ", 100 * 1024));
  convert(large);
  convert(small);
  let bestLarge = Number.POSITIVE_INFINITY;
  let bestSmall = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    bestLarge = Math.min(bestLarge, timeOnce(convert, large));
    bestSmall = Math.min(bestSmall, timeOnce(convert, small));
  }
  return bestLarge / bestSmall;
};

const timeOnce = (convert: Convert, input: string): number => {
  const start = performance.now();
  convert(input);
  return performance.now() - start;
};

/** Share of comparable CommonMark/GFM corpus examples whose output equals the reference after normalisation. */
export const commonmarkMatchShare = (convert: Convert): number => {
  let compared = 0;
  let matched = 0;
  for (const example of loadCorpus()) {
    if (!comparableCategories.has(example.category)) continue;
    compared++;
    let output = "";
    try {
      output = convert(example.markdown);
    } catch {
      output = "";
    }
    if (normalizeHtml(output) === normalizeHtml(example.html)) matched++;
  }
  return matched / compared;
};
