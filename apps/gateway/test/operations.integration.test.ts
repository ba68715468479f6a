import { type Sandbox, startSandbox } from "@minutes/confluence-sandbox";
import {
  JOB_PROPERTY_KEY,
  PUBLICATION_EVENT_KINDS,
  PUBLICATION_STATUSES,
  protocolStreamWildcard,
} from "@minutes/contracts";
import { PageOwnershipProblem } from "@minutes/contracts/api";
import { AckPolicy, DiscardPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { Effect, Either, Option, Schema } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeConfluenceAccess } from "../src/confluence.js";
import {
  HEALTH_CHECK_REUSE_MS,
  HEALTH_CHECK_TIMEOUT_MS,
  NO_PUBLISHER_RECHECK_MS,
} from "../src/routes/health.js";
import { cleanUp } from "./helpers/clean-up.js";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import {
  eventually,
  type Harness,
  type HarnessOptions,
  protocolBody,
  startHarness,
} from "./helpers/harness.js";

let h: Harness | undefined;
let sandbox: Sandbox | undefined;
let publisher: FakePublisher | undefined;
afterEach(async () => {
  const [p, harness, sb] = [publisher, h, sandbox];
  publisher = undefined;
  h = undefined;
  sandbox = undefined;
  await cleanUp(
    () => p?.stop(),
    () => harness?.close(),
    () => sb?.close(),
  );
});

const withSandbox = async (
  token?: string,
  expiry: { readonly token_expires_at?: string | null; readonly token_expiry_warning_days?: number } = {},
): Promise<HarnessOptions> => {
  sandbox = await startSandbox({ mode: "cloud" });
  return {
    overrides: {
      confluence: {
        enabled: true,
        base_url: sandbox.baseUrl,
        deployment: "cloud",
        username: sandbox.user.email,
        api_token: token ?? sandbox.user.token,
        max_retries: 0,
        ...expiry,
      },
    },
    // As the server makes it: the configured token, with its configured expiry.
    confluence: (config) =>
      makeConfluenceAccess(config.confluence, {
        value: config.confluence.api_token,
        source: "config",
        expiresAt: config.confluence.token_expires_at,
      }),
  };
};

describe("GET /healthz", () => {
  it("answers ok without authentication or dependencies", async () => {
    h = await startHarness();
    const res = await h.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });
});

