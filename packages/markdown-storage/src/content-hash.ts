// A stable fingerprint of a protocol's Markdown, used to skip republishing unchanged pages. The
// normalisation removes differences no reader sees (BOM, line-ending style, Unicode composition,
// trailing whitespace at line ends and at the end of the document).

import { createHash } from "node:crypto";

/** The Markdown as hashed by `contentHash`: no BOM, `\n` line endings, NFC, no trailing whitespace. */
export const normalizeMarkdown = (markdown: string): string =>
  markdown
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .normalize("NFC")
    .replace(/[ \t]+$/gm, "")
    .replace(/\n+$/, "");

/**
 * The SHA-256 (lower-case hex) of the normalised Markdown: documents that differ only in BOM,
 * line-ending style, Unicode normalisation form or trailing whitespace get the same hash.
 *
 * @example contentHash("# Hi\r\n") === contentHash("# Hi\n") // true
 */
export const contentHash = (markdown: string): string =>
  createHash("sha256").update(normalizeMarkdown(markdown), "utf8").digest("hex");
