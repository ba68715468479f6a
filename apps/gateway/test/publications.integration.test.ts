import { publishRequestedPrefix } from "@minutes/contracts";
import { originalImportLines } from "@minutes/publication-store";
import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import { eventually, type Harness, protocolBody, startHarness, unique } from "./helpers/harness.js";

let h: Harness | undefined;
let publisher: FakePublisher | undefined;
afterEach(async () => {
  const [p, harness] = [publisher, h];
  publisher = undefined;
  h = undefined;
  await cleanUp(
    () => p?.stop(),
    () => harness?.close(),
  );
});

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e);

/** Submits a protocol and waits until the (fake) publisher stored it. */
const submit = async (harness: Harness, jobId: string, extra: Record<string, unknown> = {}) => {
  const res = await harness.app.inject({
    method: "POST",
    url: "/api/protocols",
    headers: harness.auth,
    payload: protocolBody(jobId, extra),
  });
  expect(res.statusCode).toBe(202);
  return eventually(
    async () => {
      const found = await run(harness.store.findByJob(jobId));
      return found._tag === "Some" ? found.value : undefined;
    },
    { what: `record of ${jobId}` },
  );
};

const commandsInStream = async (harness: Harness): Promise<number> => {
  const info = await harness.ctx.jsm.streams.info(harness.ctx.streams.protocol, {
    subjects_filter: `${publishRequestedPrefix(harness.config.nats.subject_prefix)}.>`,
  });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
};

