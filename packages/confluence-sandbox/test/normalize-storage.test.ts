import { describe, expect, it } from "vitest";
import { normalizeStorage } from "../src/normalize-storage.js";
import { createV1Page, createV2Page, sandbox } from "./helpers/sandbox.js";

describe("Cloud's storage rewrites on save", () => {
  // STORAGE-FORMAT.md §1.1, REST-API.md §11
  it("adds ac:schema-version and ac:macro-id to macros and a space before '/>', leaving CDATA alone", () => {
    const out = normalizeStorage(
      '<p>a/>b<br/><col style="width: 200.0px;"/></p><ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[<br/>]]></ac:plain-text-body></ac:structured-macro><hr />',
    );
    expect(out).toMatch(
      /^<p>a\/>b<br \/><col style="width: 200.0px;" \/><\/p><ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="[0-9a-f-]{36}"><ac:plain-text-body><!\[CDATA\[<br\/>\]\]><\/ac:plain-text-body><\/ac:structured-macro><hr \/>$/,
    );
  });

  it("keeps an existing macro id, so saving twice does not change the body", () => {
    const once = normalizeStorage('<ac:structured-macro ac:name="toc"/>');
    expect(once).toMatch(
      /^<ac:structured-macro ac:name="toc" ac:schema-version="1" ac:macro-id="[0-9a-f-]{36}" \/>$/,
    );
    expect(normalizeStorage(once)).toBe(once);
  });

  it("stores rewritten bodies on Cloud and bodies as sent on Data Center", async () => {
    const cloud = await sandbox({ mode: "cloud" });
    const page = await createV2Page(cloud.call, "Rewritten", {
      value: '<p>x<br/></p><ac:structured-macro ac:name="toc" />',
    });
    expect(page.body.body.storage.value).toMatch(
      /^<p>x<br \/><\/p><ac:structured-macro ac:name="toc" ac:schema-version="1" ac:macro-id="/,
    );
    const dc = await sandbox({ mode: "datacenter" });
    const dcPage = await createV1Page(dc.call, "As sent", { value: "<p>x<br/></p>" });
    expect(dc.sb.state.versions(dcPage.body.id)[0]?.body).toBe("<p>x<br/></p>");
  });
});