describe("GET /health/confluence", () => {
  it("answers 200 with the user when the credentials work", async () => {
    h = await startHarness(await withSandbox());
    const res = await h.app.inject({ method: "GET", url: "/health/confluence", headers: h.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: "ok",
      detailsWithheld: false,
      deployment: "cloud",
      siteUrl: sandbox?.baseUrl,
      user: { accountId: sandbox?.user.accountId, displayName: sandbox?.user.displayName },
    });
  });

  it("answers a client without an API key with the status only: no site, no bot account", async () => {
    h = await startHarness(await withSandbox());
    const res = await h.app.inject({ method: "GET", url: "/health/confluence" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok", detailsWithheld: true });
    for (const detail of [sandbox!.baseUrl, sandbox!.user.accountId, sandbox!.user.displayName])
      expect(res.body).not.toContain(detail);
  });

  it("names only the kind of failure to a client without an API key, not Confluence's words", async () => {
    h = await startHarness(await withSandbox("wrong-token-123"));
    const open = await h.app.inject({ method: "GET", url: "/health/confluence" });
    expect(open.statusCode).toBe(503);
    expect(open.json()).toMatchObject({
      type: "urn:minutes:problem:confluence-unreachable",
      detail:
        "Confluence check failed (ConfluenceAuthenticationError); the details are shown with an API key",
    });
    expect(open.body).not.toContain("user/current");
    const withKey = await h.app.inject({ method: "GET", url: "/health/confluence", headers: h.auth });
    expect(withKey.json().detail).toMatch(
      /^Confluence check failed \(ConfluenceAuthenticationError\): .*user\/current → 403/,
    );
  });

  it("says why Confluence is not configured only to a client with an API key: the reason names the site and user", async () => {
    const reason =
      "No token saved for bot@acme.example at https://acme.example/wiki in /etc/minutes/tokens.vault";
    h = await startHarness({
      overrides: { confluence: { enabled: true } },
      confluence: (config) => makeConfluenceAccess(config.confluence, undefined, {}, reason),
    });
    const open = await h.app.inject({ method: "GET", url: "/health/confluence" });
    expect(open.statusCode).toBe(503);
    expect(open.json()).toMatchObject({ type: "urn:minutes:problem:confluence-not-configured" });
    expect(open.json().detail).toMatch(/^Confluence is not configured: set confluence.enabled/);
    for (const detail of ["bot@acme.example", "acme.example/wiki", "tokens.vault"])
      expect(open.body).not.toContain(detail);
    const withKey = await h.app.inject({ method: "GET", url: "/health/confluence", headers: h.auth });
    expect(withKey.json().detail).toMatch(
      new RegExp(`^${reason.replaceAll(".", "\\.")}: set confluence.enabled`),
    );
  });

  it("asks Confluence once for many checks at once and for the next ten seconds, then again", async () => {
    let clock = Date.parse("2026-01-05T10:00:00Z");
    h = await startHarness({ ...(await withSandbox()), now: () => clock });
    // Counts the identity requests the checks send (a latency of 0 changes nothing else).
    const counter = sandbox!.faults.add({ kind: "latency", latencyMs: 0, path: "user/current" });
    const asked = () => sandbox!.faults.list().find((f) => f.id === counter)?.fired;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => h!.app.inject({ method: "GET", url: "/health/confluence" })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    clock += HEALTH_CHECK_REUSE_MS - 1;
    const again = await h.app.inject({ method: "GET", url: "/health/confluence", headers: h.auth });
    expect(again.json()).toMatchObject({ status: "ok", user: { accountId: sandbox?.user.accountId } });
    expect(asked()).toBe(1);
    clock += 1;
    expect((await h.app.inject({ method: "GET", url: "/health/confluence" })).statusCode).toBe(200);
    expect(asked()).toBe(2);
  });

  it("answers 503 with the reason for a bad token, without the token", async () => {
    h = await startHarness(await withSandbox("wrong-token-123"));
    const res = await h.app.inject({ method: "GET", url: "/health/confluence" });
    expect(res.statusCode).toBe(503);
    const problem = res.json();
    expect(problem).toMatchObject({ status: 503, type: "urn:minutes:problem:confluence-unreachable" });
    expect(problem.detail).toContain("ConfluenceAuthenticationError");
    expect(res.body).not.toContain("wrong-token-123");
    expect(h.logs()).not.toContain("wrong-token-123");
  });

  it("answers 503 within its own time limit when Confluence hangs", async () => {
    h = await startHarness(await withSandbox());
    sandbox?.faults.add({ kind: "hang", path: "user/current" });
    const res = await h.app.inject({ method: "GET", url: "/health/confluence", headers: h.auth });
    expect(res.statusCode).toBe(503);
    expect(res.json().detail).toBe(
      `Confluence check failed (Timeout): Confluence did not answer within ${HEALTH_CHECK_TIMEOUT_MS / 1000} s`,
    );
  });

  it("says why when Confluence keeps failing past the probe's time limit, not only that time ran out", async () => {
    const options = await withSandbox();
    h = await startHarness({
      ...options,
      overrides: {
        ...options.overrides,
        confluence: { ...options.overrides?.confluence, max_retries: 5, retry_delay: 2 },
      },
    });
    sandbox?.faults.add({ kind: "status", status: 502, path: "user/current" });
    const res = await h.app.inject({ method: "GET", url: "/health/confluence", headers: h.auth });
    expect(res.statusCode).toBe(503);
    expect(res.json().detail).toMatch(
      new RegExp(
        `^Confluence check failed \\(ConfluenceServerError\\): .*502.* \\(still failing after ${HEALTH_CHECK_TIMEOUT_MS / 1000} s of retries\\)$`,
      ),
    );
  });

  it("answers 503 saying Confluence is not configured", async () => {
    h = await startHarness();
    const res = await h.app.inject({ method: "GET", url: "/health/confluence" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ type: "urn:minutes:problem:confluence-not-configured" });
  });

  it("requires the API key when gateway.auth_health is on", async () => {
    h = await startHarness({ overrides: { gateway: { auth_health: true } } });
    expect((await h.app.inject({ method: "GET", url: "/status/confluence" })).statusCode).toBe(401);
    // 503 (no publisher created the consumer yet) but answered: the key was accepted.
    expect(
      (await h.app.inject({ method: "GET", url: "/status/confluence", headers: h.auth })).json(),
    ).toMatchObject({ status: "degraded", consumer: { found: false } });
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
});

describe("DELETE /api/publications/:id?deletePage=true", () => {
  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e);
  /** A page in the sandbox, marked as `owner`'s (none: no job property, like a person's page). */
  const pageOf = async (title: string, owner?: string) => {
    const client = await h!.ctx.confluence.client();
    return run(
      client.createPage({
        spaceKey: "MEETINGS",
        title,
        body: "<p>x</p>",
        ...(owner !== undefined ? { property: { key: JOB_PROPERTY_KEY, value: { jobId: owner } } } : {}),
      }),
    );
  };
  /** A published record of `jobId` naming `pageId`. */
  const recordOf = async (jobId: string, pageId: string) => {
    const record = await run(h!.store.ensurePublication({ jobId, spaceKey: "MEETINGS", parentPageId: null }));
    return run(
      h!.store.transition(record.id, "published", {
        pageId,
        pageUrl: "https://x/y",
        pageVersion: 1,
        contentHash: "sha256:x",
      }),
    );
  };
  const deleteWithPage = (id: number) =>
    h!.app.inject({ method: "DELETE", url: `/api/publications/${id}?deletePage=true`, headers: h!.auth });
  const recordKept = async (id: number) => (await run(Effect.either(h!.store.get(id))))._tag === "Right";

  it("moves the job's page (its job property names the job) to the Confluence trash and deletes the record", async () => {
    h = await startHarness(await withSandbox());
    const page = await pageOf("To delete", "del-1");
    const record = await recordOf("del-1", page.id);
    const res = await deleteWithPage(record.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      pageDeleted: true,
      pageNotFound: false,
      indexRefreshed: null,
      deleted: { id: record.id, pageId: page.id },
    });
    expect(sandbox?.state.page(page.id)?.status).toBe("trashed");
    expect(await recordKept(record.id)).toBe(false);
  });

  it("refuses with a 409 naming the owner when the page's job property names another job, and keeps page and record", async () => {
    h = await startHarness(await withSandbox());
    const page = await pageOf("Someone else's meeting", "dbg1");
    // An imported record (another installation's page ids) that names dbg1's page.
    const record = await recordOf("demo-extra", page.id);
    const res = await deleteWithPage(record.id);
    expect(res.statusCode).toBe(409);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      type: "urn:minutes:problem:page-of-another-job",
      pageId: page.id,
      pageJobId: "dbg1",
      detail: expect.stringMatching(
        new RegExp(
          `^page ${page.id} belongs to job dbg1 .*not to job demo-extra: nothing was deleted and the record was kept`,
        ),
      ),
    });
    expect(sandbox?.state.page(page.id)?.status).toBe("current");
    expect(sandbox?.state.page(page.id)?.versions).toHaveLength(1);
    expect(await recordKept(record.id)).toBe(true);
    // The OpenAPI document's 409 takes this very body, and its example is this kind of answer.
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const documented =
      doc.paths["/api/publications/{id}"].delete.responses["409"].content["application/problem+json"];
    const accepting = (documented.schema.anyOf ?? [documented.schema]).filter(
      (variant: {
        properties: Record<string, unknown>;
        additionalProperties?: boolean;
        required?: string[];
      }) =>
        Object.keys(res.json()).every((field) => field in variant.properties) &&
        (variant.required ?? []).every((field) => field in res.json()),
    );
    expect(accepting).toHaveLength(1);
    expect(documented.example).toMatchObject({
      type: "urn:minutes:problem:page-of-another-job",
      status: 409,
      pageId: expect.any(String),
      pageJobId: expect.any(String),
    });
    expect(
      Either.isRight(
        Schema.decodeUnknownEither(PageOwnershipProblem, { onExcessProperty: "error" })(res.json()),
      ),
    ).toBe(true);
  });

  it("refuses with a 409 when the page has no job property, and keeps page and record", async () => {
    h = await startHarness(await withSandbox());
    const page = await pageOf("2025");
    const record = await recordOf("del-year", page.id);
    const res = await deleteWithPage(record.id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      type: "urn:minutes:problem:page-not-the-jobs",
      pageId: page.id,
      pageJobId: null,
      detail: expect.stringContaining("has no minutes.job property naming job del-year"),
    });
    expect(sandbox?.state.page(page.id)?.status).toBe("current");
    expect(await recordKept(record.id)).toBe(true);
  });

  it("says the page was not found, not that it was deleted, when Confluence has no such page", async () => {
    h = await startHarness(await withSandbox());
    const page = await pageOf("Already gone", "del-gone");
    const record = await recordOf("del-gone", page.id);
    const client = await h.ctx.confluence.client();
    await run(client.deletePage(page.id));
    const trashed = await deleteWithPage(record.id);
    expect(trashed.statusCode).toBe(200);
    expect(trashed.json()).toMatchObject({
      pageDeleted: false,
      pageNotFound: true,
      deleted: { id: record.id },
    });
    expect(await recordKept(record.id)).toBe(false);
    // A page id Confluence never had.
    const never = await recordOf("del-never", "99999999");
    const res = await deleteWithPage(never.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ pageDeleted: false, pageNotFound: true, deleted: { id: never.id } });
  });
});

