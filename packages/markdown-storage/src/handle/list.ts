// Lists and GFM task lists. A list whose every item starts with a checkbox becomes `ac:task-list`
// with one `ac:task` per item (id, status, body); a trailing due date in the item's first paragraph
// becomes a `<time>` element. The body is that paragraph's inline content, and a nested task list
// follows its task inside the parent `ac:task-list` (annotate.ts keeps any list whose items hold
// other blocks a plain list). Other lists follow micromark's own list handlers (start numbers,
// tight/loose), which are private and so re-implemented here; a stray checkbox stays as `[x]` text.

import type { CompileContext, HtmlExtension, Token } from "micromark-util-types";
import type { Annotations } from "../annotate.js";
import { renderDueDate } from "../due-date.js";
import type {} from "../micromark-types.js";
import type { InlineState } from "./line-ending.js";

/** Mutable numbering shared by one conversion (task ids are unique per page). */
export interface TaskCounter {
  next: number;
}

/** Handlers for ordered, unordered and task lists, and for paragraphs (tight lists, task bodies). */
export const listHandlers = (
  annotations: Annotations,
  counter: TaskCounter,
  inline: InlineState,
): HtmlExtension => {
  const kinds: Array<"ol" | "ul" | "task"> = [];

  const closeItem = function (this: CompileContext): undefined {
    // A task is closed where its first paragraph ends: `ac:task-body` holds inline content only,
    // and a nested task list follows the task inside the parent `ac:task-list`.
    if (kinds[kinds.length - 1] === "task") {
      this.setData("slurpAllLineEndings");
      return;
    }
    if (this.getData("lastWasTag") && !this.getData("slurpAllLineEndings")) this.lineEndingIfNeeded();
    this.tag("</li>");
    this.setData("slurpAllLineEndings");
  };
  const enterList = function (this: CompileContext, token: Token, kind: "ol" | "ul"): undefined {
    this.getData("tightStack").push(!token._loose);
    this.lineEndingIfNeeded();
    if (annotations.taskLists.has(token)) {
      kinds.push("task");
      this.tag("<ac:task-list");
    } else {
      kinds.push(kind);
      this.tag(`<${kind}`);
    }
    this.setData("expectFirstItem", true);
  };
  const exitList = function (this: CompileContext): undefined {
    closeItem.call(this);
    this.getData("tightStack").pop();
    const kind = kinds.pop();
    this.raw("\n");
    this.tag(kind === "task" ? "</ac:task-list>" : `</${kind ?? "ul"}>`);
  };

  return {
    enter: {
      listOrdered(this: CompileContext, token: Token) {
        enterList.call(this, token, "ol");
      },
      listUnordered(this: CompileContext, token: Token) {
        enterList.call(this, token, "ul");
      },
      listItemValue(this: CompileContext, token: Token) {
        if (!this.getData("expectFirstItem") || kinds[kinds.length - 1] !== "ol") return;
        const value = Number.parseInt(this.sliceSerialize(token), 10);
        if (value !== 1) this.tag(` start="${this.encode(String(value))}"`);
      },
      listItemMarker(this: CompileContext) {
        if (this.getData("expectFirstItem")) this.tag(">");
        else closeItem.call(this);
        this.lineEndingIfNeeded();
        if (kinds[kinds.length - 1] === "task") {
          counter.next++;
          this.tag(`<ac:task><ac:task-id>${counter.next}</ac:task-id>`);
        } else this.tag("<li>");
        this.setData("expectFirstItem");
        this.setData("lastWasTag");
      },
      paragraph(this: CompileContext, token: Token) {
        const status = annotations.taskParagraphs.get(token);
        const tightStack = this.getData("tightStack");
        inline.paragraphDepth++;
        if (status !== undefined) {
          // No `<p>` in a task body, even in a loose list: the body is inline content.
          this.tag(`<ac:task-status>${status}</ac:task-status><ac:task-body>`);
          this.setData("slurpAllLineEndings");
          this.buffer();
          return;
        }
        if (!tightStack[tightStack.length - 1]) {
          this.lineEndingIfNeeded();
          this.tag("<p>");
        }
        this.setData("slurpAllLineEndings");
      },
      taskListCheck() {},
    },
    exit: {
      listOrdered: exitList,
      listUnordered: exitList,
      paragraph(this: CompileContext, token: Token) {
        inline.paragraphDepth--;
        inline.afterHardBreak = false;
        if (annotations.taskParagraphs.has(token)) {
          const body = this.resume();
          this.raw(renderDueDate(body.replace(/^[ \t]+/, "")));
          this.tag("</ac:task-body></ac:task>");
          this.setData("slurpAllLineEndings", true);
          return;
        }
        const tightStack = this.getData("tightStack");
        if (tightStack[tightStack.length - 1]) this.setData("slurpAllLineEndings", true);
        else this.tag("</p>");
      },
      taskListCheck(this: CompileContext, token: Token) {
        if (!annotations.taskChecks.has(token)) this.raw(this.encode(this.sliceSerialize(token)));
      },
      taskListCheckValueChecked() {},
      taskListCheckValueUnchecked() {},
    },
  };
};
