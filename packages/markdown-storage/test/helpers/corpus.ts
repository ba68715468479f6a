// Loads the CommonMark and GFM examples from the shared corpus and defines the normalisation under
// which our storage output is compared with the reference HTML.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Root of the shared corpus (outside the repository; read-only): `MINUTES_SHARED_DIR`, `../shared` beside the repository, or /work/shared. */
export const corpusRoot =
  [
    process.env.MINUTES_SHARED_DIR ? `${process.env.MINUTES_SHARED_DIR}/corpus` : undefined,
    // The shared folder sits beside the repository (packages/markdown-storage/test/helpers → ../../../../..).
    fileURLToPath(new URL("../../../../../shared/corpus", import.meta.url)),
    "/work/shared/corpus",
  ].find((dir): dir is string => dir !== undefined && existsSync(dir)) ?? "/work/shared/corpus";

/** One example with its reference HTML and the category from classification.json. */
export interface CorpusCase {
  readonly file: string;
  readonly example: number;
  readonly markdown: string;
  readonly html: string;
  readonly category: string;
}

interface RawCase {
  readonly markdown: string;
  readonly html: string;
  readonly example: number;
}
interface Classification {
  readonly files: Record<string, ReadonlyArray<{ readonly example: number; readonly category: string }>>;
}

const read = <T>(path: string): T => JSON.parse(readFileSync(`${corpusRoot}/${path}`, "utf8")) as T;

/** Every example of the CommonMark 0.31.2 spec (+ post-release changes) and the GFM files. */
export const loadCorpus = (): ReadonlyArray<CorpusCase> => {
  const groups: ReadonlyArray<readonly [string, string]> = [
    ["commonmark/classification.json", "commonmark/spec-0.31.2.json"],
    ["commonmark/classification.json", "commonmark/spec-post-0.31.2.json"],
    ["gfm/classification.json", "gfm/gfm-0.29-extensions.json"],
    ["gfm/classification.json", "gfm/cmark-gfm-extensions.json"],
    ["gfm/classification.json", "gfm/cmark-gfm-regression.json"],
  ];
  const out: Array<CorpusCase> = [];
  for (const [classFile, file] of groups) {
    const classes = read<Classification>(classFile).files[file] ?? [];
    const byExample = new Map(classes.map((c) => [c.example, c.category]));
    for (const c of read<ReadonlyArray<RawCase>>(file)) {
      out.push({
        file,
        example: c.example,
        markdown: c.markdown,
        html: c.html,
        category: byExample.get(c.example) ?? "unknown",
      });
    }
  }
  return out;
};

/** Categories compared with the reference HTML (no code blocks, images or raw HTML). */
export const comparableCategories: ReadonlySet<string> = new Set(["clean", "table", "tasklist"]);

const decodeEntities = (s: string): string =>
  s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (m, name: string) => {
    const lower = name.toLowerCase();
    if (lower === "amp") return "&";
    if (lower === "lt") return "<\u0000";
    if (lower === "gt") return ">\u0000";
    if (lower === "quot") return '"';
    if (lower === "apos") return "'";
    const code = lower.startsWith("#x")
      ? Number.parseInt(lower.slice(2), 16)
      : Number.parseInt(lower.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });

/**
 * The stated normalisation, applied to both sides: Confluence spellings mapped back to HTML
 * (`text-decoration` span → `del`, paragraph alignment in cells → `align`), void elements written
 * `<br />`/`<hr />`, whitespace between tags removed, a newline in text read as a space (our soft
 * breaks), entity forms decoded.
 */
export const normalizeHtml = (html: string): string =>
  decodeEntities(
    html
      .replace(/<span style="text-decoration: line-through;">([\s\S]*?)<\/span>/g, "<del>$1</del>")
      .replace(/<(th|td)><p style="text-align: (\w+);">([\s\S]*?)<\/p><\/\1>/g, '<$1 align="$2">$3</$1>')
      .replace(/<(br|hr)\s*\/?>/g, "<$1 />"),
  )
    .replace(/>\s+</g, "><")
    .replace(/<br \/>\s+/g, "<br />")
    .replace(/[ \t]*\r?\n[ \t]*/g, " ")
    .trim();
