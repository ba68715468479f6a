// What people do in Confluence between two publications of the same job.
import { archiveRunSubject, publishRequestedSubject } from "@minutes/contracts";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import {
  eventually,
  type Harness,
  harnessPerTest,
  markedPagesOfJob,
  moveToTeamAsPerson,
  pagesOfJob,
  protocol,
  recordIn,
  restAsPerson,
} from "./helpers/harness.js";

const open = harnessPerTest();

const trashAsPerson = async (h: Harness, id: string) => {
  const res = await restAsPerson(
    h,
    "DELETE",
    h.sandbox.mode === "cloud" ? `/api/v2/pages/${id}` : `/rest/api/content/${id}`,
  );
  expect(res.status).toBe(204);
};

const recordAfter = (h: Harness, jobId: string, seq: number, status = "published") =>
  eventually(
    async () => {
      const r = await Effect.runPromise(h.store.findByJob(jobId));
      return r._tag === "Some" && r.value.streamSequence === seq && r.value.status === status
        ? r.value
        : undefined;
    },
    20_000,
    `job ${jobId} to be ${status} after message ${seq}`,
  );

describe.each(["cloud", "datacenter"] as const)("a month page a person deleted (%s)", (mode) => {
  it("is made anew for the month's next page, and the pages Confluence moved up to the year go back under it", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-month", markdown: protocol("Month") });
    const first = await recordIn(h, "job-month", "published");
    const id = first.pageId!;
    const month = h.sandbox.state.page(id)!.parentId!;
    const year = h.sandbox.state.page(month)!.parentId!;
    await trashAsPerson(h, month);
    // Confluence moves the pages of a deleted page up to its parent (REST-API.md §4.6).
    expect(h.sandbox.state.page(id)!.parentId).toBe(year);

    // Another meeting of that month: the publisher remembered the deleted month page.
    const seq = await h.submit({ jobId: "job-next", markdown: protocol("Next") });
    const next = await recordAfter(h, "job-next", seq);
    const newMonth = h.sandbox.state.page(next.pageId!)!.parentId!;
    expect(newMonth).not.toBe(month);
    expect(h.sandbox.state.page(newMonth)!.status).toBe("current");
    expect(h.sandbox.state.page(newMonth)!.versions.at(-1)!.title).toBe("2025-09");
    expect(h.sandbox.state.page(newMonth)!.parentId).toBe(year);

    // The first meeting's newer protocol: its page was not moved by a person, it goes back under its month.
    const seq2 = await h.submit({ jobId: "job-month", markdown: protocol("Month", "- decision two") });
    const second = await recordAfter(h, "job-month", seq2);
    expect(second.pageId).toBe(id);
    expect(h.sandbox.state.page(id)!.parentId).toBe(newMonth);
    expect(h.sandbox.state.versions(id).at(-1)!.body).toContain("decision two");
    expect(pagesOfJob(h, "job-month")).toHaveLength(1);
    expect(pagesOfJob(h, "job-next")).toHaveLength(1);
  });

  it("takes back a page Confluence moved up to the year when its newer protocol is the first to need the month again", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-month", markdown: protocol("Month") });
    const first = await recordIn(h, "job-month", "published");
    const id = first.pageId!;
    const month = h.sandbox.state.page(id)!.parentId!;
    const year = h.sandbox.state.page(month)!.parentId!;
    await trashAsPerson(h, month);

    const seq = await h.submit({ jobId: "job-month", markdown: protocol("Month", "- decision two") });
    const second = await recordAfter(h, "job-month", seq);
    expect(second.pageId).toBe(id);
    const newMonth = h.sandbox.state.page(id)!.parentId!;
    expect(newMonth).not.toBe(month);
    expect(h.sandbox.state.page(newMonth)).toMatchObject({ status: "current", parentId: year });
    expect(h.sandbox.state.page(newMonth)!.versions.at(-1)!.title).toBe("2025-09");
    expect(h.sandbox.state.versions(id).at(-1)!.body).toContain("decision two");
    expect(pagesOfJob(h, "job-month")).toHaveLength(1);
  });
});
describe.each(["cloud", "datacenter"] as const)(
  "a page Minutes' account may view but not edit (%s)",
  (mode) => {
    it("fails once, saying the page is there and what to lift, and publishes on a retry once it is lifted", async () => {
      const h = await open({ mode });
      await h.submit({ jobId: "job-locked", markdown: protocol("Locked") });
      const first = await recordIn(h, "job-locked", "published");
      // REST-API.md §7.2: Cloud answers 404 for updates a user may not make (an edit restriction).
      const restriction = h.sandbox.faults.add({
        kind: "status",
        status: 404,
        method: "PUT",
        path: mode === "cloud" ? `/pages/${first.pageId}$` : `/content/${first.pageId}$`,
      });
      const seq = await h.submit({ jobId: "job-locked", markdown: protocol("Locked", "- decision two") });
      const failed = await recordAfter(h, "job-locked", seq, "failed");
      expect(failed.errorTag).toBe("ConfluenceNotFoundError");
      expect(failed.errorMessage).toContain("the page reads back as current");
      expect(failed.errorMessage).toContain("lift the page's edit restriction");
      // Nothing else happened to it: no second page, the page as it was.
      expect(pagesOfJob(h, "job-locked").map((p) => p.id)).toEqual([first.pageId]);
      expect(h.sandbox.state.versions(first.pageId!)).toHaveLength(1);

      h.sandbox.faults.clear(restriction);
      const retry = await h.publishRaw(
        publishRequestedSubject("job-locked", h.config.nats.subject_prefix),
        JSON.stringify({ jobId: "job-locked", trigger: "retry", requestedAt: new Date().toISOString() }),
      );
      const published = await recordAfter(h, "job-locked", retry);
      expect(published.pageId).toBe(first.pageId);
      expect(h.sandbox.state.versions(first.pageId!).at(-1)!.body).toContain("decision two");
    });
  },
);

