import { describe, expect, it } from "vitest";
import { createV2Page, sandbox } from "../helpers/sandbox.js";

const RICH = [
  "<h1>Agenda</h1>",
  '<ac:structured-macro ac:name="toc" />',
  "<h2>Decisions</h2>",
  '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Heads up</ac:parameter><ac:rich-text-body><p>Read this</p></ac:rich-text-body></ac:structured-macro>',
  '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">js</ac:parameter><ac:plain-text-body><![CDATA[if (a < b) { alert("x") }]]></ac:plain-text-body></ac:structured-macro>',
  "<ac:task-list><ac:task><ac:task-status>complete</ac:task-status><ac:task-body>Ship</ac:task-body></ac:task><ac:task><ac:task-status>incomplete</ac:task-status><ac:task-body>Test</ac:task-body></ac:task></ac:task-list>",
  '<p>Due <time datetime="2026-12-01" /></p>',
  "<table><tbody><tr><th>Who</th><td>Alice</td></tr></tbody></table>",
  '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">More</ac:parameter><ac:rich-text-body><p>Hidden</p></ac:rich-text-body></ac:structured-macro>',
  '<ac:image><ri:url ri:value="https://example.com/a.png" /></ac:image>',
].join("");

describe("page view for people", () => {
  it("renders macros, tasks, dates, tables and a toc with title, version and labels", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Rich page", { value: RICH });
    await call("POST", `/rest/api/content/${page.body.id}/label`, {
      body: [{ prefix: "global", name: "minutes" }],
    });
    const res = await fetch(`${sb.origin}/sandbox/pages/${page.body.id}`);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("<h1>Rich page</h1>");
    expect(html).toContain("Version 1");
    expect(html).toContain('<span class="label">minutes</span>');
    expect(html).toContain('class="panel panel-info"');
    expect(html).toContain("<strong>Heads up</strong>");
    expect(html).toContain(
      '<pre data-language="js"><code>if (a &lt; b) { alert(&quot;x&quot;) }</code></pre>',
    );
    expect(html).toContain('<input type="checkbox" disabled checked> Ship');
    expect(html).toContain('<input type="checkbox" disabled> Test');
    expect(html).toContain('<time datetime="2026-12-01">2026-12-01</time>');
    expect(html).toContain("<th>Who</th><td>Alice</td>");
    expect(html).toContain('<nav class="toc">');
    expect(html).toMatch(/<a href="#h-1-decisions">Decisions<\/a>/);
    expect(html).toContain("<details><summary>More</summary>");
    expect(html).toContain('<img src="https://example.com/a.png"');
  });

  it("escapes page content so titles and bodies cannot inject script", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const evil =
      '<p>x</p><script>alert(1)</script><a href="javascript:alert(2)">y</a><p onclick="alert(3)">z</p>';
    const created = await call("POST", "/rest/api/content", {
      body: {
        type: "page",
        title: "<img src=x onerror=alert(4)>",
        space: { key: "MEETINGS" },
        body: { storage: { value: evil, representation: "storage" } },
      },
    });
    expect(created.status).toBe(200);
    const html = await (await fetch(`${sb.origin}/sandbox/pages/${created.body.id}`)).text();
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("javascript:");
    expect(html).not.toContain("onclick");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;img src=x onerror=alert(4)&gt;");
    const index = await (await fetch(`${sb.origin}/sandbox`)).text();
    expect(index).toContain(
      `<a href="/sandbox/pages/${created.body.id}">&lt;img src=x onerror=alert(4)&gt;</a>`,
    );
    expect(index).toContain("MEETINGS");
  });

  it("links ac:link page references to the sandbox page of that title", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const target = await createV2Page(call, "Target page");
    const source = await createV2Page(call, "Source", {
      value:
        '<p><ac:link><ri:page ri:content-title="Target page" /><ac:plain-text-link-body><![CDATA[go]]></ac:plain-text-link-body></ac:link></p>',
    });
    const html = await (await fetch(`${sb.origin}/sandbox/pages/${source.body.id}`)).text();
    expect(html).toContain(`<a href="/sandbox/pages/${target.body.id}" title="Target page">go</a>`);
  });
});
