// GFM tables and strikethrough. Cloud ignores `align` on cells, so column alignment is written on a
// paragraph inside the cell (`<p style="text-align: center;">`, STORAGE-FORMAT.md §2.1); strikethrough
// uses the documented `text-decoration` span instead of `<del>`.

import type { CompileContext, HtmlExtension } from "micromark-util-types";
import type { TableAlign as Align } from "../micromark-types.js";

const alignOf = (context: CompileContext): Align | undefined => {
  const aligns = context.getData("tableAlign");
  const column = context.getData("tableColumn");
  return aligns === undefined || column === undefined ? undefined : aligns[column];
};

const openCell = (name: string, align: Align): string =>
  align === "none" ? `<${name}>` : `<${name}><p style="text-align: ${align};">`;
const closeCell = (name: string, align: Align | undefined): string =>
  align === undefined || align === "none" ? `</${name}>` : `</p></${name}>`;

/** Handlers for table cells and rows, and for strikethrough. */
export const tableHandlers = (): HtmlExtension => ({
  enter: {
    tableHeader(this: CompileContext) {
      this.lineEndingIfNeeded();
      this.tag(openCell("th", alignOf(this) ?? "none"));
    },
    tableData(this: CompileContext) {
      const align = alignOf(this);
      if (align === undefined) this.buffer();
      else {
        this.lineEndingIfNeeded();
        this.tag(openCell("td", align));
      }
    },
    strikethrough(this: CompileContext) {
      this.tag('<span style="text-decoration: line-through;">');
    },
  },
  exit: {
    tableHeader(this: CompileContext) {
      this.tag(closeCell("th", alignOf(this)));
      this.setData("tableColumn", (this.getData("tableColumn") ?? 0) + 1);
    },
    tableData(this: CompileContext) {
      const align = alignOf(this);
      if (align === undefined) {
        this.resume();
        return;
      }
      this.tag(closeCell("td", align));
      this.setData("tableColumn", (this.getData("tableColumn") ?? 0) + 1);
    },
    tableRow(this: CompileContext) {
      const aligns = this.getData("tableAlign") ?? [];
      let column = this.getData("tableColumn") ?? 0;
      while (column < aligns.length) {
        this.lineEndingIfNeeded();
        this.tag("<td></td>");
        column++;
      }
      this.setData("tableColumn", column);
      this.lineEndingIfNeeded();
      this.tag("</tr>");
    },
    strikethrough(this: CompileContext) {
      this.tag("</span>");
    },
  },
});
