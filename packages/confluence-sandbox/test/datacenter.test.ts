// Data Center mode against REST-API.md (DC v1, §2.2, §4, §5, §6.3, §7.2): what a DC client meets
// on create, pagination under a context path, version conflicts, properties, labels and auth.
import { describe, expect, it } from "vitest";
import { createV1Page, sandbox } from "./helpers/sandbox.js";

describe("Data Center mode conformance", () => {
  // REST-API.md §4.1: metadata.properties on create is documented for Cloud v1 only
  // (openapi-v1.json's ContentCreate has no `metadata`); a DC server may ignore it.
  it("ignores metadata.properties on create but keeps metadata.labels", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const res = await createV1Page(call, "Created with metadata", {
      metadata: {
        properties: { "minutes.job": { key: "minutes.job", value: { jobId: "j1" } } },
        labels: [{ prefix: "global", name: "minutes" }],
      },
    });
    expect(res.status).toBe(200);
    expect(sb.state.properties(res.body.id)).toEqual([]);
    expect(sb.state.labels(res.body.id).map((l) => l.name)).toEqual(["minutes"]);
    const read = await call("GET", `/rest/api/content/${res.body.id}/property/minutes.job`);
    expect(read.status).toBe(404);
  });

  // REST-API.md §1, §6.3: `_links.next` is relative to `_links.base`, which carries the context path.
  it("pages v1 lists under a context path with next links relative to the base", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    for (let i = 0; i < 5; i++) expect((await createV1Page(call, `Paged ${i}`)).status).toBe(200);
    const titles: string[] = [];
    let res = await call("GET", "/rest/api/content?spaceKey=MEETINGS&type=page&limit=2");
    for (;;) {
      expect(res.status).toBe(200);
      expect(res.body._links.base).toBe(`${sb.origin}/confluence`);
      expect(res.body._links.context).toBe("/confluence");
      titles.push(...res.body.results.map((r: { title: string }) => r.title));
      const next: string | undefined = res.body._links.next;
      if (next === undefined) break;
      expect(next.startsWith("/rest/api/content?")).toBe(true);
      res = await call("GET", next, { base: res.body._links.base });
    }
    // The space homepage plus the five pages, each once.
    expect(titles.filter((t) => t.startsWith("Paged ")).sort()).toEqual(
      ["Paged 0", "Paged 1", "Paged 2", "Paged 3", "Paged 4"].sort(),
    );
    expect(new Set(titles).size).toBe(titles.length);
  });

  // REST-API.md §7.2: stale version → 409 `Version must be incremented on update. Current version is: <N>`
  it("answers a stale version with 409 and DC's message in the v1 envelope", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const created = await createV1Page(call, "Stale");
    const res = await call("PUT", `/rest/api/content/${created.body.id}`, {
      body: {
        id: created.body.id,
        type: "page",
        title: "Stale",
        version: { number: 1 },
        body: { storage: { value: "<p>x</p>", representation: "storage" } },
      },
    });
    expect(res.status).toBe(409);
    expect(res.body.statusCode).toBe(409);
    expect(res.body.message).toContain("Version must be incremented on update. Current version is: 1");
  });

  // REST-API.md §5.2 (v1 content properties)
  it("creates, updates and refuses content properties with the statuses DC gives", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const page = await createV1Page(call, "Props");
    const base = `/rest/api/content/${page.body.id}/property`;
    expect((await call("GET", `${base}/minutes.job`)).status).toBe(404);
    const created = await call("POST", base, { body: { key: "minutes.job", value: { jobId: "a" } } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ key: "minutes.job", value: { jobId: "a" }, version: { number: 1 } });
    const dup = await call("POST", base, { body: { key: "minutes.job", value: { jobId: "b" } } });
    expect(dup.status).toBe(400);
    expect(dup.body.message).toContain("already has a value with the given key");
    const put = (key: string, number: number) =>
      call("PUT", `${base}/${key}`, { body: { key, value: { jobId: "c" }, version: { number } } });
    expect((await put("minutes.job", 2)).status).toBe(200);
    expect((await put("minutes.job", 2)).status).toBe(409);
    expect((await put("absent", 2)).status).toBe(404);
    const viaPut = await put("absent", 1);
    expect(viaPut.status).toBe(200);
    expect(viaPut.body.version.number).toBe(1);
  });

  // REST-API.md §5.1, §4.4: labels with prefix global; exact title lookup with encoded titles
  it("adds global labels and finds pages by titles that need URL encoding", async () => {
    const { call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    const page = await createV1Page(call, "Labelled");
    const labels = await call("POST", `/rest/api/content/${page.body.id}/label`, {
      body: [{ prefix: "global", name: "minutes" }],
    });
    expect(labels.status).toBe(200);
    expect(labels.body.results).toEqual([expect.objectContaining({ prefix: "global", name: "minutes" })]);
    for (const title of ["Q&A 1+1=2 #3", "Встреча: итоги 100%"]) {
      expect((await createV1Page(call, title)).status).toBe(200);
      const q = new URLSearchParams({ spaceKey: "MEETINGS", title, type: "page" });
      const found = await call("GET", `/rest/api/content?${q.toString()}`);
      expect(found.status).toBe(200);
      expect(found.body.results.map((r: { title: string }) => r.title)).toEqual([title]);
    }
  });

  // REST-API.md §2.2: a wrong PAT is anonymous, wrong Basic credentials get 401
  it("treats a wrong PAT as anonymous and refuses wrong Basic credentials with 401", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const me = await call("GET", "/rest/api/user/current", { auth: "Bearer not-a-token" });
    expect(me.status).toBe(200);
    expect(me.body.type).toBe("anonymous");
    const write = await createV1Page(
      (m, p, init) => call(m, p, { ...init, auth: "Bearer not-a-token" }),
      "Anonymous write",
    );
    expect(write.status).toBe(403);
    const basic = `Basic ${Buffer.from(`${sb.user.username ?? "minutes-bot"}:wrong`).toString("base64")}`;
    const refused = await call("GET", "/rest/api/space/MEETINGS", { auth: basic });
    expect(refused.status).toBe(401);
    expect(refused.text).not.toContain(sb.user.token);
  });
});
