// Links and images. micromark keeps its media stack private, so every handler that touches it is
// replaced here with the same logic over our own stack. Links keep `<a href>`, except a link to a
// heading of the page, which is an `ac:link ac:anchor` (annotate.ts decides which, heading-anchors.ts);
// an image with an http(s) URL becomes `ac:image` with `ri:url`. Any other image (a relative path such
// as `diagrams/arch.png`) is shown as text, its alt text (or file name) and its path: Minutes gets
// only the Markdown, so no file could be attached, and an `ri:attachment` to nothing renders as a
// broken image without its alt text. Relative links to other files (`other.md#x`) stay `<a href>`: an `ac:link` to
// another page needs its title (`ri:page ri:content-title`), which the Markdown does not give.
// Script-capable URLs (javascript:, vbscript:, data:) are never emitted: the label is kept as text.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";
import { imageFileName, isDangerousUrl, isWebUrl, normalizeIdentifier, normalizeUri } from "../url.js";
import { cdata, escapeXml } from "../xml-text.js";

interface Media {
  image?: boolean;
  labelId?: string;
  label?: string;
  referenceId?: string;
  destination?: string;
  title?: string;
}

/** Removes tags from rendered label HTML (text is already escaped, so every `<` starts a tag). */
const stripTags = (html: string): string => {
  if (!html.includes("<")) return html;
  let out = "";
  let i = 0;
  while (i < html.length) {
    const open = html.indexOf("<", i);
    if (open === -1) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, open);
    const close = html.indexOf(">", open);
    i = close === -1 ? html.length : close + 1;
  }
  return out;
};

/** Elements STORAGE-FORMAT.md §3.1 allows inside `ac:link-body`. */
const linkBodyElements = new Set(["b", "strong", "em", "i", "code", "tt", "sub", "sup", "br", "span"]);

const unescapeXml = (text: string): string =>
  text.includes("&")
    ? text.replace(/&(amp|lt|gt|quot);/g, (_, name: string) =>
        name === "amp" ? "&" : name === "lt" ? "<" : name === "gt" ? ">" : '"',
      )
    : text;

/**
 * The body of an `ac:link` from a rendered link label: `ac:plain-text-link-body` (CDATA) for plain
 * text, else `ac:link-body` with the elements it allows; other elements are dropped with their text
 * kept (an image gives its alt text, a footnote call inside its number: a link cannot hold a link).
 */
const linkBody = (label: string): string => {
  if (!label.includes("<"))
    return `<ac:plain-text-link-body>${cdata(unescapeXml(label))}</ac:plain-text-link-body>`;
  let out = "";
  let i = 0;
  while (i < label.length) {
    const open = label.indexOf("<", i);
    if (open === -1) {
      out += label.slice(i);
      break;
    }
    out += label.slice(i, open);
    if (label.startsWith("<![CDATA[", open)) {
      const end = label.indexOf("]]>", open);
      const stop = end === -1 ? label.length : end;
      out += escapeXml(label.slice(open + 9, stop));
      i = stop + 3;
      continue;
    }
    const close = label.indexOf(">", open);
    const tag = label.slice(open, close === -1 ? label.length : close + 1);
    i = close === -1 ? label.length : close + 1;
    const name = /^<\/?([A-Za-z][\w:-]*)/.exec(tag)?.[1] ?? "";
    if (linkBodyElements.has(name)) out += tag;
    else if (name === "ac:image") out += /\sac:alt="([^"]*)"/.exec(tag)?.[1] ?? "";
  }
  return `<ac:link-body>${out}</ac:link-body>`;
};

/** A path as its author would read it: percent-escapes decoded where they are valid. */
const decodePath = (path: string): string => {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
};