describe("POST /api/jobs/:jobId/publish-confluence", () => {
  it("answers 404 problem when the store has no protocol for the job", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/jobs/nope/publish-confluence",
      headers: h.auth,
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 404, instance: "/api/jobs/nope/publish-confluence" });
    expect(await commandsInStream(h)).toBe(0);
  });

  it("says an accepted protocol no publisher has taken yet is queued, in the job's records and on publish now", async () => {
    h = await startHarness();
    const jobId = `job-${unique()}`;
    const accepted = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody(jobId),
    });
    expect(accepted.statusCode).toBe(202);
    const seq = accepted.json<{ streamSequence: number }>().streamSequence;
    // No publisher runs in this harness: the event waits in JetStream.
    const records = await h.app.inject({
      method: "GET",
      url: `/api/jobs/${jobId}/publications`,
      headers: h.auth,
    });
    expect(records.statusCode).toBe(200);
    expect(records.json()).toEqual({
      jobId,
      items: [],
      queued: { streamSequence: seq, storedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) },
    });
    const now = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect(now.statusCode).toBe(409);
    expect(now.json().detail).toMatch(
      new RegExp(
        `^the job's protocol is in the event stream \\(sequence ${seq}, stored .+\\) and waits for a publisher`,
      ),
    );
    expect(await commandsInStream(h)).toBe(0);
    // Taken by a publisher (its protocol stored with that sequence): no longer queued.
    await Effect.runPromise(
      h.ctx.store.saveProtocol({
        jobId,
        markdown: "# A",
        filename: "a.md",
        metadata: {},
        contentHash: "h",
        streamSequence: seq,
        occurredAt: new Date().toISOString(),
      }),
    );
    const after = await h.app.inject({
      method: "GET",
      url: `/api/jobs/${jobId}/publications`,
      headers: h.auth,
    });
    expect(after.json()).toMatchObject({ jobId, queued: null });
  });

  it("publishes now and answers 200 with the page once the publisher finished", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const jobId = `job-${unique()}`;
    const record = await submit(h, jobId);
    const res = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      jobId,
      publicationId: record.id,
      status: "published",
      pageUrl: `https://confluence.example/pages/${100_000 + record.id}`,
      pageVersion: 1,
      // The outcome event, a moment behind the record: the gateway gives it that moment.
      outcome: "published",
      errorTag: null,
      errorMessage: null,
      // The original route's fields, for its clients.
      success: true,
      publication_id: record.id,
      page_url: `https://confluence.example/pages/${100_000 + record.id}`,
    });
    expect(publisher.commands).toEqual([expect.objectContaining({ jobId, trigger: "manual" })]);
    // Republishing unchanged content says so.
    const again = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect(again.json()).toMatchObject({ status: "published", outcome: "unchanged", pageVersion: 1 });
    const forced = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence?force=true`,
      headers: h.auth,
    });
    expect(forced.json()).toMatchObject({ outcome: "published", pageVersion: 2 });
  });

  it("answers 200 with the page from the record when the outcome event does not come", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config, { withholdOutcomes: true });
    const jobId = `job-${unique()}`;
    const record = await submit(h, jobId);
    const res = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect(res.statusCode).toBe(200);
    // Published, as the record says; which kind of publication, only the event could say.
    expect(res.json()).toMatchObject({
      jobId,
      publicationId: record.id,
      status: "published",
      outcome: null,
      pageId: String(100_000 + record.id),
      pageUrl: `https://confluence.example/pages/${100_000 + record.id}`,
      pageVersion: 1,
      errorTag: null,
      errorMessage: null,
      success: true,
    });
  });

  it("answers a publication Confluence failed with a 502 problem that keeps the outcome and the record", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config, {
      decide: () => "failed",
      error: () => ({
        errorTag: "ConfluencePermissionError",
        errorMessage: "Confluence answered 403: no permission to add pages to space TEAM",
      }),
    });
    const jobId = `job-${unique()}`;
    const record = await submit(h, jobId);
    const res = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect(res.statusCode).toBe(502);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({
      type: "urn:minutes:problem:publication-failed",
      title: "Publication failed",
      status: 502,
      detail: `the publication of job "${jobId}" failed: ConfluencePermissionError: Confluence answered 403: no permission to add pages to space TEAM`,
      instance: `/api/jobs/${jobId}/publish-confluence`,
      // The original's failure answer: a client checking `success` or `error` sees the failure.
      success: false,
      error: "Confluence answered 403: no permission to add pages to space TEAM",
      errorTag: "ConfluencePermissionError",
      errorMessage: "Confluence answered 403: no permission to add pages to space TEAM",
      result: {
        jobId,
        publicationId: record.id,
        status: "failed",
        outcome: "failed",
        pageId: null,
        pageUrl: null,
        errorTag: "ConfluencePermissionError",
      },
      publication: { id: record.id, jobId, status: "failed", errorTag: "ConfluencePermissionError" },
    });
    expect(body).not.toHaveProperty("publication_id");
    expect(body).not.toHaveProperty("page_url");
    // The record is the one the store holds.
    const stored = await h.app.inject({
      method: "GET",
      url: `/api/publications/${record.id}`,
      headers: h.auth,
    });
    expect(body.publication).toEqual(stored.json());
  });

  it("answers 409 when the page's state stands in the way and 422 when the publication was rejected", async () => {
    h = await startHarness();
    const decisions = new Map<string, "failed" | "rejected">();
    publisher = await startFakePublisher(h.nc, h.store, h.config, {
      decide: (jobId) => decisions.get(jobId),
      error: (jobId) =>
        decisions.get(jobId) === "rejected"
          ? { errorTag: "EventRejectedError", errorMessage: "Invalid event: markdown: too many table cells" }
          : { errorTag: "ManualEditError", errorMessage: "Page 98765 was edited in Confluence by Jane" },
    });
    const edited = `job-${unique()}`;
    const invalid = `job-${unique()}`;
    decisions.set(edited, "failed");
    decisions.set(invalid, "rejected");
    await submit(h, edited);
    await submit(h, invalid);
    const conflict = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${edited}/publish-confluence`,
      headers: h.auth,
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({
      type: "urn:minutes:problem:publication-failed",
      status: 409,
      success: false,
      errorTag: "ManualEditError",
      error: "Page 98765 was edited in Confluence by Jane",
      result: { outcome: "failed" },
    });
    const rejected = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${invalid}/publish-confluence`,
      headers: h.auth,
    });
    expect(rejected.statusCode).toBe(422);
    expect(rejected.json()).toMatchObject({
      type: "urn:minutes:problem:publication-rejected",
      title: "Publication rejected",
      status: 422,
      detail: `the publication of job "${invalid}" was rejected: EventRejectedError: Invalid event: markdown: too many table cells`,
      success: false,
      errorTag: "EventRejectedError",
      result: { outcome: "rejected" },
    });
  });

  it("answers 202 with the publication to poll when the publisher does not finish in time", async () => {
    h = await startHarness({ overrides: { gateway: { publish_wait_ms: 200 } } });
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const jobId = `job-${unique()}`;
    const record = await submit(h, jobId);
    await publisher.stop();
    publisher = undefined;
    const res = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe(`/api/publications/${record.id}`);
    expect(res.json()).toMatchObject({ jobId, publicationId: record.id, status: "accepted" });
    expect(await commandsInStream(h)).toBe(1);
  });

  it("rejects an invalid job id or query with 400", async () => {
    h = await startHarness();
    for (const jobId of ["x".repeat(201), "bad%01id"]) {
      const res = await h.app.inject({
        method: "POST",
        url: `/api/jobs/${jobId}/publish-confluence`,
        headers: h.auth,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual(["params.jobId"]);
    }
    const query = await h.app.inject({
      method: "POST",
      url: "/api/jobs/ok/publish-confluence?force=maybe",
      headers: h.auth,
    });
    expect(query.statusCode).toBe(400);
    expect(query.json().errors.map((e: { path: string }) => e.path)).toEqual(["query.force"]);
  });
});

