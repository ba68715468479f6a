// Fenced and indented code → the Confluence `code` macro. The body is collected raw (no entity
// encoding) and written as CDATA; the language comes from the info string through the alias table,
// limited to the ids the target deployment knows.
// The data flags mirror micromark's own code handlers so the line endings around the macro are
// those of its HTML; the line endings inside are kept wherever the code is (`inline.verbatim`), even
// where micromark's HTML loses them (after a tight list item's paragraph or a definition).

import type { CompileContext, HtmlExtension } from "micromark-util-types";
import { confluenceLanguage } from "../code-language.js";
import { cdata } from "../xml-text.js";
import type { InlineState } from "./line-ending.js";

/** Handlers turning code blocks into `<ac:structured-macro ac:name="code">` for `deployment`. */
export const codeHandlers = (inline: InlineState, deployment: "cloud" | "datacenter"): HtmlExtension => {
  let info: string | undefined;
  const enterCode = function (this: CompileContext): undefined {
    this.lineEndingIfNeeded();
    this.buffer();
    this.setData("ignoreEncode", true);
    inline.verbatim = true;
    info = undefined;
  };
  return {
    enter: {
      codeFenced(this: CompileContext) {
        enterCode.call(this);
        this.setData("fencesCount", 0);
      },
      codeIndented: enterCode,
    },
    exit: {
      codeFencedFenceInfo(this: CompileContext) {
        info = this.resume();
      },
      codeFencedFence(this: CompileContext) {
        const count = this.getData("fencesCount") ?? 0;
        if (count === 0) this.setData("slurpOneLineEnding", true);
        this.setData("fencesCount", count + 1);
      },
      codeFenced: exitCode,
      codeIndented: exitCode,
    },
  };

  function exitCode(this: CompileContext): undefined {
    const count = this.getData("fencesCount");
    if (
      count !== undefined &&
      count < 2 &&
      this.getData("tightStack").length > 0 &&
      !this.getData("lastWasTag")
    ) {
      this.raw("\n");
    }
    if (this.getData("flowCodeSeenData")) this.lineEndingIfNeeded();
    inline.verbatim = false;
    let body = this.resume();
    if (body.endsWith("\r\n")) body = body.slice(0, -2);
    else if (body.endsWith("\n") || body.endsWith("\r")) body = body.slice(0, -1);
    this.setData("ignoreEncode");
    this.setData("flowCodeSeenData");
    this.setData("fencesCount");
    this.setData("slurpOneLineEnding");
    this.tag(
      `<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">${confluenceLanguage(info, deployment)}</ac:parameter>` +
        `<ac:plain-text-body>${cdata(body)}</ac:plain-text-body></ac:structured-macro>`,
    );
    if (count !== undefined && count < 2) this.lineEndingIfNeeded();
    info = undefined;
  }
};
