// GFM footnotes in Confluence terms: a call is a superscript number linking to an `anchor` macro,
// and the definitions are listed (in call order, numbered from 1) below a rule at the end of the
// page. GitHub's own markup (`section`, `aria-*`, `#user-content-` ids) has no Confluence meaning.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import { anchorMacro } from "../heading-anchors.js";
import { normalizeIdentifier } from "../url.js";
import { cdata } from "../xml-text.js";

/** Handlers for footnote calls and definitions, plus the list of notes written at the end. */
export const footnoteHandlers = (): HtmlExtension => {
  const definitions = new Map<string, string>();
  const labels: Array<string> = [];
  const calls = new Map<string, number>();
  const anchor = (n: number): string => `footnote-${n}`;
  return {
    enter: {
      gfmFootnoteDefinition(this: CompileContext) {
        this.getData("tightStack").push(false);
      },
      gfmFootnoteDefinitionLabelString(this: CompileContext) {
        this.buffer();
      },
      gfmFootnoteCallString(this: CompileContext) {
        this.buffer();
      },
    },
    exit: {
      gfmFootnoteDefinitionLabelString(this: CompileContext, token: Token) {
        labels.push(normalizeIdentifier(this.sliceSerialize(token)));
        this.resume();
        this.buffer();
      },
      gfmFootnoteDefinition(this: CompileContext) {
        const label = labels.pop() ?? "";
        const value = this.resume();
        if (!definitions.has(label)) definitions.set(label, value);
        this.getData("tightStack").pop();
        this.setData("slurpOneLineEnding", true);
        this.setData("lastWasTag");
      },
      gfmFootnoteCallString(this: CompileContext, token: Token) {
        const id = normalizeIdentifier(this.sliceSerialize(token));
        this.resume();
        let n = calls.get(id);
        if (n === undefined) {
          n = calls.size + 1;
          calls.set(id, n);
        }
        this.tag(
          `<sup><ac:link ac:anchor="${anchor(n)}"><ac:plain-text-link-body>${cdata(String(n))}</ac:plain-text-link-body></ac:link></sup>`,
        );
      },
      null(this: Omit<CompileContext, "sliceSerialize">) {
        if (calls.size === 0) return;
        this.lineEndingIfNeeded();
        this.tag("<hr />");
        this.lineEndingIfNeeded();
        this.tag("<ol>");
        for (const [id, n] of calls) {
          this.lineEndingIfNeeded();
          this.tag(`<li>${anchorMacro(anchor(n))}`);
          this.tag(definitions.get(id) ?? "");
          this.tag("</li>");
        }
        this.lineEndingIfNeeded();
        this.tag("</ol>");
      },
    },
  };
};
