import { describe, expect, it } from "vitest";
import { createV2Page, sandbox, storage } from "../helpers/sandbox.js";

describe("Cloud v2 spaces", () => {
  // REST-API.md §3
  it("resolves a space key to its string id, case-insensitively, and returns empty results for unknown keys", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const found = await call("GET", "/api/v2/spaces?keys=meetings");
    expect(found.status).toBe(200);
    expect(found.body.results).toHaveLength(1);
    expect(found.body.results[0]).toMatchObject({ key: "MEETINGS", type: "global", status: "current" });
    expect(typeof found.body.results[0].id).toBe("string");
    const byId = await call("GET", `/api/v2/spaces/${found.body.results[0].id}`);
    expect(byId.body.key).toBe("MEETINGS");
    const unknown = await call("GET", "/api/v2/spaces?keys=NOPE");
    expect(unknown.status).toBe(200);
    expect(unknown.body.results).toEqual([]);
  });
});

describe("Cloud v2 pages", () => {
  // REST-API.md §4.1, §6.2
  it("creates a page with 200, a string id, version 1 and Cloud links, under the space homepage by default", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const res = await createV2Page(call, "Weekly sync");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ title: "Weekly sync", status: "current", version: { number: 1 } });
    expect(res.body.authorId).toBe(sb.user.accountId);
    expect(res.body.parentId).toBe(sb.state.spaces()[0]?.homepageId);
    expect(res.body._links.webui).toBe(`/spaces/MEETINGS/pages/${res.body.id}/Weekly+sync`);
    expect(res.body._links.base).toBe(`${sb.origin}/wiki`);
    expect(res.body.body.storage.value).toBe("<p>Hello</p>");
  });

  // REST-API.md §4.1: root-level=true puts the page at the space root and forbids parentId
  it("puts a page at the space root with root-level=true", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const spaces = await call("GET", "/api/v2/spaces?keys=MEETINGS");
    const res = await call("POST", "/api/v2/pages?root-level=true", {
      body: { spaceId: spaces.body.results[0].id, title: "Root", body: storage("<p/>") },
    });
    expect(res.status).toBe(200);
    expect(res.body.parentId).toBeNull();
  });

  // REST-API.md §4.2
  it("returns the body only when body-format=storage is asked for, and 404 for unknown ids", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const created = await createV2Page(call, "Read me");
    const bare = await call("GET", `/api/v2/pages/${created.body.id}`);
    expect(bare.body.body).toEqual({});
    const withBody = await call(
      "GET",
      `/api/v2/pages/${created.body.id}?body-format=storage&include-labels=true`,
    );
    expect(withBody.body.body.storage).toEqual({ representation: "storage", value: "<p>Hello</p>" });
    expect(withBody.body.labels.results).toEqual([]);
    const missing = await call("GET", "/api/v2/pages/999999999999");
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]).toEqual({
      status: 404,
      code: "NOT_FOUND",
      title: "Cannot find a page with id [999999999999]",
      detail: null,
    });
  });

  // REST-API.md §4.3, §7.2
  it("updates with version current+1 and answers 409 CONFLICT with Confluence's title for a stale version", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const created = await createV2Page(call, "Versioned");
    const id = created.body.id;
    const update = (n: number, value: string) =>
      call("PUT", `/api/v2/pages/${id}`, {
        body: {
          id,
          status: "current",
          title: "Versioned",
          body: storage(value),
          version: { number: n, message: "m" },
        },
      });
    const ok = await update(2, "<p>v2</p>");
    expect(ok.status).toBe(200);
    expect(ok.body.version).toMatchObject({ number: 2, message: "m" });
    const stale = await update(2, "<p>again</p>");
    expect(stale.status).toBe(409);
    expect(stale.body.errors[0]).toEqual({
      status: 409,
      code: "CONFLICT",
      title: "Version must be incremented when updating a page. Current Version: [2]. Provided version: [2]",
      detail: null,
    });
    const skipped = await update(4, "<p>skip</p>");
    expect(skipped.status).toBe(409);
    const old = await call("GET", `/api/v2/pages/${id}?version=1&body-format=storage`);
    expect(old.body.body.storage.value).toBe("<p>Hello</p>");
  });

  // REST-API.md §7.2 and §9: titles are unique per space, case-insensitively
  it("refuses a second page with the same title in any casing with Confluence's 400", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    await createV2Page(call, "Standup");
    const dup = await createV2Page(call, "STANDUP");
    expect(dup.status).toBe(400);
    expect(dup.body.errors[0].title).toBe(
      "A page with this title already exists: A page already exists with the same TITLE in this space",
    );
  });

  // REST-API.md §7.2: malformed storage → 400 Error parsing xhtml
  it("refuses a storage body that is not well-formed XHTML", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const res = await createV2Page(call, "Broken", { value: "<p>a<br></p>" });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe("BAD_REQUEST");
    expect(res.body.errors[0].title).toMatch(
      /^Error parsing xhtml: Unexpected close tag <\/p>; expected <\/br>\.\n at \[row,col \{unknown-source\}\]: \[1,\d+\]$/,
    );
  });

  // REST-API.md §4.4
  it("finds pages by exact, case-insensitive title and space id; an empty title matches nothing", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const created = await createV2Page(call, "Retro 2026-11-26");
    const spaceId = created.body.spaceId;
    const hit = await call(
      "GET",
      `/api/v2/pages?space-id=${spaceId}&title=${encodeURIComponent("retro 2026-11-26")}&status=current`,
    );
    expect(hit.body.results.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
    expect(hit.body.results[0]._links.base).toBeUndefined();
    expect(hit.body._links.base).toBeDefined();
    const prefix = await call("GET", `/api/v2/pages?space-id=${spaceId}&title=Retro`);
    expect(prefix.body.results).toEqual([]);
    const empty = await call("GET", `/api/v2/pages?space-id=${spaceId}&title=`);
    expect(empty.body.results).toEqual([]);
    const draft = await call("GET", `/api/v2/pages?space-id=${spaceId}&status=draft`);
    expect(draft.status).toBe(400);
  });

  // REST-API.md §6.3: cursor pagination with _links.next and the Link header
  it("pages through results with an opaque cursor in _links.next and the Link header", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    for (const t of ["A", "B", "C"]) await createV2Page(call, t);
    const first = await call("GET", "/api/v2/pages?limit=2");
    expect(first.body.results).toHaveLength(2);
    expect(first.body._links.next).toMatch(/^\/wiki\/api\/v2\/pages\?limit=2&cursor=/);
    expect(first.headers.get("link")).toContain(`<${first.body._links.next}>; rel="next"`);
    const second = await call("GET", first.body._links.next.replace(/^\/wiki/, ""));
    expect(second.body.results).toHaveLength(2);
    expect(second.body._links.next).toBeUndefined();
    expect(second.headers.get("link")).toBeNull();
    const seen = [...first.body.results, ...second.body.results].map((p: { id: string }) => p.id);
    expect(new Set(seen).size).toBe(4);
  });

  // REST-API.md §4.6
  it("moves a deleted page to the trash, frees its title, and purges it only with purge=true", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const created = await createV2Page(call, "Bin me");
    const id = created.body.id;
    expect((await call("DELETE", `/api/v2/pages/${id}`)).status).toBe(204);
    expect(sb.state.trash().map((p) => p.id)).toEqual([id]);
    expect((await call("GET", `/api/v2/pages/${id}`)).status).toBe(404);
    const trashed = await call("GET", `/api/v2/pages/${id}?status=trashed`);
    expect(trashed.body).toMatchObject({ status: "trashed", parentId: null });
    expect((await createV2Page(call, "Bin me")).status).toBe(200);
    expect((await call("DELETE", `/api/v2/pages/${id}?purge=true`)).status).toBe(204);
    expect(sb.state.page(id)).toBeUndefined();
    expect(sb.state.purged()).toContain(id);
  });

  // REST-API.md §4.3, openapi-v2.json PageUpdateRequest.status: status current on a trashed page
  // restores it; "page contents will not be updated and only the page status will be changed"
  it("restores a trashed page with status current, and writes nothing else", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const created = await createV2Page(call, "Comeback");
    const id = created.body.id;
    await call("DELETE", `/api/v2/pages/${id}`);
    const restored = await call("PUT", `/api/v2/pages/${id}`, {
      body: { id, status: "current", title: "Renamed", body: storage("<p>new</p>"), version: { number: 2 } },
    });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ status: "current", title: "Comeback", version: { number: 1 } });
    expect(sb.state.versions(id)).toHaveLength(1);
    expect(sb.state.page(id)?.versions[0]?.body).toBe("<p>Hello</p>");
  });

  // REST-API.md §4.7
  it("lists direct children and ancestors top-down, and moves a page with parentId", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const parent = await createV2Page(call, "Parent");
    const child = await createV2Page(call, "Child", { parentId: parent.body.id });
    const other = await createV2Page(call, "Other");
    const kids = await call("GET", `/api/v2/pages/${parent.body.id}/children`);
    expect(kids.body.results).toEqual([
      expect.objectContaining({
        id: child.body.id,
        title: "Child",
        status: "current",
        spaceId: parent.body.spaceId,
      }),
    ]);
    const ancestors = await call("GET", `/api/v2/pages/${child.body.id}/ancestors`);
    expect(ancestors.body.results.map((a: { id: string }) => a.id)).toEqual([
      parent.body.parentId,
      parent.body.id,
    ]);
    const moved = await call("PUT", `/api/v2/pages/${child.body.id}`, {
      body: {
        id: child.body.id,
        status: "current",
        title: "Child",
        parentId: other.body.id,
        body: storage("<p/>"),
        version: { number: 2 },
      },
    });
    expect(moved.body.parentId).toBe(other.body.id);
  });

  // REST-API.md §5.2 (v2 properties)
  it("creates, finds by key, updates with version+1 and deletes page properties by property id", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Props");
    const base = `/api/v2/pages/${page.body.id}/properties`;
    const created = await call("POST", base, { body: { key: "minutes.job", value: { jobId: "j1" } } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      key: "minutes.job",
      value: { jobId: "j1" },
      version: { number: 1 },
    });
    const dup = await call("POST", base, { body: { key: "minutes.job", value: {} } });
    expect(dup.status).toBe(409);
    const byKey = await call("GET", `${base}?key=minutes.job`);
    expect(byKey.body.results.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
    expect((await call("GET", `${base}?key=MINUTES.JOB`)).body.results).toEqual([]);
    const stale = await call("PUT", `${base}/${created.body.id}`, {
      body: { key: "minutes.job", value: { jobId: "j2" }, version: { number: 1 } },
    });
    expect(stale.status).toBe(409);
    const updated = await call("PUT", `${base}/${created.body.id}`, {
      body: { key: "minutes.job", value: { jobId: "j2" }, version: { number: 2 } },
    });
    expect(updated.body).toMatchObject({ value: { jobId: "j2" }, version: { number: 2 } });
    expect((await call("DELETE", `${base}/${created.body.id}`)).status).toBe(204);
    expect((await call("GET", `${base}/${created.body.id}`)).status).toBe(404);
  });

  // REST-API.md §5.1: v2 reads labels; writes go through v1
  it("lists labels added through v1 on the v2 labels endpoint", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Labelled");
    await call("POST", `/rest/api/content/${page.body.id}/label`, {
      body: [{ prefix: "global", name: "Minutes" }],
    });
    const labels = await call("GET", `/api/v2/pages/${page.body.id}/labels`);
    expect(labels.body.results).toEqual([{ id: expect.any(String), name: "minutes", prefix: "global" }]);
  });

  it("records who made each version, so a person's edit is visible to the bot", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const alice = sb.users[1]!;
    const page = await createV2Page(call, "Shared");
    const id = page.body.id;
    const edit = await call("PUT", `/api/v2/pages/${id}`, {
      user: alice,
      body: {
        id,
        status: "current",
        title: "Shared",
        body: storage("<p>Alice was here</p>"),
        version: { number: 2 },
      },
    });
    expect(edit.status).toBe(200);
    const read = await call("GET", `/api/v2/pages/${id}`);
    expect(read.body.version).toMatchObject({ number: 2, authorId: alice.accountId });
    expect(sb.state.versions(id).map((v) => v.authorId)).toEqual([sb.user.accountId, alice.accountId]);
  });
});

describe("Cloud v2 versions", () => {
  // REST-API.md §4.7
  it("lists versions newest first and reads a single version", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "History");
    const id = page.body.id;
    await call("PUT", `/api/v2/pages/${id}`, {
      body: {
        id,
        status: "current",
        title: "History",
        body: { storage: storage("<p>2</p>") },
        version: { number: 2, message: "second" },
      },
    });
    const list = await call("GET", `/api/v2/pages/${id}/versions`);
    expect(list.body.results.map((v: { number: number }) => v.number)).toEqual([2, 1]);
    expect(list.body.results[0]).toMatchObject({ message: "second", page: { id, title: "History" } });
    const one = await call("GET", `/api/v2/pages/${id}/versions/1`);
    expect(one.body.number).toBe(1);
    const withVersions = await call("GET", `/api/v2/pages/${id}?include-versions=true`);
    expect(withVersions.body.versions.results).toHaveLength(2);
  });
});
