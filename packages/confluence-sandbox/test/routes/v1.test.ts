import { describe, expect, it } from "vitest";
import { createV1Page, createV2Page, sandbox } from "../helpers/sandbox.js";

describe("v1 content on Data Center", () => {
  // REST-API.md §4.1, §6.1, §1 (DC links)
  it("creates a page with 200, default expansions and DC links under the context path", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    expect(sb.baseUrl).toBe(`${sb.origin}/confluence`);
    const res = await createV1Page(call, "Weekly sync");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: "page",
      status: "current",
      title: "Weekly sync",
      space: { key: "MEETINGS" },
    });
    expect(res.body.version).toMatchObject({ number: 1, by: { type: "known", username: "minutes-bot" } });
    expect(res.body._links).toMatchObject({
      webui: "/display/MEETINGS/Weekly+sync",
      edit: `/pages/resumedraft.action?draftId=${res.body.id}`,
      base: `${sb.origin}/confluence`,
      context: "/confluence",
      self: `${sb.origin}/confluence/rest/api/content/${res.body.id}`,
    });
    const odd = await createV1Page(call, "Q&A: what?");
    expect(odd.body._links.webui).toBe(`/pages/viewpage.action?pageId=${odd.body.id}`);
  });

  // REST-API.md §4.1: metadata.properties and labels exist atomically with the page (properties on
  // create are documented for Cloud v1; DC mode ignores them, see datacenter.test.ts)
  it("stores metadata.properties and metadata.labels sent at creation on Cloud v1", async () => {
    const { sb, call } = await sandbox({ mode: "cloud", v1Removed: false });
    const res = await createV1Page(call, "With metadata", {
      metadata: {
        properties: { "minutes.job": { value: { jobId: "j1" } } },
        labels: [{ prefix: "global", name: "minutes" }],
      },
    });
    expect(res.status).toBe(200);
    expect(sb.state.properties(res.body.id).map((p) => [p.key, p.value])).toEqual([
      ["minutes.job", { jobId: "j1" }],
    ]);
    expect(sb.state.labels(res.body.id).map((l) => l.name)).toEqual(["minutes"]);
    const read = await call(
      "GET",
      `/rest/api/content/${res.body.id}?expand=metadata.properties.minutes.job,metadata.labels`,
    );
    expect(read.body.metadata.properties["minutes.job"].value).toEqual({ jobId: "j1" });
    expect(read.body.metadata.labels.results[0].name).toBe("minutes");
  });

  // REST-API.md §4.3, §7.2
  it("updates with version current+1 and answers 409 with 'Version must be incremented on update'", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const created = await createV1Page(call, "Versioned");
    const put = (n: number) =>
      call("PUT", `/rest/api/content/${created.body.id}`, {
        body: {
          id: created.body.id,
          type: "page",
          title: "Versioned",
          version: { number: n, message: "by job 42" },
          body: { storage: { value: `<p>v${n}</p>`, representation: "storage" } },
        },
      });
    const ok = await put(2);
    expect(ok.status).toBe(200);
    expect(ok.body.version).toMatchObject({ number: 2, message: "by job 42" });
    const stale = await put(2);
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      statusCode: 409,
      message: "Version must be incremented on update. Current version is: 2",
      reason: "Conflict",
      data: { errors: [], successful: false },
    });
  });

  // REST-API.md §7.2 (DC message without the exception prefix)
  it("refuses a duplicate title with DC's 400 message naming the title and space key", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    await createV1Page(call, "Standup");
    const dup = await createV1Page(call, "standup");
    expect(dup.status).toBe(400);
    expect(dup.body.message).toBe(
      "A page with this title already exists: A page already exists with the title standup in the space with key MEETINGS",
    );
  });

  // REST-API.md §7.2
  it("refuses malformed storage with 400 'Error parsing xhtml' in the v1 envelope", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const res = await createV1Page(call, "Broken", { value: "<p>a &check; b</p>" });
    expect(res.status).toBe(400);
    expect(res.body.statusCode).toBe(400);
    expect(res.body.message).toMatch(
      /^Error parsing xhtml: Undeclared general entity "check"\n at \[row,col \{unknown-source\}\]/,
    );
  });

  // REST-API.md §4.4, §6.3: exact title lookup and start/limit pagination
  it("finds a page by exact title and paginates with start/limit and a context-relative next link", async () => {
    const { call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    for (const t of ["A", "B", "C"]) await createV1Page(call, t);
    const hit = await call("GET", "/rest/api/content?type=page&spaceKey=MEETINGS&title=B&expand=version");
    expect(hit.body.results.map((r: { title: string }) => r.title)).toEqual(["B"]);
    expect(hit.body.size).toBe(1);
    expect((await call("GET", "/rest/api/content?spaceKey=MEETINGS&title=b")).body.size).toBe(0);
    const first = await call("GET", "/rest/api/content?spaceKey=MEETINGS&limit=2");
    expect(first.body).toMatchObject({ start: 0, limit: 2, size: 2 });
    expect(first.body._links.next).toBe("/rest/api/content?spaceKey=MEETINGS&limit=2&start=2");
    const second = await call("GET", first.body._links.next.replace("/rest", "/rest"));
    expect(second.body).toMatchObject({ start: 2, size: 2 });
    expect(second.body._links.next).toBeUndefined();
  });

  // REST-API.md §4.6
  it("trashes on the first DELETE and purges with status=trashed", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const created = await createV1Page(call, "Bin");
    const id = created.body.id;
    expect((await call("DELETE", `/rest/api/content/${id}`)).status).toBe(204);
    expect(sb.state.page(id)?.status).toBe("trashed");
    const hidden = await call("GET", `/rest/api/content/${id}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body).toMatchObject({
      statusCode: 404,
      reason: "Not Found",
      message: `No content found with id: ContentId{id=${id}}`,
    });
    expect((await call("GET", `/rest/api/content/${id}?status=trashed`)).body.status).toBe("trashed");
    expect((await call("DELETE", `/rest/api/content/${id}?status=trashed`)).status).toBe(204);
    expect(sb.state.page(id)).toBeUndefined();
  });

  // REST-API.md §5.1
  it("adds labels in lower case, keeps existing ones, removes by path or ?name=, and rejects invalid names", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const page = await createV1Page(call, "Labels");
    const base = `/rest/api/content/${page.body.id}/label`;
    await call("POST", base, { body: { prefix: "global", name: "Minutes" } });
    const added = await call("POST", base, { body: [{ prefix: "global", name: "team-a" }] });
    expect(added.status).toBe(200);
    expect(added.body.results.map((l: { name: string }) => l.name)).toEqual(["minutes", "team-a"]);
    expect(added.body.results[0]).toMatchObject({ prefix: "global", label: "minutes" });
    const bad = await call("POST", base, { body: [{ prefix: "global", name: "has space" }] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      statusCode: 400,
      reason: "Bad Request",
      message: "Label 'has space' contains invalid characters or is empty",
    });
    expect((await call("DELETE", `${base}/minutes`)).status).toBe(204);
    expect((await call("DELETE", `${base}?name=team-a`)).status).toBe(204);
    await call("POST", base, { body: [{ prefix: "global", name: "a/b" }] });
    expect((await call("DELETE", `${base}?name=${encodeURIComponent("a/b")}`)).status).toBe(204);
    expect((await call("GET", base)).body.results).toEqual([]);
  });

  // REST-API.md §5.2 (v1 properties)
  it("creates a property with PUT version 1, 404s other versions of a missing key, and 409s a stale update", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const page = await createV1Page(call, "Props");
    const base = `/rest/api/content/${page.body.id}/property`;
    expect(
      (await call("PUT", `${base}/job`, { body: { value: { a: 1 }, version: { number: 2 } } })).status,
    ).toBe(404);
    const created = await call("PUT", `${base}/job`, { body: { value: { a: 1 }, version: { number: 1 } } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ key: "job", value: { a: 1 }, version: { number: 1 } });
    const dupPost = await call("POST", base, { body: { key: "job", value: { a: 2 } } });
    expect(dupPost.status).toBe(400);
    expect(dupPost.body.message).toContain("the content already has a value with the given key");
    const stale = await call("PUT", `${base}/job`, { body: { value: { a: 3 }, version: { number: 1 } } });
    expect(stale.status).toBe(409);
    const next = await call("PUT", `${base}/job`, {
      body: { value: { a: 3 }, version: { number: 2, minorEdit: true } },
    });
    expect(next.body.version.number).toBe(2);
    expect((await call("GET", `${base}?key=job`)).body.results[0].value).toEqual({ a: 3 });
    expect((await call("DELETE", `${base}/job`)).status).toBe(204);
    expect((await call("GET", `${base}/job`)).status).toBe(404);
  });

  // REST-API.md §4.3 (v1 moves by `ancestors` on PUT), §4.7 and §7.2 (moving under a descendant)
  it("lists direct children, moves pages with ancestors on a versioned PUT and refuses cycles", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const a = await createV1Page(call, "A");
    const b = await createV1Page(call, "B", { parentId: a.body.id });
    const c = await createV1Page(call, "C");
    const kids = await call("GET", `/rest/api/content/${a.body.id}/child/page`);
    expect(kids.body.results.map((p: { id: string }) => p.id)).toEqual([b.body.id]);
    const put = (id: string, title: string, version: number, parent: string) =>
      call("PUT", `/rest/api/content/${id}?expand=ancestors,version`, {
        body: {
          id,
          type: "page",
          title,
          version: { number: version, message: "Moved", minorEdit: true },
          ancestors: [{ id: parent }],
          body: { storage: { value: "<p>Hello</p>", representation: "storage" } },
        },
      });
    const moved = await put(c.body.id, "C", 2, b.body.id);
    expect(moved.status).toBe(200);
    expect(moved.body.ancestors.map((p: { id: string }) => p.id)).toEqual([a.body.id, b.body.id]);
    expect(moved.body.version).toMatchObject({ number: 2, message: "Moved", minorEdit: true });
    expect(sb.state.versions(c.body.id).map((v) => [v.title, v.body])).toEqual([
      ["C", "<p>Hello</p>"],
      ["C", "<p>Hello</p>"],
    ]);
    const cycle = await put(a.body.id, "A", 2, c.body.id);
    expect(cycle.status).toBe(400);
    expect(cycle.body.message).toBe("Cannot add an existing ancestor as a child!");
    expect(sb.state.page(a.body.id)?.parentId).not.toBe(c.body.id);
  });

  // REST-API.md documents `content/{id}/move/...` for Cloud only (openapi-v1.json is the Cloud spec);
  // Data Center answers an unknown resource with 404 in the v1 envelope (§7.1), and moves nothing.
  it("has no move resource on Data Center", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    const a = await createV1Page(call, "A");
    const c = await createV1Page(call, "C");
    for (const position of ["append", "before", "after"]) {
      const res = await call("PUT", `/rest/api/content/${c.body.id}/move/${position}/${a.body.id}`);
      expect([position, res.status]).toEqual([position, 404]);
      expect(res.body).toMatchObject({ statusCode: 404, reason: "Not Found" });
      expect(res.body.message).toContain(`/confluence/rest/api/content/${c.body.id}/move/${position}/`);
    }
    expect(sb.state.page(c.body.id)?.parentId).not.toBe(a.body.id);
    expect(sb.state.versions(c.body.id)).toHaveLength(1);
  });

  // REST-API.md §3
  it("looks up a space by key and 404s an unknown one", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const space = await call("GET", "/rest/api/space/MEETINGS");
    expect(space.body).toMatchObject({
      key: "MEETINGS",
      type: "global",
      _links: { webui: "/display/MEETINGS" },
    });
    expect(typeof space.body.id).toBe("number");
    expect((await call("GET", "/rest/api/space/NOPE")).status).toBe(404);
  });

  // REST-API.md §1: DC has no v2
  it("answers 404 for v2 paths on Data Center", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    expect((await call("GET", "/api/v2/spaces", { base: `${sb.origin}/wiki` })).status).toBe(404);
    expect((await call("GET", "/wiki/api/v2/spaces", { base: sb.origin })).status).toBe(404);
  });
});

describe("v1 on Cloud", () => {
  // REST-API.md §1.1: removed v1 endpoints answer 410 GoneException
  it("answers 410 Gone for removed v1 content endpoints by default, while labels, search and user/current work", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Cloud page");
    const gone = await call("GET", `/rest/api/content/${page.body.id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.message).toBe(
      "com.atlassian.confluence.api.service.exceptions.GoneException: This deprecated endpoint has been removed.",
    );
    expect((await createV1Page(call, "Via v1")).status).toBe(410);
    expect((await call("GET", "/rest/api/space/MEETINGS")).status).toBe(410);
    expect(
      (
        await call("POST", `/rest/api/content/${page.body.id}/label`, {
          body: [{ prefix: "global", name: "x" }],
        })
      ).status,
    ).toBe(200);
    expect(
      (await call("GET", `/rest/api/content/search?cql=${encodeURIComponent("type = page")}`)).status,
    ).toBe(200);
    expect((await call("GET", "/rest/api/user/current")).status).toBe(200);
  });

  // openapi-v1.json `PUT /wiki/rest/api/content/{pageId}/move/{position}/{targetId}`; §7.2 (cycles)
  it("lists direct children, moves pages with the move endpoint and refuses cycles", async () => {
    const { sb, call } = await sandbox({ mode: "cloud", v1Removed: false });
    const a = await createV1Page(call, "A");
    const b = await createV1Page(call, "B", { parentId: a.body.id });
    const c = await createV1Page(call, "C");
    const kids = await call("GET", `/rest/api/content/${a.body.id}/child/page`);
    expect(kids.body.results.map((p: { id: string }) => p.id)).toEqual([b.body.id]);
    const moved = await call("PUT", `/rest/api/content/${c.body.id}/move/append/${b.body.id}`);
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ pageId: c.body.id });
    const withAncestors = await call("GET", `/rest/api/content/${c.body.id}?expand=ancestors`);
    expect(withAncestors.body.ancestors.map((p: { id: string }) => p.id)).toEqual([a.body.id, b.body.id]);
    const cycle = await call("PUT", `/rest/api/content/${a.body.id}/move/append/${c.body.id}`);
    expect(cycle.status).toBe(400);
    expect(cycle.body.message).toBe(
      "com.atlassian.confluence.api.service.exceptions.BadRequestException: Cannot add an existing ancestor as a child!",
    );
    const before = await call("PUT", `/rest/api/content/${c.body.id}/move/before/${a.body.id}`);
    expect(before.status).toBe(200);
    const root = await call("GET", `/rest/api/content/${c.body.id}?expand=ancestors`);
    expect(root.body.ancestors).toEqual([]);
    // The move resource writes no version.
    expect(sb.state.versions(c.body.id)).toHaveLength(1);
  });

  // openapi-v1.json `movePage`: 400 "A page already exists in the target space with the same name",
  // 403 "no permission ... to create a page in target space": a page may move to another space.
  it("moves a page with the pages below it to another space, and refuses a title the target space has", async () => {
    const { sb, call } = await sandbox({
      mode: "cloud",
      v1Removed: false,
      spaces: [{ key: "MEETINGS" }, { key: "TEAM" }],
    });
    const a = await createV1Page(call, "A");
    const b = await createV1Page(call, "B", { parentId: a.body.id });
    const target = await createV1Page(call, "Target", { space: "TEAM" });
    const moved = await call("PUT", `/rest/api/content/${a.body.id}/move/append/${target.body.id}`);
    expect(moved.status).toBe(200);
    for (const id of [a.body.id, b.body.id]) {
      const read = await call("GET", `/rest/api/content/${id}?expand=space,ancestors`);
      expect(read.body.space.key).toBe("TEAM");
    }
    const read = await call("GET", `/rest/api/content/${b.body.id}?expand=ancestors`);
    expect(read.body.ancestors.map((p: { id: string }) => p.id)).toEqual([target.body.id, a.body.id]);
    // Titles are the target space's now: "A" is free again in MEETINGS, taken in TEAM.
    expect((await createV1Page(call, "A")).status).toBe(200);
    expect((await createV1Page(call, "A", { space: "TEAM" })).status).toBe(400);
    const again = await call(
      "PUT",
      `/rest/api/content/${sb.state.pages("MEETINGS").find((p) => p.versions.at(-1)!.title === "A")!.id}/move/append/${target.body.id}`,
    );
    expect(again.status).toBe(400);
    expect(again.body.message).toContain("A page already exists in the target space with the same name");
    expect(sb.state.versions(a.body.id)).toHaveLength(1);
  });

  // REST-API.md §1.1: removal enforced first on the gateway (June 2026)
  it("removes v1 only on the gateway with v1Removed: 'gateway'", async () => {
    const { sb, call } = await sandbox({
      mode: "cloud",
      v1Removed: "gateway",
      users: [
        { accountId: "", email: "bot@example.com", displayName: "Bot", token: "scoped-token", scoped: true },
      ],
    });
    const site = await sandbox({ mode: "cloud", v1Removed: "gateway" });
    expect((await site.call("GET", "/rest/api/space/MEETINGS")).status).toBe(200);
    expect(
      (await call("GET", "/rest/api/space/MEETINGS", { base: `${sb.gatewayBaseUrl}/wiki` })).status,
    ).toBe(410);
  });

  // REST-API.md §7.1, §7.2: Cloud prefixes v1 messages with the exception class
  it("prefixes Cloud v1 messages with the Java exception class when v1 is enabled", async () => {
    const { call } = await sandbox({ mode: "cloud", v1Removed: false });
    const first = await createV1Page(call, "Dup");
    expect(first.status).toBe(200);
    expect(first.body._links.webui).toBe(`/spaces/MEETINGS/pages/${first.body.id}/Dup`);
    expect(first.body._links.editui).toBeDefined();
    const dup = await createV1Page(call, "Dup");
    expect(dup.body.message).toBe(
      "com.atlassian.confluence.api.service.exceptions.BadRequestException: A page with this title already exists: A page already exists with the title Dup in the space with key MEETINGS",
    );
    const rename = await createV1Page(call, "Other");
    const clash = await call("PUT", `/rest/api/content/${rename.body.id}`, {
      body: { type: "page", title: "Dup", version: { number: 2 } },
    });
    expect(clash.status).toBe(400);
    expect(clash.body.message).toContain("No space or no content type");
  });

  // REST-API.md §4.5
  it("searches with CQL and pages with a cursor in _links.next", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    for (const t of ["Sync 1", "Sync 2", "Sync 3"]) await createV2Page(call, t);
    const cql = encodeURIComponent('space = "MEETINGS" and type = page and title ~ "sync"');
    const first = await call("GET", `/rest/api/content/search?cql=${cql}&limit=2`);
    expect(first.body.size).toBe(2);
    expect(first.body._links.next).toMatch(/cursor=/);
    const second = await call("GET", first.body._links.next);
    expect(second.body.results.map((r: { title: string }) => r.title)).toEqual(["Sync 3"]);
    const search = await call("GET", `/rest/api/search?cql=${cql}`);
    expect(search.body.totalSize).toBe(3);
    expect(search.body.results[0].content.title).toBe("Sync 1");
  });
});

