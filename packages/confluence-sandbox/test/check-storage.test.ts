import { describe, expect, it } from "vitest";
import { checkStorage } from "../src/index.js";

describe("checkStorage", () => {
  // STORAGE-FORMAT.md §1, REST-API.md §7.2
  it.each([
    ["<p>a<br></p>", "Unexpected close tag </p>; expected </br>."],
    ["<p>a</br></p>", "Unexpected close tag </br>; expected </p>."],
    ["<p>]]></p>", "String ']]>' not allowed in textual content, except as the end marker of CDATA section"],
    ["<p>\u0001</p>", "Illegal character ((CTRL-CHAR, code 1))"],
    ["<div markdown>x</div>", "Unexpected character"],
  ])("rejects %j with Confluence's 'Error parsing xhtml' message", (body, detail) => {
    const result = checkStorage(body, { cloud: false });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.message.startsWith(`Error parsing xhtml: ${detail}`)).toBe(true);
      expect(result.message).toMatch(/\n at \[row,col \{unknown-source\}\]: \[\d+,\d+\]$/);
    }
  });

  // STORAGE-FORMAT.md §7.1
  it("accepts the XHTML 1.0 named entities and numeric references but not HTML5-only names", () => {
    expect(
      checkStorage("<p>&nbsp;&mdash;&ndash;&euro;&hellip;&#160;&#x2014;&amp;</p>", { cloud: false }).ok,
    ).toBe(true);
    const html5 = checkStorage("<p>&check;</p>", { cloud: false });
    expect(html5.ok).toBe(false);
    if (!html5.ok) expect(html5.message).toContain('Undeclared general entity "check"');
  });

  // STORAGE-FORMAT.md §1, §4
  it("accepts ac:/ri: markup such as macros with split CDATA, links and task lists", () => {
    const body =
      '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">js</ac:parameter>' +
      "<ac:plain-text-body><![CDATA[a ]]]]><![CDATA[> b]]></ac:plain-text-body></ac:structured-macro>" +
      '<p><ac:link><ri:page ri:content-title="Other" /></ac:link></p>' +
      "<ac:task-list><ac:task><ac:task-status>complete</ac:task-status><ac:task-body>x</ac:task-body></ac:task></ac:task-list>";
    expect(checkStorage(body, { cloud: true })).toEqual({ ok: true });
  });

  // STORAGE-FORMAT.md §1, §7.2: Cloud cannot convert raw <details>
  it("rejects raw <details> on Cloud only", () => {
    const body = "<details><summary>More</summary><p>x</p></details>";
    expect(checkStorage(body, { cloud: true })).toEqual({
      ok: false,
      kind: "unconvertible",
      message: "Content body cannot be converted to new editor format",
    });
    expect(checkStorage(body, { cloud: false }).ok).toBe(true);
  });
});

describe("checkStorage at the end of the body", () => {
  // REST-API.md §7.2 quotes `Unexpected EOF; was expecting a close tag for element <ac:parameter>`
  it("names the innermost unclosed element and points at the end of the body", () => {
    const result = checkStorage('<ac:structured-macro ac:name="x"><ac:parameter ac:name="a">b', {
      cloud: false,
    });
    expect(result).toMatchObject({
      ok: false,
      message:
        "Error parsing xhtml: Unexpected EOF; was expecting a close tag for element <ac:parameter>\n at [row,col {unknown-source}]: [1,61]",
    });
    const multi = checkStorage("<p>a</p>\n<p>x", { cloud: false });
    expect(multi.ok ? "" : multi.message).toMatch(/<p>\n at \[row,col \{unknown-source\}\]: \[2,5\]$/);
  });
});
