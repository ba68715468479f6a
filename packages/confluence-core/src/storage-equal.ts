// Whether two storage-format bodies say the same thing, the way Confluence stores them: on save it
// gives every macro `ac:schema-version` and a generated `ac:macro-id`, and self-closing tags gain a
// space before `/>` (STORAGE-FORMAT.md §1.1, §8.8). Only those documented rewrites are ignored:
// a body that differs in anything else is another body, so a caller errs towards "not ours".

/**
 * Whether `a` and `b` are the same storage body up to Confluence's save-time rewrites: the
 * `ac:macro-id`, `ac:local-id` and `ac:schema-version` attributes and the spacing before `/>`
 * are ignored; CDATA sections and comments are compared as they are.
 */
export const sameStorage = (a: string, b: string): boolean => a === b || canonical(a) === canonical(b);

// internal

// XML forbids `<` inside attribute values, so `<name ...>` never spans another `<`.
const TAG = /<([A-Za-z][\w.:-]*)((?:\s[^<>]*?)?)\s*(\/?)>/g;
const GENERATED = /\s+ac:(?:macro-id|local-id|schema-version)\s*=\s*(?:"[^"]*"|'[^']*')/g;

const canonical = (value: string): string =>
  value
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(TAG, canonicalTag)))
    .join("");

const canonicalTag = (_tag: string, name: string, attributes: string, selfClosing: string): string =>
  `<${name}${attributes.replace(GENERATED, "").replace(/\s+$/, "")}${selfClosing}>`;
