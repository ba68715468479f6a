import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { markdownToStorage, parseProtocol, type StorageOptions } from "../src/index.js";
import { taskListProblems, xmlError } from "./helpers/xml.js";

const fixtures = new URL("./fixtures/", import.meta.url);
const cases = readdirSync(fixtures)
  .filter((name) => name.endsWith(".md"))
  .map((name) => name.slice(0, -3))
  .sort();

const readFixture = (name: string): string => readFileSync(new URL(name, fixtures), "utf8");

describe("fixture conversions (test/fixtures/<case>.md → <case>.xml)", () => {
  it.each(cases)("converts %s to the expected storage format", (name) => {
    const optionsFile = new URL(`${name}.options.json`, fixtures);
    const options = existsSync(optionsFile)
      ? (JSON.parse(readFileSync(optionsFile, "utf8")) as StorageOptions)
      : {};
    const output = markdownToStorage(readFixture(`${name}.md`), options);
    expect(output).toBe(readFixture(`${name}.xml`).replace(/\n$/, ""));
    expect(xmlError(output)).toBeUndefined();
    expect(taskListProblems(output)).toEqual([]);
  });

  it("has at least one fixture per construct of the spec", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
});

describe("markdownToStorage options", () => {
  const meeting = { date: "2026-07-27", topic: "Budget <review> & plan", participants: ["Anna", "Bernd"] };
  const metadata = {
    jobId: "job-42",
    sourceFile: "protocols/2026-07-27.md",
    generatedAt: "2026-07-27T10:00:00Z",
    contentHash: "abc123",
  };

  it("leaves YAML front matter off the page: it is metadata, not content", () => {
    const front = "---\ntitle: T\ndate: 2025-09-02\nattendees:\n  - Alice\n---\n# Head\n";
    expect(markdownToStorage(front)).toBe("<h1>Head</h1>\n");
    expect(markdownToStorage(`\uFEFF${front}`, { addToc: true })).toBe(
      '<ac:structured-macro ac:name="toc" />\n<h1>Head</h1>',
    );
    expect(markdownToStorage(front.replaceAll("\n", "\r\n")).trim()).toBe("<h1>Head</h1>");
    expect(markdownToStorage(parseProtocol(front))).toBe("<h1>Head</h1>\n");
  });

  it("leaves front matter off the page also when its YAML is invalid or too large to read", () => {
    // `title: Meeting: Budget` is invalid YAML (an unquoted `: ` in a value), but the block is
    // still metadata, and meeting info skips it too.
    const invalid = "---\ntitle: Meeting: Budget\ndate: 2025-09-02\n---\n\n# Protokoll\n\ntext";
    expect(markdownToStorage(invalid)).toBe("<h1>Protokoll</h1>\n<p>text</p>");
    expect(markdownToStorage(parseProtocol(invalid))).toBe("<h1>Protokoll</h1>\n<p>text</p>");
    const large = `---\ntopic: x\n${"# comment\n".repeat(2_000)}---\n# Head\n`;
    expect(markdownToStorage(large)).toBe("<h1>Head</h1>\n");
  });

  it("keeps a leading rule and setext heading that are not front matter", () => {
    expect(markdownToStorage("---\nSome text\n---\nafter")).toBe("<hr />\n<h2>Some text</h2>\n<p>after</p>");
  });

  it("emits only the converted body when no options are given", () => {
    expect(markdownToStorage("Hello")).toBe("<p>Hello</p>");
  });

  it("puts a toc macro at the top when addToc is on", () => {
    expect(markdownToStorage("# A", { addToc: true })).toBe(
      '<ac:structured-macro ac:name="toc" />\n<h1>A</h1>',
    );
  });

  it("puts the meeting date at the top as a time element when addDateMacro is on", () => {
    expect(markdownToStorage("x", { addDateMacro: true, meeting })).toBe(
      '<p><time datetime="2026-07-27" /></p>\n<p>x</p>',
    );
  });

  it("leaves the date out when it is missing or not a valid YYYY-MM-DD date", () => {
    expect(markdownToStorage("x", { addDateMacro: true, meeting: { date: null } })).toBe("<p>x</p>");
    expect(markdownToStorage("x", { addDateMacro: true, meeting: { date: "2026-02-30" } })).toBe("<p>x</p>");
    expect(markdownToStorage("x", { addDateMacro: true })).toBe("<p>x</p>");
  });

  it("summarises topic, date and participants in an info panel when addInfoPanel is on", () => {
    const output = markdownToStorage("x", { addInfoPanel: true, meeting });
    expect(output).toBe(
      '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Meeting</ac:parameter><ac:rich-text-body>' +
        "<p><strong>Topic:</strong> Budget &lt;review&gt; &amp; plan</p>" +
        '<p><strong>Date:</strong> <time datetime="2026-07-27" /></p>' +
        "<p><strong>Participants:</strong> Anna, Bernd</p></ac:rich-text-body></ac:structured-macro>\n<p>x</p>",
    );
    expect(xmlError(output)).toBeUndefined();
  });

  it("shows only the known meeting facts in the info panel and omits an empty panel", () => {
    expect(markdownToStorage("x", { addInfoPanel: true, meeting: { topic: "Only topic" } })).toContain(
      "<p><strong>Topic:</strong> Only topic</p></ac:rich-text-body>",
    );
    expect(markdownToStorage("x", { addInfoPanel: true, meeting: { topic: null, participants: [] } })).toBe(
      "<p>x</p>",
    );
  });

  it("appends the publication metadata in an expand macro when includeMetadata is on", () => {
    const output = markdownToStorage("x", { includeMetadata: true, metadata });
    expect(output).toBe(
      '<p>x</p>\n<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">Publication metadata</ac:parameter>' +
        "<ac:rich-text-body><table><tbody><tr><th>Job ID</th><td>job-42</td></tr>" +
        "<tr><th>Source file</th><td>protocols/2026-07-27.md</td></tr>" +
        "<tr><th>Generated at</th><td>2026-07-27T10:00:00Z</td></tr>" +
        "<tr><th>Content hash</th><td>abc123</td></tr></tbody></table></ac:rich-text-body></ac:structured-macro>",
    );
  });

  it("combines all content macros in the order toc, date, info panel, body, metadata", () => {
    const output = markdownToStorage("# Body", {
      addToc: true,
      addDateMacro: true,
      addInfoPanel: true,
      includeMetadata: true,
      meeting,
      metadata,
    });
    const order = ['ac:name="toc"', "<p><time", 'ac:name="info"', "<h1>Body</h1>", 'ac:name="expand"'].map(
      (s) => output.indexOf(s),
    );
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(xmlError(output)).toBeUndefined();
  });

  it("escapes and cleans control characters in option values", () => {
    const output = markdownToStorage("x", {
      addInfoPanel: true,
      meeting: { topic: "a\u0001<script>", participants: ['"q"'] },
    });
    expect(output).toContain("a\uFFFD&lt;script&gt;");
    expect(xmlError(output)).toBeUndefined();
  });
});

describe("markdownToStorage safety", () => {
  it("never emits raw HTML elements from the Markdown by default", () => {
    const output = markdownToStorage(
      '<img src=x onerror="alert(1)"> <sub>x</sub>\n\n<script>alert(1)</script>',
    );
    expect(output).not.toMatch(/<(img|script|sub)\b/);
    expect(xmlError(output)).toBeUndefined();
  });

  it("drops javascript:, data: and vbscript: URLs but keeps the link text", () => {
    const output = markdownToStorage(
      "[a](javascript:x) [b]( data:text/html,x) [c](VBScript:x) ![d](javascript:y)",
    );
    expect(output).toBe("<p>a b c d</p>");
  });

  it("keeps a URL whose scheme only looks dangerous after a path segment", () => {
    expect(markdownToStorage("[a](./javascript:x)")).toBe('<p><a href="./javascript:x">a</a></p>');
  });

  it("shows a relative image as its alt text and path: no attachment is ever uploaded", () => {
    expect(markdownToStorage("![chart](../img/q3%20chart.png#x)")).toBe(
      "<p>chart (image: <code>../img/q3 chart.png#x</code>)</p>",
    );
    // Two files of the same name stay apart; a path without a file name still shows.
    expect(markdownToStorage("![v1](old/chart.png) ![v2](new/chart.png)")).toBe(
      "<p>v1 (image: <code>old/chart.png</code>) v2 (image: <code>new/chart.png</code>)</p>",
    );
    expect(markdownToStorage("![](./a/b/)")).toBe("<p>(image: <code>./a/b/</code>)</p>");
    // Without alt text, the file name stands for the image.
    expect(markdownToStorage("![](img/arch.png)")).toBe("<p>arch.png (image: <code>img/arch.png</code>)</p>");
    expect(markdownToStorage("![a](file:///C:/x.png)")).toBe(
      "<p>a (image: <code>file:///C:/x.png</code>)</p>",
    );
    expect(markdownToStorage("![a](//cdn.example.com/x.png)")).toBe(
      '<p><ac:image ac:alt="a"><ri:url ri:value="//cdn.example.com/x.png" /></ac:image></p>',
    );
    expect(markdownToStorage("![logo](logo.png)")).not.toContain("ri:attachment");
  });

  it("accepts CRLF and CR line endings", () => {
    const output = markdownToStorage("a\r\nb\r\n\r\n- [ ] c\r");
    expect(output).toContain("<p>a b</p>");
    expect(output).toContain("<ac:task-status>incomplete</ac:task-status><ac:task-body>c</ac:task-body>");
    expect(xmlError(output)).toBeUndefined();
  });

  it("returns an empty fragment for empty input", () => {
    expect(markdownToStorage("")).toBe("");
  });
});

describe("markdownToStorage email autolinks with a scheme (GFM mailto: and xmpp:)", () => {
  it("links an xmpp: address as xmpp, not as an e-mail address, with one resource segment", () => {
    expect(markdownToStorage("xmpp:team@chat.example.org/desk/2")).toBe(
      '<p><a href="xmpp:team@chat.example.org/desk">xmpp:team@chat.example.org/desk</a>/2</p>',
    );
  });

  it("keeps the scheme as written in the text and in lower case in the link", () => {
    expect(markdownToStorage("Mailto:chair@example.com.")).toBe(
      '<p><a href="mailto:chair@example.com">Mailto:chair@example.com</a>.</p>',
    );
  });

  it("leaves a scheme that ends a longer word out of the link", () => {
    expect(markdownToStorage("xmailto:a@example.com")).toBe(
      '<p>xmailto:<a href="mailto:a@example.com">a@example.com</a></p>',
    );
  });

  it("gives each link its own part of the text between two addresses", () => {
    expect(markdownToStorage("xmpp:a@example.com/home mailto:b@example.com")).toBe(
      '<p><a href="xmpp:a@example.com/home">xmpp:a@example.com/home</a> <a href="mailto:b@example.com">mailto:b@example.com</a></p>',
    );
    expect(markdownToStorage("xmpp:a@example.com/mailto:b@example.com")).toBe(
      '<p><a href="xmpp:a@example.com/mailto">xmpp:a@example.com/mailto</a>:<a href="mailto:b@example.com">b@example.com</a></p>',
    );
  });
});
