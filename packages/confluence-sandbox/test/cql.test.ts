import { describe, expect, it } from "vitest";
import { parseCql, runCql } from "../src/cql.js";
import { ConfluenceApiError } from "../src/errors.js";
import { SandboxStore } from "../src/SandboxStore.js";
import { createV2Page, sandbox } from "./helpers/sandbox.js";

function fixture() {
  const store = new SandboxStore();
  store.restore({ format: 1, nextId: 100, spaces: [], pages: [], users: [], purged: [] });
  const meetings = store.createSpace("MEETINGS", "Meetings", "u1", "2026-01-01T10:00:00.000Z");
  const ops = store.createSpace("OPS", "Ops", "u1", "2026-01-01T10:00:00.000Z");
  const page = (spaceId: number, title: string, parentId: string | null, at: string) =>
    store.insertPage({
      spaceId,
      title,
      body: "<p>body text</p>",
      parentId,
      authorId: "u1",
      now: at,
      status: "current",
    });
  const a = page(meetings.id, "Weekly Sync 1", null, "2026-03-01T09:00:00.000Z");
  const b = page(meetings.id, "Weekly Sync 2", a.id, "2026-03-05T09:00:00.000Z");
  const c = page(ops.id, "Incident review", null, "2026-04-01T09:00:00.000Z");
  a.labels.push({ id: "1", prefix: "global", name: "minutes" });
  c.labels.push({ id: "2", prefix: "global", name: "ops" });
  const run = (cql: string) =>
    runCql(parseCql(cql), {
      pages: [...store.pageMap.values()],
      spaceOf: (p) => store.spaceById(p.spaceId)!,
      ancestorsOf: (p) => store.ancestors(p),
      currentUser: "u1",
      now: new Date("2026-04-02T00:00:00.000Z"),
    }).map((p) => p.versions[0]!.title);
  return { run, a, b };
}

describe("CQL subset", () => {
  // REST-API.md §4.5
  it("filters by space, type, exact title and fuzzy title", () => {
    const { run } = fixture();
    expect(run('space = "MEETINGS" and type = page and title = "Weekly Sync 2"')).toEqual(["Weekly Sync 2"]);
    expect(run('title ~ "weekly"')).toEqual(["Weekly Sync 1", "Weekly Sync 2"]);
    expect(run("title ~ 'incid*'")).toEqual(["Incident review"]);
    expect(run("space != MEETINGS AND type = page")).toEqual(["Ops Home", "Incident review"]);
  });

  it("supports labels, IN lists, NOT, OR and parentheses", () => {
    const { run } = fixture();
    expect(run("label = minutes")).toEqual(["Weekly Sync 1"]);
    expect(run("label in (minutes, ops) order by title desc")).toEqual(["Weekly Sync 1", "Incident review"]);
    expect(run('(label = ops OR title = "Weekly Sync 2") and not space = OPS')).toEqual(["Weekly Sync 2"]);
    expect(run("space not in (OPS) and type = page and title ~ sync")).toEqual([
      "Weekly Sync 1",
      "Weekly Sync 2",
    ]);
  });

  it("supports ancestor, parent and date comparisons", () => {
    const { run, a } = fixture();
    expect(run(`ancestor = ${a.id}`)).toEqual(["Weekly Sync 2"]);
    expect(run(`parent = ${a.id}`)).toEqual(["Weekly Sync 2"]);
    expect(run('created >= "2026-03-05" and type = page')).toEqual(["Weekly Sync 2", "Incident review"]);
    expect(run('created = "2026/03/01"')).toEqual(["Weekly Sync 1"]);
    expect(run('lastmodified < "2026-03-02" and space = MEETINGS')).toContain("Weekly Sync 1");
    expect(run('created > now("-2d")')).toEqual(["Incident review"]);
  });

  // REST-API.md §4.5: there is no `status` field in CQL; unparsable CQL → 400
  it("refuses unsupported fields and malformed queries with 400, saying what is wrong", () => {
    const refusal = (cql: string) => {
      try {
        parseCql(cql);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfluenceApiError);
        return [(e as ConfluenceApiError).status, (e as ConfluenceApiError).message];
      }
      return "parsed";
    };
    expect(refusal("status = current")).toEqual([
      400,
      expect.stringMatching(/^The field 'status' is not supported in CQL\. Supported fields: title, /),
    ]);
    expect(refusal('title = "open')).toEqual([
      400,
      'Could not parse cql : title = "open (unterminated string)',
    ]);
    expect(refusal("title = a and (space = B")).toEqual([
      400,
      "Could not parse cql : title = a and (space = B (unbalanced parentheses)",
    ]);
  });

  it("answers a bad CQL query over HTTP with the v1 400 envelope", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    await createV2Page(call, "x");
    const res = await call("GET", `/rest/api/content/search?cql=${encodeURIComponent("status = current")}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, reason: "Bad Request" });
    expect(res.body.message).toContain("BadRequestException");
  });
});
