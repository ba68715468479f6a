// Raw HTML in Markdown. It is never passed through: HTML blocks become a paragraph of escaped text
// and inline HTML is escaped, except that with `allowSafeHtml` balanced `sub`, `sup`, `u`, `kbd`,
// `mark` and `br` tags (decided by `annotate`) are re-emitted as well-formed XHTML without attributes.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";

/** Handlers for `htmlFlow` and `htmlText`. */
export const htmlHandlers = (annotations: Annotations): HtmlExtension => {
  let suppress = false;
  return {
    enter: {
      htmlFlow(this: CompileContext) {
        this.lineEndingIfNeeded();
        this.tag("<p>");
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
