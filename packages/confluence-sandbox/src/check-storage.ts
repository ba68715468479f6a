// Checks a storage-format body the way Confluence's StAX reader does: strict XML, the ac:/ri:/at:
// prefixes bound by a wrapper, and only XML's five entities plus the XHTML 1.0 sets
// (STORAGE-FORMAT.md §1, §7.1). saxes is stricter than nothing and close enough to Woodstox;
// messages are rewritten into Woodstox's wording where REST-API.md §7.2 quotes it.

import { SaxesParser } from "saxes";
import { xhtmlEntities } from "./xhtml-entities.js";

/** The result of {@link checkStorage}: ok, or the 400 message Confluence would send. */
export type StorageCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: "xhtml" | "unconvertible"; readonly message: string };

const ROOT = "ac:confluence";
const OPEN =
  `<${ROOT} xmlns="http://www.w3.org/1999/xhtml"` +
  ' xmlns:ac="http://www.atlassian.com/schema/confluence/4/ac/"' +
  ' xmlns:ri="http://www.atlassian.com/schema/confluence/4/ri/"' +
  ' xmlns:at="http://www.atlassian.com/schema/confluence/4/at/">';

/**
 * Parses `value` as a storage fragment. `cloud` adds Cloud's editor-conversion check
 * (raw `<details>`/`<summary>` → "Content body cannot be converted to new editor format").
 */
export function checkStorage(value: string, options: { readonly cloud: boolean }): StorageCheck {
  const input = `${OPEN}${value}</${ROOT}>`;
  const parser = new SaxesParser({ xmlns: true, position: true });
  Object.assign(parser.ENTITIES, xhtmlEntities);
  const stack: string[] = [];
  let first: { message: string; line: number; column: number } | null = null;
  let unconvertible = false;
  parser.on("opentag", (tag) => {
    stack.push(tag.name);
    if (tag.prefix === "" && (tag.local === "details" || tag.local === "summary")) unconvertible = true;
  });
  // saxes auto-closes open elements before reporting a bad close tag; Woodstox names the
  // innermost of them, so remember the first element closed at the current position.
  let lastClosed = { name: "", position: -1 };
  parser.on("closetag", (tag) => {
    stack.pop();
    if (lastClosed.position !== parser.position) lastClosed = { name: tag.name, position: parser.position };
  });
  parser.on("error", (err) => {
    if (first !== null) return;
    const message = woodstoxMessage(err.message, input, parser.position, stack, lastClosed);
    if (message.startsWith("Unexpected EOF")) {
      // Woodstox reports EOF at the end of the body, not at our wrapper's close tag.
      const lines = value.split("\n");
      const last = lines[lines.length - 1] ?? "";
      first = {
        message,
        line: lines.length,
        column: (lines.length === 1 ? OPEN.length : 0) + last.length + 1,
      };
    } else {
      first = { message, line: parser.line, column: parser.column };
    }
  });
  try {
    parser.write(input).close();
  } catch {
    // saxes throws after reporting through the handler in some states; the first error is what counts.
  }
  if (first !== null) {
    const f = first as { message: string; line: number; column: number };
    const column = f.line === 1 ? Math.max(1, f.column - OPEN.length) : f.column;
    return {
      ok: false,
      kind: "xhtml",
      message: `Error parsing xhtml: ${f.message}\n at [row,col {unknown-source}]: [${f.line},${column}]`,
    };
  }
  if (options.cloud && unconvertible) {
    return {
      ok: false,
      kind: "unconvertible",
      message: "Content body cannot be converted to new editor format",
    };
  }
  return { ok: true };
}

// internal

function woodstoxMessage(
  raw: string,
  input: string,
  position: number,
  stack: ReadonlyArray<string>,
  lastClosed: { readonly name: string; readonly position: number },
): string {
  const msg = raw.replace(/^\d+:\d+: /, "");
  const top = stack[stack.length - 1];
  if (msg.startsWith("unexpected close tag")) {
    const start = input.lastIndexOf("</", position - 1);
    const name = /^<\/([^\s>]*)/.exec(input.slice(start))?.[1] ?? "";
    const autoClosed =
      lastClosed.position === position && lastClosed.name !== name ? lastClosed.name : undefined;
    const expected = autoClosed ?? top ?? ROOT;
    if (name === ROOT && expected !== ROOT)
      return `Unexpected EOF; was expecting a close tag for element <${expected}>`;
    return `Unexpected close tag </${name}>; expected </${expected}>.`;
  }
  if (msg.startsWith("undefined entity")) {
    const amp = input.lastIndexOf("&", position - 1);
    const name = /^&([^;\s]*)/.exec(input.slice(amp))?.[1] ?? "";
    return `Undeclared general entity "${name}"`;
  }
  if (msg.includes('"]]>" is disallowed')) {
    return "String ']]>' not allowed in textual content, except as the end marker of CDATA section";
  }
  if (msg.startsWith("disallowed character")) {
    const code = input.codePointAt(Math.max(0, position - 1)) ?? 0;
    return code < 32 ? `Illegal character ((CTRL-CHAR, code ${code}))` : `Illegal character (code ${code})`;
  }
  if (msg.startsWith("unclosed tag") && top !== undefined) {
    return `Unexpected EOF; was expecting a close tag for element <${top}>`;
  }
  if (msg.startsWith("unquoted attribute value") || msg.startsWith("attribute without value")) {
    const code = input.codePointAt(Math.max(0, position - 1)) ?? 0;
    return `Unexpected character '${String.fromCodePoint(code)}' (code ${code}) in start tag Expected a quote`;
  }
  return msg.charAt(0).toUpperCase() + msg.slice(1);
}