describe("POST /api/publications/cleanup", () => {
  it("deletes old records in bulk after a dry run that counts them, and leaves their Confluence pages alone", async () => {
    h = await startHarness(await withSandbox());
    const store = h.store;
    const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e);
    const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
    const client = await h.ctx.confluence.client();
    const page = await run(
      client.createPage({ spaceKey: "MEETINGS", title: "Old meeting", body: "<p>x</p>" }),
    );
    /** A job whose protocol was stored, then its record changed (as a publisher does). */
    const recordOf = async (jobId: string, status: "published" | "failed" | "pending") => {
      await run(
        store.saveProtocol({
          jobId,
          markdown: "# Old meeting",
          filename: `${jobId}.md`,
          metadata: {},
          contentHash: `sha256:${jobId}`,
          streamSequence: null,
          occurredAt: "2026-01-05T10:00:00Z",
        }),
      );
      await pause();
      const record = await run(store.ensurePublication({ jobId, spaceKey: "MEETINGS", parentPageId: null }));
      if (status === "pending") return record;
      if (status === "failed") return run(store.transition(record.id, "failed", { errorMessage: "boom" }));
      const published = await run(
        store.transition(record.id, "published", { pageId: page.id, pageUrl: page.webUrl, pageVersion: 1 }),
      );
      await run(
        store.recordVersion({
          publicationId: record.id,
          pageId: page.id,
          pageVersion: 1,
          contentHash: `sha256:${jobId}`,
          pageTitle: "Old meeting",
          trigger: "event",
        }),
      );
      return published;
    };
    const old = await recordOf("old-published", "published");
    const oldFailed = await recordOf("old-failed", "failed");
    const waiting = await recordOf("old-pending", "pending");
    await pause();
    const before = new Date().toISOString();
    await pause();
    const recent = await recordOf("recent", "failed");
    const cleanup = (body: Record<string, unknown>) =>
      h!.app.inject({ method: "POST", url: "/api/publications/cleanup", headers: h!.auth, payload: body });

    const dry = await cleanup({ before, dryRun: true });
    expect(dry.statusCode).toBe(200);
    const expected = {
      before,
      statuses: ["published", "failed", "rejected", "archived"],
      keepProtocols: false,
      deleted: 2,
      versionsDeleted: 1,
      protocolsDeleted: 2,
      keptNewerProtocol: 0,
      jobIds: ["old-published", "old-failed"],
    };
    expect(dry.json()).toEqual({ dryRun: true, ...expected });
    const read = (id: number) =>
      h!.app.inject({ method: "GET", url: `/api/publications/${id}`, headers: h!.auth });
    expect((await read(old.id)).statusCode).toBe(200);

    const done = await cleanup({ before });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ dryRun: false, ...expected });
    expect((await read(old.id)).statusCode).toBe(404);
    expect((await read(oldFailed.id)).statusCode).toBe(404);
    expect((await read(waiting.id)).json()).toMatchObject({ status: "pending" });
    expect((await read(recent.id)).json()).toMatchObject({ status: "failed" });
    const versions = await h.app.inject({
      method: "GET",
      url: "/api/jobs/old-published/versions",
      headers: h.auth,
    });
    expect(versions.json()).toEqual({ jobId: "old-published", items: [] });
    // The protocol went with the record: there is nothing left to publish for the job.
    const republish = await h.app.inject({
      method: "POST",
      url: "/api/jobs/old-published/publish-confluence",
      headers: h.auth,
    });
    expect(republish.statusCode).toBe(404);
    // Confluence is never touched: the page is where it was, with its one version.
    expect(sandbox?.state.page(page.id)?.status).toBe("current");
    expect(sandbox?.state.page(page.id)?.versions).toHaveLength(1);
    expect(h.logs()).toContain("publication records cleaned up");

    // Only the chosen statuses, with the protocols kept on request.
    const failedOnly = await cleanup({
      before: new Date(Date.now() + 60_000).toISOString(),
      statuses: ["failed"],
      keepProtocols: true,
    });
    expect(failedOnly.json()).toMatchObject({ deleted: 1, protocolsDeleted: 0, jobIds: ["recent"] });
    expect((await read(recent.id)).statusCode).toBe(404);
    expect((await read(waiting.id)).statusCode).toBe(200);
    // Kept, as asked: the job's protocol can still be published.
    expect(Option.isSome(await run(store.getProtocol("recent")))).toBe(true);
  });
});

