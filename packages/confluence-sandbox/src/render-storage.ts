// Renders a storage-format body as HTML for people (the sandbox page view): macros become
// readable boxes, tasks checkboxes, the toc a list built from headings. It is an allow-list
// renderer: unknown elements keep only their text, active content is dropped, all text escaped.

import { SaxesParser } from "saxes";
import { xhtmlEntities } from "./xhtml-entities.js";

interface ElementNode {
  readonly type: "element";
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: TreeNode[];
}
type TreeNode = ElementNode | { readonly type: "text"; readonly text: string };

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Renders a storage body; a body that does not parse is shown escaped in a `<pre>`.
 * `linkPage` turns an `ac:link` to a page title (and optional space key) into an href.
 * `deployment: "datacenter"` renders a `code` macro as Data Center does (STORAGE-FORMAT.md §4.1):
 * a language outside its built-in set becomes its error box, a missing one means `java`.
 */
export function renderStorage(
  storage: string,
  options: {
    readonly linkPage?: (title: string, spaceKey: string | undefined) => string | undefined;
    readonly deployment?: "cloud" | "datacenter";
  } = {},
): string {
  const root = parse(storage);
  if (root === null) return `<pre>${escapeHtml(storage)}</pre>`;
  const headings: Array<{ level: number; text: string; id: string }> = [];
  collectHeadings(root, headings);
  return renderChildren(root, {
    headings,
    headingIndex: { n: 0 },
    linkPage: options.linkPage,
    dataCenter: options.deployment === "datacenter",
  });
}

// internal

const PLAIN = new Set([
  "p",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "strong",
  "em",
  "b",
  "i",
  "u",
  "s",
  "del",
  "code",
  "pre",
  "blockquote",
  "ul",
  "ol",
  "li",
  "table",
  "thead",
  "tbody",
  "tfoot",
  "tr",
  "th",
  "td",
  "br",
  "hr",
  "span",
  "div",
  "sub",
  "sup",
  "colgroup",
  "col",
  "caption",
  "dl",
  "dt",
  "dd",
  "small",
  "mark",
  "abbr",
  "cite",
  "q",
  "kbd",
  "var",
  "samp",
]);
const VOID = new Set(["br", "hr", "col", "img"]);
const DROP = new Set([
  "script",
  "style",
  "iframe",
  "object",
  "embed",
  "noscript",
  "template",
  "frame",
  "frameset",
  "base",
  "link",
  "meta",
  "form",
]);
const SAFE_ATTRS = new Set(["colspan", "rowspan", "alt", "title", "datetime", "start", "align"]);

interface RenderState {
  readonly headings: ReadonlyArray<{ level: number; text: string; id: string }>;
  readonly headingIndex: { n: number };
  readonly linkPage: ((title: string, spaceKey: string | undefined) => string | undefined) | undefined;
  readonly dataCenter: boolean;
}

// STORAGE-FORMAT.md §4.1: Data Center's (7.x–9.x) built-in code languages and the aliases the
// reference lists. It says "aliases such as", so Data Center may know a few more; those would be
// flagged here. Case is not checked: the reference does not say whether Data Center does.
const DC_CODE_LANGUAGE_ERROR =
  "Error rendering macro 'code': Invalid value specified for parameter 'com.atlassian.confluence.ext.code.render.InvalidValueException'";
const DC_CODE_LANGUAGES: ReadonlySet<string> = new Set([
  "none",
  "actionscript3",
  "applescript",
  "bash",
  "csharp",
  "coldfusion",
  "cpp",
  "css",
  "delphi",
  "diff",
  "erlang",
  "groovy",
  "html/xml",
  "java",
  "javafx",
  "javascript",
  "perl",
  "php",
  "powershell",
  "python",
  "ruby",
  "sass",
  "scala",
  "sql",
  "vb",
  "yaml",
  "xml",
  "c#",
  "erl",
  "js",
  "jfx",
  "py",
  "text",
  "yml",
]);

