// Strict well-formedness check used by every converter test: saxes with namespaces on, the fragment
// wrapped in a root element that declares the `ac` and `ri` prefixes.
import { SaxesParser } from "saxes";

/** The fragment in a root element that declares the `ac` and `ri` prefixes. */
const wrapped = (fragment: string) =>
  `<root xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource/identifier">${fragment}</root>`;

/** The first XML error in the wrapped fragment, or `undefined` when it is well-formed. */
export const xmlError = (fragment: string): string | undefined => {
  const parser = new SaxesParser({ xmlns: true });
  let error: string | undefined;
  parser.on("error", (e) => {
    error ??= e.message;
  });
  parser.write(wrapped(fragment)).close();
  return error;
};

const allowedElements = new Set([
  "root",
  "p",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "em",
  "strong",
  "span",
  "code",
  "blockquote",
  "hr",
  "br",
  "ul",
  "ol",
  "li",
  "table",
  "thead",
  "tbody",
  "tr",
  "th",
  "td",
  "a",
  "sup",
  "sub",
  "u",
  "kbd",
  "mark",
  "time",
]);

/**
 * Active or unexpected markup in a well-formed fragment: elements outside the storage-format subset we
 * emit (so no `script`, `iframe`, `img`), `on*` attributes, and script-capable URLs in `href`/`ri:value`.
 */
export const activeContent = (fragment: string): ReadonlyArray<string> => {
  const found: Array<string> = [];
  const parser = new SaxesParser({ xmlns: true });
  parser.on("error", () => {});
  parser.on("opentag", (tag) => {
    if (tag.prefix !== "ac" && tag.prefix !== "ri" && !allowedElements.has(tag.name))
      found.push(`<${tag.name}>`);
    for (const attribute of Object.values(tag.attributes)) {
      if (/^on/i.test(attribute.local)) found.push(`${tag.name} ${attribute.name}`);
      if (/^(href|value)$/.test(attribute.local) && /^\s*(javascript|vbscript|data):/i.test(attribute.value))
        found.push(`${tag.name} ${attribute.name}=${attribute.value}`);
    }
  });
  parser.write(wrapped(fragment)).close();
  return found;
};

/** Elements that are inline content, the only content an `ac:task-body` may hold. */
const inlineElements = new Set([
  "em",
  "strong",
  "span",
  "code",
  "br",
  "a",
  "sup",
  "sub",
  "u",
  "kbd",
  "mark",
  "time",
  "ac:link",
  "ac:link-body",
  "ac:plain-text-link-body",
  "ac:image",
  "ri:url",
  "ri:attachment",
]);

/**
 * Where a well-formed fragment breaks the shape of Confluence task lists (STORAGE-FORMAT.md §5, and
 * the editor's model, where a task list holds tasks and task lists and starts with a task): a task
 * body holding anything but inline content, a task list holding anything but `ac:task` and
 * `ac:task-list` or starting with a list.
 */
export const taskListProblems = (fragment: string): ReadonlyArray<string> => {
  const found: Array<string> = [];
  const parser = new SaxesParser({ xmlns: true });
  const stack: Array<{ name: string; children: number }> = [];
  parser.on("opentag", (tag) => {
    const parent = stack[stack.length - 1];
    if (parent?.name === "ac:task-list") {
      if (tag.name !== "ac:task" && tag.name !== "ac:task-list") found.push(`<${tag.name}> in a task list`);
      if (parent.children === 0 && tag.name !== "ac:task")
        found.push(`task list starting with <${tag.name}>`);
    }
    if (stack.some((open) => open.name === "ac:task-body") && !inlineElements.has(tag.name))
      found.push(`<${tag.name}> in a task body`);
    if (parent !== undefined) parent.children++;
    stack.push({ name: tag.name, children: 0 });
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  parser.write(wrapped(fragment)).close();
  return found;
};