describe("GET /status/confluence", () => {
  it("says and counts it while the event stream refuses events, until it stores one again", async () => {
    h = await startHarness();
    const harness = h;
    const jsm = await jetstreamManager(harness.nc);
    const post = (jobId: string) =>
      harness.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: harness.auth,
        payload: protocolBody(jobId),
      });
    const status = async () =>
      (await harness.app.inject({ method: "GET", url: "/status/confluence" })).json();
    const metric = async (name: string) =>
      new RegExp(`^${name} (\\d+)$`, "m").exec(
        (await harness.app.inject({ method: "GET", url: "/metrics/confluence" })).body,
      )?.[1];
    // A stream that stores one message more and then refuses, as a full disk or a broken stream would,
    // while NATS is connected and the stream exists.
    await jsm.streams.update(harness.config.nats.stream, { max_msgs: 1, discard: DiscardPolicy.New });
    expect((await post("full-1")).statusCode).toBe(202);
    expect((await post("full-2")).statusCode).toBe(503);
    const refusing = await status();
    expect(refusing.status).toBe("degraded");
    expect(refusing.nats).toMatchObject({ connected: true, streamFound: true });
    expect(refusing.reasons).toContainEqual(
      expect.stringMatching(
        /^the event stream refused the last message the gateway sent, at \S+ \(maximum messages exceeded\), and has stored none since: events are answered 503$/,
      ),
    );
    expect([
      await metric("minutes_events_stored_total"),
      await metric("minutes_events_refused_total"),
    ]).toEqual(["1", "1"]);

    await jsm.streams.update(harness.config.nats.stream, { max_msgs: -1 });
    expect((await post("full-3")).statusCode).toBe(202);
    expect((await status()).reasons).not.toContainEqual(expect.stringMatching(/refused/));
    expect(await metric("minutes_events_stored_total")).toBe("2");
  });

  it("shows NATS, the consumer backlog, the database, the last publication and the token source", async () => {
    h = await startHarness(await withSandbox());
    const before = await h.app.inject({ method: "GET", url: "/status/confluence" });
    // No publisher created the consumer yet: nothing would consume an event.
    expect(before.statusCode).toBe(503);
    expect(before.json()).toMatchObject({
      status: "degraded",
      reasons: [
        `the consumer ${h.config.nats.consumer} is missing: events wait until a publisher creates it again (at its start, or when it finds it missing)`,
      ],
      nats: {
        connected: true,
        stream: h.config.nats.stream,
        outcomeStream: `${h.config.nats.stream}_OUTCOMES`,
        streamFound: true,
        outcomeStreamFound: true,
      },
      consumer: { name: h.config.nats.consumer, found: false, backlog: null },
      database: { status: "ok", detail: null },
      lastPublication: null,
      tokenSource: "config",
      confluenceEnabled: true,
    });
    expect(before.body).not.toContain(sandbox?.user.token);
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    await publisher.stop();
    publisher = undefined;
    for (const jobId of ["st-1", "st-2", "st-3"]) {
      await h.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: h.auth,
        payload: protocolBody(jobId),
      });
    }
    // The consumer exists, but no publisher pulls from it: the events would wait forever.
    const started = Date.now();
    const after = await h.app.inject({ method: "GET", url: "/status/confluence" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(NO_PUBLISHER_RECHECK_MS);
    expect(after.statusCode).toBe(503);
    expect(after.json()).toMatchObject({
      status: "degraded",
      reasons: [
        `no publisher is pulling from the consumer ${h.config.nats.consumer} while 3 messages wait (no open pull request and none in progress, on two reads 1 s apart)`,
      ],
    });
    expect(after.json().consumer).toEqual({
      name: h.config.nats.consumer,
      found: true,
      pending: 3,
      ackPending: 0,
      waiting: 0,
      backlog: 3,
    });
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const harness = h;
    const last = await eventually(async () => {
      const s = (
        await harness.app.inject({ method: "GET", url: "/status/confluence", headers: harness.auth })
      ).json();
      return s.lastPublication !== null && s.consumer.backlog === 0 ? s : undefined;
    });
    expect(last.lastPublication.jobId).toMatch(/^st-/);
    expect(last).toMatchObject({ status: "ok", reasons: [], detailsWithheld: false });
    // auth_health is off: anyone may read the status, but a meeting's title, page and error (and
    // the routing rules) only with an API key.
    const open = (await h.app.inject({ method: "GET", url: "/status/confluence" })).json();
    expect(open).toMatchObject({ status: "ok", lastPublication: null, routing: null, detailsWithheld: true });
    expect(JSON.stringify(open)).not.toContain(last.lastPublication.jobId);
    // Nor where NATS is: whoever reaches it can inject work.
    expect(last.nats.server).toMatch(/^[^:]+:\d+$/);
    expect(open.nats).toMatchObject({ connected: true, server: null });
    expect(JSON.stringify(open)).not.toContain(last.nats.server);
    expect(last.consumer.waiting).toBeGreaterThan(0);
  });

  it("stays ok while a running publisher is busy with every message it holds", async () => {
    h = await startHarness();
    // A publisher that takes messages and holds them, like one waiting minutes for Confluence:
    // nothing is waiting to pull, but the messages it holds are ack-pending.
    const jsm = await jetstreamManager(h.nc);
    const js = jetstream(h.nc);
    await jsm.consumers.add(h.config.nats.stream, {
      durable_name: h.config.nats.consumer,
      ack_policy: AckPolicy.Explicit,
      filter_subject: protocolStreamWildcard(h.config.nats.subject_prefix),
      ack_wait: nanos(60_000),
    });
    for (const jobId of ["busy-1", "busy-2", "busy-3"]) {
      await h.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: h.auth,
        payload: protocolBody(jobId),
      });
    }
    const consumer = await js.consumers.get(h.config.nats.stream, h.config.nats.consumer);
    const held = await consumer.fetch({ max_messages: 1, expires: 1_000 });
    for await (const _ of held) break;
    const res = await h.app.inject({ method: "GET", url: "/status/confluence" });
    expect(res.json().consumer).toMatchObject({ pending: 2, ackPending: 1, waiting: 0 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: "ok", reasons: [] });
  });

  it("answers 503 degraded when NATS is down, and reports token source none", async () => {
    h = await startHarness();
    await h.nc.close();
    const res = await h.app.inject({ method: "GET", url: "/status/confluence" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: "degraded", nats: { connected: false }, tokenSource: "none" });
  });
});