describe("a page a person moved to another space (Cloud)", () => {
  it("is updated where they put it: no second page, nothing trashed", async () => {
    const h = await open({ spaces: ["MEETINGS", "TEAM"] });
    await h.submit({ jobId: "job-away", markdown: protocol("Away") });
    const first = await recordIn(h, "job-away", "published");
    const id = first.pageId!;
    const { team, target } = await moveToTeamAsPerson(h, id);

    const seq = await h.submit({ jobId: "job-away", markdown: protocol("Away", "- decision two") });
    const updated = await recordAfter(h, "job-away", seq);
    // The person's move stands: the page is where they put it, with the newer protocol ...
    expect(updated.pageId).toBe(id);
    const page = h.sandbox.state.page(id)!;
    expect(page).toMatchObject({ status: "current", spaceId: team.id, parentId: target });
    expect(page.versions).toHaveLength(2);
    expect(page.versions.at(-1)!.body).toContain("decision two");
    // ... and it is the job's only page: none made in the route's space, none trashed.
    expect(markedPagesOfJob(h, "job-away").map((p) => [p.id, p.status])).toEqual([[id, "current"]]);
    expect(pagesOfJob(h, "job-away")).toEqual([]);
  });
});

describe.each(["cloud", "datacenter"] as const)(
  "a page Minutes' account may no longer edit (403, %s)",
  (mode) => {
    it("fails at once saying what to check, and publishes on a retry once the permission is back", async () => {
      const h = await open({ mode });
      await h.submit({ jobId: "job-denied", markdown: protocol("Denied") });
      const first = await recordIn(h, "job-denied", "published");
      const denial = h.sandbox.faults.add({
        kind: "status",
        status: 403,
        method: "PUT",
        path: mode === "cloud" ? `/pages/${first.pageId}$` : `/content/${first.pageId}$`,
      });
      const seq = await h.submit({ jobId: "job-denied", markdown: protocol("Denied", "- decision two") });
      const failed = await recordAfter(h, "job-denied", seq, "failed");
      expect(failed.errorTag).toBe("ConfluencePermissionError");
      expect(failed.errorMessage).toContain("add and edit pages there (space permissions)");
      expect(failed.errorMessage).toContain("page restriction");
      // At once: one refused write, not retried in process or by a redelivery; the page as it was.
      expect(h.sandbox.faults.list().find((f) => f.id === denial)?.fired).toBe(1);
      expect(failed.attempts).toBe(2);
      expect(h.sandbox.state.versions(first.pageId!)).toHaveLength(1);

      h.sandbox.faults.clear(denial);
      const retry = await h.publishRaw(
        publishRequestedSubject("job-denied", h.config.nats.subject_prefix),
        JSON.stringify({ jobId: "job-denied", trigger: "retry", requestedAt: new Date().toISOString() }),
      );
      const published = await recordAfter(h, "job-denied", retry);
      expect(published.pageId).toBe(first.pageId);
      expect(pagesOfJob(h, "job-denied")).toHaveLength(1);
    });
  },
);

