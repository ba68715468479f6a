// Block quotes, and GitHub alerts (`> [!NOTE]` …) as Confluence admonition macros. The alert marker
// line was already removed by `annotate`; the mapping (NOTE→info, TIP→tip, IMPORTANT/WARNING→note,
// CAUTION→warning) follows STORAGE-FORMAT.md §4.2.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";

/** Handlers for block quotes and alert panels. */
export const quoteHandlers = (annotations: Annotations): HtmlExtension => {
  const open: Array<string> = [];
  return {
    enter: {
      blockQuote(this: CompileContext, token: Token) {
        this.getData("tightStack").push(false);
        this.lineEndingIfNeeded();
        const macro = annotations.alerts.get(token);
        if (macro === undefined) {
          open.push("</blockquote>");
          this.tag("<blockquote>");
        } else {
          open.push("</ac:rich-text-body></ac:structured-macro>");
          this.tag(`<ac:structured-macro ac:name="${macro}"><ac:rich-text-body>`);
        }
      },
    },
    exit: {
      blockQuote(this: CompileContext) {
        this.getData("tightStack").pop();
        this.lineEndingIfNeeded();
        this.tag(open.pop() ?? "</blockquote>");
        this.setData("slurpAllLineEndings");
      },
    },
  };
};
