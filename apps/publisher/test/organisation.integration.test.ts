// Page organisation against the machine's NATS, SQLite and the sandbox: the index page kept
// current under concurrent publications, and the archive job (on request through NATS
// request/reply, and scheduled) moving old meetings under the archive page, idempotently.
import { type ArchiveRunResult, archiveRunSubject, type Publication } from "@minutes/contracts";
import { Effect, Option } from "effect";
import { describe, expect, it } from "vitest";
import { INDEX_PROPERTY_KEY, makeIndexPages } from "../src/index.js";
import {
  eventually,
  type Harness,
  harnessPerTest,
  pagesOfJob,
  recordIn,
  withClient,
} from "./helpers/harness.js";

const open = harnessPerTest();

const protocol = (title: string, date: string, body = "- decision one") =>
  `# Meeting Protocol: ${title}\n\nDate: ${date}\n\n## Decisions\n${body}\n`;

const current = (h: Harness) => h.sandbox.state.pages("MEETINGS").filter((p) => p.status === "current");
const titled = (h: Harness, title: string) => current(h).filter((p) => p.versions.at(-1)?.title === title);
const latest = (page: {
  readonly versions: ReadonlyArray<{ readonly body: string; readonly title: string }>;
}) => page.versions[page.versions.length - 1] as { readonly body: string; readonly title: string };

/**
 * The current pages marked as an index. Not by title: Confluence keeps titles unique in a space, so
 * a second index would be "Meeting protocols (MEETINGS)".
 */
const indexes = (h: Harness) =>
  current(h).filter((p) => p.properties.some((q) => q.key === INDEX_PROPERTY_KEY));

/**
 * The one index page of the space root, once its body satisfies `check`; fails at once when there
 * are two (`eventually` retries on a thrown assertion, so the count is checked outside it).
 */
const indexWhere = async (h: Harness, check: (body: string) => boolean, what: string) => {
  const found = await eventually(
    () => {
      const pages = indexes(h);
      if (pages.length > 1) return pages;
      const page = pages[0];
      return page !== undefined && check(latest(page).body) ? pages : undefined;
    },
    30_000,
    what,
  );
  expect(found.map((p) => latest(p).title)).toEqual(["Meeting protocols"]);
  return found[0]!;
};

/** Titles linked from an index body, in order. */
const linkedTitles = (body: string): Array<string> =>
  [...body.matchAll(/ri:content-title="([^"]*)"/g)].map((m) => m[1] as string);

const archiveNow = async (h: Harness, request: Record<string, unknown> = {}): Promise<ArchiveRunResult> => {
  const reply = await h.nc.request(archiveRunSubject(h.config.nats.subject_prefix), JSON.stringify(request), {
    timeout: 30_000,
  });
  return reply.json<ArchiveRunResult>();
};

/** The job's record once `check` holds for it. */
const recordWhere = (h: Harness, jobId: string, check: (r: Publication) => boolean) =>
  eventually(
    async () => {
      const r = await Effect.runPromise(h.store.findByJob(jobId));
      return Option.isSome(r) && check(r.value) ? r.value : undefined;
    },
    20_000,
    `the record of ${jobId}`,
  );

const today = () => new Date().toISOString().slice(0, 10);