describe("publication records", () => {
  it("reads one record, the job's records, and 404 for an unknown id", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const jobId = `job-${unique()}`;
    const record = await submit(h, jobId, { spaceKey: "TEAM" });
    const one = await h.app.inject({ method: "GET", url: `/api/publications/${record.id}`, headers: h.auth });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: record.id, jobId, status: "pending", spaceKey: "TEAM" });
    const byJob = await h.app.inject({
      method: "GET",
      url: `/api/jobs/${jobId}/publications`,
      headers: h.auth,
    });
    expect(byJob.json()).toMatchObject({ jobId, items: [{ id: record.id }] });
    const missing = await h.app.inject({ method: "GET", url: "/api/publications/99999", headers: h.auth });
    expect(missing.statusCode).toBe(404);
    const bad = await h.app.inject({ method: "GET", url: "/api/publications/abc", headers: h.auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe("params.id");
  });

  it("answers a tampered cursor whose position no row can have with the documented 400, not a 500", async () => {
    h = await startHarness();
    // well-formed cursors, but the time is beyond what a Date holds
    for (const position of [
      [Number.MAX_SAFE_INTEGER, 1],
      [8.64e15 + 1, 5],
    ]) {
      const cursor = Buffer.from(JSON.stringify(["p1", ...position])).toString("base64url");
      const res = await h.app.inject({
        method: "GET",
        url: `/api/publications?cursor=${cursor}`,
        headers: h.auth,
      });
      expect(res.statusCode, JSON.stringify(position)).toBe(400);
      expect(res.json()).toMatchObject({
        status: 400,
        errors: [{ path: "query.cursor", message: "not a cursor this API issued" }],
      });
    }
  });

  it("lists with filters and cursor paging", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    for (let i = 0; i < 5; i++) await submit(h, `page-${i}`, { spaceKey: i % 2 === 0 ? "EVEN" : "ODD" });
    const seen: Array<string> = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/publications?space=EVEN&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await h.app.inject({ method: "GET", url, headers: h.auth });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      seen.push(...page.items.map((p: { jobId: string }) => p.jobId));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.sort()).toEqual(["page-0", "page-2", "page-4"]);
    const published = await h.app.inject({
      method: "GET",
      url: "/api/publications?status=published",
      headers: h.auth,
    });
    expect(published.json().items).toEqual([]);
    const badCursor = await h.app.inject({
      method: "GET",
      url: "/api/publications?cursor=garbage",
      headers: h.auth,
    });
    expect(badCursor.statusCode).toBe(400);
    const badStatus = await h.app.inject({
      method: "GET",
      url: "/api/publications?status=nope&limit=0",
      headers: h.auth,
    });
    expect(badStatus.statusCode).toBe(400);
    expect(
      badStatus
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(["query.limit", "query.status"]);
  });

  it("retries only failed publications: 409 otherwise, 202 with a durable retry command", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config, { decide: () => "failed" });
    const jobId = `job-${unique()}`;
    const record = await submit(h, jobId);
    const pending = await h.app.inject({
      method: "POST",
      url: `/api/publications/${record.id}/retry`,
      headers: h.auth,
    });
    expect(pending.statusCode).toBe(409);
    expect(pending.json().detail).toContain("only failed publications can be retried");
    const now = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect(now.statusCode).toBe(502);
    expect(now.json()).toMatchObject({
      success: false,
      errorTag: "ConfluenceServerError",
      result: { status: "failed", outcome: "failed", errorTag: "ConfluenceServerError" },
    });
    const retry = await h.app.inject({
      method: "POST",
      url: `/api/publications/${record.id}/retry`,
      headers: h.auth,
    });
    expect(retry.statusCode).toBe(202);
    expect(retry.headers.location).toBe(`/api/publications/${record.id}`);
    expect(retry.json()).toMatchObject({ publicationId: record.id, jobId, status: "accepted" });
    const p = publisher;
    // The command names the retried record's job (a command for any other job retries nothing).
    await eventually(
      () => (p.commands.some((c) => c.trigger === "retry" && c.jobId === jobId) ? true : undefined),
      { what: `a retry command for ${jobId}` },
    );
    const missing = await h.app.inject({
      method: "POST",
      url: "/api/publications/4242/retry",
      headers: h.auth,
    });
    expect(missing.statusCode).toBe(404);
  });

  it("answers the retry of a rejected publication 409, saying to send a corrected protocol", async () => {
    h = await startHarness();
    const jobId = `job-${unique()}`;
    const record = await run(
      h.store.ensurePublication({ jobId, spaceKey: "MEETINGS", parentPageId: null, trigger: "event" }),
    );
    await run(
      h.store.transition(record.id, "rejected", {
        errorTag: "EventRejectedError",
        errorMessage: "Invalid event: markdown: must not be empty",
      }),
    );
    const res = await h.app.inject({
      method: "POST",
      url: `/api/publications/${record.id}/retry`,
      headers: h.auth,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toContain("only failed publications can be retried");
    expect(res.json().detail).toContain("send a corrected protocol (POST /api/protocols)");
  });

  it("retries a record left publishing by a publisher killed in each attempt, once its lease ran out, and the publisher publishes it", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const store = h.store;
    const retry = (id: number) =>
      h!.app.inject({ method: "POST", url: `/api/publications/${id}/retry`, headers: h!.auth });

    // A publisher is publishing this one now: its lease runs for another minute.
    const busy = await submit(h, `job-${unique()}`);
    await run(store.claim({ jobId: busy.jobId, owner: "publisher-2/5e1f", leaseMs: 60_000 }));
    const { expiresAt } = await run(store.getLease(busy.id));
    const refused = await retry(busy.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      type: "urn:minutes:problem:not-retryable",
      detail: `publication ${busy.id} is publishing: publisher-2/5e1f holds its lease until ${expiresAt} (renewed while its attempt runs); retry it if it is still publishing after that`,
    });
    expect(await commandsInStream(h)).toBe(0);

    // Three deliveries, each attempt's process killed before it recorded anything: the record stays
    // publishing with attempts 3 and no error, and its lease ran out half a minute ago.
    const stuck = await submit(h, `job-${unique()}`);
    for (const minutesAgo of [3, 2, 1]) {
      const claimed = await run(
        store.claim({
          jobId: stuck.jobId,
          owner: `publisher-1/attempt-${minutesAgo}`,
          leaseMs: 30_000,
          now: new Date(Date.now() - minutesAgo * 60_000),
        }),
      );
      expect(claimed._tag).toBe("Some");
    }
    const before = await run(store.get(stuck.id));
    expect(before).toMatchObject({ status: "publishing", attempts: 3, errorMessage: null });
    const accepted = await retry(stuck.id);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers.location).toBe(`/api/publications/${stuck.id}`);
    expect(accepted.json()).toMatchObject({
      publicationId: stuck.id,
      jobId: stuck.jobId,
      status: "accepted",
    });
    expect(h.logs()).toContain("retrying a publication left publishing by a publisher that stopped");
    // The publisher's claim takes the expired lease over and publishes the page.
    const published = await eventually(
      async () => {
        const r = await run(store.get(stuck.id));
        return r.status === "published" ? r : undefined;
      },
      { what: "the stuck record published" },
    );
    // Counted as a retry, like one of a failed record.
    expect(published).toMatchObject({
      trigger: "retry",
      attempts: 4,
      retryCount: 1,
      pageId: String(100_000 + stuck.id),
    });
    expect(published.lastRetryAt).not.toBeNull();
    expect(publisher.commands).toEqual([expect.objectContaining({ jobId: stuck.jobId, trigger: "retry" })]);
    expect((await run(store.get(busy.id))).status).toBe("publishing");
  });

  it("answers 404 to a retry of an imported failed record whose job has no stored protocol, and sends nothing", async () => {
    h = await startHarness();
    const jobId = `job-${unique()}`;
    const { lines } = originalImportLines([
      {
        id: 1,
        job_id: jobId,
        confluence_page_id: "4711",
        confluence_page_url: "https://confluence.example/pages/4711",
        confluence_space_key: "TEAM",
        parent_page_id: null,
        page_title: "20261120 - Weekly",
        publication_status: "failed",
        created_at: "2026-11-20 10:00:00",
        updated_at: "2026-11-20 10:05:00",
        error_message: "Confluence answered 500",
        retry_count: 2,
        last_retry_at: "2026-11-20 10:05:00",
      },
    ]);
    const imported = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: `${lines.join("\n")}\n`,
    });
    expect(imported.statusCode).toBe(200);
    const record = await eventually(async () => {
      const found = await run(h!.store.findByJob(jobId));
      return found._tag === "Some" ? found.value : undefined;
    });
    expect(record.status).toBe("failed");
    const retry = () =>
      h!.app.inject({ method: "POST", url: `/api/publications/${record.id}/retry`, headers: h!.auth });

    const missing = await retry();
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      status: 404,
      instance: `/api/publications/${record.id}/retry`,
      detail: `no protocol is stored for job "${jobId}", so there is nothing to publish: send the protocol again (POST /api/protocols)`,
    });
    expect(await commandsInStream(h)).toBe(0);
    // The same answer as publish-now for the job.
    const now = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${jobId}/publish-confluence`,
      headers: h.auth,
    });
    expect([now.statusCode, now.json().detail]).toEqual([404, missing.json().detail]);

    // Sent again while no publisher runs: it waits in the stream, and retry says so, as publish-now.
    const sent = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody(jobId),
    });
    expect(sent.statusCode).toBe(202);
    const waiting = await retry();
    expect(waiting.statusCode).toBe(409);
    expect(waiting.json().detail).toContain("waits for a publisher to take it");
    expect(await commandsInStream(h)).toBe(0);

    // Once a publisher stored it, the retry publishes it.
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    await eventually(async () =>
      (await run(h!.store.getProtocol(jobId)))._tag === "Some" ? true : undefined,
    );
    expect((await retry()).statusCode).toBe(202);
    await eventually(
      async () => ((await run(h!.store.get(record.id))).status === "published" ? true : undefined),
      { what: "the retried record published" },
    );
  });

  it("deletes a record; deletePage=true without a Confluence client is a 503 that keeps the record", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const jobId = `job-${unique()}`;
    const record = await submit(h, jobId);
    await h.app.inject({ method: "POST", url: `/api/jobs/${jobId}/publish-confluence`, headers: h.auth });
    const refused = await h.app.inject({
      method: "DELETE",
      url: `/api/publications/${record.id}?deletePage=true`,
      headers: h.auth,
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ type: "urn:minutes:problem:confluence-not-configured" });
    const del = await h.app.inject({
      method: "DELETE",
      url: `/api/publications/${record.id}`,
      headers: h.auth,
    });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({
      deleted: { id: record.id, jobId },
      pageDeleted: false,
      indexRefreshed: null,
    });
    const gone = await h.app.inject({
      method: "GET",
      url: `/api/publications/${record.id}`,
      headers: h.auth,
    });
    expect(gone.statusCode).toBe(404);
    const again = await h.app.inject({
      method: "DELETE",
      url: `/api/publications/${record.id}`,
      headers: h.auth,
    });
    expect(again.statusCode).toBe(404);
  });

  it("reports statistics by status and space", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    await submit(h, "s-1", { spaceKey: "A" });
    await submit(h, "s-2", { spaceKey: "B" });
    await h.app.inject({ method: "POST", url: "/api/jobs/s-1/publish-confluence", headers: h.auth });
    const res = await h.app.inject({ method: "GET", url: "/api/stats", headers: h.auth });
    expect(res.statusCode).toBe(200);
    const stats = res.json();
    expect(stats).toMatchObject({
      total: 2,
      byStatus: { published: 1, pending: 1 },
      successRate: 1,
      retries: 0,
    });
    expect(Object.values(stats.bySpace).reduce((a: number, b) => a + (b as number), 0)).toBe(2);
    expect(stats.perDay).toHaveLength(1);
    expect(stats.latencyMs.p50).not.toBeNull();
    const future = await h.app.inject({
      method: "GET",
      url: "/api/stats?since=2999-01-01T00:00:00Z",
      headers: h.auth,
    });
    expect(future.json()).toMatchObject({ total: 0, successRate: null });
    const bad = await h.app.inject({ method: "GET", url: "/api/stats?since=yesterday", headers: h.auth });
    expect(bad.statusCode).toBe(400);
  });
});
