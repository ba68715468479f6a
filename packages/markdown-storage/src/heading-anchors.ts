// In-page links to headings (`[see the actions](#action-items)`). Confluence ignores `<a href="#…">`
// to a heading, so a link whose fragment is the GitHub slug of a heading of the same document becomes
// `ac:link ac:anchor` and that heading gets an `anchor` macro (STORAGE-FORMAT.md §3.1, §4.6). Only
// targeted headings get one, so pages without such links do not change. Collected during annotate's
// single pass over the whole document's events (all pieces), resolved once at its end: linear.

import { decodeString } from "micromark-util-decode-string";
import type { Event, Token } from "micromark-util-types";
import { normalizeIdentifier } from "./url.js";
import { escapeXml } from "./xml-text.js";

/**
 * A heading's slug by GitHub's rules (github-slugger, html-pipeline's TOC filter): lower case, every
 * character other than a letter, mark, decimal or letter number, `_`, `-` or space dropped, each
 * space a `-`. Duplicates are numbered by {@link HeadingAnchors}, not here.
 */
export const githubSlug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");

/** The names footnotes give their `anchor` macros (`footnote-1`, …, see handle/footnote.ts). */
const footnoteAnchor = /^footnote-\d+$/;

interface LinkFrame {
  readonly token: Token;
  readonly image: boolean;
  labelId?: string;
  referenceId?: string;
  destination?: string;
}

/** What the compile handlers need: anchor names by heading text token and by link token. */
export interface AnchorAnnotations {
  /** `atxHeadingText` / `setextHeadingText` tokens of targeted headings → their anchor name. */
  readonly headingAnchors: WeakMap<Token, string>;
  /** `link` tokens whose destination is a heading of the document → that heading's anchor name. */
  readonly anchorLinks: WeakMap<Token, string>;
}

/**
 * Collects headings (with their slugs), links and definitions from events fed in document order
 * (`event`), then decides which links target which heading (`resolve`).
 */
export class HeadingAnchors {
  /** Heading text tokens in document order, with their deduplicated slugs. */
  private readonly headings: Array<readonly [token: Token, slug: string]> = [];
  /** Every slug (and anchor name) given out → how often it was repeated (github-slugger's `occurrences`). */
  private readonly occurrences = new Map<string, number>();
  private readonly definitions = new Map<string, string>();
  private readonly links: Array<LinkFrame> = [];
  private readonly media: Array<LinkFrame> = [];
  private definitionLabel: string | undefined;
  private definitionDestination: string | undefined;
  private headingStart = -1;

  /** Reads the event at `index`; call for every event once, in order. */
  event(events: ReadonlyArray<Event>, index: number): void {
    const [kind, token, context] = events[index] as Event;
    const type: string = token.type;
    if (kind === "enter") {
      switch (type) {
        case "atxHeadingText":
        case "setextHeadingText":
          this.headingStart = index;
          break;
        case "link":
        case "image":
          this.media.push({ token, image: type === "image" });
          break;
        case "definition":
          this.definitionLabel = undefined;
          this.definitionDestination = undefined;
          break;
        default:
      }
      return;
    }
    switch (type) {
      case "atxHeadingText":
      case "setextHeadingText":
        if (this.headingStart !== -1) this.addHeading(token, headingText(events, this.headingStart, index));
        this.headingStart = -1;
        break;
      case "labelText": {
        const top = this.media[this.media.length - 1];
        if (top !== undefined) top.labelId = context.sliceSerialize(token);
        break;
      }
      case "referenceString": {
        const top = this.media[this.media.length - 1];
        if (top !== undefined) top.referenceId = context.sliceSerialize(token);
        break;
      }
      case "resourceDestinationString": {
        const top = this.media[this.media.length - 1];
        if (top !== undefined) top.destination = decodeString(context.sliceSerialize(token));
        break;
      }
      case "resource": {
        const top = this.media[this.media.length - 1];
        if (top !== undefined) top.destination ??= "";
        break;
      }
      case "link":
      case "image": {
        const frame = this.media.pop();
        if (frame !== undefined && !frame.image) this.links.push(frame);
        break;
      }
      case "definitionLabelString":
        this.definitionLabel = normalizeIdentifier(context.sliceSerialize(token));
        break;
      case "definitionDestinationString":
        this.definitionDestination = decodeString(context.sliceSerialize(token));
        break;
      case "definition":
        // As micromark's compiler: the first definition of a label wins.
        if (this.definitionLabel !== undefined && !this.definitions.has(this.definitionLabel))
          this.definitions.set(this.definitionLabel, this.definitionDestination ?? "");
        break;
      default:
    }
  }

