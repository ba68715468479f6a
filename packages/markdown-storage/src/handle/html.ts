// Raw HTML in Markdown. It is never passed through: HTML blocks become a paragraph of escaped text
// and inline HTML is escaped. Where any Markdown renderer would show something else, `annotate`
// decides the markup: comments show nothing, `<br>` tags are line breaks, and with `allowSafeHtml`
// balanced `sub`, `sup`, `u`, `kbd` and `mark` tags are re-emitted as well-formed XHTML without
// attributes. Such a token writes that markup, and its raw HTML is compiled into a discarded buffer.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";
import type { InlineState } from "./line-ending.js";

/** Compile flags the discarded raw HTML must not change. */
interface Flags {
  readonly lastWasTag: boolean | undefined;
  readonly slurpOneLineEnding: boolean | undefined;
}

/** Handlers for `htmlFlow` and `htmlText`. */
export const htmlHandlers = (annotations: Annotations, inline: InlineState): HtmlExtension => {
  /** Set while a replaced token is open (HTML tokens never nest). */
  let replacing: Flags | undefined;
  const replace = function (this: CompileContext, markup: string): undefined {
    if (markup !== "") this.tag(markup);
    replacing = {
      lastWasTag: this.getData("lastWasTag"),
      slurpOneLineEnding: this.getData("slurpOneLineEnding"),
    };
    this.buffer();
  };
  /** Ends a replaced token; false if the token was not replaced. */
  const endReplace = function (this: CompileContext): boolean {
    if (replacing === undefined) return false;
    this.resume();
    this.setData("lastWasTag", replacing.lastWasTag);
    this.setData("slurpOneLineEnding", replacing.slurpOneLineEnding);
    replacing = undefined;
    return true;
  };
  return {
    enter: {
      htmlFlow(this: CompileContext, token: Token) {
        inline.verbatim = true;
        const markup = annotations.htmlBlocks.get(token);
        if (markup === undefined) {
          this.lineEndingIfNeeded();
          this.tag("<p>");
          return;
        }
        if (markup !== "") this.lineEndingIfNeeded();
        replace.call(this, markup);
      },
      htmlText(this: CompileContext, token: Token) {
        const markup = annotations.safeHtml.get(token);
        if (markup !== undefined) replace.call(this, markup);
      },
    },
    exit: {
      htmlFlow(this: CompileContext) {
        inline.verbatim = false;
        if (!endReplace.call(this)) this.tag("</p>");
        this.setData("ignoreEncode");
      },
      htmlText(this: CompileContext) {
        endReplace.call(this);
        this.setData("ignoreEncode");
      },
    },
  };
};
