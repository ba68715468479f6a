// Headings: micromark writes the elements; this adds the `anchor` macro at the start of a heading
// that an in-page link targets (annotate.ts decides which, see heading-anchors.ts), where md2conf
// puts it (STORAGE-FORMAT.md §4.6). Setext heading text is counted as inline content here too, so
// its soft breaks become spaces (line-ending.ts); both need the one `setextHeadingText` handler.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";
import { anchorMacro } from "../heading-anchors.js";
import type { InlineState } from "./line-ending.js";

/** Handlers for heading text: anchors of link targets, setext text as inline content. */
export const headingHandlers = (state: InlineState, annotations: Annotations): HtmlExtension => {
  const anchor = function (this: CompileContext, token: Token): undefined {
    const name = annotations.headingAnchors.get(token);
    if (name !== undefined) this.tag(anchorMacro(name));
  };
  return {
    enter: {
      atxHeadingText: anchor,
      setextHeadingText(this: CompileContext, token: Token) {
        state.paragraphDepth++;
        anchor.call(this, token);
      },
    },
    exit: {
      setextHeadingText(this: CompileContext) {
        state.paragraphDepth--;
        this.setData("slurpAllLineEndings", true);
      },
    },
  };
};