/** Archives a page with Confluence Cloud's archive, as a person, and waits until it is archived. */
const archiveAsPerson = async (h: Harness, pageId: string) => {
  const person = h.sandbox.addUser({ displayName: "An Archivist", email: "archivist@example.com" });
  const res = await fetch(`${h.sandbox.baseUrl}/rest/api/content/archive`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${person.email}:${person.token}`).toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ pages: [{ id: Number(pageId) }] }),
  });
  expect(res.status).toBe(202);
  await eventually(() => (h.sandbox.state.page(pageId)?.status === "archived" ? true : undefined));
};

describe("index page", () => {
  it("lists every published protocol, newest meeting first, linked by title, and follows title changes", async () => {
    const h = await open({ config: { confluence: { advanced_settings: { create_index_page: true } } } });
    await h.submit({ jobId: "idx-a", markdown: protocol("Alpha", "2025-01-15") });
    await recordIn(h, "idx-a", "published");
    await h.submit({ jobId: "idx-b", markdown: protocol("Bravo", "2025-03-02") });
    await recordIn(h, "idx-b", "published");
    await h.submit({ jobId: "idx-c", markdown: protocol("Charlie", "2024-11-30") });
    await recordIn(h, "idx-c", "published");

    const index = await indexWhere(h, (b) => linkedTitles(b).length === 3, "three entries");
    expect(linkedTitles(latest(index).body)).toEqual([
      "20250302 - Bravo",
      "20250115 - Alpha",
      "20241130 - Charlie",
    ]);
    expect(latest(index).body).toContain('<time datetime="2025-03-02" />');
    expect(index.properties.find((p) => p.key === INDEX_PROPERTY_KEY)?.value).toEqual({
      spaceKey: "MEETINGS",
      parentPageId: null,
    });
    // Every linked title is a real page of the space.
    for (const t of linkedTitles(latest(index).body)) expect(titled(h, t)).toHaveLength(1);

    await h.submit({ jobId: "idx-a", markdown: protocol("Alpha renamed", "2025-01-15") });
    const renamed = await indexWhere(
      h,
      (b) => linkedTitles(b).includes("20250115 - Alpha renamed"),
      "the new title in the index",
    );
    expect(linkedTitles(latest(renamed).body)).not.toContain("20250115 - Alpha");
    expect(indexes(h).map((p) => p.id)).toEqual([index.id]);
  });

  it("starts an index page under the title naming its place when a person archived the index page (Cloud)", async () => {
    const h = await open({ config: { confluence: { advanced_settings: { create_index_page: true } } } });
    await h.submit({ jobId: "idx-arch-a", markdown: protocol("Alpha", "2025-01-15") });
    await recordIn(h, "idx-arch-a", "published");
    const archived = await indexWhere(h, (b) => linkedTitles(b).length === 1, "the first entry");
    await archiveAsPerson(h, archived.id);
    // The archived index keeps its title, read-only: the next entry goes to a new index.
    await h.submit({ jobId: "idx-arch-b", markdown: protocol("Bravo", "2025-03-02") });
    await recordIn(h, "idx-arch-b", "published");
    const fresh = await eventually(
      () => titled(h, "Meeting protocols (MEETINGS)").find((p) => linkedTitles(latest(p).body).length === 2),
      30_000,
      "a new index with both entries",
    );
    expect(fresh.id).not.toBe(archived.id);
    expect(h.sandbox.state.page(archived.id)?.status).toBe("archived");
    expect(h.sandbox.state.page(archived.id)?.versions).toHaveLength(1);
  });

  it("lists the newest index_max_entries meetings and counts the older ones", async () => {
    const h = await open({
      config: { confluence: { advanced_settings: { create_index_page: true, index_max_entries: 2 } } },
    });
    for (const [jobId, title, date] of [
      ["cap-a", "Oldest", "2025-01-01"],
      ["cap-b", "Middle", "2025-02-01"],
      ["cap-c", "Newest", "2025-03-01"],
    ] as const) {
      await h.submit({ jobId, markdown: protocol(title, date) });
      await recordIn(h, jobId, "published");
    }
    const index = await indexWhere(
      h,
      (b) => linkedTitles(b).includes("20250301 - Newest"),
      "the newest meeting in the index",
    );
    expect(linkedTitles(latest(index).body)).toEqual(["20250301 - Newest", "20250201 - Middle"]);
    expect(latest(index).body).toContain(
      "1 older meeting is not listed here: the list shows the newest 2. Find them in the page tree or with search.",
    );
  });

  it("loses no entry when many publications on two publishers update the same index at once", async () => {
    const h = await open({ config: { confluence: { advanced_settings: { create_index_page: true } } } });
    // A second instance with its own caches: its writes race the first one's through page versions.
    await h.startPublisher({ instanceId: "second" });
    const jobs = Array.from({ length: 16 }, (_, i) => `idx-race-${i}`);
    await Promise.all(
      jobs.map((jobId, i) =>
        h.submit({ jobId, markdown: protocol(`Race ${i}`, `2025-05-${String(i + 1).padStart(2, "0")}`) }),
      ),
    );
    for (const jobId of jobs) await recordIn(h, jobId, "published", 60_000);
    const index = await indexWhere(h, (b) => linkedTitles(b).length === jobs.length, "all sixteen entries");
    expect(new Set(linkedTitles(latest(index).body)).size).toBe(jobs.length);
    // Written more than once (the entries came in concurrently), yet one page, nothing missing.
    expect(index.versions.length).toBeGreaterThan(1);
    expect(indexes(h).map((p) => p.id)).toEqual([index.id]);
  });
});

describe("index page races", () => {
  it("renders again from the store when another publisher's stale write wins the version race", async () => {
    const h = await open();
    await withClient(h, async (client) => {
      const location = { spaceKey: "MEETINGS", parentPageId: null };
      const publish = (jobId: string, title: string, meetingDate: string) =>
        Effect.runPromise(
          Effect.gen(function* () {
            const record = yield* h.store.ensurePublication({
              jobId,
              spaceKey: "MEETINGS",
              parentPageId: null,
            });
            yield* h.store.claim({ jobId, owner: "test", leaseMs: 60_000 });
            yield* h.store.transition(record.id, "published", { pageId: "1", pageTitle: title, meetingDate });
          }),
        );
      // Two publishers' index writers, each with its own caches.
      const first = makeIndexPages(h.config, h.store, () => []);
      const second = makeIndexPages(h.config, h.store, () => []);
      await publish("race-a", "Entry A", "2025-01-01");
      await Effect.runPromise(first.refresh(location, client));
      await publish("race-b", "Entry B", "2025-01-02");

      // The first writer renders A and B, and its write is held up on the way.
      const slowFirst = h.sandbox.faults.add({ kind: "latency", latencyMs: 1_500, method: "PUT", times: 1 });
      const firstRun = Effect.runPromise(first.refresh(location, client));
      await eventually(
        // A rule that has fired its last time leaves the list.
        () => (h.sandbox.faults.list().some((f) => f.id === slowFirst) ? undefined : true),
        10_000,
        "the first write to be held",
      );
      // Meanwhile C is published and the second writer reads the same page version; its write
      // arrives after the first one landed and conflicts.
      await publish("race-c", "Entry C", "2025-01-03");
      h.sandbox.faults.add({ kind: "latency", latencyMs: 3_000, method: "PUT", times: 1 });
      await Promise.all([firstRun, Effect.runPromise(second.refresh(location, client))]);

      const index = titled(h, "Meeting protocols");
      expect(index).toHaveLength(1);
      expect(linkedTitles(latest(index[0]!).body)).toEqual(["Entry C", "Entry B", "Entry A"]);
      // v1 created with A, v2 the first writer's A+B, v3 the second writer's re-rendered A+B+C.
      expect(index[0]!.versions.map((v) => linkedTitles(v.body).length)).toEqual([1, 2, 3]);
    });
  });
});

describe("archiving", () => {
  it("moves old meetings under the archive page on request, records them archived, and is idempotent", async () => {
    const h = await open({ config: { confluence: { advanced_settings: { create_index_page: true } } } });
    await h.submit({ jobId: "arc-old-1", markdown: protocol("Old one", "2020-03-04") });
    await h.submit({ jobId: "arc-old-2", markdown: protocol("Old two", "2020-04-05") });
    await h.submit({ jobId: "arc-new", markdown: protocol("New", today()) });
    for (const jobId of ["arc-old-1", "arc-old-2", "arc-new"]) await recordIn(h, jobId, "published");

    const first = await archiveNow(h, { olderThanDays: 30 });
    expect(first.archived).toBe(2);
    expect(first.failed).toEqual([]);
    const archive = titled(h, "Archive");
    expect(archive).toHaveLength(1);
    for (const jobId of ["arc-old-1", "arc-old-2"]) {
      expect(pagesOfJob(h, jobId)[0]?.parentId).toBe(archive[0]?.id);
      const record = await recordIn(h, jobId, "archived");
      expect(record.archivedAt).not.toBeNull();
    }
    expect(pagesOfJob(h, "arc-new")[0]?.parentId).not.toBe(archive[0]?.id);
    await recordIn(h, "arc-new", "published");
    await indexWhere(h, (b) => (b.match(/\(archived\)/g) ?? []).length === 2, "archived entries marked");

    const versionsBefore = pagesOfJob(h, "arc-old-1")[0]?.versions.length;
    const second = await archiveNow(h, { olderThanDays: 30 });
    expect(second.archived).toBe(0);
    expect(second.failed).toEqual([]);
    expect(titled(h, "Archive")).toHaveLength(1);
    expect(pagesOfJob(h, "arc-old-1")[0]?.versions.length).toBe(versionsBefore);

    // A corrected protocol of an archived meeting updates its page in the archive.
    await h.submit({ jobId: "arc-old-1", markdown: protocol("Old one", "2020-03-04", "- corrected") });
    await eventually(
      () =>
        (pagesOfJob(h, "arc-old-1")[0]?.versions.length ?? 0) > (versionsBefore ?? 0) ? true : undefined,
      20_000,
      "the archived page's next version",
    );
    // Archived before too: wait for the record of the new version, not any archived one.
    await recordWhere(h, "arc-old-1", (r) => r.status === "archived" && r.pageVersion === 2);
    expect(pagesOfJob(h, "arc-old-1")[0]?.parentId).toBe(archive[0]?.id);
    expect(pagesOfJob(h, "arc-old-1")).toHaveLength(1);
  });

  it("says Confluence removed the move endpoint (410), not that the page was not found", async () => {
    const h = await open({});
    await h.submit({ jobId: "arc-gone", markdown: protocol("Gone endpoint", "2020-03-04") });
    const published = await recordIn(h, "arc-gone", "published");
    // REST-API.md §1.1: a removed v1 endpoint answers 410 Gone.
    h.sandbox.faults.add({ kind: "status", status: 410, method: "PUT", path: "/move/" });
    const run = await archiveNow(h, { olderThanDays: 30 });
    expect(run.archived).toBe(0);
    expect(run.failed).toHaveLength(1);
    expect(run.failed[0]?.reason).not.toContain("was not found");
    expect(run.failed[0]?.reason).toMatch(/removed/i);
    expect((await recordIn(h, "arc-gone", "published")).pageId).toBe(published.pageId);
  });

  // REST-API.md §4.3: Data Center moves a page by a versioned update (no move resource).
  it("archives on Data Center with a version of Minutes' own, recorded, so the page stays Minutes' to update", async () => {
    const h = await open({ mode: "datacenter" });
    const markdown = protocol("DC old", "2020-03-04");
    await h.submit({ jobId: "dc-old", markdown });
    const published = await recordIn(h, "dc-old", "published");
    const id = published.pageId!;
    expect(await archiveNow(h, { olderThanDays: 30 })).toMatchObject({ archived: 1, failed: [] });
    const archive = titled(h, "Archive");
    expect(h.sandbox.state.page(id)?.parentId).toBe(archive[0]?.id);
    const versions = h.sandbox.state.versions(id);
    expect(versions).toHaveLength(2);
    expect(versions[1]).toMatchObject({
      title: versions[0]!.title,
      body: versions[0]!.body,
      message: "Moved to the archive by Minutes",
      minorEdit: true,
      authorId: h.sandbox.user.accountId,
    });
    expect((await recordIn(h, "dc-old", "archived")).pageVersion).toBe(2);
    const history = await Effect.runPromise(h.store.listVersions("dc-old"));
    expect(history.map((v) => [v.pageVersion, v.trigger])).toEqual([
      [1, "event"],
      [2, "archive"],
    ]);

    // The same protocol again: in sync with its record, nothing is written.
    const same = await h.submit({ jobId: "dc-old", markdown });
    await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("dc-old"));
      return r._tag === "Some" && r.value.streamSequence === same && r.value.status === "archived"
        ? true
        : undefined;
    });
    expect(h.sandbox.state.versions(id)).toHaveLength(2);
    // A corrected protocol updates the page in the archive: the move was no manual edit.
    await h.submit({ jobId: "dc-old", markdown: protocol("DC old", "2020-03-04", "- corrected") });
    await eventually(() => (h.sandbox.state.versions(id).length === 3 ? true : undefined));
    const updated = await recordWhere(h, "dc-old", (r) => r.pageVersion === 3);
    expect(updated).toMatchObject({ status: "archived", pageVersion: 3, errorTag: null });
    expect(h.sandbox.state.page(id)?.parentId).toBe(archive[0]?.id);
  });

  it("leaves a page a person edited where it is on Data Center, says why, and still sees the edit", async () => {
    const h = await open({ mode: "datacenter" });
    await h.submit({ jobId: "dc-edited", markdown: protocol("DC edited", "2020-03-04") });
    const published = await recordIn(h, "dc-edited", "published");
    const id = published.pageId!;
    const person = h.sandbox.addUser({ displayName: "A. Person", email: "person@example.com" });
    const page = h.sandbox.state.page(id)!;
    const edit = await fetch(`${h.sandbox.baseUrl}/rest/api/content/${id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${person.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        id,
        type: "page",
        title: latest(page).title,
        body: { storage: { value: "<p>edited by a person</p>", representation: "storage" } },
        version: { number: 2 },
      }),
    });
    expect(edit.status).toBe(200);

    const result = await archiveNow(h, { olderThanDays: 30 });
    expect(result.archived).toBe(0);
    expect(result.failed).toEqual([
      {
        jobId: "dc-edited",
        pageId: id,
        reason: expect.stringContaining("edited in Confluence by A. Person"),
      },
    ]);
    expect(h.sandbox.state.page(id)?.parentId).not.toBe(titled(h, "Archive")[0]?.id);
    expect(h.sandbox.state.versions(id)).toHaveLength(2);
    await recordIn(h, "dc-edited", "published");
    // The next publication still finds the person's edit (on_manual_edit: fail).
    await h.submit({ jobId: "dc-edited", markdown: protocol("DC edited", "2020-03-04", "- ours") });
    expect((await recordIn(h, "dc-edited", "failed")).errorTag).toBe("ManualEditError");
    expect(h.sandbox.state.versions(id).at(-1)?.body).toContain("edited by a person");
  });

  it("archives an imported page on Data Center, which has no version of Minutes' own to keep apart", async () => {
    const h = await open({ mode: "datacenter" });
    // The original integration's page, written by another account, and its imported mapping: a
    // record naming the page but no version (as `./minutes import-original` leaves it).
    const other = h.sandbox.addUser({ displayName: "Original Integration", email: "original@example.com" });
    const created = await fetch(`${h.sandbox.baseUrl}/rest/api/content`, {
      method: "POST",
      headers: { authorization: `Bearer ${other.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        type: "page",
        title: "20200304 - Imported",
        space: { key: "MEETINGS" },
        body: { storage: { value: "<p>from the original</p>", representation: "storage" } },
      }),
    });
    const id = String(((await created.json()) as { id: string }).id);
    await Effect.runPromise(
      Effect.gen(function* () {
        const record = yield* h.store.ensurePublication({
          jobId: "dc-imported",
          spaceKey: "MEETINGS",
          parentPageId: null,
        });
        yield* h.store.claim({ jobId: "dc-imported", owner: "import", leaseMs: 60_000 });
        yield* h.store.transition(record.id, "published", {
          pageId: id,
          pageTitle: "20200304 - Imported",
          meetingDate: "2020-03-04",
        });
      }),
    );
    expect(await archiveNow(h, { olderThanDays: 30 })).toMatchObject({ archived: 1, failed: [] });
    expect(h.sandbox.state.page(id)?.parentId).toBe(titled(h, "Archive")[0]?.id);
    expect((await recordIn(h, "dc-imported", "archived")).pageVersion).toBe(2);
  });

  it("does not archive a page a record names when the page's job property names another job", async () => {
    const h = await open();
    // This site's job, a recent meeting: its page stays where it is.
    await h.submit({ jobId: "arc-owner", markdown: protocol("Recent here", today()) });
    const owner = await recordIn(h, "arc-owner", "published");
    const page = h.sandbox.state.page(owner.pageId!)!;
    const before = { parentId: page.parentId, versions: page.versions.length };
    // A record imported from another site names the same page id for an old meeting of its own.
    await Effect.runPromise(
      Effect.gen(function* () {
        const record = yield* h.store.ensurePublication({
          jobId: "arc-foreign",
          spaceKey: "MEETINGS",
          parentPageId: null,
        });
        yield* h.store.claim({ jobId: "arc-foreign", owner: "import", leaseMs: 60_000 });
        yield* h.store.transition(record.id, "published", {
          pageId: owner.pageId,
          pageVersion: 1,
          contentHash: "sha256:elsewhere",
          pageTitle: "20200102 - Elsewhere",
          meetingDate: "2020-01-02",
        });
      }),
    );
    const result = await archiveNow(h, { olderThanDays: 30 });
    expect(result).toMatchObject({
      archived: 0,
      failed: [
        {
          jobId: "arc-foreign",
          pageId: owner.pageId,
          reason: expect.stringContaining(`belongs to job arc-owner`),
        },
      ],
    });
    expect(titled(h, "Archive")).toHaveLength(0);
    const after = h.sandbox.state.page(owner.pageId!)!;
    expect({ parentId: after.parentId, versions: after.versions.length }).toEqual(before);
    await recordIn(h, "arc-foreign", "published");
  });

  it("uses Confluence Cloud's own archive with archive_method cloud_archive, and says how to update an archived page", async () => {
    const h = await open({
      config: { confluence: { advanced_settings: { archive_method: "cloud_archive" } } },
    });
    await h.submit({ jobId: "cloud-old", markdown: protocol("Cloud old", "2020-01-02") });
    await h.submit({ jobId: "cloud-new", markdown: protocol("Cloud new", today()) });
    const old = await recordIn(h, "cloud-old", "published");
    await recordIn(h, "cloud-new", "published");

    const first = await archiveNow(h, { olderThanDays: 30 });
    expect(first).toMatchObject({ archived: 1, failed: [] });
    expect(h.sandbox.state.page(old.pageId as string)?.status).toBe("archived");
    expect(titled(h, "Archive")).toHaveLength(0);
    await recordIn(h, "cloud-old", "archived");
    expect((await archiveNow(h, { olderThanDays: 30 })).archived).toBe(0);

    // Cloud keeps archived pages read-only: a corrected protocol fails visibly, with what to do.
    await h.submit({ jobId: "cloud-old", markdown: protocol("Cloud old", "2020-01-02", "- corrected") });
    const failed = await recordIn(h, "cloud-old", "failed");
    expect(failed.errorTag).toBe("PageArchivedError");
    expect(failed.errorMessage).toMatch(/archived in Confluence\. Restore it there/);
    expect(
      h.sandbox.state.pages("MEETINGS").filter((p) => p.versions.at(-1)?.title === old.pageTitle),
    ).toHaveLength(1);
  });

  it("archives on its schedule when archive_old_pages is on, using archive_after_days", async () => {
    const h = await open();
    await h.submit({ jobId: "arc-sched-old", markdown: protocol("Scheduled old", "2021-06-01") });
    await h.submit({ jobId: "arc-sched-new", markdown: protocol("Scheduled new", today()) });
    await recordIn(h, "arc-sched-old", "published");
    await recordIn(h, "arc-sched-new", "published");
    // A publisher with archiving on runs the job when it starts, then every interval.
    await h.startPublisher({
      instanceId: "archiver",
      config: {
        ...h.config,
        confluence: {
          ...h.config.confluence,
          advanced_settings: {
            ...h.config.confluence.advanced_settings,
            archive_old_pages: true,
            archive_after_days: 365,
            archive_page_title: "Old meetings",
          },
        },
      },
    });
    const record = await recordIn(h, "arc-sched-old", "archived");
    expect(pagesOfJob(h, "arc-sched-old")[0]?.parentId).toBe(titled(h, "Old meetings")[0]?.id);
    expect(record.archivedAt).not.toBeNull();
    const recent = await Effect.runPromise(h.store.findByJob("arc-sched-new"));
    expect(recent._tag === "Some" && recent.value.status).toBe("published");
  });

  it("answers a bad archive request with the reason and archives nothing", async () => {
    const h = await open();
    const reply = await h.nc.request(
      archiveRunSubject(h.config.nats.subject_prefix),
      JSON.stringify({ olderThanDays: -3 }),
      { timeout: 30_000 },
    );
    expect(reply.json<{ error: string }>().error).toMatch(/olderThanDays/);
    // An age whose cut-off no Date holds is refused with a reply too, not left unanswered.
    for (const olderThanDays of [1e9, 2_147_483_647]) {
      const huge = await h.nc.request(
        archiveRunSubject(h.config.nats.subject_prefix),
        JSON.stringify({ olderThanDays }),
        { timeout: 10_000 },
      );
      expect(huge.json<{ error: string }>().error).toMatch(/olderThanDays|at most 36500 days/);
    }
  });
});