function parse(storage: string): ElementNode | null {
  const root: ElementNode = { type: "element", name: "#root", attrs: {}, children: [] };
  const stack: ElementNode[] = [root];
  const parser = new SaxesParser({
    xmlns: false,
  });
  Object.assign(parser.ENTITIES, xhtmlEntities);
  let failed = false;
  parser.on("error", () => {
    failed = true;
  });
  parser.on("opentag", (tag) => {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tag.attributes)) attrs[k] = String(v);
    const node: ElementNode = { type: "element", name: tag.name, attrs, children: [] };
    stack[stack.length - 1]!.children.push(node);
    stack.push(node);
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  const text = (t: string) => stack[stack.length - 1]!.children.push({ type: "text", text: t });
  parser.on("text", text);
  parser.on("cdata", text);
  try {
    parser.write(`<root>${storage}</root>`).close();
  } catch {
    failed = true;
  }
  const wrapper = root.children[0];
  return failed || wrapper === undefined || wrapper.type !== "element" ? null : wrapper;
}

function textOf(node: TreeNode): string {
  return node.type === "text" ? node.text : node.children.map(textOf).join("");
}

function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-|-$/g, "");
}

function collectHeadings(node: ElementNode, out: Array<{ level: number; text: string; id: string }>): void {
  for (const c of node.children) {
    if (c.type !== "element") continue;
    const m = /^h([1-6])$/.exec(c.name);
    if (m !== null)
      out.push({ level: Number(m[1]), text: textOf(c), id: `h-${out.length}-${slug(textOf(c))}` });
    else collectHeadings(c, out);
  }
}

function renderChildren(node: ElementNode, st: RenderState): string {
  return node.children.map((c) => render(c, st)).join("");
}

function param(node: ElementNode, name: string): string | undefined {
  const p = node.children.find(
    (c) => c.type === "element" && c.name === "ac:parameter" && c.attrs["ac:name"] === name,
  );
  return p === undefined ? undefined : textOf(p);
}

function child(node: ElementNode, name: string): ElementNode | undefined {
  return node.children.find((c): c is ElementNode => c.type === "element" && c.name === name);
}

/**
 * The URL if a browser would take it as http(s), mailto, an anchor or a path on this site, else
 * null. Browsers drop ASCII tab and newlines anywhere in a URL and controls and spaces around it
 * (`java\tscript:` runs), so the test is on the URL without any of them, and that is what is
 * rendered. Anything else (a bare relative path, another scheme) is not rendered as a link.
 */
