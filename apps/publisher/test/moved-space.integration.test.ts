// A meeting page a person moved to another space (Confluence Cloud's move): the record, the
// publications API and the index pages follow the page to where it is.
import { type ArchiveRunResult, archiveRunSubject, publicationEventSubject } from "@minutes/contracts";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { INDEX_PROPERTY_KEY } from "../src/index.js";
import {
  eventually,
  type Harness,
  type HarnessOptions,
  harnessPerTest,
  markedPagesOfJob,
  moveToTeamAsPerson,
  protocol,
  recordIn,
  restAsPerson,
} from "./helpers/harness.js";

const open = harnessPerTest();

const withIndex = (extra: HarnessOptions["config"] = {}): HarnessOptions => ({
  spaces: ["MEETINGS", "TEAM"],
  config: {
    ...extra,
    confluence: {
      ...extra.confluence,
      advanced_settings: { ...extra.confluence?.advanced_settings, create_index_page: true },
    },
  },
});

/** Subscribes to `published` outcomes; `done(jobId, seq)` resolves once that message's outcome came. */
const outcomes = (h: Harness) => {
  const seen: Array<{ jobId: string; protocolSequence?: number }> = [];
  const sub = h.nc.subscribe(publicationEventSubject("published", h.config.nats.subject_prefix));
  void (async () => {
    for await (const m of sub) seen.push(m.json());
  })();
  return (jobId: string, seq: number) =>
    eventually(
      () => seen.find((o) => o.jobId === jobId && o.protocolSequence === seq),
      20_000,
      `the outcome of ${jobId}'s message ${seq}`,
    );
};

/** The index pages of a space (pages marked with the index property), current ones only. */
const indexesOf = (h: Harness, spaceKey: string) =>
  h.sandbox.state
    .pages(spaceKey)
    .filter((p) => p.status === "current" && p.properties.some((prop) => prop.key === INDEX_PROPERTY_KEY));

/** Titles linked from an index page's latest body. */
const linked = (h: Harness, pageId: string): Array<string> =>
  [...(h.sandbox.state.versions(pageId).at(-1)?.body ?? "").matchAll(/ri:content-title="([^"]*)"/g)].map(
    (m) => m[1] as string,
  );

/** Runs the archive now, as `POST /api/archive/run` asks the publisher to. */
const archiveNow = async (h: Harness, request: Record<string, unknown>): Promise<ArchiveRunResult> =>
  (
    await h.nc.request(archiveRunSubject(h.config.nats.subject_prefix), JSON.stringify(request), {
      timeout: 30_000,
    })
  ).json<ArchiveRunResult>();

const jobRecord = async (h: Harness, jobId: string) => {
  const r = await Effect.runPromise(h.store.findByJob(jobId));
  if (r._tag === "None") throw new Error(`no record for ${jobId}`);
  return r.value;
};

