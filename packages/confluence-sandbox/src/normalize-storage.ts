// What Confluence Cloud rewrites when it saves storage (STORAGE-FORMAT.md §1.1): macros gain
// `ac:schema-version="1"` and a generated `ac:macro-id`, self-closing tags gain a space before
// `/>`. Emulated so clients learn to compare bodies semantically instead of byte for byte.

import { randomUUID } from "node:crypto";

/** Applies Cloud's save-time rewrites to a well-formed storage body; CDATA and comments are untouched. */
export function normalizeStorage(value: string): string {
  // XML forbids `<` inside attribute values, so `<name ...>` never spans another `<`.
  return value
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->)/)
    .map((part, i) => (i % 2 === 1 ? part : rewriteTags(part)))
    .join("");
}

// internal

function rewriteTags(text: string): string {
  return text.replace(
    /<([A-Za-z][\w.:-]*)((?:\s[^<>]*?)?)\s*(\/?)>/g,
    (_m, name: string, attrs: string, selfClose: string) => {
      let a = attrs.replace(/\s+$/, "");
      if (name === "ac:structured-macro") {
        if (!/\sac:schema-version=/.test(a)) a += ' ac:schema-version="1"';
        if (!/\sac:macro-id=/.test(a)) a += ` ac:macro-id="${randomUUID()}"`;
      }
      return selfClose === "/" ? `<${name}${a} />` : `<${name}${a}>`;
    },
  );
}
