// Soft line breaks. Confluence's editor shows a newline stored inside a paragraph as a visible
// break, so a protocol hard-wrapped at 80 columns would render ragged; like md2conf, text2confl and
// confluence-publisher, we write a soft break inside paragraphs and setext headings as a space.
// The exception is a labelled line in a paragraph whose first line is labelled too (`Date: …` /
// `**Chair:** …`, see annotate.ts): such lines are fields, not wrapped prose, and stay lines
// (`<br />`); a line without a label in between still continues the field before it.
// A newline right after a hard break or an HTML `<br>` (`<br />`) is dropped, and so is the one after an
// HTML block that shows nothing (see annotate.ts). Line endings inside code and HTML blocks are
// their text and always kept: micromark's "slurp" flags, meant for the gaps between blocks (a tight
// list item's paragraph sets one), must not join a code block's lines. Other line endings stay as
// micromark writes them.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";

/** Where the compiler is, shared with the paragraph handlers in `list.ts`. */
export interface InlineState {
  /** Number of open paragraphs / setext heading texts (more than one only in nested containers). */
  paragraphDepth: number;
  afterHardBreak: boolean;
  /** Inside fenced or indented code or an HTML block shown as text: every line ending is content. */
  verbatim: boolean;
}

/** Handlers for line endings and hard breaks (setext heading text is counted in `heading.ts`). */
export const lineEndingHandlers = (state: InlineState, annotations: Annotations): HtmlExtension => {
  const hardBreak = function (this: CompileContext): undefined {
    this.tag("<br />");
    state.afterHardBreak = true;
  };
  return {
    exit: {
      hardBreakEscape: hardBreak,
      hardBreakTrailing: hardBreak,
      lineEnding(this: CompileContext, token: Token) {
        if (state.verbatim) {
          // Only the line ending after an opening fence is not part of the code.
          if (this.getData("slurpOneLineEnding")) this.setData("slurpOneLineEnding");
          else this.raw(this.encode(this.sliceSerialize(token)));
          return;
        }
        if (this.getData("slurpAllLineEndings")) return;
        if (this.getData("slurpOneLineEnding")) {
          this.setData("slurpOneLineEnding");
          return;
        }
        if (annotations.silentLineEndings.has(token)) return;
        if (this.getData("inCodeText")) {
          this.raw(" ");
          return;
        }
        if (state.paragraphDepth > 0) {
          if (state.afterHardBreak) state.afterHardBreak = false;
          else if (annotations.fieldBreaks.has(token)) this.tag("<br />");
          else this.raw(" ");
          return;
        }
        this.raw(this.encode(this.sliceSerialize(token)));
      },
    },
  };
};