describe.each(["cloud", "datacenter"] as const)("an archive page a person deleted (%s)", (mode) => {
  it("is made anew by the next archive run, which archives every page it finds, the first included", async () => {
    const h = await open({ mode });
    const run = async () =>
      (
        await h.nc.request(
          archiveRunSubject(h.config.nats.subject_prefix),
          JSON.stringify({ olderThanDays: 30 }),
          {
            timeout: 30_000,
          },
        )
      ).json<{ archived: number; failed: ReadonlyArray<unknown> }>();
    await h.submit({ jobId: "job-old", markdown: "# Old\n\nDate: 2020-03-01\n\n- x\n" });
    await recordIn(h, "job-old", "published");
    expect(await run()).toMatchObject({ archived: 1, failed: [] });
    const archive = h.sandbox.state.pages("MEETINGS").find((p) => p.versions.at(-1)!.title === "Archive")!;
    await trashAsPerson(h, archive.id);

    for (const jobId of ["job-older", "job-oldest"]) {
      await h.submit({ jobId, markdown: `# ${jobId}\n\nDate: 2020-04-01\n\n- x\n` });
      await recordIn(h, jobId, "published");
    }
    // The publisher remembered the deleted archive page: no page is left out of this run for it.
    expect(await run()).toMatchObject({ archived: 2, failed: [] });
    const again = h.sandbox.state
      .pages("MEETINGS")
      .filter((p) => p.status === "current" && p.versions.at(-1)!.title === "Archive");
    expect(again).toHaveLength(1);
    for (const jobId of ["job-older", "job-oldest"]) {
      expect(pagesOfJob(h, jobId)[0]!.parentId).toBe(again[0]!.id);
      await recordIn(h, jobId, "archived");
    }
  });
});

describe("a person's save between Minutes' read and its write (409, Data Center)", () => {
  it("is not written over: the attempt reads the page again and meets the manual edit", async () => {
    const h = await open({ mode: "datacenter" });
    await h.submit({ jobId: "job-race", markdown: protocol("Race", "- v1") });
    const first = await recordIn(h, "job-race", "published");
    const id = first.pageId!;
    h.sandbox.faults.add({
      kind: "latency",
      latencyMs: 2_000,
      method: "PUT",
      path: `/content/${id}$`,
      times: 1,
    });
    const seq = await h.submit({ jobId: "job-race", markdown: protocol("Race", "- v2") });
    await eventually(() => (h.sandbox.faults.list().length === 0 ? true : undefined));
    const current = h.sandbox.state.page(id)!.versions.at(-1)!;
    const saved = await restAsPerson(h, "PUT", `/rest/api/content/${id}`, {
      id,
      type: "page",
      title: current.title,
      body: { storage: { value: "<p>saved by a person</p>", representation: "storage" } },
      version: { number: current.number + 1 },
    });
    expect(saved.status).toBe(200);
    const failed = await recordAfter(h, "job-race", seq, "failed");
    expect(failed.errorTag).toBe("ManualEditError");
    expect(failed.errorMessage).toContain("An Author");
    const versions = h.sandbox.state.versions(id);
    expect(versions).toHaveLength(2);
    expect(versions.at(-1)!.body).toContain("saved by a person");
  });
});

describe.each(["cloud", "datacenter"] as const)("a route's parent page a person deleted (%s)", (mode) => {
  it("fails the job's first page at once, naming the parent to check or restore", async () => {
    const h = await open({
      mode,
      config: { confluence: { advanced_settings: { use_page_hierarchy: false } } },
    });
    const space = h.sandbox.state.spaces().find((s) => s.key === "MEETINGS")!;
    const created = await restAsPerson(
      h,
      "POST",
      mode === "cloud" ? "/api/v2/pages" : "/rest/api/content",
      mode === "cloud"
        ? {
            spaceId: String(space.id),
            status: "current",
            title: "Board",
            body: { representation: "storage", value: "<p>b</p>" },
          }
        : {
            type: "page",
            title: "Board",
            space: { key: "MEETINGS" },
            body: { storage: { value: "<p>b</p>", representation: "storage" } },
          },
    );
    const board = String(((await created.json()) as { id: string | number }).id);
    await trashAsPerson(h, board);
    const seq = await h.submit({ jobId: "job-orphan", markdown: protocol("Orphan"), parentPageId: board });
    const failed = await recordAfter(h, "job-orphan", seq, "failed");
    expect(failed.errorTag).toBe("ConfluenceNotFoundError");
    expect(failed.errorMessage).toContain("check the parent page id of the route");
    expect(pagesOfJob(h, "job-orphan")).toHaveLength(0);
  });
});