  /** Which links target which headings, and the anchor name of each targeted heading. */
  resolve(into: AnchorAnnotations): void {
    if (this.links.length === 0 || this.headings.length === 0) return;
    const bySlug = new Map<string, Token>();
    for (const [token, slug] of this.headings) bySlug.set(slug, token);
    const names = new Map<Token, string>();
    for (const link of this.links) {
      const destination =
        link.destination ?? this.definitions.get(normalizeIdentifier(link.referenceId ?? link.labelId ?? ""));
      const heading = destination === undefined ? undefined : this.target(destination, bySlug);
      if (heading === undefined) continue;
      let name = names.get(heading[0]);
      if (name === undefined) {
        name = this.anchorName(heading[1]);
        names.set(heading[0], name);
        into.headingAnchors.set(heading[0], name);
      }
      into.anchorLinks.set(link.token, name);
    }
  }

  // internal

  /** Numbers a repeated slug as github-slugger does: `a`, `a-1`, `a-2` (skipping slugs already taken). */
  private addHeading(token: Token, text: string): void {
    const base = githubSlug(text);
    let slug = base;
    while (this.occurrences.has(slug)) {
      const n = (this.occurrences.get(base) ?? 0) + 1;
      this.occurrences.set(base, n);
      slug = `${base}-${n}`;
    }
    this.occurrences.set(slug, 0);
    this.headings.push([token, slug]);
  }

  /** The heading a destination names: `#` and a slug, as written or percent-encoded; never `#` alone. */
  private target(
    destination: string,
    bySlug: ReadonlyMap<string, Token>,
  ): readonly [Token, string] | undefined {
    if (!destination.startsWith("#") || destination.length === 1) return undefined;
    const fragment = destination.slice(1);
    const exact = bySlug.get(fragment);
    if (exact !== undefined) return [exact, fragment];
    let decoded: string;
    try {
      decoded = decodeURIComponent(fragment);
    } catch {
      return undefined;
    }
    const token = bySlug.get(decoded);
    return token === undefined ? undefined : [token, decoded];
  }

  /**
   * The slug, unless a footnote names its anchor so (`footnote-2`): then the first `<slug>-N` that is no
   * heading's slug, so the two anchors never collide and the footnotes keep their names.
   */
  private anchorName(slug: string): string {
    if (!footnoteAnchor.test(slug)) return slug;
    for (let n = 1; ; n++) {
      const name = `${slug}-${n}`;
      if (!this.occurrences.has(name)) {
        this.occurrences.set(name, 0);
        return name;
      }
    }
  }
}

/**
 * A heading's text as GitHub's page shows it, which its slug is made of: text with escapes and
 * character references decoded, inline code and autolinks as written, link text; no image alt text,
 * raw HTML tags or footnote calls (none of them is text on the page GitHub renders).
 */
const headingText = (events: ReadonlyArray<Event>, from: number, to: number): string => {
  let text = "";
  /** Open tokens whose content is not text (images, link destinations, footnote calls, references). */
  let hidden = 0;
  let inCode = false;
  for (let index = from + 1; index < to; index++) {
    const [kind, token, context] = events[index] as Event;
    const type: string = token.type;
    if (type === "image" || type === "resource" || type === "reference" || type === "gfmFootnoteCall") {
      hidden += kind === "enter" ? 1 : -1;
      continue;
    }
    if (type === "codeText") inCode = kind === "enter";
    if (kind === "exit" || hidden > 0) continue;
    switch (type) {
      case "data":
      case "characterEscapeValue":
      case "codeTextData":
      case "autolinkProtocol":
      case "autolinkEmail":
      case "literalAutolinkHttp":
      case "literalAutolinkWww":
      case "literalAutolinkEmail":
        text += context.sliceSerialize(token);
        break;
      case "characterReference":
        text += decodeString(context.sliceSerialize(token));
        break;
      case "lineEnding":
        // A line break inside inline code is a space; elsewhere a newline, which the slug drops.
        text += inCode ? " " : "\n";
        break;
      default:
    }
  }
  return text;
};

/** An `anchor` macro named `name` (STORAGE-FORMAT.md §4.6: the name is the unnamed parameter). */
export const anchorMacro = (name: string): string =>
  `<ac:structured-macro ac:name="anchor"><ac:parameter ac:name="">${escapeXml(name)}</ac:parameter></ac:structured-macro>`;
