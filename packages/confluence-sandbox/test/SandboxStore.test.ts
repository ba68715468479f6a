import { describe, expect, it } from "vitest";
import { SandboxStore } from "../src/SandboxStore.js";
import { type Caller, createV1Page, createV2Page, sandbox, storage } from "./helpers/sandbox.js";

// The store answers title, space, parent and label lookups from indexes; these tests change
// pages every way the APIs allow and check the lookups follow (REST-API.md §4.4, §4.6, §7.2).

const byTitle = async (call: Caller, title: string, extra = "") => {
  const spaces = await call("GET", "/api/v2/spaces?keys=MEETINGS");
  const res = await call(
    "GET",
    `/api/v2/pages?space-id=${spaces.body.results[0].id}&title=${encodeURIComponent(title)}${extra}`,
  );
  return res.body.results.map((p: { id: string }) => p.id);
};

const rename = (call: Caller, id: string, title: string, version: number, parentId?: string) =>
  call("PUT", `/api/v2/pages/${id}`, {
    body: {
      id,
      status: "current",
      title,
      body: storage("<p/>"),
      version: { number: version },
      ...(parentId === undefined ? {} : { parentId }),
    },
  });

describe("SandboxStore indexes", () => {
  it("finds a renamed page by its new title only, and lets a new page take the old one", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Alpha");
    expect((await rename(call, page.body.id, "Beta", 2)).status).toBe(200);
    expect(await byTitle(call, "Alpha")).toEqual([]);
    expect(await byTitle(call, "BETA")).toEqual([page.body.id]);
    expect(sb.state.pageByTitle("MEETINGS", "Beta")?.id).toBe(page.body.id);
    expect(sb.state.pageByTitle("MEETINGS", "Alpha")).toBeUndefined();
    const taker = await createV2Page(call, "Alpha");
    expect(taker.status).toBe(200);
    expect(await byTitle(call, "alpha")).toEqual([taker.body.id]);
    expect((await createV2Page(call, "beta")).status).toBe(400);
  });

  it("keeps a rename to another casing of the page's own title allowed", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Casing");
    expect((await rename(call, page.body.id, "CASING", 2)).status).toBe(200);
    expect(await byTitle(call, "casing")).toEqual([page.body.id]);
  });

  it("frees a title while its page is in the trash and blocks it again once restored", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Gamma");
    await call("DELETE", `/api/v2/pages/${page.body.id}`);
    expect(await byTitle(call, "Gamma")).toEqual([]);
    expect(await byTitle(call, "Gamma", "&status=trashed")).toEqual([page.body.id]);
    expect((await rename(call, page.body.id, "Gamma", 2)).status).toBe(200);
    expect(await byTitle(call, "Gamma")).toEqual([page.body.id]);
    expect((await createV2Page(call, "Gamma")).status).toBe(400);
  });

  it("forgets a purged page: its title can be taken and it is no longer listed", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Delta");
    await call("DELETE", `/api/v2/pages/${page.body.id}`);
    await call("DELETE", `/api/v2/pages/${page.body.id}?purge=true`);
    expect(await byTitle(call, "Delta", "&status=trashed")).toEqual([]);
    const taker = await createV2Page(call, "Delta");
    expect(taker.status).toBe(200);
    expect(await byTitle(call, "Delta")).toEqual([taker.body.id]);
    expect(sb.state.pages("MEETINGS").map((p) => p.id)).not.toContain(page.body.id);
  });

  it("keeps creation order among pages sharing a title (restoring from the trash does not check titles)", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const first = await createV2Page(call, "Epsilon");
    const second = await createV2Page(call, "Zeta");
    await call("DELETE", `/api/v2/pages/${second.body.id}`);
    expect((await rename(call, first.body.id, "Zeta", 2)).status).toBe(200);
    await call("PUT", `/api/v2/pages/${second.body.id}`, {
      body: {
        id: second.body.id,
        status: "current",
        title: "Zeta",
        body: storage("<p/>"),
        version: { number: 2 },
      },
    });
    const both = [first.body.id, second.body.id];
    expect(await byTitle(call, "zeta", "&sort=title")).toEqual(both);
    expect(await byTitle(call, "zeta", "&sort=-id")).toEqual([...both].reverse());
  });

  it("forgets every page on reset", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const page = await createV2Page(call, "Eta");
    sb.reset();
    expect(await byTitle(call, "Eta")).toEqual([]);
    const again = await createV2Page(call, "Eta");
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(page.body.id);
    expect(await byTitle(call, "Eta")).toEqual([again.body.id]);
  });

  it("finds a page renamed through v1 by its exact new title on Data Center", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const page = await createV1Page(call, "Theta");
    const renamed = await call("PUT", `/rest/api/content/${page.body.id}`, {
      body: {
        type: "page",
        title: "Iota",
        body: { storage: { value: "<p/>", representation: "storage" } },
        version: { number: 2 },
      },
    });
    expect(renamed.status).toBe(200);
    const lookup = async (title: string) =>
      (await call("GET", `/rest/api/content?spaceKey=MEETINGS&title=${title}`)).body.results.map(
        (p: { id: string }) => p.id,
      );
    expect(await lookup("Iota")).toEqual([page.body.id]);
    expect(await lookup("iota")).toEqual([]);
    expect(await lookup("Theta")).toEqual([]);
    expect((await createV1Page(call, "Theta")).status).toBe(200);
    expect((await createV1Page(call, "IOTA")).status).toBe(400);
  });

  it("follows moves and trash in children lists and appends after the current last sibling", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const home = sb.state.spaces()[0]!.homepageId;
    const a = await createV2Page(call, "A");
    const b = await createV2Page(call, "B");
    expect((await rename(call, b.body.id, "B", 2, a.body.id)).status).toBe(200);
    const children = async (id: string) =>
      (await call("GET", `/api/v2/pages/${id}/children`)).body.results.map(
        (p: { id: string; childPosition: number }) => [p.id, p.childPosition],
      );
    expect(await children(a.body.id)).toEqual([[b.body.id, 1000]]);
    expect(await children(home)).toEqual([[a.body.id, 1000]]);
    await call("DELETE", `/api/v2/pages/${a.body.id}`);
    expect(await children(home)).toEqual([[b.body.id, 1000]]);
    const c = await createV2Page(call, "C");
    expect(await children(home)).toEqual([
      [b.body.id, 1000],
      [c.body.id, 2000],
    ]);
  });

  it("gives a label name the same id on every page while one carries it, and a new id after", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const a = await createV2Page(call, "Labelled A");
    const b = await createV2Page(call, "Labelled B");
    const label = (id: string) =>
      call("POST", `/rest/api/content/${id}/label`, { body: [{ prefix: "global", name: "minutes" }] });
    await label(a.body.id);
    await label(b.body.id);
    const id = sb.state.labels(a.body.id)[0]!.id;
    expect(sb.state.labels(b.body.id)[0]!.id).toBe(id);
    await call("DELETE", `/rest/api/content/${a.body.id}/label/minutes`);
    await label(a.body.id);
    expect(sb.state.labels(a.body.id)[0]!.id).toBe(id);
    await call("DELETE", `/api/v2/pages/${a.body.id}`);
    await call("DELETE", `/api/v2/pages/${a.body.id}?purge=true`);
    await call("DELETE", `/rest/api/content/${b.body.id}/label/minutes`);
    await label(b.body.id);
    expect(sb.state.labels(b.body.id)[0]!.id).not.toBe(id);
  });

  it("rebuilds its indexes from a snapshot", () => {
    const source = new SandboxStore();
    source.restore({ format: 1, nextId: 100, spaces: [], pages: [], users: [], purged: [] });
    const space = source.createSpace("MEETINGS", "Meetings", "u1", "2026-01-01T10:00:00.000Z");
    const page = source.insertPage({
      spaceId: space.id,
      title: "Kappa",
      body: "<p/>",
      parentId: space.homepageId,
      authorId: "u1",
      now: "2026-01-01T10:00:00.000Z",
      status: "current",
    });
    source.addLabel(page, "global", "minutes");
    const copy = new SandboxStore();
    copy.restore(source.snapshot());
    expect(copy.titleHolder(space.id, "KAPPA")?.id).toBe(page.id);
    expect(copy.children(space.homepageId).map((p) => p.id)).toEqual([page.id]);
    expect(copy.nextPosition(space.id, space.homepageId)).toBe(2000);
    const other = copy.insertPage({
      spaceId: space.id,
      title: "Lambda",
      body: "<p/>",
      parentId: null,
      authorId: "u1",
      now: "2026-01-01T10:00:00.000Z",
      status: "current",
    });
    copy.addLabel(other, "global", "minutes");
    expect(copy.labels(other.id)[0]?.id).toBe(copy.labels(page.id)[0]?.id);
  });
});