/** Handlers for links, images and autolinks. */
export const mediaHandlers = (annotations: Annotations): HtmlExtension => {
  const stack: Array<Media> = [];
  const top = (): Media => stack[stack.length - 1] ?? {};
  return {
    enter: {
      image() {
        stack.push({ image: true });
      },
      link() {
        stack.push({});
      },
      resource(this: CompileContext) {
        this.buffer();
        top().destination = "";
      },
      resourceDestinationString(this: CompileContext) {
        this.buffer();
        this.setData("ignoreEncode", true);
      },
    },
    exit: {
      labelText(this: CompileContext, token: Token) {
        top().labelId = this.sliceSerialize(token);
      },
      label(this: CompileContext) {
        top().label = this.resume();
      },
      referenceString(this: CompileContext, token: Token) {
        top().referenceId = this.sliceSerialize(token);
      },
      resourceDestinationString(this: CompileContext) {
        top().destination = this.resume();
        this.setData("ignoreEncode");
      },
      resourceTitleString(this: CompileContext) {
        top().title = this.resume();
      },
      image: exitMedia,
      link: exitMedia,
      data(this: CompileContext, token: Token) {
        const text = this.sliceSerialize(token);
        const trimmed = annotations.trimmedData.get(token);
        this.raw(
          this.encode(trimmed === undefined ? text : text.slice(trimmed.start, text.length - trimmed.end)),
        );
      },
      // GFM's email autolink; with the scheme written before it (annotate.ts) the link keeps it.
      literalAutolinkEmail(this: CompileContext, token: Token) {
        const address = this.sliceSerialize(token);
        const written = annotations.schemeAutolinks.get(token);
        const text = written === undefined ? address : `${written.scheme}:${address}${written.resource}`;
        const url = `${written?.scheme.toLowerCase() ?? "mailto"}:${address}${written?.resource ?? ""}`;
        this.tag(`<a href="${this.encode(normalizeUri(url))}">`);
        this.raw(this.encode(text));
        this.tag("</a>");
      },
      autolinkProtocol(this: CompileContext, token: Token) {
        const uri = this.sliceSerialize(token);
        if (isDangerousUrl(uri)) {
          this.raw(this.encode(uri));
          return;
        }
        this.tag(`<a href="${this.encode(normalizeUri(uri))}">`);
        this.raw(this.encode(uri));
        this.tag("</a>");
      },
    },
  };

  function exitMedia(this: CompileContext, token: Token): undefined {
    const media = stack.pop() ?? {};
    const label = media.label ?? "";
    const id = media.referenceId ?? media.labelId ?? "";
    const target =
      media.destination === undefined
        ? (this.getData("definitions")[normalizeIdentifier(id)] as Media | undefined)
        : media;
    const destination = target?.destination ?? "";
    const title = target?.title ? ` ${media.image ? "ac:title" : "title"}="${target.title}"` : "";
    if (media.image) {
      const alt = stripTags(label);
      if (destination === "" || isDangerousUrl(destination)) {
        this.raw(alt);
        return;
      }
      if (!isWebUrl(destination)) {
        const name = alt.trim() !== "" ? alt : this.encode(imageFileName(destination));
        const path = `(image: <code>${this.encode(decodePath(destination))}</code>)`;
        this.tag(name === "" ? path : `${name} ${path}`);
        return;
      }
      const altAttribute = alt === "" ? "" : ` ac:alt="${alt}"`;
      const resource = `<ri:url ri:value="${this.encode(normalizeUri(destination))}" />`;
      this.tag(`<ac:image${altAttribute}${title}>${resource}</ac:image>`);
      return;
    }
    if (target === undefined || isDangerousUrl(destination)) {
      this.raw(label);
      return;
    }
    const anchor = annotations.anchorLinks.get(token);
    if (anchor !== undefined) {
      this.tag(`<ac:link ac:anchor="${escapeXml(anchor)}">${linkBody(label)}</ac:link>`);
      return;
    }
    this.tag(`<a href="${this.encode(normalizeUri(destination))}"${title}>`);
    this.raw(label);
    this.tag("</a>");
  }
};
