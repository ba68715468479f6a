// The meeting-info scan as it was built before the shared parse: an mdast tree from
// mdast-util-from-markdown with GFM, walked node by node. It is the reference the event-based scan in
// src/meeting-info.ts is compared with; it shares the text rules (src/meeting-fields.ts), the choice
// of text and the converter's text transformation, so a difference can only come from the walk.
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";
import { shownInlineHtml } from "../../src/annotate.js";
import {
  addHeading,
  addLines,
  addRow,
  emptyScan,
  type FoundMeeting,
  resolveMeeting,
  type Scan,
  scanSource,
} from "../../src/meeting-fields.js";
import { converterText } from "../../src/parse-protocol.js";

/** `extractMeetingInfo` computed from an mdast tree. */
export const referenceMeetingInfo = (markdown: string, filename?: string): FoundMeeting => {
  const source = scanSource(markdown);
  return resolveMeeting(source.data, scanTree(converterText(source.text)), filename);
};

// internal

/** The parts of an mdast node the walk reads; mdast nodes are structurally assignable to it. */
interface MdNode {
  readonly type: string;
  readonly value?: string | undefined;
  readonly alt?: string | null | undefined;
  readonly depth?: number | undefined;
  readonly children?: readonly MdNode[] | undefined;
}

const scanTree = (markdown: string): Scan => {
  const tree: MdNode = fromMarkdown(markdown, {
    extensions: [gfm()],
    mdastExtensions: [gfmFromMarkdown()],
  });
  const scan = emptyScan();
  const h1 = tree.children?.find((node) => node.type === "heading" && node.depth === 1);
  if (h1 !== undefined) addHeading(scan, plainText(h1, " "));
  visitFields(tree, scan);
  return scan;
};

/** Reads each labelled field in document order until both are known; `true` then. */
const visitFields = (node: MdNode, scan: Scan): boolean => {
  switch (node.type) {
    case "code":
    case "html":
    case "yaml":
      return false;
    case "paragraph":
    case "heading":
      return addLines(scan, plainText(node, "\n"));
    case "tableRow":
      return addRow(
        scan,
        (node.children ?? []).map((cell) => plainText(cell, " ")),
      );
    default:
      for (const child of node.children ?? []) if (visitFields(child, scan)) return true;
      return false;
  }
};

/** The text of a node with inline markup reduced to its text; line breaks become `lineBreak`. */
const plainText = (node: MdNode, lineBreak: string): string => {
  switch (node.type) {
    case "text":
      return lineBreak === "\n" ? (node.value ?? "") : (node.value ?? "").replace(/\r?\n/gu, lineBreak);
    case "inlineCode":
      return node.value ?? "";
    case "break":
      return lineBreak;
    case "image":
    case "imageReference":
      return node.alt ?? "";
    case "html":
      // Inline raw HTML (HTML blocks are skipped in visitFields): what the page shows for it.
      return shownInlineHtml(node.value ?? "");
    case "footnoteReference":
      return "";
    default:
      return (node.children ?? []).map((child) => plainText(child, lineBreak)).join("");
  }
};