describe("GET /status/confluence and the token's expiry", () => {
  const DAY = 86_400_000;
  // The gateway's clock for the expiry, fixed: the days left must not depend on whether the test
  // and the gateway read the clock on the same side of midnight UTC.
  const NOW = Date.parse("2026-11-27T10:00:00Z");
  /** The UTC day `days` from the gateway's today, as `confluence.token_expires_at` takes it (the end of that day). */
  const dayFromToday = (days: number) => new Date(NOW + days * DAY).toISOString().slice(0, 10);
  const EXPIRY_METRIC = "minutes_confluence_token_expiry_timestamp_seconds";
  const ROTATE_CONFIG =
    "put the new one in confluence.api_token (MINUTES_CONFLUENCE__API_TOKEN) and its expiry in confluence.token_expires_at (MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT), then restart the gateway and the publishers";

  /** A gateway whose configured token expires as given, with a publisher pulling (nothing else to report). */
  const gatewayWithToken = async (expiry: {
    readonly token_expires_at?: string | null;
    readonly token_expiry_warning_days?: number;
  }) => {
    h = await startHarness({ ...(await withSandbox(undefined, expiry)), now: () => NOW });
    publisher = await startFakePublisher(h.nc, h.store, h.config);
    const harness = h;
    // Once the publisher pulls, the consumer's reasons are gone and only the token's can remain.
    return eventually(async () => {
      const res = await harness.app.inject({ method: "GET", url: "/status/confluence" });
      const body = res.json();
      return body.consumer.found && body.consumer.waiting > 0 ? { code: res.statusCode, body } : undefined;
    });
  };
  const expiryMetric = async () =>
    (await h!.app.inject({ method: "GET", url: "/metrics/confluence" })).body
      .split("\n")
      .filter((line) => line.startsWith(EXPIRY_METRIC));

  it("stays ok with a warning naming the day, the days left and how to replace the token when it expires within the warning window", async () => {
    const day = dayFromToday(8);
    const status = await gatewayWithToken({ token_expires_at: day });
    // Nothing fails yet: a monitor alerting on 503 must not fire for two weeks.
    expect(status.code).toBe(200);
    expect(status.body).toMatchObject({
      status: "ok",
      reasons: [],
      warnings: [
        `the Confluence token expires on ${day}, in 8 days: replace it before then; ${ROTATE_CONFIG}`,
      ],
      tokenSource: "config",
      tokenExpiresAt: `${day}T23:59:59.000Z`,
    });
    expect(JSON.stringify(status.body)).not.toContain(sandbox?.user.token);
    expect(await expiryMetric()).toEqual([
      `${EXPIRY_METRIC}{source="config"} ${Date.parse(`${day}T23:59:59Z`) / 1000}`,
    ]);
  });

  it("is degraded when the token has expired", async () => {
    const yesterday = dayFromToday(-1);
    const status = await gatewayWithToken({ token_expires_at: yesterday });
    expect(status.code).toBe(503);
    expect(status.body.reasons).toEqual([
      `the Confluence token expired on ${yesterday}: publishing fails until it is replaced; ${ROTATE_CONFIG}`,
    ]);
    expect(status.body.warnings).toEqual([]);
    expect(status.body.tokenExpiresAt).toBe(`${yesterday}T23:59:59.000Z`);
  });

  it("stays ok, reporting the expiry, while the token expires after the warning window (configurable)", async () => {
    const day = dayFromToday(8);
    const status = await gatewayWithToken({ token_expires_at: day, token_expiry_warning_days: 7 });
    expect(status.code).toBe(200);
    expect(status.body).toMatchObject({
      status: "ok",
      reasons: [],
      warnings: [],
      tokenExpiresAt: `${day}T23:59:59.000Z`,
    });
    expect(await expiryMetric()).toEqual([
      `${EXPIRY_METRIC}{source="config"} ${Date.parse(`${day}T23:59:59Z`) / 1000}`,
    ]);
  });

  it("stays ok with no expiry and no metric sample when the expiry is unknown", async () => {
    const status = await gatewayWithToken({ token_expires_at: null });
    expect(status.code).toBe(200);
    expect(status.body).toMatchObject({
      status: "ok",
      reasons: [],
      tokenSource: "config",
      tokenExpiresAt: null,
    });
    // No sample at all: a 0 would read as a token that expired in 1970.
    expect(await expiryMetric()).toEqual([]);
    expect((await h!.app.inject({ method: "GET", url: "/metrics/confluence" })).body).toContain(
      `# TYPE ${EXPIRY_METRIC} gauge`,
    );
  });
});