describe("CQL search pagination", () => {
  // REST-API.md §4.5, §6.3: follow `next` until it is absent
  it("follows cursor next links across several pages without repeating the cursor", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    for (let i = 0; i < 7; i++) await createV2Page(call, `Page ${i}`);
    const cql = encodeURIComponent('type = page and title ~ "page"');
    const titles: string[] = [];
    let next: string | undefined = `/rest/api/content/search?cql=${cql}&limit=3`;
    while (next !== undefined) {
      expect(next.match(/cursor=/g)?.length ?? 0).toBeLessThanOrEqual(1);
      const res = await call("GET", next);
      titles.push(...res.body.results.map((r: { title: string }) => r.title));
      next = res.body._links.next;
    }
    expect(titles).toEqual(Array.from({ length: 7 }, (_, i) => `Page ${i}`));
    let searchNext: string | undefined = `/rest/api/search?cql=${cql}&limit=3`;
    let count = 0;
    while (searchNext !== undefined) {
      expect(searchNext.match(/cursor=/g)?.length ?? 0).toBeLessThanOrEqual(1);
      const res = await call("GET", searchNext);
      count += res.body.results.length;
      searchNext = res.body._links.next;
    }
    expect(count).toBe(7);
  });

  // REST-API.md §4.5: "Cloud `/rest/api/search`: `start` is ignored, page only with the cursor"
  it("ignores start on Cloud: only the cursor pages search results", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    for (let i = 0; i < 4; i++) await createV2Page(call, `Page ${i}`);
    const cql = encodeURIComponent('type = page and title ~ "page"');
    for (const path of ["/rest/api/search", "/rest/api/content/search"]) {
      const res = await call("GET", `${path}?cql=${cql}&limit=2&start=2`);
      const titles = res.body.results.map((r: { title: string }) => r.title);
      expect(titles, path).toEqual(["Page 0", "Page 1"]);
      expect(res.body._links.next, path).toMatch(/cursor=/);
    }
  });
});

