import { publishRequestedPrefix } from "@minutes/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { ReplayManager, STALL_AFTER_MS } from "../src/ReplayManager.js";
import { cleanUp } from "./helpers/clean-up.js";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import { eventually, type Harness, protocolBody, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
const publishers: Array<FakePublisher> = [];
afterEach(async () => {
  const harness = h;
  h = undefined;
  await cleanUp(...publishers.splice(0).map((p) => () => p.stop()), () => harness?.close());
});

const startPublisher = async (harness: Harness) => {
  const p = await startFakePublisher(harness.nc, harness.store, harness.config);
  publishers.push(p);
  return p;
};

const submitMany = async (
  harness: Harness,
  jobIds: ReadonlyArray<string>,
  extra: (i: number) => Record<string, unknown> = () => ({}),
) => {
  for (let i = 0; i < jobIds.length; i += 50) {
    const chunk = jobIds.slice(i, i + 50);
    const results = await Promise.all(
      chunk.map((jobId, j) =>
        harness.app.inject({
          method: "POST",
          url: "/api/protocols",
          headers: harness.auth,
          payload: protocolBody(jobId, extra(i + j)),
        }),
      ),
    );
    for (const r of results) expect(r.statusCode).toBe(202);
  }
};

const progressOf = async (harness: Harness, id: string) => {
  const res = await harness.app.inject({ method: "GET", url: `/api/replays/${id}`, headers: harness.auth });
  expect(res.statusCode).toBe(200);
  return res.json();
};

const commandsInStream = async (harness: Harness): Promise<number> => {
  const info = await harness.ctx.jsm.streams.info(harness.ctx.streams.protocol, {
    subjects_filter: `${publishRequestedPrefix(harness.config.nats.subject_prefix)}.>`,
  });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
};

describe("replays", () => {
  it("republishes 300 jobs to completion, at most concurrency × 2 outstanding, unchanged counted as skipped", async () => {
    h = await startHarness({ overrides: { nats: { concurrency: 2 } } });
    const harness = h;
    const publisher = await startPublisher(harness);
    const since = new Date(Date.now() - 1_000).toISOString();
    const jobs = Array.from({ length: 300 }, (_, i) => `r-${String(i).padStart(3, "0")}`);
    await submitMany(harness, jobs);
    await eventually(
      async () => {
        const res = await harness.app.inject({ method: "GET", url: "/api/stats", headers: harness.auth });
        return res.json().total === 300 ? true : undefined;
      },
      { timeoutMs: 60_000, what: "300 stored protocols" },
    );
    // 30 jobs are already on their page: the replay finds them unchanged.
    for (const jobId of jobs.slice(0, 30)) {
      const res = await harness.app.inject({
        method: "POST",
        url: `/api/jobs/${jobId}/publish-confluence`,
        headers: harness.auth,
      });
      expect(res.json()).toMatchObject({ outcome: "published" });
    }
    const dry = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since, dryRun: true },
    });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, total: 300 });
    expect(await commandsInStream(harness)).toBe(30);

    const started = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since },
    });
    expect(started.statusCode).toBe(202);
    const first = started.json();
    expect(first).toMatchObject({ status: "running", total: 300, since, force: false, spaceKey: null });
    expect(started.headers.location).toBe(`/api/replays/${first.id}`);

    const final = await eventually(
      async () => {
        const p = await progressOf(harness, first.id);
        expect(p.issued - p.done).toBeLessThanOrEqual(4);
        return p.status === "completed" ? p : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, what: "replay completion" },
    );
    expect(final).toMatchObject({
      total: 300,
      issued: 300,
      done: 300,
      published: 270,
      skippedUnchanged: 30,
      failed: 0,
      etaSeconds: 0,
    });
    expect(final.ratePerSecond).toBeGreaterThan(0);
    expect(final.finishedAt).not.toBeNull();
    // Ended: its counters stay, its 300 job ids are gone.
    expect(harness.ctx.replays.heldJobIds(first.id)).toBe(0);
    const replayed = publisher.commands.filter((c) => c.replayId === first.id);
    expect(new Set(replayed.map((c) => c.jobId)).size).toBe(300);
    // The publisher never saw more than the window ahead of it.
    expect(Math.max(...replayed.map((c) => c.pendingAtDelivery))).toBeLessThan(4);
  }, 180_000);

  it("counts a deferred command neither as done nor as failed, only the outcome of its later delivery", async () => {
    h = await startHarness();
    const harness = h;
    const publisher = await startFakePublisher(harness.nc, harness.store, harness.config, {
      defer: (_jobId, delivery) => (delivery === 1 ? { retries: 1, rateLimited: 1 } : undefined),
    });
    publishers.push(publisher);
    const since = new Date(Date.now() - 1_000).toISOString();
    const jobs = ["df-1", "df-2", "df-3", "df-4", "df-5"];
    await submitMany(harness, jobs);
    await eventually(
      async () => {
        const res = await harness.app.inject({ method: "GET", url: "/api/stats", headers: harness.auth });
        return res.json().total === jobs.length ? true : undefined;
      },
      { what: "stored protocols" },
    );
    const started = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since },
    });
    expect(started.statusCode).toBe(202);
    const final = await eventually(
      async () => {
        const p = await progressOf(harness, started.json().id);
        return p.status === "completed" ? p : undefined;
      },
      { timeoutMs: 30_000, what: "replay completion" },
    );
    expect(final).toMatchObject({ total: 5, done: 5, published: 5, skippedUnchanged: 0, failed: 0 });
    // Every command was given back once before it was published.
    expect(publisher.commands.filter((c) => c.trigger === "replay").map((c) => c.delivery)).toEqual([
      2, 2, 2, 2, 2,
    ]);
  });

  it("selects jobs by spaceKey, jobIds and until; dry runs publish nothing", async () => {
    h = await startHarness();
    const harness = h;
    await startPublisher(harness);
    const since = new Date(Date.now() - 1_000).toISOString();
    const jobs = ["f-0", "f-1", "f-2", "f-3", "f-4", "f-5"];
    await submitMany(harness, jobs, (i) => ({ spaceKey: i % 2 === 0 ? "EVEN" : "ODD" }));
    await eventually(async () =>
      (await harness.app.inject({ method: "GET", url: "/api/stats", headers: harness.auth })).json().total ===
      6
        ? true
        : undefined,
    );
    const dry = async (body: object) => {
      const res = await harness.app.inject({
        method: "POST",
        url: "/api/replays",
        headers: harness.auth,
        payload: { since, dryRun: true, ...body },
      });
      expect(res.statusCode).toBe(200);
      return res.json();
    };
    expect(await dry({})).toMatchObject({ total: 6, jobIds: jobs });
    expect(await dry({ spaceKey: "EVEN" })).toMatchObject({ total: 3, jobIds: ["f-0", "f-2", "f-4"] });
    // A global space's key matches in any case, as in Confluence.
    expect(await dry({ spaceKey: "even" })).toMatchObject({ total: 3, jobIds: ["f-0", "f-2", "f-4"] });
    expect(await dry({ jobIds: ["f-1", "f-5", "other"] })).toMatchObject({
      total: 2,
      jobIds: ["f-1", "f-5"],
    });
    expect(await dry({ since: "2020-01-01T00:00:00Z", until: "2020-01-02T00:00:00Z" })).toMatchObject({
      total: 0,
    });
    expect(await dry({ since: "2999-01-01T00:00:00Z", until: "2999-01-02T00:00:00Z" })).toMatchObject({
      total: 0,
    });
    expect(await commandsInStream(harness)).toBe(0);
    const empty = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since: "2999-01-01T00:00:00Z", until: "2999-01-02T00:00:00Z" },
    });
    expect(empty.json()).toMatchObject({ status: "completed", total: 0, etaSeconds: 0 });
    const backwards = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since, until: "2020-01-01T00:00:00Z" },
    });
    expect(backwards.statusCode).toBe(400);
    const invalid = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { jobIds: "x" },
    });
    expect(invalid.statusCode).toBe(400);
    expect(
      invalid
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(["jobIds", "since"]);
  });

  it("selects an event stored just before the request, even in the same millisecond", async () => {
    h = await startHarness();
    const harness = h;
    const since = new Date(Date.now() - 1_000).toISOString();
    const jobs: Array<string> = [];
    // Submitted and replayed at once, again and again: JetStream stamps each event in
    // nanoseconds, and the replay's request often comes within the same millisecond.
    for (let i = 0; i < 50; i++) {
      jobs.push(`just-${i}`);
      await submitMany(harness, jobs.slice(-1));
      const res = await harness.app.inject({
        method: "POST",
        url: "/api/replays",
        headers: harness.auth,
        payload: { since, dryRun: true },
      });
      expect(res.json()).toMatchObject({ total: jobs.length, jobIds: jobs });
    }
  });

  it("deletes the ordered consumer it read the stream with: a dry run and a replay leave none behind", async () => {
    h = await startHarness();
    const harness = h;
    const since = new Date(Date.now() - 1_000).toISOString();
    await submitMany(harness, ["oc-0", "oc-1", "oc-2"]);
    const consumers = async () =>
      (await harness.ctx.jsm.streams.info(harness.ctx.streams.protocol)).state.consumer_count;
    const before = await consumers();
    const back = () =>
      eventually(async () => ((await consumers()) === before ? true : undefined), {
        what: `the protocol stream's consumers to be back to ${before}`,
      });
    const dry = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since, dryRun: true },
    });
    expect(dry.json()).toMatchObject({ total: 3 });
    await back();
    const started = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since },
    });
    expect(started.json()).toMatchObject({ total: 3 });
    await back();
  });

  it("says when the stream no longer holds the start of the window (retention removed events)", async () => {
    h = await startHarness();
    const harness = h;
    await startPublisher(harness);
    // After the stream was created (a window reaching before that is the next test's).
    const since = new Date().toISOString();
    await submitMany(harness, ["old-0", "old-1", "old-2"]);
    const replay = async (body: object) => {
      const res = await harness.app.inject({
        method: "POST",
        url: "/api/replays",
        headers: harness.auth,
        payload: { since, ...body },
      });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res.json();
    };
    // Nothing removed yet: the window is complete and says nothing.
    const whole = await replay({ dryRun: true });
    expect(whole).toMatchObject({ total: 3 });
    expect(whole).not.toHaveProperty("availableSince");
    await submitMany(harness, ["new-0"]);
    // The retention removes the oldest messages (as max_age or max_msgs would).
    await harness.ctx.jsm.streams.purge(harness.ctx.streams.protocol, { keep: 1 });
    const { state } = await harness.ctx.jsm.streams.info(harness.ctx.streams.protocol);
    // To the millisecond: a replay from that instant includes the oldest kept message.
    const availableSince = new Date(state.first_ts).toISOString();
    const dry = await replay({ dryRun: true });
    expect(dry).toMatchObject({ total: 1, jobIds: ["new-0"], availableSince });
    const started = await replay({});
    expect(started).toMatchObject({ total: 1, availableSince });
    expect(await progressOf(harness, started.id)).toMatchObject({ availableSince });
    // A window from the oldest kept message on is complete.
    const from = await replay({ dryRun: true, since: availableSince });
    expect(from).toMatchObject({ total: 1 });
    expect(from).not.toHaveProperty("availableSince");
  });

  it("says when the stream was created after the window began (a NATS that lost its data)", async () => {
    h = await startHarness();
    const harness = h;
    await startPublisher(harness);
    const since = new Date(Date.now() - 60_000).toISOString();
    await submitMany(harness, ["lost-0"]);
    // NATS lost its data: the stream is made again by the next event, holding only that one.
    await harness.ctx.jsm.streams.delete(harness.ctx.streams.protocol);
    await submitMany(harness, ["after-0"]);
    const { created } = await harness.ctx.jsm.streams.info(harness.ctx.streams.protocol);
    const res = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since, dryRun: true },
    });
    expect(res.json()).toMatchObject({
      total: 1,
      jobIds: ["after-0"],
      availableSince: new Date(Date.parse(created)).toISOString(),
    });
  });

  it("refuses a replay over jobs a running one still republishes (409 with its Location), and starts it once that one ended", async () => {
    // No publisher: the first replay's commands get no outcome, so it keeps running.
    h = await startHarness({ overrides: { nats: { concurrency: 1 } } });
    const harness = h;
    const since = new Date(Date.now() - 1_000).toISOString();
    await submitMany(harness, ["ov-0", "ov-1", "ov-2", "other-0"]);
    const post = (payload: Record<string, unknown>) =>
      harness.app.inject({ method: "POST", url: "/api/replays", headers: harness.auth, payload });
    const first = await post({ since, jobIds: ["ov-0", "ov-1", "ov-2"] });
    expect(first.statusCode).toBe(202);
    const { id } = first.json();
    const refused = await post({ since, jobIds: ["ov-2", "other-0"] });
    expect(refused.statusCode).toBe(409);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.headers.location).toBe(`/api/replays/${id}`);
    expect(refused.json().detail).toMatch(
      new RegExp(
        `^replay ${id} is still running over 1 of these 2 jobs \\(0 of 3 done\\): wait for it to end`,
      ),
    );
    // A dry run is answered; a replay of other jobs starts.
    expect((await post({ since, jobIds: ["ov-2"], dryRun: true })).statusCode).toBe(200);
    expect((await post({ since, jobIds: ["other-0"] })).statusCode).toBe(202);
    const cancelled = await harness.app.inject({
      method: "DELETE",
      url: `/api/replays/${id}`,
      headers: harness.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    expect((await post({ since, jobIds: ["ov-2"] })).statusCode).toBe(202);
  });

  it("cancel stops issuing; issued commands are durable and run when a publisher (re)starts", async () => {
    h = await startHarness({ overrides: { nats: { concurrency: 2 } } });
    const harness = h;
    const since = new Date(Date.now() - 1_000).toISOString();
    await submitMany(
      harness,
      Array.from({ length: 20 }, (_, i) => `c-${i}`),
    );
    const started = await harness.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: harness.auth,
      payload: { since },
    });
    const { id } = started.json();
    await eventually(async () => ((await progressOf(harness, id)).issued === 4 ? true : undefined), {
      what: "4 issued",
    });
    // A lost replay id is found again in the list, to follow or cancel the replay.
    const listed = await harness.app.inject({ method: "GET", url: "/api/replays", headers: harness.auth });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items).toEqual([expect.objectContaining({ id, status: "running", total: 20 })]);
    expect(await commandsInStream(harness)).toBe(4);
    const cancelled = await harness.app.inject({
      method: "DELETE",
      url: `/api/replays/${id}`,
      headers: harness.auth,
    });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: "cancelled", issued: 4, total: 20 });
    expect(cancelled.json().finishedAt).not.toBeNull();
    // Of its 20 jobs it keeps only the 4 issued ones, whose outcomes still count.
    expect(harness.ctx.replays.heldJobIds(id)).toBe(4);
    await startPublisher(harness);
    const after = await eventually(
      async () => {
        const p = await progressOf(harness, id);
        return p.done === 4 ? p : undefined;
      },
      { what: "the 4 issued commands to finish" },
    );
    expect(after).toMatchObject({ status: "cancelled", issued: 4, published: 4 });
    expect(harness.ctx.replays.heldJobIds(id)).toBe(0);
    expect(await commandsInStream(harness)).toBe(4);
    const unknown = await harness.app.inject({
      method: "GET",
      url: "/api/replays/nope",
      headers: harness.auth,
    });
    expect(unknown.statusCode).toBe(404);
    const cancelUnknown = await harness.app.inject({
      method: "DELETE",
      url: "/api/replays/nope",
      headers: harness.auth,
    });
    expect(cancelUnknown.statusCode).toBe(404);
  });

  it("completes across a publisher restart", async () => {
    h = await startHarness({ overrides: { nats: { concurrency: 2 } } });
    const harness = h;
    const first = await startPublisher(harness);
    const since = new Date(Date.now() - 1_000).toISOString();
    await submitMany(
      harness,
      Array.from({ length: 40 }, (_, i) => `p-${i}`),
    );
    await eventually(async () =>
      (await harness.app.inject({ method: "GET", url: "/api/stats", headers: harness.auth })).json().total ===
      40
        ? true
        : undefined,
    );
    const { id } = (
      await harness.app.inject({
        method: "POST",
        url: "/api/replays",
        headers: harness.auth,
        payload: { since },
      })
    ).json();
    await eventually(async () => ((await progressOf(harness, id)).done >= 10 ? true : undefined), {
      what: "10 done",
    });
    await first.stop();
    publishers.splice(publishers.indexOf(first), 1);
    await startPublisher(harness);
    const final = await eventually(
      async () => {
        const p = await progressOf(harness, id);
        return p.status === "completed" ? p : undefined;
      },
      { timeoutMs: 60_000, what: "completion after restart" },
    );
    expect(final).toMatchObject({ total: 40, done: 40, failed: 0 });
    expect(final.published + final.skippedUnchanged).toBe(40);
  }, 90_000);

  it("ends a replay without progress for an hour as stalled: its loop stops, late outcomes count, it is pruned", async () => {
    h = await startHarness({ overrides: { nats: { concurrency: 1 } } });
    const harness = h;
    const since = new Date(Date.now() - 1_000).toISOString();
    const jobs = ["st-0", "st-1", "st-2", "st-3", "st-4"];
    await submitMany(harness, jobs);
    // The real manager on the harness's NATS, feed and store, with a clock the test moves.
    let now = Date.parse("2026-11-27T10:00:00Z");
    const manager = new ReplayManager({
      js: harness.ctx.js,
      jsm: harness.ctx.jsm,
      publisher: harness.ctx.publisher,
      store: harness.store,
      feed: harness.ctx.feed,
      config: harness.config,
      protocolStream: harness.ctx.streams.protocol,
      log: harness.app.log,
      now: () => now,
    });
    try {
      const selection = await manager.selectJobs({ since });
      expect(selection.jobs).toEqual(jobs);
      const { id } = manager.start({ since }, selection, new Date(now));
      // No publisher: the window (concurrency × 2) fills and no outcome ever comes.
      await eventually(() => (manager.get(id)?.issued === 2 ? true : undefined), { what: "2 issued" });
      now += STALL_AFTER_MS - 1;
      expect(manager.get(id)).toMatchObject({ status: "running", issued: 2, done: 0 });
      now += 1;
      const stalled = manager.get(id);
      expect(stalled).toMatchObject({
        status: "stalled",
        total: 5,
        issued: 2,
        done: 0,
        etaSeconds: null,
        finishedAt: new Date(now).toISOString(),
      });
      // Only the two commands still without an outcome are held.
      expect(manager.heldJobIds(id)).toBe(2);

      // Their outcomes arrive late: counted, but the loop, which had stopped, issues nothing more
      // (it would add a command the moment an outcome freed the window).
      await startPublisher(harness);
      const late = await eventually(
        () => {
          const p = manager.get(id);
          return p?.done === 2 ? p : undefined;
        },
        { what: "the 2 late outcomes" },
      );
      expect(late).toMatchObject({ status: "stalled", issued: 2, done: 2, published: 2 });
      expect(manager.heldJobIds(id)).toBe(0);
      expect(await commandsInStream(harness)).toBe(2);

      // An ended replay is pruned like any other: 100 replays ending after it push it out.
      now += 1_000;
      for (let i = 0; i < 100; i++) manager.start({ since }, { jobs: [] }, new Date(now));
      expect(manager.get(id)).toBeUndefined();
      expect(manager.list()).toHaveLength(100);
    } finally {
      // Resolves only once every issue loop has returned.
      await manager.close();
    }
  });
});
