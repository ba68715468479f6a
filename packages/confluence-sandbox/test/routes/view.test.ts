import { describe, expect, it } from "vitest";
import { createV1Page, createV2Page, sandbox } from "../helpers/sandbox.js";

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

  it("renders only http, https, mailto, anchor and site links, whatever a browser would strip from them", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    // Character references: XML would normalise a literal tab or newline in an attribute to a space.
    const refused = [
      "java&#9;script:alert(1)",
      "java&#10;script:alert(2)",
      "java&#13;script:alert(3)",
      "&#10;&#9; javascript:alert(4)",
      " JaVaScRiPt:alert(5)",
      "vbscript:alert(6)",
      "data:text/html,x",
      "notes.html",
    ];
    const allowed = [
      "https://example.com/a",
      "http://example.com/b",
      "mailto:a@example.com",
      "#top",
      "/sandbox",
    ];
    const value = [
      ...[...refused, ...allowed].map((href, i) => `<p><a href="${href}">link ${i}</a></p>`),
      '<p><img src="java&#9;script:alert(7)" /></p>',
      '<ac:image><ri:url ri:value="java&#10;script:alert(8)" /></ac:image>',
    ].join("");
    const page = await createV1Page(call, "Links", { value });
    expect(page.status).toBe(200);
    const html = await (await fetch(`${sb.origin}/sandbox/pages/${page.body.id}`)).text();
    const article = html.slice(html.indexOf("<article>"));
    const urls = [...article.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((m) => m[1] ?? "");
    // What a browser makes of each: controls and spaces gone, then the scheme.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters a browser skips.
    const asRead = (url: string) => url.replace(/[\x00-\x20\x7f]/g, "");
    for (const url of urls) expect(asRead(url)).toMatch(/^(https?:|mailto:|#|\/)/i);
    expect(urls).toHaveLength(allowed.length);
    for (const [i] of refused.entries()) expect(html).toContain(`<p>link ${i}</p>`);
    for (const [i, href] of allowed.entries())
      expect(html).toContain(`<a href="${href}">link ${refused.length + i}</a>`);
  });

  it("sends a Content-Security-Policy without script with every HTML page", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Policy", { value: RICH });
    for (const url of [
      `${sb.origin}/sandbox/pages/${page.body.id}`,
      `${sb.origin}/sandbox`,
      `${sb.origin}/sandbox/pages/999999`,
      `${sb.origin}/nowhere`,
    ]) {
      const res = await fetch(url);
      expect([url, res.headers.get("content-type")]).toEqual([url, expect.stringContaining("text/html")]);
      const policy = res.headers.get("content-security-policy") ?? "";
      expect([url, policy]).toEqual([url, expect.stringContaining("default-src 'none'")]);
      expect(policy).not.toMatch(/script-src|unsafe-eval/);
      // What the pages use: their inline CSS and images from anywhere (the RICH page has one).
      expect(policy).toContain("style-src 'unsafe-inline'");
      expect(policy).toMatch(/img-src [^;]*https:/);
    }
    const api = await call("GET", "/api/v2/spaces");
    expect(api.headers.get("content-security-policy")).toBeNull();
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

// STORAGE-FORMAT.md §4.1: an unknown code language saves on both; Data Center then renders the
// macro as an error box (and a macro without a language as Java), Cloud as plain code.
describe("code macro languages in the page view", () => {
  const code = (language: string | undefined, text: string) =>
    `<ac:structured-macro ac:name="code">${language === undefined ? "" : `<ac:parameter ac:name="language">${language}</ac:parameter>`}<ac:plain-text-body><![CDATA[${text}]]></ac:plain-text-body></ac:structured-macro>`;
  const ERROR =
    "Error rendering macro &#39;code&#39;: Invalid value specified for parameter &#39;com.atlassian.confluence.ext.code.render.InvalidValueException&#39;";

  it("shows Data Center's error box for a language Data Center does not know, once per such macro", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const value = [
      code("json", '{"a": 1}'),
      code("typescript", "let t = 1"),
      code("js", "let j = 2"),
      code("c#", "var c = 3;"),
      code("html/xml", "<a/>"),
      code("none", "plain"),
      code(undefined, "class A {}"),
    ].join("");
    const page = await createV1Page(call, "Code on DC", { value });
    expect(page.status).toBe(200);
    const html = await (await fetch(`${sb.origin}/sandbox/pages/${page.body.id}`)).text();
    expect(html.split(ERROR).length - 1).toBe(2);
    expect(html).not.toContain("{&quot;a&quot;: 1}");
    expect(html).not.toContain("let t = 1");
    expect(html).toContain('<pre data-language="js"><code>let j = 2</code></pre>');
    expect(html).toContain('<pre data-language="c#"><code>var c = 3;</code></pre>');
    expect(html).toContain('<pre data-language="html/xml"><code>&lt;a/&gt;</code></pre>');
    expect(html).toContain('<pre data-language="none"><code>plain</code></pre>');
    expect(html).toContain('<pre data-language="java"><code>class A {}</code></pre>');
  });

  it("shows any language as code on Cloud", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Code on Cloud", { value: code("json", '{"a": 1}') });
    const html = await (await fetch(`${sb.origin}/sandbox/pages/${page.body.id}`)).text();
    expect(html).not.toContain("Error rendering macro");
    expect(html).toContain('<pre data-language="json"><code>{&quot;a&quot;: 1}</code></pre>');
  });
});

// REST-API.md §1: links shown to humans are `_links.base` + `webui` (or `tinyui`), and the client
// falls back to `/pages/viewpage.action?pageId=` without a `webui`. A browser sends no token.
describe("page links from a publication", () => {
  const open = async (url: string) => {
    const res = await fetch(url, { redirect: "manual" });
    return { status: res.status, location: res.headers.get("location"), text: await res.text() };
  };

  it("redirects Cloud webui, tinyui, viewpage.action and space links to the view without a token", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Weekly sync");
    const { base, webui, tinyui } = page.body._links;
    expect(base).toBe(sb.baseUrl);
    expect(webui).toBe(`/spaces/MEETINGS/pages/${page.body.id}/Weekly+sync`);
    const view = `/sandbox/pages/${page.body.id}`;
    for (const url of [
      `${base}${webui}`,
      `${base}${tinyui}`,
      `${base}/pages/viewpage.action?pageId=${page.body.id}`,
      `${base}/spaces/MEETINGS/pages/${page.body.id}/Old+title`,
      `${base}/spaces/MEETINGS/pages/${page.body.id}`,
    ]) {
      expect([url, await open(url)]).toMatchObject([url, { status: 302, location: view }]);
    }
    const followed = await fetch(`${base}${webui}`);
    expect(followed.status).toBe(200);
    expect(await followed.text()).toContain("<h1>Weekly sync</h1>");
    const home = sb.state.spaces()[0]!.homepageId;
    expect(await open(`${base}/spaces/MEETINGS`)).toMatchObject({
      status: 302,
      location: `/sandbox/pages/${home}`,
    });
    expect(await open(`${base}/spaces/MEETINGS/overview`)).toMatchObject({
      location: `/sandbox/pages/${home}`,
    });
    for (const url of [
      `${base}/spaces/MEETINGS/pages/999999/Nope`,
      `${base}/x/AQAr`,
      `${base}/pages/viewpage.action?pageId=999999`,
      `${base}/pages/viewpage.action`,
      `${base}/spaces/NOPE`,
      `${sb.origin}${webui}`,
    ]) {
      expect([url, (await open(url)).status]).toEqual([url, 404]);
    }
  });

  it("redirects Data Center display, viewpage.action and tinyui links under the context path", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    const page = await createV1Page(call, "Weekly sync");
    const odd = await createV1Page(call, "Q&A: 1+1 / notes?");
    const { base, webui, tinyui } = page.body._links;
    expect(base).toBe(`${sb.origin}/confluence`);
    expect(webui).toBe("/display/MEETINGS/Weekly+sync");
    expect(odd.body._links.webui).toBe(`/pages/viewpage.action?pageId=${odd.body.id}`);
    const cases: Array<[string, string]> = [
      [`${base}${webui}`, page.body.id],
      [`${base}/display/meetings/weekly+SYNC`, page.body.id],
      [`${base}${tinyui}`, page.body.id],
      [`${base}${odd.body._links.webui}`, odd.body.id],
      [`${base}${odd.body._links.tinyui}`, odd.body.id],
      [
        `${base}/display/MEETINGS/${encodeURIComponent("Q&A: 1+1 / notes?").replace(/%20/g, "+")}`,
        odd.body.id,
      ],
      [`${base}/display/MEETINGS`, sb.state.spaces()[0]!.homepageId],
    ];
    for (const [url, id] of cases) {
      expect([url, await open(url)]).toMatchObject([url, { status: 302, location: `/sandbox/pages/${id}` }]);
    }
    for (const url of [
      `${base}/display/MEETINGS/Nope`,
      `${base}/display/NOPE/Weekly+sync`,
      `${base}/pages/viewpage.action?pageId=999999`,
      `${sb.origin}${webui}`,
      `${sb.origin}${tinyui}`,
    ]) {
      expect([url, (await open(url)).status]).toEqual([url, 404]);
    }
    // A renamed page is found under its new title only.
    await call("PUT", `/rest/api/content/${page.body.id}`, {
      body: { type: "page", title: "Renamed", version: { number: 2 } },
    });
    expect((await open(`${base}/display/MEETINGS/Renamed`)).location).toBe(`/sandbox/pages/${page.body.id}`);
    expect((await open(`${base}${webui}`)).status).toBe(404);
  });

  it("redirects Data Center links without a context path, untouched by REST faults", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const page = await createV1Page(call, "Weekly sync");
    sb.faults.add({ kind: "status", status: 503 });
    expect((await call("GET", "/rest/api/space/MEETINGS")).status).toBe(503);
    expect(await open(`${sb.origin}${page.body._links.webui}`)).toMatchObject({
      status: 302,
      location: `/sandbox/pages/${page.body.id}`,
    });
  });
});