describe("v1 versions and history", () => {
  // REST-API.md §4.2, §4.7
  it("reads an old version with ?version=N, lists versions newest first and reports history", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const alice = sb.users[1]!;
    const page = await createV1Page(call, "Old");
    const id = page.body.id;
    const put = await call("PUT", `/rest/api/content/${id}`, {
      user: alice,
      body: {
        type: "page",
        title: "Old",
        version: { number: 2 },
        body: { storage: { value: "<p>new</p>", representation: "storage" } },
      },
    });
    expect(put.body.version.by.username).toBe("alice");
    const v1 = await call("GET", `/rest/api/content/${id}?version=1&expand=body.storage,version`);
    expect(v1.body.body.storage.value).toBe("<p>Hello</p>");
    expect(v1.body.version.number).toBe(1);
    const versions = await call("GET", `/rest/api/content/${id}/version`);
    expect(versions.body.results.map((v: { number: number }) => v.number)).toEqual([2, 1]);
    const history = await call("GET", `/rest/api/content/${id}/history`);
    expect(history.body).toMatchObject({
      latest: true,
      createdBy: { username: "minutes-bot" },
      lastUpdated: { number: 2 },
    });
  });
});

describe("page archiving on Cloud", () => {
  // openapi-v1.json `POST /wiki/rest/api/content/archive` (archivePages) and `GET /longtask/{id}`
  it("accepts one page with 202 and a long task that archives it; the page keeps its title", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Old meeting");
    const res = await call("POST", "/rest/api/content/archive", {
      body: { pages: [{ id: Number(page.body.id) }] },
    });
    expect(res.status).toBe(202);
    expect(res.body.links.status).toBe(`/rest/api/longtask/${res.body.id}`);
    const task = await call("GET", `/rest/api/longtask/${res.body.id}`);
    expect(task.status).toBe(200);
    expect(task.body).toMatchObject({
      id: res.body.id,
      finished: true,
      successful: true,
      percentageComplete: 100,
    });
    expect(sb.state.page(page.body.id)?.status).toBe("archived");
    // REST-API.md §4.4: archived pages still reserve their title, and a v2 title lookup that
    // repeats `status` to ask for archived pages too finds the holder.
    expect((await createV2Page(call, "Old meeting")).status).toBe(400);
    const lookup = (statuses: string) =>
      call("GET", `/api/v2/pages?space-id=${page.body.spaceId}&title=old%20meeting${statuses}`);
    expect((await lookup("&status=current")).body.results).toEqual([]);
    const held = await lookup("&status=current&status=archived");
    expect(held.body.results).toMatchObject([{ id: page.body.id, status: "archived" }]);
    const again = await call("POST", "/rest/api/content/archive", {
      body: { pages: [{ id: Number(page.body.id) }] },
    });
    expect(again.status).toBe(400);
    expect(again.body.message).toContain("already archived");
    expect((await call("GET", "/rest/api/longtask/123456789")).status).toBe(404);
  });

  it("refuses what the spec lists: a running job, several pages below Premium, the Free plan, unknown ids", async () => {
    const { call } = await sandbox({ mode: "cloud", archiveTaskMs: 60_000 });
    const a = await createV2Page(call, "A");
    const b = await createV2Page(call, "B");
    const archive = (ids: ReadonlyArray<string | number>) =>
      call("POST", "/rest/api/content/archive", { body: { pages: ids.map((id) => ({ id: Number(id) })) } });
    const several = await archive([a.body.id, b.body.id]);
    expect(several.status).toBe(400);
    expect(several.body.message).toContain("Premium");
    expect((await archive([987654321])).body.message).toContain("does not resolve to a page");
    const first = await archive([a.body.id]);
    expect(first.status).toBe(202);
    const running = await call("GET", `/rest/api/longtask/${first.body.id}`);
    expect(running.body).toMatchObject({ finished: false, percentageComplete: 0 });
    const busy = await archive([b.body.id]);
    expect(busy.status).toBe(400);
    expect(busy.body.message).toContain("already running");

    const free = await sandbox({ mode: "cloud", archivePlan: "free" });
    const c = await createV2Page(free.call, "C");
    const refused = await free.call("POST", "/rest/api/content/archive", {
      body: { pages: [{ id: Number(c.body.id) }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain("Free plan");

    const premium = await sandbox({ mode: "cloud", archivePlan: "premium" });
    const d = await createV2Page(premium.call, "D");
    const e = await createV2Page(premium.call, "E");
    const both = await premium.call("POST", "/rest/api/content/archive", {
      body: { pages: [{ id: Number(d.body.id) }, { id: Number(e.body.id) }] },
    });
    expect(both.status).toBe(202);
  });

  it("has no archive API on Data Center", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const page = await createV1Page(call, "DC page");
    const res = await call("POST", "/rest/api/content/archive", {
      body: { pages: [{ id: Number(page.body.id) }] },
    });
    // Only `/content/{id}` exists there, without POST.
    expect(res.status).toBe(405);
    expect(sb.state.page(page.body.id)?.status).toBe("current");
  });
});