describe("GET /metrics/confluence", () => {
  it("exposes publications by status, outcome latency, retries, 429s, Confluence requests and time, and consumer pending", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config, {
      extra: { latencyMs: 1_500, retries: 2, rateLimited: 1, confluenceRequests: 6, confluenceMs: 1_200 },
    });
    await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody("m-1"),
    });
    const harness = h;
    await eventually(async () =>
      (await harness.app.inject({ method: "GET", url: "/api/stats", headers: harness.auth })).json().total ===
      1
        ? true
        : undefined,
    );
    const now = await h.app.inject({
      method: "POST",
      url: "/api/jobs/m-1/publish-confluence",
      headers: h.auth,
    });
    expect(now.statusCode).toBe(200);
    const text = await eventually(async () => {
      const res = await harness.app.inject({ method: "GET", url: "/metrics/confluence" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/plain/);
      return res.body.includes("minutes_confluence_retries_total 2") ? res.body : undefined;
    });
    expect(text).toContain('minutes_publications{status="published"} 1');
    expect(text).toContain('minutes_publications{status="failed"} 0');
    expect(text).toContain("minutes_confluence_rate_limited_total 1");
    expect(text).toContain('minutes_publish_latency_seconds_bucket{le="2.5"} 1');
    expect(text).toContain("minutes_confluence_requests_total 6");
    expect(text).toContain('minutes_confluence_time_seconds_bucket{le="1"} 0');
    expect(text).toContain('minutes_confluence_time_seconds_bucket{le="2.5"} 1');
    expect(text).toContain("minutes_confluence_time_seconds_sum 1.2");
    expect(text).toContain("minutes_confluence_time_seconds_count 1");
    expect(text).toContain('minutes_publication_outcomes_total{outcome="published"} 1');
    expect(text).toMatch(/minutes_consumer_pending \d+/);
  });

  it("reads the publication gauges from one count per status, not from the statistics queries", async () => {
    const statements: Array<string> = [];
    h = await startHarness({ storeLog: (line) => statements.push(line) });
    const harness = h;
    const create = (jobId: string) =>
      Effect.runPromise(harness.store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null }));
    await create("g-pending-1");
    await create("g-pending-2");
    const failed = await create("g-failed-1");
    await Effect.runPromise(harness.store.transition(failed.id, "failed", { errorMessage: "boom" }));
    for (const jobId of ["g-published-1", "g-published-2", "g-published-3"]) {
      const r = await create(jobId);
      await Effect.runPromise(harness.store.transition(r.id, "published", { latencyMs: 10 }));
    }
    const counts = await Effect.runPromise(harness.store.countByStatus());
    expect(counts).toMatchObject({ pending: 2, failed: 1, published: 3 });

    statements.length = 0;
    const res = await harness.app.inject({ method: "GET", url: "/metrics/confluence" });
    const queries = statements.filter((line) => line.includes("[query]"));
    expect(res.statusCode).toBe(200);
    for (const status of PUBLICATION_STATUSES)
      expect(res.body).toContain(`minutes_publications{status="${status}"} ${counts[status]}`);
    // The scrape's only statement: no per-day, per-space or latency-percentile query of `stats`.
    expect(queries, queries.join("\n")).toHaveLength(1);
    expect(queries[0]).toMatch(/group by publication_status/);
    expect(queries[0]).not.toMatch(/latency_ms|order by/);
  });

  it("lists every outcome at 0 on a fresh gateway, so rate() alerts have a series after a restart", async () => {
    h = await startHarness();
    const text = (await h.app.inject({ method: "GET", url: "/metrics/confluence" })).body;
    for (const outcome of PUBLICATION_EVENT_KINDS)
      expect(text).toContain(`minutes_publication_outcomes_total{outcome="${outcome}"} 0`);
    expect(text).toContain("minutes_confluence_retries_total 0");
    expect(text).toContain("minutes_confluence_rate_limited_total 0");
    expect(text).toContain("minutes_confluence_requests_total 0");
    expect(text).toContain("minutes_confluence_time_seconds_count 0");
  });

  it("counts the retries and 429s of a delivery given back for a later try, and the deferral", async () => {
    h = await startHarness();
    publisher = await startFakePublisher(h.nc, h.store, h.config, {
      defer: (_jobId, delivery) => (delivery === 1 ? { retries: 3, rateLimited: 2 } : undefined),
    });
    await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody("d-1"),
    });
    const harness = h;
    await eventually(async () =>
      (await harness.app.inject({ method: "GET", url: "/api/stats", headers: harness.auth })).json().total ===
      1
        ? true
        : undefined,
    );
    // Publish now waits past the deferred event for the final one.
    const now = await h.app.inject({
      method: "POST",
      url: "/api/jobs/d-1/publish-confluence",
      headers: h.auth,
    });
    expect(now.statusCode).toBe(200);
    expect(now.json()).toMatchObject({ outcome: "published", status: "published", errorTag: null });
    const text = (await h.app.inject({ method: "GET", url: "/metrics/confluence" })).body;
    expect(text).toContain('minutes_publication_outcomes_total{outcome="deferred"} 1');
    expect(text).toContain('minutes_publication_outcomes_total{outcome="published"} 1');
    expect(text).toContain('minutes_publication_outcomes_total{outcome="failed"} 0');
    expect(text).toContain("minutes_confluence_retries_total 3");
    expect(text).toContain("minutes_confluence_rate_limited_total 2");
    // These events, like an older publisher's, say nothing about Confluence time: no observation.
    expect(text).toContain("minutes_confluence_requests_total 0");
    expect(text).toContain("minutes_confluence_time_seconds_count 0");
  });

  it("requires the API key when gateway.auth_metrics is on", async () => {
    h = await startHarness({ overrides: { gateway: { auth_metrics: true } } });
    expect((await h.app.inject({ method: "GET", url: "/metrics/confluence" })).statusCode).toBe(401);
    expect(
      (await h.app.inject({ method: "GET", url: "/metrics/confluence", headers: h.auth })).statusCode,
    ).toBe(200);
  });
});