describe("a page a person moved to another space (Cloud)", () => {
  it("is recorded, queried and counted in the space it is in, and the route space's index no longer lists it", async () => {
    const h = await open(withIndex());
    const published = outcomes(h);
    const seq1 = await h.submit({ jobId: "job-away", markdown: protocol("Away") });
    await published("job-away", seq1);
    const first = await recordIn(h, "job-away", "published");
    const id = first.pageId!;
    const [meetingsIndex] = indexesOf(h, "MEETINGS");
    expect(linked(h, meetingsIndex!.id)).toEqual([first.pageTitle]);

    const { team, target } = await moveToTeamAsPerson(h, id);
    const seq2 = await h.submit({ jobId: "job-away", markdown: protocol("Away", "- decision two") });
    await published("job-away", seq2);

    // The page is updated where the person put it, and the record says where that is.
    const updated = await jobRecord(h, "job-away");
    expect(updated).toMatchObject({
      pageId: id,
      streamSequence: seq2,
      status: "published",
      spaceKey: "TEAM",
    });
    expect(h.sandbox.state.page(id)).toMatchObject({ spaceId: team.id, parentId: target });
    const inTeam = await Effect.runPromise(h.store.query({ spaceKey: "TEAM" }));
    expect(inTeam.items.map((r) => r.jobId)).toEqual(["job-away"]);
    const inMeetings = await Effect.runPromise(h.store.query({ spaceKey: "MEETINGS" }));
    expect(inMeetings.items).toEqual([]);
    const stats = await Effect.runPromise(h.store.stats());
    expect(stats.bySpace).toEqual({ TEAM: 1 });

    // The route space's index has no link to a title that is not in its space ...
    expect(linked(h, meetingsIndex!.id)).toEqual([]);
    // ... and no rule routes to TEAM: Minutes makes no index page there.
    expect(indexesOf(h, "TEAM")).toEqual([]);

    // The next protocol still finds the page where it is (the job property says where Minutes
    // placed it): no new page in the route's space, nothing trashed.
    const seq3 = await h.submit({ jobId: "job-away", markdown: protocol("Away", "- decision three") });
    await published("job-away", seq3);
    expect(await jobRecord(h, "job-away")).toMatchObject({ pageId: id, spaceKey: "TEAM" });
    expect(h.sandbox.state.versions(id).at(-1)!.body).toContain("decision three");
    expect(markedPagesOfJob(h, "job-away").map((p) => [p.id, p.status])).toEqual([[id, "current"]]);
    expect(linked(h, meetingsIndex!.id)).toEqual([]);
  });

  it("stays where it is when the same protocol comes again, and a page moved back is its route's again", async () => {
    const h = await open(withIndex());
    const published = outcomes(h);
    const seq1 = await h.submit({ jobId: "job-back", markdown: protocol("Back") });
    await published("job-back", seq1);
    const first = await recordIn(h, "job-back", "published");
    const id = first.pageId!;
    const month = h.sandbox.state.page(id)!.parentId!;
    await moveToTeamAsPerson(h, id);

    // Nothing to write (the same protocol, sent again): the record follows the page all the same,
    // and the page is not taken for one of a job routed away from TEAM.
    const again = await h.submit({ jobId: "job-back", markdown: protocol("Back") }, "job-back-again");
    await eventually(
      async () => ((await jobRecord(h, "job-back")).streamSequence === again ? true : undefined),
      20_000,
      "the replay recorded",
    );
    expect(await jobRecord(h, "job-back")).toMatchObject({ pageId: id, spaceKey: "TEAM" });
    const seq2 = await h.submit({ jobId: "job-back", markdown: protocol("Back", "- decision two") });
    await published("job-back", seq2);
    expect(await jobRecord(h, "job-back")).toMatchObject({ pageId: id, spaceKey: "TEAM" });
    expect(h.sandbox.state.trash()).toEqual([]);

    const back = await restAsPerson(h, "PUT", `/rest/api/content/${id}/move/append/${month}`);
    expect(back.status).toBe(200);
    const seq3 = await h.submit({ jobId: "job-back", markdown: protocol("Back", "- decision three") });
    await published("job-back", seq3);
    expect(await jobRecord(h, "job-back")).toMatchObject({ pageId: id, spaceKey: "MEETINGS" });
    const [meetingsIndex] = indexesOf(h, "MEETINGS");
    expect(linked(h, meetingsIndex!.id)).toEqual([first.pageTitle]);
  });

  it("is listed by the index Minutes keeps in its new space by a routing rule, and leaves it when moved back", async () => {
    const h = await open(
      withIndex({
        confluence: { routing_rules: [{ name: "team", match: { source: "team" }, space_key: "TEAM" }] },
      }),
    );
    const published = outcomes(h);
    // A meeting of the TEAM route, so that its index is there already.
    const teamSeq = await h.submit({
      jobId: "job-team",
      markdown: protocol("Team"),
      source: "team",
    });
    await published("job-team", teamSeq);
    const teamRecord = await recordIn(h, "job-team", "published");
    const [teamIndex] = indexesOf(h, "TEAM");
    expect(linked(h, teamIndex!.id)).toEqual([teamRecord.pageTitle]);

    const seq1 = await h.submit({ jobId: "job-away", markdown: protocol("Away") });
    await published("job-away", seq1);
    const first = await recordIn(h, "job-away", "published");
    const id = first.pageId!;
    const month = h.sandbox.state.page(id)!.parentId!;
    await moveToTeamAsPerson(h, id);

    const seq2 = await h.submit({ jobId: "job-away", markdown: protocol("Away", "- decision two") });
    await published("job-away", seq2);
    expect(await jobRecord(h, "job-away")).toMatchObject({
      pageId: id,
      spaceKey: "TEAM",
      parentPageId: null,
    });
    expect(linked(h, teamIndex!.id).sort()).toEqual([first.pageTitle, teamRecord.pageTitle].sort());
    expect(indexesOf(h, "TEAM")).toHaveLength(1);
    const [meetingsIndex] = indexesOf(h, "MEETINGS");
    expect(linked(h, meetingsIndex!.id)).toEqual([]);

    // Moved back into its route's space: listed there again, and no longer in TEAM's index.
    const back = await restAsPerson(h, "PUT", `/rest/api/content/${id}/move/append/${month}`);
    expect(back.status).toBe(200);
    const seq3 = await h.submit({ jobId: "job-away", markdown: protocol("Away", "- decision three") });
    await published("job-away", seq3);
    expect(await jobRecord(h, "job-away")).toMatchObject({ pageId: id, spaceKey: "MEETINGS" });
    expect(linked(h, meetingsIndex!.id)).toEqual([first.pageTitle]);
    expect(linked(h, teamIndex!.id)).toEqual([teamRecord.pageTitle]);
  });

  it.each(["move", "cloud_archive"] as const)(
    "is left where the person put it by an archive run (%s) when no rule routes to its new space",
    async (method) => {
      const h = await open(withIndex({ confluence: { advanced_settings: { archive_method: method } } }));
      const published = outcomes(h);
      const seq1 = await h.submit({ jobId: "job-old", markdown: protocol("Old") });
      await published("job-old", seq1);
      const id = (await recordIn(h, "job-old", "published")).pageId!;
      const { team, target } = await moveToTeamAsPerson(h, id);
      const seq2 = await h.submit({ jobId: "job-old", markdown: protocol("Old", "- decision two") });
      await published("job-old", seq2);
      const seq3 = await h.submit({ jobId: "job-home", markdown: protocol("Home") });
      await published("job-home", seq3);

      // Both meetings are older than 30 days: the one in its route's space is archived as before;
      // the moved one stays under the person's page, with no archive page made in TEAM and no
      // failure reported on this run or the next.
      const run = await archiveNow(h, { olderThanDays: 30 });
      expect(run).toMatchObject({ archived: 1, failed: [] });
      await recordIn(h, "job-home", "archived");
      expect(h.sandbox.state.page(id)).toMatchObject({
        status: "current",
        spaceId: team.id,
        parentId: target,
      });
      expect(h.sandbox.state.pages("TEAM").filter((p) => p.versions.at(-1)?.title === "Archive")).toEqual([]);
      expect(await jobRecord(h, "job-old")).toMatchObject({ status: "published", spaceKey: "TEAM" });
      expect(await archiveNow(h, { olderThanDays: 30 })).toMatchObject({ archived: 0, failed: [] });
      expect(h.sandbox.state.page(id)).toMatchObject({
        status: "current",
        spaceId: team.id,
        parentId: target,
      });
    },
  );
});