function safeUrl(url: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters browsers drop.
  const u = url.replace(/[\x00-\x20\x7f]/g, "");
  return /^(https?:|mailto:|#|\/)/i.test(u) ? u : null;
}

function render(node: TreeNode, st: RenderState): string {
  if (node.type === "text") return escapeHtml(node.text);
  const name = node.name;
  if (DROP.has(name)) return "";
  if (name === "ac:structured-macro" || name === "ac:macro") return renderMacro(node, st);
  switch (name) {
    case "ac:task-list":
      return `<ul class="tasks">${node.children
        .filter((c): c is ElementNode => c.type === "element" && c.name === "ac:task")
        .map((t) => {
          const done = textOf(child(t, "ac:task-status") ?? { type: "text", text: "" }).trim() === "complete";
          const body = child(t, "ac:task-body");
          return `<li><input type="checkbox" disabled${done ? " checked" : ""}> ${body === undefined ? "" : renderChildren(body, st)}</li>`;
        })
        .join("")}</ul>`;
    case "ac:image": {
      const url = child(node, "ri:url")?.attrs["ri:value"];
      const attachment = child(node, "ri:attachment")?.attrs["ri:filename"];
      const src = url === undefined ? null : safeUrl(url);
      if (src !== null)
        return `<img src="${escapeHtml(src)}" alt="${escapeHtml(node.attrs["ac:alt"] ?? "")}" style="max-width:100%">`;
      return `<span class="macro">[image: ${escapeHtml(attachment ?? url ?? "")}]</span>`;
    }
    case "ac:link": {
      const target = child(node, "ri:page");
      const page = target?.attrs["ri:content-title"];
      const anchor = node.attrs["ac:anchor"];
      const bodyNode = child(node, "ac:link-body") ?? child(node, "ac:plain-text-link-body");
      const label =
        bodyNode === undefined ? escapeHtml(page ?? anchor ?? "link") : renderChildren(bodyNode, st);
      const pageHref = page === undefined ? "" : (st.linkPage?.(page, target?.attrs["ri:space-key"]) ?? "");
      const href = `${pageHref}${anchor === undefined ? "" : `#${slug(anchor)}`}`;
      return `<a href="${escapeHtml(href === "" ? "#" : href)}" title="${escapeHtml(page ?? "")}">${label}</a>`;
    }
    case "ac:emoticon":
      return escapeHtml(node.attrs["ac:emoji-fallback"] ?? `:${node.attrs["ac:name"] ?? ""}:`);
    case "ri:user":
      return `<span class="label">@${escapeHtml(node.attrs["ri:account-id"] ?? node.attrs["ri:userkey"] ?? "user")}</span>`;
    case "time": {
      const dt = node.attrs.datetime ?? "";
      return `<time datetime="${escapeHtml(dt)}">${escapeHtml(dt)}</time>`;
    }
    case "a": {
      const href = safeUrl(node.attrs.href ?? "");
      return href === null
        ? renderChildren(node, st)
        : `<a href="${escapeHtml(href)}">${renderChildren(node, st)}</a>`;
    }
    case "img": {
      const src = safeUrl(node.attrs.src ?? "");
      return src === null ? "" : `<img src="${escapeHtml(src)}" alt="${escapeHtml(node.attrs.alt ?? "")}">`;
    }
    case "ac:layout":
    case "ac:layout-section":
    case "ac:layout-cell":
    case "ac:rich-text-body":
      return `<div>${renderChildren(node, st)}</div>`;
    default:
      break;
  }
  const heading = /^h([1-6])$/.exec(name);
  if (heading !== null) {
    const h = st.headings[st.headingIndex.n++];
    return `<${name} id="${escapeHtml(h?.id ?? "")}">${renderChildren(node, st)}</${name}>`;
  }
  if (PLAIN.has(name)) {
    const attrs = Object.entries(node.attrs)
      .filter(([k]) => SAFE_ATTRS.has(k))
      .map(([k, v]) => ` ${k}="${escapeHtml(v)}"`)
      .join("");
    return VOID.has(name) ? `<${name}${attrs}>` : `<${name}${attrs}>${renderChildren(node, st)}</${name}>`;
  }
  // Unknown or ac:/ri: elements: keep their content, not their markup.
  return renderChildren(node, st);
}

function renderMacro(node: ElementNode, st: RenderState): string {
  const macro = node.attrs["ac:name"] ?? "";
  const rich = child(node, "ac:rich-text-body");
  const plain = child(node, "ac:plain-text-body");
  const title = param(node, "title");
  switch (macro) {
    case "code":
    case "noformat": {
      let lang = param(node, "language");
      if (macro === "code" && st.dataCenter) {
        // Data Center saves any language but renders an unknown one as this error, and highlights
        // a code macro without one as Java (STORAGE-FORMAT.md §4.1).
        if (lang === undefined) lang = "java";
        else if (!DC_CODE_LANGUAGES.has(lang.trim().toLowerCase()))
          return `<div class="macro-error" role="alert">${escapeHtml(DC_CODE_LANGUAGE_ERROR)}</div>`;
      }
      return `<figure class="code">${title === undefined ? "" : `<figcaption>${escapeHtml(title)}</figcaption>`}<pre data-language="${escapeHtml(lang ?? "none")}"><code>${escapeHtml(plain === undefined ? "" : textOf(plain))}</code></pre></figure>`;
    }
    case "info":
    case "tip":
    case "note":
    case "warning":
    case "panel":
      return `<div class="panel panel-${macro}" role="note">${title === undefined ? "" : `<strong>${escapeHtml(title)}</strong>`}${rich === undefined ? "" : renderChildren(rich, st)}</div>`;
    case "expand":
      return `<details><summary>${escapeHtml(title ?? "Click here to expand...")}</summary>${rich === undefined ? "" : renderChildren(rich, st)}</details>`;
    case "toc": {
      const min = Number(param(node, "minLevel") ?? 1);
      const max = Number(param(node, "maxLevel") ?? 7);
      const items = st.headings.filter((h) => h.level >= min && h.level <= max);
      return `<nav class="toc"><ul>${items.map((h) => `<li style="margin-left:${(h.level - min) * 1.2}rem"><a href="#${escapeHtml(h.id)}">${escapeHtml(h.text)}</a></li>`).join("")}</ul></nav>`;
    }
    case "status":
      return `<span class="status" data-colour="${escapeHtml(param(node, "colour") ?? "Grey")}">${escapeHtml(title ?? "")}</span>`;
    case "anchor":
      return `<a id="${escapeHtml(slug(param(node, "") ?? ""))}"></a>`;
    default:
      return `<span class="macro">[${escapeHtml(macro)} macro]</span>${rich === undefined ? "" : renderChildren(rich, st)}`;
  }
}
