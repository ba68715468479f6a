// Raw HTML in Markdown. It is never passed through: HTML blocks become a paragraph of escaped text
// and inline HTML is escaped, except that with `allowSafeHtml` balanced `sub`, `sup`, `u`, `kbd`,
// `mark` and `br` tags (decided by `annotate`) are re-emitted as well-formed XHTML without attributes.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";
import type { InlineState } from "./line-ending.js";

/** Handlers for `htmlFlow` and `htmlText`. */
export const htmlHandlers = (annotations: Annotations, inline: InlineState): HtmlExtension => {
  let suppress = false;
  return {
    enter: {
      htmlFlow(this: CompileContext) {
        this.lineEndingIfNeeded();
        this.tag("<p>");
        inline.verbatim = true;
      },
      htmlText(this: CompileContext, token: Token) {
        const markup = annotations.safeHtml.get(token);
        if (markup !== undefined) {
          this.tag(markup);
          suppress = true;
        }
      },
    },
    exit: {
      htmlFlow(this: CompileContext) {
        inline.verbatim = false;
        this.tag("</p>");
        this.setData("ignoreEncode");
      },
      htmlText(this: CompileContext) {
        suppress = false;
        this.setData("ignoreEncode");
      },
      htmlTextData(this: CompileContext, token: Token) {
        if (!suppress) this.raw(this.encode(this.sliceSerialize(token)));
      },
    },
  };
};