describe("rate limiting", () => {
  it("answers 429 problem per API key over gateway.rate_limit_per_minute", async () => {
    const other = "second-key-abcdef";
    h = await startHarness({
      overrides: { gateway: { rate_limit_per_minute: 3, api_keys: ["first-key-abcdef", other] } },
    });
    const call = (key: string) =>
      h!.app.inject({ method: "GET", url: "/api/stats", headers: { authorization: `Bearer ${key}` } });
    for (let i = 0; i < 3; i++) expect((await call("first-key-abcdef")).statusCode).toBe(200);
    const limited = await call("first-key-abcdef");
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(limited.headers["retry-after"]).toBeDefined();
    expect(limited.json()).toMatchObject({ status: 429, title: "Too many requests" });
    expect((await call(other)).statusCode).toBe(200);
    // Made-up keys are limited per client address, so rotating them does not help.
    const guesses = [];
    for (const i of [1, 2, 3, 4]) guesses.push(await call(`guess-${i}`));
    expect(guesses.map((r) => r.statusCode)).toEqual([401, 401, 401, 429]);
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
  it("counts keys that are not valid sent to health, status and metrics against the client address, never monitors", async () => {
    const key = "the-only-key-abcdef";
    for (const auth of [false, true]) {
      h = await startHarness({
        overrides: {
          gateway: { rate_limit_per_minute: 3, api_keys: [key], auth_health: auth, auth_metrics: auth },
        },
      });
      const harness = h;
      const get = (url: string, authorization?: string) =>
        harness.app.inject({ method: "GET", url, headers: authorization ? { authorization } : {} });
      // Wrong keys: told apart from the valid one (details withheld, or 401), so limited per address.
      const guesses = [];
      for (const [i, url] of ["/health/confluence", "/status/confluence", "/metrics/confluence"].entries())
        guesses.push(await get(url, `Bearer guess-${i}`));
      expect(guesses.map((r) => r.statusCode)).not.toContain(429);
      for (const url of ["/health/confluence", "/status/confluence", "/metrics/confluence", "/api/stats"]) {
        const limited = await get(url, "Bearer guess-more");
        expect(limited.statusCode, `${url} (auth ${auth})`).toBe(429);
        expect(limited.headers["retry-after"]).toMatch(/^\d+$/);
        expect(limited.headers["content-type"]).toMatch(/^application\/problem\+json/);
      }
      // A header that is no bearer key at all counts the same.
      expect((await get("/status/confluence", "Basic Zm9vOmJhcg==")).statusCode).toBe(429);
      // A monitor with the key, or one without a key where none is required, is not throttled.
      for (let i = 0; i < 5; i++) {
        expect((await get("/metrics/confluence", `Bearer ${key}`)).statusCode).toBe(200);
        expect((await get("/health/confluence", `Bearer ${key}`)).statusCode).not.toBe(429);
        const keyless = (await get("/health/confluence")).statusCode;
        if (auth) expect(keyless).toBe(401);
        else expect(keyless).not.toBe(429);
        expect((await get("/metrics/confluence")).statusCode).toBe(auth ? 401 : 200);
      }
      await h.close();
      h = undefined;
    }
  });
});

describe("OpenAPI", () => {
  it("serves the document generated from the schemas at /docs/json and the UI at /docs", async () => {
    h = await startHarness();
    const res = await h.app.inject({ method: "GET", url: "/docs/json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const post = doc.paths["/api/protocols"].post;
    const body = post.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(expect.arrayContaining(["jobId", "markdown", "filename", "occurredAt"]));
    expect(body.properties.spaceKey.pattern).toBeDefined();
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(["202", "4XX", "5XX"]));
    for (const path of [
      "/api/replays",
      "/api/publications/{id}/retry",
      "/api/jobs/{jobId}/publish-confluence",
      "/api/publications/cleanup",
      "/metrics/confluence",
    ]) {
      expect(doc.paths[path]).toBeDefined();
    }
    const cleanup = doc.paths["/api/publications/cleanup"].post;
    const cleanupBody = cleanup.requestBody.content["application/json"].schema;
    expect(cleanupBody.required).toEqual(["before"]);
    expect(cleanupBody.additionalProperties).toBe(false);
    expect(cleanupBody.properties.before.format).toBe("date-time");
    expect(cleanupBody.properties.statuses.items.enum).toEqual([
      "published",
      "failed",
      "rejected",
      "archived",
    ]);
    expect(cleanup.responses["200"].content["application/json"].schema.required).toEqual(
      expect.arrayContaining([
        "deleted",
        "versionsDeleted",
        "protocolsDeleted",
        "keptNewerProtocol",
        "jobIds",
      ]),
    );
    const ui = await h.app.inject({ method: "GET", url: "/docs/" });
    expect(ui.statusCode).toBe(200);
  });
});

describe("OpenAPI document", () => {
  it("documents problems as problem+json, date-time fields, the optional archive body, and keyless routes", async () => {
    h = await startHarness();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const protocols = doc.paths["/api/protocols"].post;
    for (const status of ["4XX", "5XX"]) {
      expect(Object.keys(protocols.responses[status].content), status).toEqual(["application/problem+json"]);
      expect(protocols.responses[status].content["application/problem+json"].schema.required).toEqual(
        expect.arrayContaining(["type", "title", "status"]),
      );
    }
    const body = protocols.requestBody.content["application/json"].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.occurredAt.format).toBe("date-time");
    expect(body.properties.meetingDate.format).toBe("date");
    const replay = doc.paths["/api/replays"].post.requestBody.content["application/json"].schema;
    expect([replay.properties.since.format, replay.properties.until.format]).toEqual([
      "date-time",
      "date-time",
    ]);
    for (const path of ["/api/publications", "/api/stats"]) {
      const params = doc.paths[path].get.parameters as Array<{ name: string; schema: { format?: string } }>;
      const formats = params
        .filter((p) => p.name === "since" || p.name === "until")
        .map((p) => p.schema.format);
      expect(formats, path).toEqual(["date-time", "date-time"]);
    }
    expect(doc.paths["/api/archive/run"].post.requestBody.required).toBe(false);
    expect(doc.paths["/api/protocols"].post.requestBody.required).toBe(true);
    expect(JSON.stringify(doc)).not.toContain("x-body-optional");
    expect(doc.security).toEqual([{ apiKey: [] }]);
    expect(protocols.security).toBeUndefined();
    for (const path of ["/healthz", "/health/confluence", "/status/confluence", "/metrics/confluence"]) {
      expect(doc.paths[path].get.security, path).toEqual([]);
    }
  });

  it("documents publish-now's original fields on 200 and its failure problems on 409, 422 and 502", async () => {
    h = await startHarness();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const responses = doc.paths["/api/jobs/{jobId}/publish-confluence"].post.responses;
    const ok = responses["200"].content["application/json"].schema;
    expect(ok.required).toEqual(
      expect.arrayContaining(["success", "publication_id", "page_url", "publicationId"]),
    );
    expect(ok.properties.success.enum).toEqual([true]);
    expect(Object.keys(responses)).toEqual(
      expect.arrayContaining(["200", "202", "409", "422", "502", "4XX", "5XX"]),
    );
    for (const status of ["409", "422", "502"]) {
      expect(Object.keys(responses[status].content), status).toEqual(["application/problem+json"]);
      // A 409 is also the plain problem of a protocol still waiting in the stream for a publisher.
      const documented = responses[status].content["application/problem+json"].schema;
      const schema = status === "409" ? documented.anyOf[0] : documented;
      if (status === "409") expect(documented.anyOf[1].required).toEqual(["type", "title", "status"]);
      expect(schema.required, status).toEqual(
        expect.arrayContaining([
          "type",
          "title",
          "status",
          "success",
          "error",
          "errorTag",
          "result",
          "publication",
        ]),
      );
      expect(schema.properties.success.enum, status).toEqual([false]);
      expect(schema.properties.result.required, status).toEqual(
        expect.arrayContaining(["outcome", "errorMessage"]),
      );
    }
  });

  it("documents the key on health, status and metrics when gateway.auth_health and auth_metrics are on", async () => {
    h = await startHarness({ overrides: { gateway: { auth_health: true, auth_metrics: true } } });
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    expect(doc.paths["/healthz"].get.responses["401"]).toBeUndefined();
    for (const path of ["/health/confluence", "/status/confluence", "/metrics/confluence"]) {
      expect(doc.paths[path].get.security, path).toBeUndefined();
      expect(doc.paths[path].get.responses["401"].headers, path).toHaveProperty("WWW-Authenticate");
      // Limited only for a key that is not valid (keys cannot be tried here outside the limit).
      expect(doc.paths[path].get.responses["429"].description, path).toMatch(/key that is not valid/);
      expect(doc.paths[path].get.responses["429"].headers, path).toHaveProperty("Retry-After");
    }
    expect(doc.paths["/healthz"].get.responses["429"]).toBeUndefined();
  });

  it("describes every response of every route, none as Fastify's placeholder", async () => {
    h = await startHarness();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const responses = operations(doc).flatMap(({ name, operation }) =>
      Object.entries(operation.responses).map(([status, r]) => ({ where: `${name} ${status}`, r })),
    );
    expect(responses.length).toBeGreaterThan(100);
    for (const { where, r } of responses) {
      expect(r.description, where).toEqual(expect.any(String));
      expect(r.description, where).not.toBe("Default Response");
      expect(r.description.length, where).toBeGreaterThan(20);
    }
    // Only keys OpenAPI 3.0 knows reach the document (the route schemas' markers are consumed).
    const text = JSON.stringify(doc);
    for (const marker of ["x-response-description", '"examples"', "x-body-optional"]) {
      expect(text, marker).not.toContain(marker);
    }
  });

  it("documents POST /api/protocols: what it does, its statuses with problems, headers and examples", async () => {
    h = await startHarness();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const post = doc.paths["/api/protocols"].post;
    for (const words of [
      "JetStream",
      "acknowledged",
      "eventId",
      "streamSequence",
      "duplicate",
      "nats.duplicate_window_seconds",
      "revert",
    ]) {
      expect(post.description, words).toContain(words);
    }
    expect(Object.keys(post.responses).sort()).toEqual(
      ["202", "400", "401", "413", "415", "429", "503", "4XX", "5XX"].sort(),
    );
    const accepted = post.responses["202"].content["application/json"];
    expect(accepted.example).toMatchObject({ jobId: "job-42", duplicate: false });
    expect(accepted.schema.properties.duplicate.description).toContain("duplicate window");
    expect(post.requestBody.content["application/json"].example).toMatchObject({ jobId: "job-42" });
    for (const status of ["400", "401", "413", "415", "429", "503"]) {
      const response = post.responses[status];
      expect(Object.keys(response.content), status).toEqual(["application/problem+json"]);
      const media = response.content["application/problem+json"];
      expect(media.schema.required, status).toEqual(["type", "title", "status"]);
      expect(media.example.status, status).toBe(Number(status));
    }
    expect(post.responses["413"].description).toContain("max_payload");
    expect(post.responses["401"].headers).toEqual({
      "WWW-Authenticate": { schema: { type: "string" }, description: expect.any(String) },
    });
    expect(post.responses["429"].headers).toEqual({
      "Retry-After": { schema: { type: "integer" }, description: expect.any(String) },
    });
    // A 503 says when to try again.
    expect(post.responses["503"].headers).toEqual({
      "Retry-After": { schema: { type: "integer" }, description: expect.any(String) },
    });
  });

  it("declares the headers the routes send, and sends the ones it declares", async () => {
    h = await startHarness();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    for (const [path, method] of [
      ["/api/publications/{id}/retry", "post"],
      ["/api/jobs/{jobId}/publish-confluence", "post"],
      ["/api/replays", "post"],
    ] as const) {
      expect(Object.keys(doc.paths[path][method].responses["202"].headers), path).toEqual(["Location"]);
    }
    for (const { name, operation } of operations(doc)) {
      const { responses } = operation;
      if (name.includes(" /api/")) {
        expect(Object.keys(responses["401"]?.headers ?? {}), name).toEqual(["WWW-Authenticate"]);
        expect(Object.keys(responses["429"]?.headers ?? {}), name).toEqual(["Retry-After"]);
      }
      // Every 503 that can be temporary says when to try again, the probes' too.
      if (responses["503"] !== undefined)
        expect(Object.keys(responses["503"].headers ?? {}), name).toEqual(["Retry-After"]);
      for (const status of ["200", "202", "400", "404", "409", "413", "415"]) {
        if (status === "202" && responses[status]?.headers) continue;
        if (name === "GET /api/export" && status === "200") continue;
        // A running import: when to send the file again.
        if (name === "POST /api/import" && status === "409") {
          expect(Object.keys(responses[status]?.headers ?? {}), name).toEqual(["Retry-After"]);
          continue;
        }
        // A replay over jobs a running one republishes: where that one's progress is.
        if (name === "POST /api/replays" && status === "409") {
          expect(Object.keys(responses[status]?.headers ?? {}), name).toEqual(["Location"]);
          continue;
        }
        expect(responses[status]?.headers, `${name} ${status}`).toBeUndefined();
      }
    }
    for (const { name, operation } of operations(doc)) {
      if (["post", "delete"].includes(name.split(" ")[0]!.toLowerCase())) {
        expect(Object.keys(operation.responses), name).toEqual(expect.arrayContaining(["413", "415"]));
      }
    }
    const refused = await h.app.inject({ method: "GET", url: "/api/publications" });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers["www-authenticate"]).toBe('Bearer realm="minutes"');
    const started = await h.app.inject({
      method: "POST",
      url: "/api/replays",
      headers: h.auth,
      payload: { since: "2026-01-01T00:00:00Z" },
    });
    expect(started.statusCode).toBe(202);
    expect(started.headers.location).toBe(`/api/replays/${started.json().id}`);
  });
});

describe("GET /status/confluence routing", () => {
  it("shows the default space and the routing rules in the order they are tried", async () => {
    const rules = [
      { name: "board", match: { topic_pattern: "^Architecture" }, space_key: "ARCH", labels: ["board"] },
      { match: { source: "hr-bot" }, space_key: "HR", parent_page_id: "42" },
    ];
    h = await startHarness({ overrides: { confluence: { space_key: "TEAM", routing_rules: rules } } });
    const res = await h.app.inject({ method: "GET", url: "/status/confluence", headers: h.auth });
    expect(res.json().routing).toEqual({ defaultSpaceKey: "TEAM", defaultParentPageId: null, rules });
    const open = await h.app.inject({ method: "GET", url: "/status/confluence" });
    expect(open.json()).toMatchObject({ routing: null, detailsWithheld: true });
  });
});

/** Every operation of an OpenAPI document, named `METHOD /path`. */
const operations = (doc: {
  paths: Record<string, Record<string, { responses: Record<string, Record<string, any>> }>>;
}) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      name: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );
