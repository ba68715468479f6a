// Links and images. micromark keeps its media stack private, so every handler that touches it is
// replaced here with the same logic over our own stack. Links keep `<a href>`; images become
// `ac:image` with `ri:url` (absolute) or `ri:attachment` (relative path, filled by a later upload).
// Script-capable URLs (javascript:, vbscript:, data:) are never emitted: the label is kept as text.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import {
  attachmentFileName,
  isAbsoluteUrl,
  isDangerousUrl,
  normalizeIdentifier,
  normalizeUri,
} from "../url.js";

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

/** Handlers for links, images and autolinks. */
export const mediaHandlers = (): HtmlExtension => {
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

  function exitMedia(this: CompileContext): undefined {
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
      const altAttribute = alt === "" ? "" : ` ac:alt="${alt}"`;
      const resource = isAbsoluteUrl(destination)
        ? `<ri:url ri:value="${this.encode(normalizeUri(destination))}" />`
        : `<ri:attachment ri:filename="${this.encode(attachmentFileName(destination))}" />`;
      this.tag(`<ac:image${altAttribute}${title}>${resource}</ac:image>`);
      return;
    }
    if (target === undefined || isDangerousUrl(destination)) {
      this.raw(label);
      return;
    }
    this.tag(`<a href="${this.encode(normalizeUri(destination))}"${title}>`);
    this.raw(label);
    this.tag("</a>");
  }
};
