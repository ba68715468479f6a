// The publisher against the machine's NATS, a real SQLite file (PostgreSQL where stated) and
// the sandbox Confluence. Every test ends with the invariant: one page per job, one final
// publication record per job, nothing lost.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  archiveRunSubject,
  gaveUpStreamName,
  indexRefreshSubject,
  type PublicationOutcome,
  PublicationOutcomeJson,
  protocolReadySubject,
  publicationEventWildcard,
  publishRequestedSubject,
} from "@minutes/contracts";
import { originalImportLines } from "@minutes/publication-store";
import { saveEncryptedToken, setTokenExpiry } from "@minutes/token-vault";
import { createInbox } from "@nats-io/transport-node";
import { Chunk, Effect, Option, Redacted, Schema, Stream } from "effect";
import { pino } from "pino";
import { assert, describe, expect, it } from "vitest";
import { ContainerCache, ensureContainer } from "../src/containers.js";
import {
  JOB_PROPERTY_KEY,
  type PipelineStep,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from "../src/index.js";
import { gaveUpConsumerName, maxDeliveriesAdvisorySubject } from "../src/nats.js";
import { confluenceSite } from "../src/PublishPipeline.js";
import {
  authorOf,
  eventually,
  type Harness,
  type HarnessOptions,
  harnessPerTest,
  PG_URL,
  pagesOfJob,
  protocol,
  recordIn,
  restAsPerson,
  startHarness,
  withClient,
} from "./helpers/harness.js";

const open = harnessPerTest();

/** Edits a page as another (human) user through the public REST API. */
const editAsPerson = async (h: Harness, pageId: string) => {
  const person = h.sandbox.addUser({ displayName: "A. Person", email: "person@example.com" });
  const page = h.sandbox.state.page(pageId);
  if (!page) throw new Error("no page");
  const current = page.versions[page.versions.length - 1];
  if (!current) throw new Error("no version");
  const auth =
    h.sandbox.mode === "cloud"
      ? `Basic ${Buffer.from(`${person.email}:${person.token}`).toString("base64")}`
      : `Bearer ${person.token}`;
  const url =
    h.sandbox.mode === "cloud"
      ? `${h.sandbox.baseUrl}/api/v2/pages/${pageId}`
      : `${h.sandbox.baseUrl}/rest/api/content/${pageId}`;
  const body =
    h.sandbox.mode === "cloud"
      ? {
          id: pageId,
          status: "current",
          title: current.title,
          body: { representation: "storage", value: "<p>edited by a person</p>" },
          version: { number: current.number + 1 },
        }
      : {
          id: pageId,
          type: "page",
          title: current.title,
          body: { storage: { value: "<p>edited by a person</p>", representation: "storage" } },
          version: { number: current.number + 1 },
        };
  const res = await fetch(url, {
    method: "PUT",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
};

/** Moves a page under `targetId` as a person, with Cloud's move endpoint (no new version). */
const moveAsPerson = async (h: Harness, pageId: string, targetId: string) => {
  const person = authorOf(h);
  const res = await fetch(`${h.sandbox.baseUrl}/rest/api/content/${pageId}/move/append/${targetId}`, {
    method: "PUT",
    headers: { authorization: `Basic ${Buffer.from(`${person.email}:${person.token}`).toString("base64")}` },
  });
  expect(res.status).toBe(200);
  expect(h.sandbox.state.page(pageId)!.parentId).toBe(targetId);
};

/** Creates a page as a person through the public REST API; returns its id. */
const createAsPerson = async (h: Harness, title: string, parentId?: string): Promise<string> => {
  const person = authorOf(h);
  const space = h.sandbox.state.spaces().find((s) => s.key === "MEETINGS");
  if (!space) throw new Error("no space");
  const cloud = h.sandbox.mode === "cloud";
  const storage = "<p>a person's page</p>";
  const res = await fetch(
    cloud ? `${h.sandbox.baseUrl}/api/v2/pages` : `${h.sandbox.baseUrl}/rest/api/content`,
    {
      method: "POST",
      headers: {
        authorization: cloud
          ? `Basic ${Buffer.from(`${person.email}:${person.token}`).toString("base64")}`
          : `Bearer ${person.token}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(
        cloud
          ? {
              spaceId: String(space.id),
              status: "current",
              title,
              ...(parentId ? { parentId } : {}),
              body: { representation: "storage", value: storage },
            }
          : {
              type: "page",
              title,
              space: { key: "MEETINGS" },
              ...(parentId ? { ancestors: [{ id: parentId }] } : {}),
              body: { storage: { value: storage, representation: "storage" } },
            },
      ),
    },
  );
  expect(res.status).toBe(200);
  return String(((await res.json()) as { id: string | number }).id);
};

/** Archives a page with Confluence Cloud's archive, as a person, and waits until it is archived. */
const archiveAsPerson = async (h: Harness, pageId: string) => {
  const res = await restAsPerson(h, "POST", "/rest/api/content/archive", { pages: [{ id: Number(pageId) }] });
  expect(res.status).toBe(202);
  await eventually(() => (h.sandbox.state.page(pageId)?.status === "archived" ? true : undefined));
};

describe.each(["cloud", "datacenter"] as const)("publishing to Confluence %s", (mode) => {
  it("turns a protocol into one page with its content, job property and labels, and records it", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-a", markdown: protocol("Architecture Board"), labels: ["Board Review"] });
    const record = await recordIn(h, "job-a", "published");
    const pages = pagesOfJob(h, "job-a");
    expect(pages).toHaveLength(1);
    const page = pages[0]!;
    const version = page.versions[page.versions.length - 1]!;
    expect(version.title).toBe("20250902 - Architecture Board");
    expect(version.body).toContain("decision one");
    expect(page.labels.map((l) => l.name).sort()).toEqual([
      "auto-generated",
      "board-review",
      "meeting-protocol",
    ]);
    expect(record).toMatchObject({
      pageId: page.id,
      pageVersion: 1,
      pageTitle: "20250902 - Architecture Board",
    });
    expect(record.pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  });

  it("takes off the labels it set that a newer protocol no longer has, and keeps a person's own", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-lb", markdown: protocol("Labelled"), labels: ["Alpha", "Beta"] });
    const first = await recordIn(h, "job-lb", "published");
    const id = first.pageId!;
    const person = authorOf(h);
    const added = await fetch(`${h.sandbox.baseUrl}/rest/api/content/${id}/label`, {
      method: "POST",
      headers: {
        authorization:
          mode === "cloud"
            ? `Basic ${Buffer.from(`${person.email}:${person.token}`).toString("base64")}`
            : `Bearer ${person.token}`,
        "content-type": "application/json",
      },
      body: JSON.stringify([{ prefix: "global", name: "keep-me" }]),
    });
    expect(added.status).toBe(200);
    const seq = await h.submit({
      jobId: "job-lb",
      markdown: protocol("Labelled", "- decision two"),
      labels: ["Alpha", "Gamma"],
    });
    await recordAfter(h, "job-lb", seq);
    expect(
      h.sandbox.state
        .labels(id)
        .map((l) => l.name)
        .sort(),
    ).toEqual(["alpha", "auto-generated", "gamma", "keep-me", "meeting-protocol"]);
  });

  it("never takes the page itself off for a label named .. in its job property, which anyone may edit", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-dots", markdown: protocol("Dotted"), labels: ["Alpha", "Beta"] });
    const id = (await recordIn(h, "job-dots", "published")).pageId!;
    // A person who may edit the page rewrites its job property through the REST API.
    const property = h.sandbox.state.page(id)!.properties.find((p) => p.key === JOB_PROPERTY_KEY)!;
    const value = { ...(property.value as Record<string, unknown>), labels: ["..", "beta", "."] };
    const edited =
      mode === "cloud"
        ? await restAsPerson(h, "PUT", `/api/v2/pages/${id}/properties/${property.id}`, {
            key: JOB_PROPERTY_KEY,
            value,
            version: { number: property.version.number + 1 },
          })
        : await restAsPerson(h, "PUT", `/rest/api/content/${id}/property/${JOB_PROPERTY_KEY}`, {
            key: JOB_PROPERTY_KEY,
            value,
            version: { number: property.version.number + 1 },
          });
    expect(edited.status).toBe(200);
    const seq = await h.submit({
      jobId: "job-dots",
      markdown: protocol("Dotted", "- decision two"),
      labels: ["Alpha"],
    });
    const record = await recordAfter(h, "job-dots", seq);
    const page = h.sandbox.state.page(id)!;
    expect(page.status).toBe("current");
    expect(page.versions.at(-1)!.body).toContain("decision two");
    expect(record.pageId).toBe(id);
    expect(record.pageVersion).toBe(page.versions.at(-1)!.number);
    expect(pagesOfJob(h, "job-dots").map((p) => p.id)).toEqual([id]);
    // The names that are labels still come off; the property says again what Minutes set.
    expect(
      h.sandbox.state
        .labels(id)
        .map((l) => l.name)
        .sort(),
    ).toEqual(["alpha", "auto-generated", "meeting-protocol"]);
    const rewritten = h.sandbox.state.page(id)!.properties.find((p) => p.key === JOB_PROPERTY_KEY)!;
    expect((rewritten.value as { labels?: unknown }).labels).not.toContain("..");
  });

  it("fails visibly when Confluence has removed the label endpoint, instead of counting the label off", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-410", markdown: protocol("Removed endpoint"), labels: ["Alpha", "Beta"] });
    const id = (await recordIn(h, "job-410", "published")).pageId!;
    // REST-API.md §1.1: a removed v1 endpoint answers 410 Gone.
    h.sandbox.faults.add({ kind: "status", status: 410, method: "DELETE", path: "/label" });
    const seq = await h.submit({
      jobId: "job-410",
      markdown: protocol("Removed endpoint", "- decision two"),
      labels: ["Alpha"],
    });
    const failed = await recordAfter(h, "job-410", seq, "failed");
    expect(failed.errorMessage).toMatch(/removed/i);
    expect(h.sandbox.state.labels(id).map((l) => l.name)).toContain("beta");
  });

  it("reads a changed protocol's page and its job property at the same time", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-rt", markdown: protocol("Round trips") });
    const first = await recordIn(h, "job-rt", "published");
    const id = first.pageId!;
    // The page read hangs; the property read must arrive while it is still in flight.
    const pageRead = h.sandbox.faults.add({
      kind: "hang",
      method: "GET",
      path: mode === "cloud" ? `/pages/${id}$` : `/content/${id}$`,
    });
    const propertyRead = h.sandbox.faults.add({
      kind: "latency",
      latencyMs: 0,
      method: "GET",
      path: mode === "cloud" ? `/pages/${id}/properties$` : `/content/${id}/property/`,
    });
    const fired = (rule: number) => h.sandbox.faults.list().find((f) => f.id === rule)?.fired ?? 0;
    await h.submit({ jobId: "job-rt", markdown: protocol("Round trips", "- decision two") });
    await eventually(() => (fired(pageRead) >= 1 && fired(propertyRead) >= 1 ? true : undefined));
    h.sandbox.faults.clear();
    // Once Confluence answers again, the change is published as the next version of the same page.
    const second = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-rt"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageVersion === 2
        ? r.value
        : undefined;
    });
    expect(second.pageId).toBe(id);
    expect(pagesOfJob(h, "job-rt")).toHaveLength(1);
  });

  it("creates a new job's page without a title lookup first, and adopts its page once its record is lost", async () => {
    const h = await open({ mode });
    // Its year and month pages exist already (they are looked up by title once, then remembered).
    await h.submit({ jobId: "job-earlier", markdown: protocol("Earlier") });
    await recordIn(h, "job-earlier", "published");
    const lookups = h.sandbox.faults.add({
      kind: "latency",
      latencyMs: 0,
      method: "GET",
      path: mode === "cloud" ? "/api/v2/pages$" : "/rest/api/content$",
    });
    const fired = () => h.sandbox.faults.list().find((f) => f.id === lookups)?.fired ?? 0;
    await h.submit({ jobId: "job-new", markdown: protocol("Fresh") });
    const first = await recordIn(h, "job-new", "published");
    // Rate limits count requests: the create says whether the title is free.
    expect(fired()).toBe(0);
    // The record is deleted (as through the API, or with a database restored from an old backup):
    // the next protocol of the job finds its page by title and updates it, no second page.
    await Effect.runPromise(h.store.deletePublication(first.id));
    await h.submit({ jobId: "job-new", markdown: protocol("Fresh", "- decision two") });
    const second = await recordIn(h, "job-new", "published");
    expect(second.pageId).toBe(first.pageId);
    expect(fired()).toBeGreaterThan(0);
    expect(pagesOfJob(h, "job-new")).toHaveLength(1);
    expect(pagesOfJob(h, "job-new")[0]!.versions).toHaveLength(2);
  });

  it("updates the same page with the next version when the protocol changes, and leaves it alone when it does not", async () => {
    const h = await open({ mode });
    await h.submit({ jobId: "job-b", markdown: protocol("Budget") });
    const first = await recordIn(h, "job-b", "published");
    await h.submit({ jobId: "job-b", markdown: protocol("Budget", "- decision two") });
    const second = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-b"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageVersion === 2
        ? r.value
        : undefined;
    });
    expect(second.pageId).toBe(first.pageId);
    expect(h.sandbox.state.page(first.pageId!)!.versions.at(-1)!.body).toContain("decision two");

    // The same content again (a new event id, a later time): no new version, no notification.
    const seq = await h.submit({ jobId: "job-b", markdown: protocol("Budget", "- decision two") });
    const third = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-b"));
      return r._tag === "Some" && r.value.streamSequence === seq && r.value.status === "published"
        ? r.value
        : undefined;
    });
    expect(h.sandbox.state.page(first.pageId!)!.versions).toHaveLength(2);
    expect(pagesOfJob(h, "job-b")).toHaveLength(1);
    // Statistics keep the publication's time and latency: nothing was published this time.
    expect(third.publishedAt).toBe(second.publishedAt);
    expect(third.latencyMs).toBe(second.latencyMs);
  });
});

describe("database outages", () => {
  it("keeps an event through an outage longer than its deliveries, and publishes it once the database is back", async () => {
    const lines: Array<string> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    // Two deliveries, a second apart: spent at once if every failed try were a delivery.
    const h = await open({
      database: "postgresql",
      logger,
      config: { nats: { max_deliver: 2, backoff_seconds: [1] } },
    });
    await h.pgAdmin(`ALTER DATABASE ${h.pgDatabase} ALLOW_CONNECTIONS false`);
    await h.pgAdmin(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${h.pgDatabase}' AND pid <> pg_backend_pid()`,
    );
    await h.submit({ jobId: "job-outage", markdown: protocol("Outage") });
    const tries = () => lines.filter((l) => l.includes("database unavailable")).length;
    await eventually(
      () => (tries() >= 4 ? true : undefined),
      30_000,
      "four tries while the database is down",
    );
    const info = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
    expect(info.num_redelivered).toBe(0);
    expect(info.num_ack_pending).toBe(1);

    await h.pgAdmin(`ALTER DATABASE ${h.pgDatabase} ALLOW_CONNECTIONS true`);
    const record = await recordIn(h, "job-outage", "published", 60_000);
    expect(record.attempts).toBe(1);
    expect(pagesOfJob(h, "job-outage")).toHaveLength(1);
    // Tried again because the database answered, not when its doubling wait ran out.
    const back = lines.find((l) => l.includes("the database answers again"));
    expect(back && JSON.parse(back)).toMatchObject({ waiting: 1 });
  });

  /**
   * Makes the database fail every write that moves a record to `status`, as a connection lost at
   * that moment does (SQLSTATE 08006), until `restore`; `refusals` counts the writes refused.
   */
  const refuseStatus = async (h: Harness, status: string) => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: PG_URL.replace(/\/[^/]*$/, `/${h.pgDatabase}`) });
    // The harness drops the database with (force) when a test fails: nothing to report then.
    client.on("error", () => undefined);
    await client.connect();
    await client.query(`
      create sequence refusals;
      create function refuse_status() returns trigger language plpgsql as $$
      begin
        if new.publication_status = '${status}' then
          perform nextval('refusals');
          raise exception 'connection lost (simulated)' using errcode = '08006';
        end if;
        return new;
      end $$;
      create trigger refuse_status before update on confluence_publications
        for each row execute function refuse_status();`);
    return {
      // A sequence, not a table: its count survives the rollback of the refused write.
      refusals: async () => {
        const r = await client.query(
          "select case when is_called then last_value else 0 end as n from refusals",
        );
        return Number((r.rows[0] as { n: string | number }).n);
      },
      restore: async () => {
        await client.query("drop trigger refuse_status on confluence_publications");
        await client.end();
      },
    };
  };

  /** The outcome events of a job stored so far, in order. */
  const storedOutcomes = async (h: Harness, jobId: string) => {
    const stream = `${h.config.nats.stream}_OUTCOMES`;
    const last = (await h.jsm.streams.info(stream)).state.last_seq;
    const all: Array<PublicationOutcome> = [];
    for (let seq = 1; seq <= last; seq++) {
      const m = await h.jsm.streams.getMessage(stream, { seq });
      if (m !== null) all.push(Schema.decodeSync(PublicationOutcomeJson)(m.string()));
    }
    return all.filter((o) => o.jobId === jobId);
  };

  it("keeps the message of a failed publication the database could not record, and records the failure with its reason once it can", async () => {
    const h = await open({ database: "postgresql" });
    const jobId = "job-unrecorded";
    // A final failure: Confluence refuses the write.
    h.sandbox.faults.add({ kind: "status", status: 403, method: "POST" });
    const db = await refuseStatus(h, "failed");
    await h.submit({ jobId, markdown: protocol("Unrecorded") });
    await eventually(
      async () => ((await db.refusals()) >= 1 ? true : undefined),
      30_000,
      "the refused write of the failure",
    );
    // The message is kept, not terminated: nothing else would come back to record the failure.
    const held = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
    expect(held.num_ack_pending).toBe(1);
    expect(held.num_redelivered).toBe(0);
    // Nothing is reported failed that the record does not say.
    expect((await storedOutcomes(h, jobId)).map((o) => o.outcome)).not.toContain("failed");
    expect((await Effect.runPromise(h.store.findByJob(jobId))).pipe(Option.map((r) => r.status))).toEqual(
      Option.some("publishing"),
    );

    // Tried again once the refused attempt's lease ran out (Confluence refuses again): recorded.
    await db.restore();
    const failed = await recordIn(h, jobId, "failed", 45_000);
    expect(failed.errorTag).toMatch(/Permission|Authentication/);
    expect(failed.errorMessage).toBeTruthy();
    expect(failed.attempts).toBe(2);
    await eventually(async () => {
      const info = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
      return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
    });
    const outcomes = await storedOutcomes(h, jobId);
    expect(outcomes.filter((o) => o.outcome === "failed")).toHaveLength(1);
    expect(pagesOfJob(h, jobId)).toHaveLength(0);
  }, 90_000);

  it("keeps an invalid event's message until the database records it rejected", async () => {
    const h = await open({ database: "postgresql" });
    const jobId = "job-bad-unrecorded";
    const db = await refuseStatus(h, "rejected");
    await h.publishRaw(
      protocolReadySubject(jobId, h.config.nats.subject_prefix),
      JSON.stringify({ jobId, markdown: "" }),
    );
    await eventually(
      async () => ((await db.refusals()) >= 2 ? true : undefined),
      30_000,
      "two refused writes of the rejection",
    );
    const held = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
    expect(held.num_ack_pending).toBe(1);
    expect(held.num_redelivered).toBe(0);
    expect((await storedOutcomes(h, jobId)).map((o) => o.outcome)).not.toContain("rejected");

    await db.restore();
    const rejected = await recordIn(h, jobId, "rejected", 30_000);
    expect(rejected.errorTag).toBe("EventRejectedError");
    expect(rejected.errorMessage).toContain("markdown: must not be empty");
    const outcomes = await storedOutcomes(h, jobId);
    expect(outcomes.filter((o) => o.outcome === "rejected")).toHaveLength(1);
  }, 60_000);
});

describe("an unresponsive Confluence", () => {
  it("stores the protocol and its record before Confluence answers, and publishes once it does", async () => {
    const h = await open();
    // Every request hangs, the first one (who am I) included.
    const hang = h.sandbox.faults.add({ kind: "hang" });
    await h.submit({ jobId: "job-hang", markdown: protocol("Hanging") });
    const record = await recordIn(h, "job-hang", "publishing");
    expect((await Effect.runPromise(h.store.getProtocol("job-hang")))._tag).toBe("Some");
    await eventually(() => (h.sandbox.faults.list().find((f) => f.id === hang)?.fired ?? 0) > 0 || undefined);
    h.sandbox.faults.clear(hang);
    const published = await recordIn(h, "job-hang", "published", 60_000);
    expect(published.id).toBe(record.id);
    expect(pagesOfJob(h, "job-hang")).toHaveLength(1);
  });
});

describe("stopping", () => {
  it("logs the messages it leaves in progress after the grace period, in the JSON log", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const h = await open({ logger, config: { publisher: { shutdown_grace_seconds: 0.2 } } });
    h.sandbox.faults.add({ kind: "hang" });
    const streamSequence = await h.submit({ jobId: "job-left", markdown: protocol("Left behind") });
    await recordIn(h, "job-left", "publishing");
    await h.stopPublishers();
    const left = lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("stopped with 1 message"));
    expect(left).toMatchObject({
      level: 40,
      msg: "stopped with 1 message still in progress after the shutdown grace period; JetStream delivers them again after the ack wait",
      inProgress: `${protocolReadySubject("job-left", h.config.nats.subject_prefix)} #${streamSequence}`,
    });
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["stopping", "publisher stopped"]));
  });
});

/** How many connections the sandbox has open now (the publishers' are the only ones). */
const sandboxConnections = (h: Harness) =>
  new Promise<number>((resolve, reject) =>
    h.sandbox.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );

describe("what a stop ends", () => {
  it("closes the Confluence client: no connection to Confluence stays open", async () => {
    const h = await open();
    await h.submit({ jobId: "job-sockets", markdown: protocol("Sockets") });
    await recordIn(h, "job-sockets", "published");
    expect(await sandboxConnections(h)).toBeGreaterThan(0);
    await h.stopPublishers();
    // Well within the client's keep-alive (30 s), which a client left open would wait for.
    await eventually(
      async () => ((await sandboxConnections(h)) === 0 ? true : undefined),
      5_000,
      "the publisher's connections to the sandbox to close",
    );
  });

  it("interrupts a message still running after the grace period: the stopped publisher writes no page", async () => {
    const h = await open({ config: { publisher: { shutdown_grace_seconds: 0.5 } } });
    // Alone on the consumer, so the test holds the publisher the message reaches.
    await h.stopPublishers();
    const publisher = await h.startPublisher();
    const limited = h.sandbox.faults.add({
      kind: "rateLimit",
      method: "POST",
      path: "/pages$",
      times: 1,
      retryAfter: 4,
    });
    await h.submit({ jobId: "job-interrupted", markdown: protocol("Interrupted") });
    // Fired (a rule is gone once its `times` are spent): the message now waits out the
    // Retry-After, longer than the grace period.
    await eventually(() => (h.sandbox.faults.list().some((f) => f.id === limited) ? undefined : true));
    const pages = h.sandbox.state.pages("MEETINGS").length;
    await publisher.stop();
    // Nothing is left running that could create its pages (year, month, protocol) once the
    // Retry-After has passed: the stop interrupted the handling and waited for it to end.
    expect(publisher.inFlight()).toBe(0);
    expect(h.sandbox.state.pages("MEETINGS")).toHaveLength(pages);
    expect(pagesOfJob(h, "job-interrupted")).toHaveLength(0);
    // Left as the stop found it, for the next delivery.
    const record = await Effect.runPromise(h.store.findByJob("job-interrupted"));
    expect(Option.getOrThrow(record).status).toBe("publishing");
  });
});

describe("what a stop ends: commands", () => {
  it("interrupts an archive run and an index refresh still running: they neither answer nor go on after it", async () => {
    const h = await open({
      config: {
        publisher: { shutdown_grace_seconds: 0.2 },
        confluence: { timeout: 60, advanced_settings: { create_index_page: true } },
      },
    });
    // Alone on the queue groups, with its Confluence client built by a publication.
    await h.stopPublishers();
    const publisher = await h.startPublisher();
    await h.submit({ jobId: "job-old", markdown: "# Old\n\nDate: 2020-03-04\n\n- item" });
    await recordIn(h, "job-old", "published");
    await eventually(() => (publisher.inFlight() === 0 ? true : undefined), 10_000, "the publication to end");
    // The next two Confluence requests hang (until the client's 60 s timeout): one per command.
    const hang = h.sandbox.faults.add({ kind: "hang", times: 2 });
    const inbox = createInbox();
    const replies = h.nc.subscribe(inbox);
    let answered = 0;
    void (async () => {
      for await (const _ of replies) answered++;
    })();
    const prefix = h.config.nats.subject_prefix;
    h.nc.publish(archiveRunSubject(prefix), JSON.stringify({ olderThanDays: 30 }), { reply: inbox });
    h.nc.publish(indexRefreshSubject(prefix), JSON.stringify({ spaceKey: "MEETINGS", parentPageId: null }), {
      reply: inbox,
    });
    // Both wait on Confluence (a rule is gone once its `times` are spent).
    await eventually(
      () => (h.sandbox.faults.list().some((f) => f.id === hang) ? undefined : true),
      10_000,
      "both commands to be waiting on Confluence",
    );
    const before = JSON.stringify(h.sandbox.state.pages("MEETINGS"));
    const stopping = Date.now();
    await publisher.stop();
    // Interrupted, their requests were aborted: the stop did not wait for the client's 60 s
    // timeout (closing the client waits for requests still open).
    expect(Date.now() - stopping).toBeLessThan(30_000);
    // A handler left running would answer once its request failed (the client's close waits for
    // it) and record the archive's failure; the stop interrupted both and waited for them. Any
    // answer sent before the stop ended has arrived after this round trip.
    await h.nc.flush();
    expect(answered).toBe(0);
    expect(await sandboxConnections(h)).toBe(0);
    expect(JSON.stringify(h.sandbox.state.pages("MEETINGS"))).toBe(before);
    const record = await Effect.runPromise(h.store.findByJob("job-old"));
    expect(Option.getOrThrow(record).status).toBe("published");
    replies.unsubscribe();
  });
});

describe("render threads", () => {
  it("publish the pages rendering on the event loop would, converted on worker threads", async () => {
    const jobs = ["job-t1", "job-t2", "job-t3"];
    const bodies = async (threads: number) => {
      const h = await open({ config: { publisher: { render_threads: threads } } });
      await Promise.all(
        jobs.map((jobId, i) =>
          h.submit({ jobId, markdown: protocol(`Board ${i}`, `| a | b |\n| - | - |\n| ${i} | x |`) }),
        ),
      );
      const pages = [];
      for (const jobId of jobs) {
        await recordIn(h, jobId, "published");
        const page = pagesOfJob(h, jobId)[0]!;
        const version = page.versions[page.versions.length - 1]!;
        // Without what differs from run to run: the macro ids Confluence assigns, and the metadata
        // (its hash covers the event time).
        const body = version.body
          .replace(/ ac:macro-id="[^"]*"/g, "")
          .replace(/<ac:structured-macro ac:name="expand".*Publication metadata.*$/s, "");
        pages.push({ title: version.title, body });
      }
      return pages;
    };
    const threaded = await bodies(2);
    expect(threaded.map((p) => p.title)).toEqual([
      "20250902 - Board 0",
      "20250902 - Board 1",
      "20250902 - Board 2",
    ]);
    expect(threaded[1]?.body).toContain("<table");
    expect(threaded).toEqual(await bodies(0));
  });
});

describe("a protocol too slow to convert", () => {
  // Valid Markdown that takes the converter time growing with the square of its length: 80 KB of
  // it would take minutes. Every run of "*" or "_" is one character long, so the delimiter-run
  // check lets it through.
  const slow = "*_".repeat(40_000);

  /** The job's failed record and its outcomes, once the timeout is recorded. */
  const timedOut = async (h: Harness, jobId: string) => {
    const record = await recordIn(h, jobId, "failed", 30_000);
    expect(record.errorTag).toBe("RenderTimeoutError");
    expect(record.errorMessage).toContain("Converting the protocol (78 KB of Markdown) took longer than 2 s");
    expect(record.errorMessage).toContain("slow to convert");
    expect(record.errorMessage).toContain("send it again");
    const outcomes = await outcomesUntil(h, jobId, (o) => o.outcome === "failed");
    expect(outcomes.map((o) => [o.outcome, o.errorTag])).toEqual([["failed", "RenderTimeoutError"]]);
    expect(outcomes[0]?.publicationId).toBe(record.id);
    // Terminated, not redelivered up to max_deliver.
    await eventually(
      async () =>
        (await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer)).num_ack_pending === 0
          ? true
          : undefined,
      10_000,
      "every message to be answered",
    );
    expect((await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer)).num_redelivered).toBe(
      0,
    );
    expect(pagesOfJob(h, jobId)).toHaveLength(0);
    return record;
  };

  it("with render_threads 0, is stopped at the deadline on a thread and fails, while the event loop publishes other jobs", async () => {
    const h = await open({ config: { publisher: { render_threads: 0, render_timeout_seconds: 2 } } });
    await h.submit({ jobId: "job-slow", markdown: slow });
    await h.submit({ jobId: "job-quick", markdown: protocol("Quick") });
    const quick = await recordIn(h, "job-quick", "published");
    const failed = await timedOut(h, "job-slow");
    // Published while the slow protocol was still converting: the event loop was free.
    expect(Date.parse(quick.publishedAt!)).toBeLessThan(Date.parse(failed.updatedAt));
  });

  it("with render_threads 1, stops the thread at the deadline, fails only that protocol, and renders the next ones on a new thread", async () => {
    const h = await open({ config: { publisher: { render_threads: 1, render_timeout_seconds: 2 } } });
    await h.submit({ jobId: "job-slow", markdown: slow });
    // Waits behind the slow one on the only thread, then goes on with its replacement.
    await h.submit({ jobId: "job-queued", markdown: protocol("Queued") });
    await timedOut(h, "job-slow");
    await recordIn(h, "job-queued", "published");
    await h.submit({ jobId: "job-later", markdown: protocol("Later") });
    await recordIn(h, "job-later", "published");
    expect(pagesOfJob(h, "job-later")).toHaveLength(1);
  });
});

describe("a protocol without a meeting date", () => {
  it("keeps the date its page has when it is sent again on later days: same title, same place, no new version for the same text", async () => {
    const h = await open();
    const undated = (body: string) => `# Standup\n\n## Notes\n${body}\n`;
    const event = { jobId: "job-undated", filename: "standup.md" };
    await h.submit({ ...event, markdown: undated("- one"), occurredAt: "2025-11-20T10:00:00Z" });
    const first = await recordIn(h, "job-undated", "published");
    const page = h.sandbox.state.page(first.pageId!)!;
    const title = page.versions.at(-1)!.title;
    expect(title).toContain("20251120");
    const parent = page.parentId;

    // The same text, sent the next day: nothing to write.
    const resent = await h.submit({
      ...event,
      markdown: undated("- one"),
      occurredAt: "2025-11-21T10:00:00Z",
    });
    const second = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-undated"));
      return r._tag === "Some" && r.value.streamSequence === resent && r.value.status === "published"
        ? r.value
        : undefined;
    });
    expect(second.pageTitle).toBe(title);
    expect(second.meetingDate).toBe(first.meetingDate);
    expect(h.sandbox.state.page(first.pageId!)!.versions).toHaveLength(1);

    // Changed text two days later: the next version, under the same title and parent.
    await h.submit({ ...event, markdown: undated("- one\n- two"), occurredAt: "2025-11-22T10:00:00Z" });
    await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-undated"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageVersion === 2
        ? r.value
        : undefined;
    });
    const updated = h.sandbox.state.page(first.pageId!)!;
    expect(updated.versions.at(-1)!.title).toBe(title);
    expect(updated.versions.at(-1)!.body).toContain("two");
    expect(updated.parentId).toBe(parent);
    expect(pagesOfJob(h, "job-undated")).toHaveLength(1);
  });
});

describe("latency", () => {
  it("is measured from when Minutes received the event, not from the sender's occurredAt", async () => {
    const h = await open();
    const before = Date.now();
    await h.submit({ jobId: "job-late", markdown: protocol("Resent"), occurredAt: "2020-01-02T03:04:05Z" });
    const record = await recordIn(h, "job-late", "published");
    expect(record.latencyMs).not.toBeNull();
    // JetStream stamps the message on this machine's clock, after `before`.
    expect(record.latencyMs!).toBeLessThanOrEqual(Date.now() - before + 1);
  });
});

describe("debug logging", () => {
  /** Publishes a job, then the same protocol again (unchanged), logging at `level`; returns the parsed lines. */
  const publishTwice = async (level: string) => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const h = await open({ logger });
    // One GET answers 503 first: its retry is logged as retry 1.
    h.sandbox.faults.add({ kind: "status", status: 503, method: "GET", times: 1 });
    await h.submit({ jobId: "job-debug", markdown: protocol("Debugged"), labels: ["Ops Review"] });
    const record = await recordIn(h, "job-debug", "published");
    await h.submit({ jobId: "job-debug", markdown: protocol("Debugged"), labels: ["Ops Review"] });
    await eventually(() => (lines.some((l) => l.msg === "page unchanged") ? true : undefined));
    return { h, lines, record };
  };

  it("with logging.level debug, logs each Confluence request and the pipeline's decisions, never a secret", async () => {
    const { h, lines, record } = await publishTwice("debug");
    const debug = lines.filter((l) => l.level === 20);
    const requests = debug.filter((l) => l.msg === "Confluence request");
    assert(requests.length >= 4, `only ${requests.length} request lines`);
    for (const r of requests) {
      expect(r).toMatchObject({
        method: expect.any(String),
        path: expect.any(String),
        retry: expect.any(Number),
      });
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
      expect(String(r.path)).not.toContain("?");
      // Every line of the message carries its stream sequence and delivery.
      expect(r).toMatchObject({ streamSequence: expect.any(Number), attempt: 1 });
    }
    const failed = requests.find((r) => r.status === 503);
    expect(failed).toMatchObject({ method: "GET", retry: 0 });
    expect(requests).toContainEqual(expect.objectContaining({ path: failed?.path, status: 200, retry: 1 }));

    const one = (msg: string) => debug.filter((l) => l.msg === msg);
    expect(one("route and title decided")[0]).toMatchObject({
      jobId: "job-debug",
      spaceKey: "MEETINGS",
      parentPageId: "none",
      rule: "none",
      eventRoute: false,
      labels: "meeting-protocol, auto-generated, ops-review",
      title: "20250902 - Debugged",
      meetingDate: "2025-09-02",
    });
    expect(one("page lookup").map((l) => [l.lookup, l.pageId])).toEqual([
      ["new", "none"],
      ["own", record.pageId],
    ]);
    expect(one("page placement")[0]).toMatchObject({ jobId: "job-debug", move: false });
    expect(one("page up to date; nothing written")).toEqual([
      expect.objectContaining({
        jobId: "job-debug",
        pageId: record.pageId,
        pageVersion: 1,
        reason: expect.stringContaining("content hash and title are those of version 1"),
      }),
    ]);

    const text = JSON.stringify(lines);
    const { email, token } = h.sandbox.user;
    for (const secret of [token, Buffer.from(`${email}:${token}`).toString("base64"), "Basic ", "Bearer "])
      expect(text).not.toContain(secret);
  });

  it("at info, logs none of the debug lines", async () => {
    const { lines } = await publishTwice("info");
    expect(lines.filter((l) => l.msg === "page published" || l.msg === "page unchanged")).toHaveLength(2);
    expect(lines.filter((l) => (l.level as number) < 30)).toEqual([]);
  });
});

describe("routing a job to another space", () => {
  it.each(["cloud", "datacenter"] as const)(
    "gives the job a page in the new space and moves its old page to the trash (%s)",
    async (mode) => {
      const h = await open({ mode, spaces: ["MEETINGS", "TEAM"] });
      await h.submit({ jobId: "job-moving", markdown: protocol("Moving") });
      const first = await recordIn(h, "job-moving", "published");
      await h.submit({
        jobId: "job-moving",
        markdown: protocol("Moving", "- now for TEAM"),
        spaceKey: "TEAM",
      });
      const moved = await eventually(async () => {
        const r = await recordIn(h, "job-moving", "published");
        return r.spaceKey === "TEAM" ? r : undefined;
      });
      expect(moved.pageId).not.toBe(first.pageId);
      const inTeam = h.sandbox.state.pages("TEAM").filter((p) => p.id === moved.pageId);
      expect(inTeam).toHaveLength(1);
      expect(inTeam[0]!.versions.at(-1)!.body).toContain("now for TEAM");
      expect(h.sandbox.state.page(first.pageId!)!.status).toBe("trashed");
      expect(pagesOfJob(h, "job-moving")).toHaveLength(0); // none left current in MEETINGS
    },
  );
});

describe("page identity", () => {
  it("gives the later of two jobs with colliding titles its own page with a deterministic suffix", async () => {
    const h = await open();
    await h.submit({ jobId: "job-one", markdown: protocol("Weekly") });
    await recordIn(h, "job-one", "published");
    await h.submit({ jobId: "job-two", markdown: protocol("Weekly") });
    const second = await recordIn(h, "job-two", "published");
    expect(second.pageTitle).toBe("20250902 - Weekly (job-two)");
    expect(pagesOfJob(h, "job-one")).toHaveLength(1);
    expect(pagesOfJob(h, "job-two")).toHaveLength(1);
    // Republishing the first job still finds its own page, not the other one.
    await h.submit({ jobId: "job-one", markdown: protocol("Weekly", "- changed") });
    await eventually(() => (pagesOfJob(h, "job-one")[0]?.versions.length === 2 ? true : undefined));
    expect(pagesOfJob(h, "job-two")[0]!.versions).toHaveLength(1);

    // The second job keeps its own title when its content changes (its plain title is still taken).
    await h.submit({ jobId: "job-two", markdown: protocol("Weekly", "- changed too") });
    const updated = await eventually(async () => {
      const r = await recordIn(h, "job-two", "published");
      return r.pageVersion === 2 ? r : undefined;
    });
    expect(updated.pageTitle).toBe("20250902 - Weekly (job-two)");
    expect(updated.attempts).toBe(2);
    // A new topic that is free becomes the plain title; back to the taken one, the suffix returns.
    await h.submit({ jobId: "job-two", markdown: protocol("Weekly retro") });
    await eventually(async () => (await recordIn(h, "job-two", "published")).pageVersion === 3 || undefined);
    expect(pagesOfJob(h, "job-two")[0]!.versions.at(-1)!.title).toBe("20250902 - Weekly retro");
    await h.submit({ jobId: "job-two", markdown: protocol("Weekly", "- back") });
    await eventually(async () => (await recordIn(h, "job-two", "published")).pageVersion === 4 || undefined);
    expect(pagesOfJob(h, "job-two")[0]!.versions.at(-1)!.title).toBe("20250902 - Weekly (job-two)");
    expect(pagesOfJob(h, "job-two")).toHaveLength(1);
    expect(pagesOfJob(h, "job-one")[0]!.versions.at(-1)!.title).toBe("20250902 - Weekly");
  });

  it("fails naming both pages when a person holds the title and its job-specific variant", async () => {
    const h = await open();
    const spaceId = String(h.sandbox.state.spaces().find((s) => s.key === "MEETINGS")!.id);
    const create = async (title: string) => {
      const res = await restAsPerson(h, "POST", "/api/v2/pages", {
        spaceId,
        status: "current",
        title,
        body: { representation: "storage", value: "<p>a person's page</p>" },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      return ((await res.json()) as { id: string }).id;
    };
    const plain = await create("20250902 - Taken");
    const suffixed = await create("20250902 - Taken (job-taken)");
    await h.submit({ jobId: "job-taken", markdown: protocol("Taken") });
    const record = await recordIn(h, "job-taken", "failed");
    expect(record).toMatchObject({
      errorTag: "TitleTakenError",
      errorMessage: `The title "20250902 - Taken" is taken in space MEETINGS by page ${plain}, and "20250902 - Taken (job-taken)" by page ${suffixed}, which other jobs or people own.`,
    });
  });

  it("leaves alone a page its record names that is not the job's, and gives the job a page of its own", async () => {
    const h = await open();
    await h.submit({ jobId: "job-site", markdown: protocol("Site") });
    const first = await recordIn(h, "job-site", "published");
    // The record names a person's page at the version it recorded, as when the database was used
    // with another Confluence (whose pages are numbered alike) or restored from another site.
    const foreign = await createAsPerson(h, "Alice's important page");
    await Effect.runPromise(h.store.transition(first.id, "pending", { pageId: foreign, pageVersion: 1 }));
    await h.submit({ jobId: "job-site", markdown: protocol("Site", "- decision two") });
    const second = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-site"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageId !== foreign
        ? r.value
        : undefined;
    });
    const alice = h.sandbox.state.page(foreign)!;
    expect(alice.versions).toHaveLength(1);
    expect(alice.versions[0]!.title).toBe("Alice's important page");
    expect(alice.properties.map((p) => p.key)).not.toContain("minutes.job");
    expect(second.pageId).not.toBe(foreign);
    expect(h.sandbox.state.page(second.pageId!)!.versions.at(-1)!.body).toContain("decision two");
  });

  it("takes over the page the original integration published for the job (its imported mapping)", async () => {
    const h = await open();
    // The original integration's page, which a person has edited since (version 2).
    const legacy = await createAsPerson(h, "20250902 - Legacy");
    h.sandbox.state.page(legacy)!.versions.push({ ...h.sandbox.state.page(legacy)!.versions[0]!, number: 2 });
    const { lines } = originalImportLines([
      {
        id: 7,
        job_id: "job-legacy",
        confluence_page_id: legacy,
        confluence_page_url: `${h.sandbox.baseUrl}/pages/${legacy}`,
        confluence_space_key: "MEETINGS",
        parent_page_id: null,
        page_title: "20250902 - Legacy",
        publication_status: "published",
        created_at: "2025-09-02 10:00:00",
        updated_at: "2025-09-02 10:00:00",
        error_message: null,
        retry_count: 0,
        last_retry_at: null,
      },
    ]);
    await Effect.runPromise(h.store.importJsonl(Stream.fromIterable(lines)));
    await h.submit({ jobId: "job-legacy", markdown: protocol("Legacy", "- decided in Minutes") });
    const published = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-legacy"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageVersion !== null
        ? r.value
        : undefined;
    });
    // The same page, updated, and from now on provably the job's.
    expect(published.pageId).toBe(legacy);
    expect(pagesOfJob(h, "job-legacy").map((p) => p.id)).toEqual([legacy]);
    expect(h.sandbox.state.page(legacy)!.versions.at(-1)!.body).toContain("decided in Minutes");
    expect(
      h.sandbox.state
        .pages("MEETINGS")
        .filter((p) => p.status === "current" && p.versions.at(-1)!.title.includes("Legacy")),
    ).toHaveLength(1);
  });

  it("keeps a message alive while it waits for a free slot, so a slow Confluence does not get it handled twice", async () => {
    const h = await open({ config: { nats: { concurrency: 1, ack_wait_seconds: 1 } } });
    // The first job's page takes longer to create than the ack wait; the second job's message
    // waits for the one slot meanwhile.
    h.sandbox.faults.add({ kind: "latency", latencyMs: 2_500, method: "POST", path: "/pages$", times: 1 });
    await h.submit({ jobId: "job-slow", markdown: protocol("Slow") });
    await h.submit({ jobId: "job-next", markdown: protocol("Next") });
    const next = await recordIn(h, "job-next", "published");
    await eventually(async () =>
      (await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer)).num_ack_pending === 0
        ? true
        : undefined,
    );
    const after = await Effect.runPromise(h.store.get(next.id));
    // Handled once: a second delivery would have claimed it again.
    expect(after.attempts).toBe(1);
    expect(pagesOfJob(h, "job-next")[0]!.versions).toHaveLength(1);
  });

  it("creates at most one page when the same event is delivered twice at once", async () => {
    const h = await open();
    const event = { jobId: "job-dup", markdown: protocol("Twice"), occurredAt: "2025-09-02T10:00:00Z" };
    await Promise.all([h.submit(event), h.submit(event), h.submit(event)]);
    await recordIn(h, "job-dup", "published");
    await eventually(async () =>
      (await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer)).num_ack_pending === 0
        ? true
        : undefined,
    );
    expect(pagesOfJob(h, "job-dup")).toHaveLength(1);
    expect(pagesOfJob(h, "job-dup")[0]!.versions).toHaveLength(1);
  });

  it.each(["claimed", "page-written", "property-written", "labels-written", "recorded"] as const)(
    "recovers from a crash after step %s with exactly one page and one published record",
    async (step) => {
      const h = await open();
      // Alone on the consumer: the message must reach the publisher that crashes.
      await h.stopPublishers();
      let crashed = false;
      const crashing = await h.startPublisher({
        afterStep: (s: PipelineStep) =>
          s === step && !crashed
            ? Effect.sync(() => (crashed = true)).pipe(Effect.zipRight(Effect.die("simulated crash")))
            : Effect.void,
      });
      const jobId = `job-crash-${step}`;
      const outcomes = outcomesUntil(h, jobId, (o) => o.outcome !== "failed");
      await h.submit({ jobId, markdown: protocol(`Crash ${step}`) });
      await recordIn(h, jobId, "published");
      expect(crashed).toBe(true);
      // The publication the crash cut short is reported as what it was (after a crash after
      // recording, by the message's next delivery), and is in the history.
      const reported = (await outcomes).at(-1);
      await crashing.stop();
      expect(pagesOfJob(h, jobId)).toHaveLength(1);
      const page = pagesOfJob(h, jobId)[0]!;
      expect(page.versions).toHaveLength(1);
      const records = await Effect.runPromise(h.store.listByJob(jobId));
      expect(records).toHaveLength(1);
      expect(reported).toMatchObject({
        outcome: "published",
        pageId: page.id,
        pageVersion: 1,
      });
      const versions = await Effect.runPromise(h.store.listVersions(jobId));
      expect(versions.map((v) => [v.pageId, v.pageVersion])).toEqual([[page.id, 1]]);
    },
  );
});

describe("a message JetStream gives up on", () => {
  it("fails the job's record, saying why, when every delivery crashed, and sends a failed outcome", async () => {
    const h = await open();
    // Alone on the consumer: every delivery reaches the publisher that crashes.
    await h.stopPublishers();
    const crashing = await h.startPublisher({
      afterStep: (s: PipelineStep) => (s === "claimed" ? Effect.die("simulated crash") : Effect.void),
    });
    const sequence = await h.submit({ jobId: "job-poison", markdown: protocol("Poison") });
    const outcomes = outcomesUntil(h, "job-poison", (o) => o.outcome === "failed");
    const record = await recordIn(h, "job-poison", "failed", 60_000);
    const maxDeliver = h.config.nats.max_deliver;
    const expected = `Gave up after ${maxDeliver} deliveries of stream message ${sequence}: none of them finished (the publisher stopped while handling it, or it ran longer than the ack wait; see the publishers' logs). Retry the publication, or send the protocol again.`;
    expect(record).toMatchObject({ errorTag: "DeliveriesExhaustedError", errorMessage: expected });
    expect((await outcomes).at(-1)).toMatchObject({
      outcome: "failed",
      publicationId: record.id,
      errorTag: "DeliveriesExhaustedError",
      errorMessage: expected,
    });
    await crashing.stop();
  }, 60_000);
});

describe("a max-deliveries advisory", () => {
  /** Stores JetStream's advisory for stream message `seq` in the gave-up stream, as the server would. */
  const adviseGaveUp = async (h: Harness, seq: number) => {
    const { stream, consumer } = h.config.nats;
    await h.js.publish(
      maxDeliveriesAdvisorySubject(stream, consumer),
      JSON.stringify({
        type: "io.nats.jetstream.advisory.v1.max_deliver",
        stream,
        consumer,
        stream_seq: seq,
        deliveries: 4,
      }),
    );
  };
  /** Waits until a publisher has handled every stored advisory (a work queue: handled ones go). */
  const advisoriesHandled = (h: Harness) =>
    eventually(async () => {
      const stream = gaveUpStreamName(h.config.nats.stream);
      const info = await h.jsm.consumers.info(stream, gaveUpConsumerName(h.config.nats));
      const { messages } = (await h.jsm.streams.info(stream)).state;
      return messages === 0 && info.num_ack_pending === 0 ? true : undefined;
    });
  /** Every outcome of the job sent so far, in order. */
  const outcomesOf = async (h: Harness, jobId: string) => {
    const stream = `${h.config.nats.stream}_OUTCOMES`;
    const last = (await h.jsm.streams.info(stream)).state.last_seq;
    const all: Array<PublicationOutcome> = [];
    for (let seq = 1; seq <= last; seq++) {
      const m = await h.jsm.streams.getMessage(stream, { seq });
      if (m !== null) all.push(Schema.decodeSync(PublicationOutcomeJson)(m.string()));
    }
    return all.filter((o) => o.jobId === jobId);
  };
  /** Takes the next message off the publishers' consumer, as a publisher that then died would have. */
  const takeNext = async (h: Harness) => {
    const consumer = await h.js.consumers.get(h.config.nats.stream, h.config.nats.consumer);
    const m = await consumer.next({ expires: 5_000 });
    if (m === null) throw new Error("no message to take");
    await m.ackAck();
    return m.seq;
  };

  it("is recorded when it came while no publisher ran", async () => {
    const h = await open();
    await h.stopPublishers();
    const sequence = await h.submit({ jobId: "job-unheard", markdown: protocol("Unheard") });
    expect(await takeNext(h)).toBe(sequence);
    await adviseGaveUp(h, sequence);
    await h.startPublisher();
    const record = await recordIn(h, "job-unheard", "failed");
    expect(record.errorTag).toBe("DeliveriesExhaustedError");
    expect(record.errorMessage).toContain(`Gave up after 4 deliveries of stream message ${sequence}`);
    await advisoriesHandled(h);
  });

  it("of a replay's command gives the failed outcome the replay's id, so the replay counts it", async () => {
    const h = await open();
    await h.stopPublishers();
    const jobId = "job-replayed";
    const sequence = await h.publishRaw(
      publishRequestedSubject(jobId, h.config.nats.subject_prefix),
      JSON.stringify({
        jobId,
        trigger: "replay",
        replayId: "replay-7",
        requestedAt: new Date().toISOString(),
      }),
    );
    expect(await takeNext(h)).toBe(sequence);
    const outcomes = outcomesUntil(h, jobId, (o) => o.outcome === "failed");
    await adviseGaveUp(h, sequence);
    await h.startPublisher();
    expect((await outcomes).at(-1)).toMatchObject({
      outcome: "failed",
      trigger: "replay",
      replayId: "replay-7",
      errorTag: "DeliveriesExhaustedError",
    });
  });

  it("leaves a job published from that message as it is (its last delivery died after recording)", async () => {
    const h = await open();
    const sequence = await h.submit({ jobId: "job-recorded", markdown: protocol("Recorded") });
    const published = await recordIn(h, "job-recorded", "published");
    await adviseGaveUp(h, sequence);
    await advisoriesHandled(h);
    const after = await Effect.runPromise(h.store.get(published.id));
    expect(after.status).toBe("published");
    expect(after.errorTag).toBeNull();
    expect((await outcomesOf(h, "job-recorded")).map((o) => o.outcome)).toEqual(["published"]);
  });

  it("leaves a job with a later message to that message", async () => {
    const h = await open();
    await h.stopPublishers();
    const first = await h.submit({ jobId: "job-later", markdown: protocol("Later", "- first") });
    await h.submit({ jobId: "job-later", markdown: protocol("Later", "- second") });
    expect(await takeNext(h)).toBe(first);
    await adviseGaveUp(h, first);
    await h.startPublisher();
    await recordIn(h, "job-later", "published");
    await advisoriesHandled(h);
    expect((await outcomesOf(h, "job-later")).map((o) => o.outcome)).toEqual(["published"]);
    expect(h.sandbox.state.page(pagesOfJob(h, "job-later")[0]!.id)!.versions.at(-1)!.body).toContain(
      "second",
    );
  });
});

describe("pages a person trashed or archived", () => {
  it.each(["cloud", "datacenter"] as const)(
    "gives the job a new page when its page goes to the trash while its update is on the way (%s)",
    async (mode) => {
      const h = await open({ mode });
      await h.submit({ jobId: "job-binned", markdown: protocol("Binned") });
      const first = await recordIn(h, "job-binned", "published");
      const oldId = first.pageId!;
      // The update is held up on its way; meanwhile a person moves the page to the trash.
      const held = h.sandbox.faults.add({
        kind: "latency",
        latencyMs: 1_500,
        method: "PUT",
        path: mode === "cloud" ? `/pages/${oldId}$` : `/content/${oldId}$`,
        times: 1,
      });
      await h.submit({ jobId: "job-binned", markdown: protocol("Binned", "- decision two") });
      await eventually(
        // A rule that has fired its last time leaves the list.
        () => (h.sandbox.faults.list().some((f) => f.id === held) ? undefined : true),
        10_000,
        "the update to be held",
      );
      const trashed = await restAsPerson(
        h,
        "DELETE",
        mode === "cloud" ? `/api/v2/pages/${oldId}` : `/rest/api/content/${oldId}`,
      );
      expect(trashed.status).toBe(204);
      const second = await eventually(async () => {
        const r = await Effect.runPromise(h.store.findByJob("job-binned"));
        return r._tag === "Some" && r.value.status === "published" && r.value.pageId !== oldId
          ? r.value
          : undefined;
      });
      // The page stays where the person put it, unwritten (Cloud's update would have restored it) ...
      const old = h.sandbox.state.page(oldId)!;
      expect(old.status).toBe("trashed");
      expect(old.versions).toHaveLength(1);
      // ... and the job has one current page again, with the new protocol.
      const pages = pagesOfJob(h, "job-binned");
      expect(pages.map((p) => p.id)).toEqual([second.pageId]);
      expect(pages[0]!.versions.at(-1)!.body).toContain("decision two");
    },
  );

  it("takes the job-specific title when an archived page holds the plain one (Cloud)", async () => {
    const h = await open();
    const shelved = await createAsPerson(h, "20250902 - Shelved");
    await archiveAsPerson(h, shelved);
    await h.submit({ jobId: "job-shelved", markdown: protocol("Shelved") });
    const record = await recordIn(h, "job-shelved", "published");
    expect(record.pageTitle).toBe("20250902 - Shelved (job-shelved)");
    expect(pagesOfJob(h, "job-shelved")).toHaveLength(1);
    expect(h.sandbox.state.page(shelved)!.status).toBe("archived");
    expect(h.sandbox.state.page(shelved)!.versions).toHaveLength(1);
  });

  it("files under the year page named after its tree when an archived page holds the plain year title (Cloud)", async () => {
    const h = await open();
    // An archived "2025" right where the year page would go (under the space homepage).
    const shelved = await createAsPerson(h, "2025");
    await archiveAsPerson(h, shelved);
    await h.submit({ jobId: "job-year", markdown: protocol("Year") });
    const record = await recordIn(h, "job-year", "published");
    const month = h.sandbox.state.page(h.sandbox.state.page(record.pageId!)!.parentId!)!;
    const year = h.sandbox.state.page(month.parentId!)!;
    expect([year.versions.at(-1)!.title, month.versions.at(-1)!.title]).toEqual([
      "2025 (MEETINGS)",
      "2025-09",
    ]);
    expect(year.status).toBe("current");
    expect(h.sandbox.state.page(shelved)!.status).toBe("archived");
  });

  it("says a job's own archived page holds its title when the job's record is lost, and makes no second page (Cloud)", async () => {
    const h = await open();
    await h.submit({ jobId: "job-archived", markdown: protocol("Archived") });
    const first = await recordIn(h, "job-archived", "published");
    await archiveAsPerson(h, first.pageId!);
    await Effect.runPromise(h.store.deletePublication(first.id));
    await h.submit({ jobId: "job-archived", markdown: protocol("Archived", "- decision two") });
    const failed = await recordIn(h, "job-archived", "failed");
    expect(failed.errorTag).toBe("PageArchivedError");
    expect(failed.errorMessage).toContain(`Page ${first.pageId} is archived in Confluence`);
    const marked = h.sandbox.state
      .pages("MEETINGS")
      .filter((p) =>
        p.properties.some(
          (prop) => prop.key === "minutes.job" && (prop.value as { jobId?: string }).jobId === "job-archived",
        ),
      );
    expect(marked.map((p) => p.id)).toEqual([first.pageId]);
  });
});

describe("manual edits", () => {
  it("names the person who edited the page by name on Data Center, not by user key", async () => {
    const h = await open({ mode: "datacenter" });
    await h.submit({ jobId: "job-edit-dc", markdown: protocol("Edited DC") });
    const record = await recordIn(h, "job-edit-dc", "published");
    await editAsPerson(h, record.pageId!);
    await h.submit({ jobId: "job-edit-dc", markdown: protocol("Edited DC", "- our change") });
    const failed = await recordIn(h, "job-edit-dc", "failed");
    expect(failed.errorTag).toBe("ManualEditError");
    expect(failed.errorMessage).toContain("edited in Confluence by A. Person (");
  });

  it("does not overwrite a page a person edited, and says why", async () => {
    const h = await open();
    await h.submit({ jobId: "job-edit", markdown: protocol("Edited") });
    const record = await recordIn(h, "job-edit", "published");
    await editAsPerson(h, record.pageId!);
    await h.submit({ jobId: "job-edit", markdown: protocol("Edited", "- our change") });
    const failed = await recordIn(h, "job-edit", "failed");
    expect(failed.errorTag).toBe("ManualEditError");
    expect(failed.errorMessage).toContain("edited in Confluence by");
    expect(h.sandbox.state.page(record.pageId!)!.versions.at(-1)!.body).toContain("edited by a person");
    expect(failed.errorMessage).toContain("publish with force=true");

    // What the message says works: a forced publication overwrites this page's edit.
    await h.publishRaw(
      publishRequestedSubject("job-edit", h.config.nats.subject_prefix),
      JSON.stringify({
        jobId: "job-edit",
        trigger: "retry",
        force: true,
        requestedAt: new Date().toISOString(),
      }),
    );
    const forced = await recordIn(h, "job-edit", "published");
    expect(forced.pageVersion).toBe(3);
    expect(h.sandbox.state.page(record.pageId!)!.versions.at(-1)!.body).toContain("our change");
  });

  it("leaves an edited page as it is with on_manual_edit skip, and the record says the protocol was not published", async () => {
    const h = await open({ config: { confluence: { on_manual_edit: "skip" } } });
    await h.submit({ jobId: "job-skip", markdown: protocol("Skipped") });
    const first = await recordIn(h, "job-skip", "published");
    await editAsPerson(h, first.pageId!);
    await h.submit({ jobId: "job-skip", markdown: protocol("Skipped", "- not shown") });
    const skipped = await eventually(async () => {
      const r = await recordIn(h, "job-skip", "published");
      return r.errorTag === "ManualEditError" ? r : undefined;
    });
    expect(skipped.errorMessage).toContain('on_manual_edit is "skip"');
    // The record still describes the last publication: its time, latency and page version.
    expect(skipped.publishedAt).toBe(first.publishedAt);
    expect(skipped.latencyMs).toBe(first.latencyMs);
    expect(skipped.pageVersion).toBe(1);
    expect(h.sandbox.state.page(first.pageId!)!.versions.at(-1)!.body).toContain("edited by a person");
  });

  it("overwrites a person's edit when on_manual_edit is overwrite", async () => {
    const h = await open({ config: { confluence: { on_manual_edit: "overwrite" } } });
    await h.submit({ jobId: "job-over", markdown: protocol("Over") });
    const record = await recordIn(h, "job-over", "published");
    await editAsPerson(h, record.pageId!);
    await h.submit({ jobId: "job-over", markdown: protocol("Over", "- ours wins") });
    await eventually(() =>
      h.sandbox.state.page(record.pageId!)!.versions.at(-1)!.body.includes("ours wins") ? true : undefined,
    );
    expect(h.sandbox.state.page(record.pageId!)!.versions).toHaveLength(3);
  });
});

describe("attempts that overlap", () => {
  /** The job's protocol as stored now. */
  const storedProtocol = async (h: Harness, jobId: string) =>
    Option.getOrUndefined(await Effect.runPromise(h.store.getProtocol(jobId)));

  /** Every message handled and answered, and the job's record no longer being published. */
  const settled = (h: Harness, jobId: string, timeoutMs = 40_000) =>
    eventually(
      async () => {
        const info = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
        const record = Option.getOrUndefined(await Effect.runPromise(h.store.findByJob(jobId)));
        return info.num_pending === 0 && info.num_ack_pending === 0 && record?.status !== "publishing"
          ? record
          : undefined;
      },
      timeoutMs,
      `job ${jobId} to settle`,
    );

  /** Which of the marker lines ("- v1", "- v2", …) each version of the page shows. */
  const markers = (h: Harness, pageId: string) =>
    h.sandbox.state.page(pageId)!.versions.map((v) => /v\d+/.exec(v.body)?.[0] ?? v.body);

  /**
   * Holds the job's record locked in a transaction of its own (`select … for update`), as a
   * database under load might for a moment: the next claim of the job waits for it. `claimWaits`
   * resolves once a statement of the publisher waits for the lock.
   */
  const lockRecord = async (h: Harness, jobId: string) => {
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: PG_URL.replace(/\/[^/]*$/, `/${h.pgDatabase}`) });
    // The harness drops the database with (force) when a test fails: nothing to report then.
    client.on("error", () => undefined);
    await client.connect();
    await client.query("begin");
    await client.query("select id from confluence_publications where job_id = $1 for update", [jobId]);
    return {
      claimWaits: () =>
        eventually(async () => {
          const waiting = await client.query(
            "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
          );
          return (waiting.rows[0] as { n: number }).n > 0 ? true : undefined;
        }),
      release: async () => {
        await client.query("commit");
        await client.end();
      },
    };
  };

  /** Stores a newer protocol for the job, as a later event's message does before it waits for the lease. */
  const storeNewer = (h: Harness, jobId: string, markdown: string, streamSequence: number) =>
    Effect.runPromise(
      h.store.saveProtocol({
        jobId,
        markdown,
        filename: `${jobId}.md`,
        metadata: {},
        contentHash: `newer-${streamSequence}`,
        streamSequence,
        occurredAt: new Date().toISOString(),
      }),
    );

  it("keeps an attempt that outlasts its lease alone on the job: page versions in order, record published", async () => {
    // The client waits for the slow answer (its timeout is longer than the delay below).
    const h = await open({ database: "postgresql", config: { confluence: { timeout: 20 } } });
    await h.startPublisher({ instanceId: "second" });
    const jobId = "job-slow-put";
    await h.submit({ jobId, markdown: protocol("Slow put", "- v1") });
    const first = await recordIn(h, jobId, "published");
    // The update to v2 takes longer than a lease (5 s here) plus the retries of the next claimer.
    h.sandbox.faults.add({
      kind: "latency",
      latencyMs: 9_000,
      method: "PUT",
      path: `/pages/${first.pageId}$`,
      times: 1,
    });
    await h.submit({ jobId, markdown: protocol("Slow put", "- v2") });
    // The fault fired: v2's write is on its way. Now v3 comes.
    await eventually(() => (h.sandbox.faults.list().length === 0 ? true : undefined));
    await h.submit({ jobId, markdown: protocol("Slow put", "- v3") });
    const record = await settled(h, jobId);
    expect(markers(h, first.pageId!)).toEqual(["v1", "v2", "v3"]);
    expect(record?.status).toBe("published");
    expect(record?.pageVersion).toBe(3);
    const versions = await Effect.runPromise(h.store.listVersions(jobId));
    expect(versions.map((v) => v.pageVersion)).toEqual([1, 2, 3]);
  }, 60_000);

  it("publishes the job's newest stored protocol once it gets the lease, not the older one its message brought", async () => {
    const h = await open({ database: "postgresql" });
    const jobId = "job-waited";
    await h.submit({ jobId, markdown: protocol("Waited", "- v1") });
    const first = await recordIn(h, jobId, "published");
    const lock = await lockRecord(h, jobId);
    const seq = await h.submit({ jobId, markdown: protocol("Waited", "- v2") });
    // v2 is stored and rendered, and its claim waits; meanwhile v3 is stored (by its own message).
    await lock.claimWaits();
    expect((await storedProtocol(h, jobId))?.markdown).toContain("- v2");
    await storeNewer(h, jobId, protocol("Waited", "- v3"), seq + 1);
    await lock.release();
    const record = await settled(h, jobId);
    expect(markers(h, first.pageId!)).toEqual(["v1", "v3"]);
    expect(record?.status).toBe("published");
    expect(record?.pageVersion).toBe(2);
  });

  it("publishes a job whose record an older message's attempt left pending, when that message comes back", async () => {
    const h = await open({ database: "postgresql" });
    const jobId = "job-left-pending";
    await h.submit({ jobId, markdown: protocol("Left pending", "- v1") });
    const first = await recordIn(h, jobId, "published");
    const lock = await lockRecord(h, jobId);
    const seq = await h.submit({ jobId, markdown: protocol("Left pending", "- v2") });
    await lock.claimWaits();
    // A newer protocol is stored (its message done with already) while the v2 message waits.
    await storeNewer(h, jobId, protocol("Left pending", "- v3"), seq + 1);
    // The v2 message's attempt cannot read the page (503 for the request and both retries): the
    // record goes back to pending and the message is given back. It comes back older than the
    // stored protocol, and is the only message that will.
    h.sandbox.faults.add({
      kind: "status",
      status: 503,
      method: "GET",
      path: `/pages/${first.pageId}$`,
      times: 3,
    });
    await lock.release();
    const record = await settled(h, jobId);
    expect(h.sandbox.faults.list()).toEqual([]);
    expect(record?.status).toBe("published");
    expect(markers(h, first.pageId!)).toEqual(["v1", "v3"]);
  });

  it("publishes a job a publisher killed in each attempt left publishing, on a retry command after its lease ran out", async () => {
    const h = await open();
    const jobId = "job-left-publishing";
    await storeNewer(h, jobId, protocol("Left publishing", "- v1"), 1);
    // Each of its deliveries was claimed by a process killed before it recorded anything; the
    // message is gone (max_deliver), the record stays publishing, the last lease ran out.
    for (const minutesAgo of [3, 2, 1]) {
      const claimed = await Effect.runPromise(
        h.store.claim({
          jobId,
          owner: `killed/${minutesAgo}`,
          leaseMs: 30_000,
          now: new Date(Date.now() - minutesAgo * 60_000),
          create: { spaceKey: "MEETINGS", parentPageId: null },
        }),
      );
      expect(Option.isSome(claimed)).toBe(true);
    }
    // What the gateway sends for POST /api/publications/:id/retry.
    await h.publishRaw(
      publishRequestedSubject(jobId, h.config.nats.subject_prefix),
      JSON.stringify({ jobId, trigger: "retry", force: false, requestedAt: new Date().toISOString() }),
    );
    const record = await settled(h, jobId);
    expect(record).toMatchObject({ status: "published", trigger: "retry", attempts: 4, pageVersion: 1 });
    expect(pagesOfJob(h, jobId)).toHaveLength(1);
    expect(markers(h, record!.pageId!)).toEqual(["v1"]);
  });

  it("does not write over a person's edit made while its own write was on the way, and says why", async () => {
    const h = await open();
    const jobId = "job-edit-race";
    await h.submit({ jobId, markdown: protocol("Edit race", "- v1") });
    const first = await recordIn(h, jobId, "published");
    h.sandbox.faults.add({
      kind: "latency",
      latencyMs: 3_000,
      method: "PUT",
      path: `/pages/${first.pageId}$`,
      times: 1,
    });
    await h.submit({ jobId, markdown: protocol("Edit race", "- v2") });
    // Minutes' write of version 2 is on its way; a person saves version 2 first.
    await eventually(() => (h.sandbox.faults.list().length === 0 ? true : undefined));
    await editAsPerson(h, first.pageId!);
    const record = await settled(h, jobId);
    expect(record?.status).toBe("failed");
    expect(record?.errorTag).toBe("ManualEditError");
    expect(record?.errorMessage).toContain("(version 2; Minutes wrote version 1)");
    const versions = h.sandbox.state.page(first.pageId!)!.versions;
    expect(versions).toHaveLength(2);
    expect(versions.at(-1)!.body).toContain("edited by a person");
  });

  it("leaves the record to an attempt that took its lease over, and tries the message again without spending a delivery", async () => {
    const h = await open();
    const jobId = "job-taken-over";
    await h.submit({ jobId, markdown: protocol("Taken over", "- v1") });
    const first = await recordIn(h, jobId, "published");
    await h.stopPublishers();
    let tookOver = false;
    await h.startPublisher({
      // Right after this attempt wrote the page, its lease is found expired (as after a stalled
      // process) and another attempt claims the job and records it.
      afterStep: (step: PipelineStep) =>
        step === "page-written" && !tookOver
          ? Effect.gen(function* () {
              tookOver = true;
              const later = new Date(Date.now() + 3_600_000);
              yield* h.store.claim({ jobId, owner: "another-publisher", leaseMs: 60_000, now: later });
              yield* h.store.transition(first.id, "published", {
                keepPublished: true,
                owner: "another-publisher",
              });
            }).pipe(Effect.orDie)
          : Effect.void,
    });
    await h.submit({ jobId, markdown: protocol("Taken over", "- v2") });
    const record = await settled(h, jobId);
    expect(tookOver).toBe(true);
    expect(record?.status).toBe("published");
    expect(record?.pageVersion).toBe(2);
    expect(markers(h, first.pageId!)).toEqual(["v1", "v2"]);
    const info = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
    // v1 and v2, each delivered once: the lost lease was no failed delivery.
    expect(info.delivered.consumer_seq).toBe(2);
  });

  it("does not deliver a message twice while its handling keeps the event loop busy for a while", async () => {
    // `backoff_seconds` [1, 1, 1] as everywhere in these tests; rendering a large protocol can take
    // seconds of CPU, during which no heartbeat reaches JetStream.
    const h = await open({ config: { nats: { ack_wait_seconds: 5 } } });
    await h.stopPublishers();
    let busy = false;
    await h.startPublisher({
      afterStep: (step: PipelineStep) =>
        step === "claimed" && !busy
          ? Effect.sync(() => {
              busy = true;
              const until = Date.now() + 1_500;
              while (Date.now() < until) {
                // synchronous work, as a long conversion is
              }
            })
          : Effect.void,
    });
    await h.submit({ jobId: "job-busy", markdown: protocol("Busy", "- v1") });
    const record = await settled(h, "job-busy");
    expect(busy).toBe(true);
    expect(record?.status).toBe("published");
    const info = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
    // One delivery of one message: a redelivery would have taken a second consumer sequence.
    expect(info.delivered.consumer_seq).toBe(1);
    expect(record?.attempts).toBe(1);
  });
});

describe("failures", () => {
  it("rejects a protocol that is mostly a huge table before converting it, and keeps consuming", async () => {
    const h = await open();
    const row = "| a | b | c | d | e |\n";
    const table = `| A | B | C | D | E |\n| :-: | :-: | :-: | :-: | :-: |\n${row.repeat(17_000)}`;
    await h.submit({ jobId: "job-huge", markdown: `# Huge\n\n${table}` });
    const rejected = await recordIn(h, "job-huge", "rejected");
    expect(rejected.errorMessage).toContain("table cell separators");
    expect(rejected.errorMessage).toContain("more than the 100000");
    await h.submit({ jobId: "job-after-huge", markdown: protocol("After") });
    await recordIn(h, "job-after-huge", "published");
  });

  it("rejects a protocol with an emphasis run the converter would take minutes over, naming its line", async () => {
    const h = await open();
    // 40 KB: converting it blocked the event loop for about a minute.
    const stars = `${"*".repeat(20_000)}x${"*".repeat(20_000)}`;
    await h.submit({
      jobId: "job-stars",
      markdown: `# Stars\n\nFine *emphasis*, ____ blanks.\n\n${stars}\n`,
    });
    const rejected = await recordIn(h, "job-stars", "rejected");
    expect(rejected.errorMessage).toContain('a run of 20000 "*" characters on line 5, more than the 256');
    // Ordinary emphasis and signature lines publish as before.
    await h.submit({ jobId: "job-blanks", markdown: protocol("Blanks", `Signed: ${"_".repeat(80)}`) });
    await recordIn(h, "job-blanks", "published");
  });

  it("records an event that does not decode as rejected, with the reason, and keeps consuming", async () => {
    const h = await open();
    await h.publishRaw(
      protocolReadySubject("job-bad", h.config.nats.subject_prefix),
      JSON.stringify({ jobId: "job-bad", markdown: "" }),
    );
    await h.publishRaw(protocolReadySubject("garbage", h.config.nats.subject_prefix), "{ not json");
    const rejected = await recordIn(h, "job-bad", "rejected");
    expect(rejected.errorMessage).toContain("markdown: must not be empty");
    expect(rejected.errorMessage).toContain("occurredAt: is missing");
    await h.submit({ jobId: "job-good", markdown: protocol("Good") });
    await recordIn(h, "job-good", "published");
  });

  it("records a message that is not JSON under the job its subject names", async () => {
    const h = await open();
    const prefix = h.config.nats.subject_prefix;
    // Plain and encoded (`~base64url`) subject tokens.
    const plainSeq = await h.publishRaw(protocolReadySubject("job-plain", prefix), "{ not json");
    const encodedSeq = await h.publishRaw(protocolReadySubject("team.a/job 7", prefix), "not json at all");
    const plain = await recordIn(h, "job-plain", "rejected");
    expect(plain.errorTag).toBe("EventRejectedError");
    expect(plain.streamSequence).toBe(plainSeq);
    const encoded = await recordIn(h, "team.a/job 7", "rejected");
    expect(encoded.streamSequence).toBe(encodedSeq);
    for (const seq of [plainSeq, encodedSeq])
      expect(Option.isNone(await Effect.runPromise(h.store.findByJob(`invalid-event-${seq}`)))).toBe(true);
  });

  it("leaves a job's record alone for a malformed message older than the job's protocol", async () => {
    const h = await open();
    const jobId = "job-valid";
    // A valid protocol of the job, from a later message than the malformed one below, waits
    // for its publication (its record is pending).
    await Effect.runPromise(
      h.store.saveProtocol({
        jobId,
        markdown: protocol("Valid"),
        filename: `${jobId}.md`,
        metadata: {},
        contentHash: "valid",
        streamSequence: 1_000,
        occurredAt: new Date().toISOString(),
      }),
    );
    const record = await Effect.runPromise(
      h.store.ensurePublication({ jobId, spaceKey: "MEETINGS", parentPageId: null, trigger: "event" }),
    );
    expect(record.status).toBe("pending");
    // Put on the stream by hand, bypassing the gateway.
    const seq = await h.publishRaw(
      protocolReadySubject(jobId, h.config.nats.subject_prefix),
      JSON.stringify({ jobId, markdown: "" }),
    );
    expect(seq).toBeLessThan(1_000);
    await eventually(async () => {
      const info = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
      return info.ack_floor.stream_seq >= seq && info.num_ack_pending === 0 ? info : undefined;
    });
    const after = await Effect.runPromise(h.store.get(record.id));
    expect(after.status).toBe("pending");
    expect(after.errorTag).toBeNull();
    // Its stream sequence decides: the same message as the job's latest would be recorded.
    const newer = await h.publishRaw(
      protocolReadySubject("job-fresh", h.config.nats.subject_prefix),
      JSON.stringify({ jobId: "job-fresh", markdown: "" }),
    );
    expect((await recordIn(h, "job-fresh", "rejected")).streamSequence).toBe(newer);
  });

  it("fails at once on bad credentials, without the token in the error", async () => {
    const h = await open({ config: { confluence: { api_token: "wrong-token-123" } } });
    await h.submit({ jobId: "job-auth", markdown: protocol("Auth") });
    const failed = await recordIn(h, "job-auth", "failed");
    expect(failed.errorTag).toBe("ConfluenceAuthenticationError");
    expect(failed.errorMessage).not.toContain("wrong-token-123");
    // No expiry is known: nothing is said about one.
    expect(failed.errorMessage).not.toContain("expired");
    expect(failed.attempts).toBe(1);
    expect(pagesOfJob(h, "job-auth")).toHaveLength(0);
  });

  it("says that the token expired, and how to replace it, when Confluence refuses a token whose recorded expiry has passed", async () => {
    const h = await open({
      config: { confluence: { api_token: "" }, vault: { password: "vault-pw-expiry" } },
    });
    const key = {
      file: h.config.vault.file as string,
      kdf: { N: 1024, r: 8, p: 1 },
      url: h.config.confluence.base_url,
      username: h.config.confluence.username,
      password: Redacted.make("vault-pw-expiry"),
    };
    await saveEncryptedToken({
      ...key,
      token: Redacted.make(h.sandbox.user.token),
      expiresAt: new Date(Date.now() + 30 * 86_400_000),
    });
    await h.submit({ jobId: "job-before-expiry", markdown: protocol("Before") });
    await recordIn(h, "job-before-expiry", "published");

    // The day passes: Confluence refuses the token from now on, and its recorded expiry is behind us.
    const expired = new Date(Date.now() - 86_400_000);
    h.sandbox.revokeToken(h.sandbox.user.token);
    await setTokenExpiry({ ...key, expiresAt: expired });
    await h.submit({ jobId: "job-after-expiry", markdown: protocol("After") });
    const failed = await recordIn(h, "job-after-expiry", "failed");
    expect(failed.errorTag).toBe("ConfluenceAuthenticationError");
    expect(failed.errorMessage).toMatch(/^Confluence authentication failed \[/);
    expect(failed.errorMessage).toContain(
      `; the Confluence token expired on ${expired.toISOString().slice(0, 10)}; store the new one with \`./minutes vault add --url ${h.config.confluence.base_url} --username ${h.config.confluence.username} --expires YYYY-MM-DD\` (used without a restart) and retry the publication`,
    );
    expect(failed.errorMessage).not.toContain(h.sandbox.user.token);
    expect(failed.errorMessage).not.toContain("vault-pw-expiry");
  });

  it("fails at once when the space does not exist", async () => {
    const h = await open();
    await h.submit({ jobId: "job-space", markdown: protocol("Nowhere"), spaceKey: "NOPE" });
    const failed = await recordIn(h, "job-space", "failed");
    expect(failed.errorTag).toBe("ConfluenceNotFoundError");
    expect(failed.errorMessage).toContain("no space with key NOPE");
    // At once: on its first delivery.
    expect(failed.attempts).toBe(1);
  });

  it("logs a publication that failed for good at error level, as operators alert on errors", async () => {
    const lines: Array<{ level: number; msg: string; jobId?: string }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const h = await open({ logger });
    await h.submit({ jobId: "job-logged", markdown: protocol("Nowhere"), spaceKey: "NOPE" });
    await recordIn(h, "job-logged", "failed");
    const failed = lines.filter((l) => l.jobId === "job-logged" && l.msg === "publication failed");
    expect(failed.map((l) => l.level)).toEqual([50]);
  });

  it("fails at once, without retrying, when Confluence refuses the write (403)", async () => {
    const h = await open();
    const refusal = h.sandbox.faults.add({ kind: "status", status: 403, method: "POST" });
    await h.submit({ jobId: "job-forbidden", markdown: protocol("Forbidden") });
    const failed = await recordIn(h, "job-forbidden", "failed");
    expect(failed.errorTag).toBe("ConfluencePermissionError");
    expect(failed.errorMessage).toContain("→ 403");
    // One refused write: not retried in process, nor by a redelivery.
    expect(h.sandbox.faults.list().find((f) => f.id === refusal)?.fired).toBe(1);
    expect(failed.attempts).toBe(1);
    expect(pagesOfJob(h, "job-forbidden")).toHaveLength(0);
  });

  it("rides out 429s, 5xx answers and connection resets and still publishes exactly once", async () => {
    const h = await open();
    h.sandbox.faults.add({ kind: "rateLimit", times: 2, retryAfter: 1 });
    h.sandbox.faults.add({ kind: "status", status: 503, times: 2 });
    h.sandbox.faults.add({ kind: "reset", times: 2 });
    await h.submit({ jobId: "job-flaky", markdown: protocol("Flaky") });
    await recordIn(h, "job-flaky", "published", 30_000);
    // Every fault was met (a rule leaves the list once it has fired its last time) ...
    expect(h.sandbox.faults.list()).toEqual([]);
    // ... and the page was written once: one page, one version.
    expect(pagesOfJob(h, "job-flaky").map((p) => p.versions.length)).toEqual([1]);
  });

  it("says on the record why it is still publishing while Confluence makes it wait, until it is published", async () => {
    const h = await open();
    // The shortest wait that is noted: ten seconds.
    h.sandbox.faults.add({ kind: "rateLimit", method: "POST", path: "/pages$", times: 1, retryAfter: 10 });
    await h.submit({ jobId: "job-wait", markdown: protocol("Patience") });
    const waiting = await recordIn(h, "job-wait", "publishing");
    const noted = await eventually(async () => {
      const r = await Effect.runPromise(h.store.get(waiting.id));
      return r.errorTag !== null ? r : undefined;
    });
    expect(noted.status).toBe("publishing");
    expect(noted.errorTag).toBe("ConfluenceRateLimitedError");
    expect(noted.errorMessage).toMatch(/Confluence asked to wait 10 s: retry 1 of \d+ at \d{4}-\d\d-\d\dT/);
    const published = await recordIn(h, "job-wait", "published", 30_000);
    expect(published.errorTag).toBeNull();
    expect(published.errorMessage).toBeNull();
    expect(pagesOfJob(h, "job-wait")).toHaveLength(1);
  }, 40_000);

  it("counts the retries and 429s of a publication in its outcome event", async () => {
    const h = await open();
    await h.submit({ jobId: "job-429", markdown: protocol("Rate limited") });
    await recordIn(h, "job-429", "published");
    h.sandbox.faults.add({ kind: "rateLimit", method: "PUT", times: 2, retryAfter: 1 });
    await h.submit({ jobId: "job-429", markdown: protocol("Rate limited", "- changed") });
    const outcomes = await h.js.consumers.get(`${h.config.nats.stream}_OUTCOMES`, {
      filter_subjects: publicationEventWildcard(h.config.nats.subject_prefix),
    });
    const messages = await outcomes.consume();
    let second: { retries: number; rateLimited: number } | undefined;
    for await (const m of messages) {
      const o = m.json<{
        jobId: string;
        outcome: string;
        pageVersion: number;
        retries: number;
        rateLimited: number;
      }>();
      if (o.jobId === "job-429" && o.outcome === "published" && o.pageVersion === 2) {
        second = o;
        break;
      }
    }
    expect(second).toMatchObject({ retries: 2, rateLimited: 2 });
  });

  it("reports the Confluence requests of an attempt and the time spent waiting for them in its outcome event", async () => {
    const h = await open();
    // Every request from now on takes at least 40 ms, and the rule counts them.
    const slow = h.sandbox.faults.add({ kind: "latency", latencyMs: 40 });
    await h.submit({ jobId: "job-timed", markdown: protocol("Timed"), labels: ["Timing"] });
    const [published] = await outcomesUntil(h, "job-timed", (o) => o.outcome === "published");
    const sent = h.sandbox.faults.list().find((f) => f.id === slow)?.fired ?? 0;
    expect(sent).toBeGreaterThanOrEqual(4);
    expect(published?.confluenceRequests).toBe(sent);
    expect(published?.confluenceMs).toBeGreaterThanOrEqual(40 * sent);
  });

  it("names the protocol event the page holds in its outcome, so the sender can match it to its submission", async () => {
    const h = await open();
    const seq = await h.submit({ jobId: "job-seq", markdown: protocol("Sequenced") });
    const [published] = await outcomesUntil(h, "job-seq", (o) => o.outcome === "published");
    expect(published?.protocolSequence).toBe(seq);
  });

  it("reports a delivery given back for a later try as a deferred outcome, with its retries and 429s", async () => {
    const h = await open();
    // max_retries is 2: the third 429 of the create ends the first delivery (nak, backoff 1 s).
    h.sandbox.faults.add({ kind: "rateLimit", method: "POST", path: "/pages$", times: 3, retryAfter: 0 });
    await h.submit({ jobId: "job-deferred", markdown: protocol("Deferred") });
    const events = await outcomesUntil(h, "job-deferred", (o) => o.outcome === "published");
    expect(events.map((o) => o.outcome)).toEqual(["deferred", "published"]);
    const [deferred, published] = events;
    const record = await recordIn(h, "job-deferred", "published");
    expect(deferred).toMatchObject({
      outcome: "deferred",
      publicationId: record.id,
      trigger: "event",
      spaceKey: "MEETINGS",
      errorTag: "ConfluenceRateLimitedError",
      pageId: null,
      deliveryCount: 1,
      redeliveryDelayMs: 1000,
      // Two retried in process, and the third 429, retried by the next delivery.
      retries: 3,
      rateLimited: 3,
    });
    // The delivery's requests: the three refused creates and whatever came before them.
    expect(deferred?.confluenceRequests).toBeGreaterThanOrEqual(3);
    expect(deferred?.confluenceMs).toEqual(expect.any(Number));
    expect(deferred?.errorMessage).toEqual(expect.any(String));
    expect(published).toMatchObject({ retries: 0, rateLimited: 0, pageId: record.pageId });
    expect(published?.deliveryCount).toBeUndefined();
    expect(pagesOfJob(h, "job-deferred")).toHaveLength(1);
  });

  it("gives a message back to JetStream for as long as a 429 asked, when that is longer than the client waits, and says when it tries next", async () => {
    const h = await open();
    // An hour: more than the client's five minutes in process.
    const rule = h.sandbox.faults.add({
      kind: "rateLimit",
      method: "POST",
      path: "/pages$",
      // More than the one that fires: a rule stays listed (with its count) while it has some left.
      times: 5,
      retryAfter: 3600,
    });
    // What the publisher answers JetStream: it acks on the consumer's ack subjects.
    const answers: Array<string> = [];
    const acks = h.nc.subscribe(`$JS.ACK.${h.config.nats.stream}.${h.config.nats.consumer}.>`, {
      callback: (_e, m) => {
        answers.push(m.string());
      },
    });
    const before = Date.now();
    await h.submit({ jobId: "job-hour", markdown: protocol("An hour") });
    const [deferred] = await outcomesUntil(h, "job-hour", (o) => o.outcome === "deferred");
    expect(deferred).toMatchObject({
      errorTag: "ConfluenceRateLimitedError",
      deliveryCount: 1,
      redeliveryDelayMs: 3_600_000,
      rateLimited: 1,
    });
    const pending = await recordIn(h, "job-hour", "pending");
    expect(pending.errorTag).toBe("ConfluenceRateLimitedError");
    // What Confluence asked for, not the client's cap, and when the next try is.
    expect(pending.errorMessage).not.toContain("5 min");
    const next = /Confluence asked to wait 60 min: next try at (\S+) \(delivery 2 of 4\)\.$/.exec(
      pending.errorMessage ?? "",
    );
    expect(next, pending.errorMessage ?? "").not.toBeNull();
    const at = Date.parse(next?.[1] ?? "");
    expect(at).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(at).toBeLessThan(Date.now() + 3_600_000 + 1_000);
    expect(deferred?.errorMessage).toBe(pending.errorMessage);
    // Not retried early: JetStream is told to hold the message for the hour (a plain nak or no
    // answer would bring it back after the 1 s backoff or the 2 s ack wait), and it holds it.
    const nak = await eventually(() => answers.find((a) => a.startsWith("-NAK")), 5_000, "the nak");
    acks.unsubscribe();
    expect(nak).toBe(`-NAK ${JSON.stringify({ delay: 3_600_000 * 1_000_000 })}`);
    expect(answers.filter((a) => a !== "+WPI")).toEqual([nak]);
    const held = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
    expect(held).toMatchObject({ num_ack_pending: 1, num_redelivered: 0, num_pending: 0 });
    expect(held.delivered.consumer_seq).toBe(1);
    expect(h.sandbox.faults.list().find((f) => f.id === rule)?.fired).toBe(1);
    expect((await recordIn(h, "job-hour", "pending")).errorMessage).toBe(pending.errorMessage);
    expect(pagesOfJob(h, "job-hour")).toHaveLength(0);
  });

  it("bounds the redelivery a 429 asks for by how long the stream keeps the message", async () => {
    // Kept about 14 minutes; Cloud has asked for 9223372036854775807 s.
    const h = await open({ config: { nats: { max_age_days: 0.01 } } });
    h.sandbox.faults.add({
      kind: "rateLimit",
      method: "POST",
      path: "/pages$",
      times: 1,
      retryAfter: "9223372036854775807",
      headers: { "X-RateLimit-Limit": "0" },
    });
    await h.submit({ jobId: "job-forever", markdown: protocol("Forever") });
    const [deferred] = await outcomesUntil(h, "job-forever", (o) => o.outcome === "deferred");
    expect(deferred?.redeliveryDelayMs).toBeGreaterThan(600_000);
    expect(deferred?.redeliveryDelayMs).toBeLessThanOrEqual(864_000 - 60_000);
    expect(deferred?.errorMessage).toMatch(
      /Confluence asked to wait more than 365 d, longer than the stream keeps the message \(nats\.max_age_days\): next try at /,
    );
  });

  it("records a failure after max_deliver attempts when Confluence stays down", async () => {
    const h = await open();
    h.sandbox.faults.add({ kind: "status", status: 502, method: "POST" });
    await h.submit({ jobId: "job-down", markdown: protocol("Down") });
    const failed = await recordIn(h, "job-down", "failed", 40_000);
    expect(failed.errorTag).toBe("ConfluenceServerError");
    expect(failed.errorMessage).toContain("gave up after 4 deliveries");
    expect(pagesOfJob(h, "job-down")).toHaveLength(0);
  });
});

describe("Data Center with Basic auth (confluence.auth_method basic)", () => {
  /** The bot, with a password other than its personal access token (which must not be what signs in). */
  const bot = {
    accountId: "",
    email: "minutes-bot@example.com",
    displayName: "Minutes Bot",
    token: "pat-of-minutes-bot",
    password: "pw-of-minutes-bot",
  };
  const basic = (confluence: Record<string, unknown> = {}, more: Partial<HarnessOptions> = {}) =>
    open({
      mode: "datacenter",
      sandboxUsers: [bot],
      ...more,
      config: {
        ...more.config,
        confluence: { auth_method: "basic", username: "minutes-bot", api_token: bot.password, ...confluence },
      },
    });

  it("publishes and updates pages signed in with the user name and the password from the configuration", async () => {
    const h = await basic();
    expect(h.sandbox.user.username).toBe("minutes-bot");
    await h.submit({ jobId: "job-basic", markdown: protocol("Basic") });
    const first = await recordIn(h, "job-basic", "published");
    expect(first.pageVersion).toBe(1);
    // The second version is checked against the first one's author: Minutes knows itself by the
    // identity it signed in as, so its own page is no manual edit.
    await h.submit({ jobId: "job-basic", markdown: protocol("Basic", "- decision two") });
    await eventually(() => {
      const pages = pagesOfJob(h, "job-basic");
      return pages.length === 1 && pages[0]!.versions.length === 2 ? true : undefined;
    });
    const page = pagesOfJob(h, "job-basic")[0]!;
    expect(page.versions.map((v) => v.authorId)).toEqual([
      h.sandbox.user.accountId,
      h.sandbox.user.accountId,
    ]);
    expect(page.versions.at(-1)!.body).toContain("decision two");
  });

  it("takes the password from the vault entry for the site and the user name, like a token", async () => {
    const h = await basic({ api_token: "" }, { config: { vault: { password: "vault-pw-basic" } } });
    await saveEncryptedToken({
      file: h.config.vault.file as string,
      kdf: { N: 1024, r: 8, p: 1 },
      url: h.config.confluence.base_url,
      username: "minutes-bot",
      token: Redacted.make(bot.password),
      password: Redacted.make("vault-pw-basic"),
    });
    await h.submit({ jobId: "job-basic-vault", markdown: protocol("Basic from the vault") });
    await recordIn(h, "job-basic-vault", "published");
    expect(pagesOfJob(h, "job-basic-vault")).toHaveLength(1);
  });

  it("fails at once on a wrong password, saying Data Center refused the user name and password, never showing it", async () => {
    const lines: Array<string> = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
    const wrong = "wrong-password-123";
    const h = await basic({ api_token: wrong }, { logger });
    await h.submit({ jobId: "job-basic-wrong", markdown: protocol("Wrong password") });
    const failed = await recordIn(h, "job-basic-wrong", "failed");
    expect(failed.errorTag).toBe("ConfluenceAuthenticationError");
    expect(failed.errorMessage).toMatch(
      /^Confluence authentication failed \[GET \/rest\/api\/user\/current → 401\]/,
    );
    expect(failed.errorMessage).toContain(
      "Data Center refused the user name and password (Basic auth, confluence.auth_method basic): check confluence.username",
    );
    expect(failed.errorMessage).not.toContain("personal access token");
    // One login attempt: a retried wrong password would bring Data Center's CAPTCHA lock closer.
    expect(failed.attempts).toBe(1);
    expect(pagesOfJob(h, "job-basic-wrong")).toHaveLength(0);
    const secrets = [wrong, Buffer.from(`minutes-bot:${wrong}`).toString("base64")];
    for (const secret of secrets) {
      expect(failed.errorMessage).not.toContain(secret);
      expect(lines.join("\n")).not.toContain(secret);
    }
    expect(lines.some((line) => line.includes("job-basic-wrong"))).toBe(true);
  });
});

describe("a publish or retry command for a job whose protocol is no longer stored", () => {
  /** What a failure for a job without a stored protocol says (as the gateway's 404 does). */
  const gone = (jobId: string) =>
    `No protocol is stored for job "${jobId}" any more (a cleanup removed it after the publish or retry was requested, or none was received), so there is nothing to publish: send the protocol again (POST /api/protocols).`;
  const retryCommand = (h: Harness, jobId: string) =>
    h.publishRaw(
      publishRequestedSubject(jobId, h.config.nats.subject_prefix),
      JSON.stringify({ jobId, trigger: "retry", requestedAt: new Date().toISOString() }),
    );

  it("marks the job's record failed, saying why and how to send the protocol again", async () => {
    const h = await open();
    const jobId = "job-gone-with-record";
    // A failed record without a stored protocol (one from the original integration, which kept none).
    const { lines } = originalImportLines([
      {
        id: 7,
        job_id: jobId,
        confluence_page_id: null,
        confluence_page_url: null,
        confluence_space_key: "MEETINGS",
        parent_page_id: null,
        page_title: "20250902 - Gone",
        publication_status: "failed",
        created_at: "2025-09-02 10:00:00",
        updated_at: "2025-09-02 10:05:00",
        error_message: "Confluence answered 500",
        retry_count: 2,
        last_retry_at: "2025-09-02 10:05:00",
      },
    ]);
    await Effect.runPromise(h.store.importJsonl(Stream.fromIterable(lines)));
    const before = await recordIn(h, jobId, "failed");
    const outcomes = outcomesUntil(h, jobId, (o) => o.outcome === "failed");
    const sequence = await retryCommand(h, jobId);
    const failed = await eventually(
      async () => {
        const r = await Effect.runPromise(h.store.get(before.id));
        return r.errorTag === "ProtocolMissingError" ? r : undefined;
      },
      20_000,
      "the record to say the protocol is gone",
    );
    expect(failed).toMatchObject({
      status: "failed",
      errorTag: "ProtocolMissingError",
      errorMessage: gone(jobId),
      streamSequence: sequence,
      // A retry like any other: counted.
      retryCount: before.retryCount + 1,
    });
    expect((await outcomes).at(-1)).toMatchObject({
      outcome: "failed",
      trigger: "retry",
      publicationId: before.id,
      errorTag: "ProtocolMissingError",
      errorMessage: gone(jobId),
    });
    expect(pagesOfJob(h, jobId)).toHaveLength(0);
  });

  it("says in the failed outcome and the log that there is no record either, when a cleanup removed both", async () => {
    const lines: Array<{ level: number; msg: string; jobId?: string; reason?: string }> = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const h = await open({ logger });
    const jobId = "job-gone-cleaned-up";
    await h.submit({ jobId, markdown: protocol("Cleaned up"), spaceKey: "NOPE" });
    await recordIn(h, jobId, "failed");
    // The gateway accepted a retry (the protocol was there); the cleanup runs before a publisher takes it.
    const cleaned = await Effect.runPromise(
      h.store.cleanup({ before: new Date(Date.now() + 60_000), statuses: ["failed"] }),
    );
    expect([cleaned.deleted, cleaned.protocolsDeleted, cleaned.jobIds]).toEqual([1, 1, [jobId]]);
    const outcomes = outcomesUntil(h, jobId, (o) => o.errorTag === "ProtocolMissingError");
    await retryCommand(h, jobId);
    const reason = `${gone(jobId)} The job has no publication record either, so none was marked failed.`;
    expect((await outcomes).at(-1)).toMatchObject({
      outcome: "failed",
      trigger: "retry",
      publicationId: null,
      errorTag: "ProtocolMissingError",
      errorMessage: reason,
    });
    const logged = await eventually(() =>
      lines.find((l) => l.jobId === jobId && l.reason === reason && l.level === 50),
    );
    expect(logged.msg).toBe("publication failed: no protocol is stored for the job, and it has no record");
    // Nothing is made for it: the job is as the cleanup left it.
    expect((await Effect.runPromise(h.store.findByJob(jobId)))._tag).toBe("None");
  });
});

describe("deployment", () => {
  it("stores the protocol and waits for a publish command when auto_publish is off", async () => {
    const h = await open({ config: { confluence: { auto_publish: false } } });
    await h.submit({ jobId: "job-wait", markdown: protocol("Waiting") });
    await recordIn(h, "job-wait", "pending");
    const stored = await Effect.runPromise(h.store.getProtocol("job-wait"));
    expect(stored._tag).toBe("Some");
    expect(pagesOfJob(h, "job-wait")).toHaveLength(0);
  });

  it("writes nothing to Confluence while confluence.enabled is false, and says so on a publish command", async () => {
    const h = await open({ config: { confluence: { enabled: false } } });
    await h.submit({ jobId: "job-off", markdown: protocol("Switched off") });
    await recordIn(h, "job-off", "pending");
    expect((await Effect.runPromise(h.store.getProtocol("job-off")))._tag).toBe("Some");
    await h.publishRaw(
      publishRequestedSubject("job-off", h.config.nats.subject_prefix),
      JSON.stringify({ jobId: "job-off", trigger: "manual", requestedAt: new Date().toISOString() }),
    );
    const failed = await recordIn(h, "job-off", "failed");
    expect(failed.errorTag).toBe("ConfluenceDisabledError");
    expect(failed.errorMessage).toContain("confluence.enabled is false");
    // Only the space's own homepage: not a single page written.
    expect(h.sandbox.state.pages("MEETINGS")).toHaveLength(1);
  });

  it.each(["cloud", "datacenter"] as const)(
    "writes code blocks in languages the deployment's code macro renders, not an error box (%s)",
    async (mode) => {
      const h = await open({ mode });
      const markdown = protocol("Code", '- see below\n\n```json\n{"a": 1}\n```\n\n```ts\nlet t = 1;\n```\n');
      await h.submit({ jobId: "job-code", markdown });
      const record = await recordIn(h, "job-code", "published");
      const body = pagesOfJob(h, "job-code")[0]!.versions.at(-1)!.body;
      const languages = [...body.matchAll(/ac:name="language">([^<]*)</g)].map((m) => m[1]);
      // STORAGE-FORMAT.md §4.1: Data Center knows neither json nor typescript.
      expect(languages).toEqual(mode === "cloud" ? ["json", "typescript"] : ["none", "none"]);
      const view = await (await fetch(`${h.sandbox.origin}/sandbox/pages/${record.pageId}`)).text();
      expect(view).not.toContain("Error rendering macro");
      expect(view).toContain("let t = 1;");
    },
  );

  it("shares one durable consumer between two publisher instances on PostgreSQL without duplicates", async () => {
    const h = await open({ database: "postgresql" });
    await h.startPublisher({ instanceId: "second" });
    const jobs = Array.from({ length: 20 }, (_, i) => `job-pair-${i}`);
    await Promise.all(jobs.map((jobId) => h.submit({ jobId, markdown: protocol(`Pair ${jobId}`) })));
    // Every job twice, once with changed content: the newest content must win.
    await Promise.all(jobs.map((jobId) => h.submit({ jobId, markdown: protocol(`Pair ${jobId}`, "- v2") })));
    for (const jobId of jobs) {
      await eventually(() => {
        const pages = pagesOfJob(h, jobId);
        return pages.length === 1 && pages[0]!.versions.at(-1)!.body.includes("v2") ? true : undefined;
      });
    }
    for (const jobId of jobs) {
      const [page] = pagesOfJob(h, jobId);
      // One record per job, naming the page and the version that shows the newest content.
      const record = await eventually(
        async () => {
          const r = await recordIn(h, jobId, "published");
          return r.pageVersion === page!.versions.at(-1)!.number ? r : undefined;
        },
        20_000,
        `the record of ${jobId} to name its page's latest version`,
      );
      expect(record.pageId).toBe(page!.id);
      expect(await Effect.runPromise(h.store.listByJob(jobId))).toHaveLength(1);
    }
    // No page of a job twice, and no page beside the jobs' but the space's home and the hierarchy.
    const current = h.sandbox.state.pages("MEETINGS").filter((p) => p.status === "current");
    const ofJobs = current.filter((p) => p.properties.some((prop) => prop.key === JOB_PROPERTY_KEY));
    expect(ofJobs).toHaveLength(jobs.length);
    expect(current.length - ofJobs.length).toBe(3);
  });
});

describe("page hierarchy", () => {
  it("files pages under year and month pages created exactly once, even by concurrent publications", async () => {
    const h = await open();
    await h.startPublisher({ instanceId: "second" });
    const jobs = Array.from({ length: 12 }, (_, i) => `job-tree-${i}`);
    await Promise.all(jobs.map((jobId) => h.submit({ jobId, markdown: protocol(`Tree ${jobId}`) })));
    for (const jobId of jobs) await recordIn(h, jobId, "published", 30_000);
    const current = h.sandbox.state.pages("MEETINGS").filter((p) => p.status === "current");
    const titled = (title: string) => current.filter((p) => p.versions.at(-1)!.title === title);
    expect(titled("2025")).toHaveLength(1);
    expect(titled("2025-09")).toHaveLength(1);
    const year = titled("2025")[0]!;
    const month = titled("2025-09")[0]!;
    expect(month.parentId).toBe(year.id);
    for (const jobId of jobs) expect(pagesOfJob(h, jobId)[0]!.parentId).toBe(month.id);
  });

  it.each(["cloud", "datacenter"] as const)(
    "gives each route in one space its own year and month pages, and never files under a person's page (%s)",
    async (mode) => {
      const h = await open({ mode });
      const teamA = await createAsPerson(h, "Team A");
      const teamB = await createAsPerson(h, "Team B");
      // A person's page that merely shares a month page's title, elsewhere in the space.
      await createAsPerson(h, "2025-09", teamA);
      await h.submit({ jobId: "job-team-a", markdown: protocol("Team A sync"), parentPageId: teamA });
      await recordIn(h, "job-team-a", "published");
      await h.submit({ jobId: "job-team-b", markdown: protocol("Team B sync"), parentPageId: teamB });
      await h.submit({ jobId: "job-root", markdown: protocol("Space-wide sync") });
      await recordIn(h, "job-team-b", "published");
      await recordIn(h, "job-root", "published");

      const current = h.sandbox.state.pages("MEETINGS").filter((p) => p.status === "current");
      const one = (title: string) => {
        const found = current.filter((p) => p.versions.at(-1)!.title === title);
        expect(found, title).toHaveLength(1);
        return found[0]!;
      };
      const home = h.sandbox.state.spaces().find((s) => s.key === "MEETINGS")!.homepageId;
      const treeOf = (jobId: string) => {
        const month = current.find((p) => p.id === pagesOfJob(h, jobId)[0]!.parentId)!;
        const year = current.find((p) => p.id === month.parentId)!;
        return [year.parentId, year.versions.at(-1)!.title, month.versions.at(-1)!.title];
      };
      // Team A owns the plain year title; its month title is a person's page, so it names the tree.
      expect(treeOf("job-team-a")).toEqual([teamA, "2025", `2025-09 (${teamA})`]);
      expect(treeOf("job-team-b")).toEqual([teamB, `2025 (${teamB})`, `2025-09 (${teamB})`]);
      // Without a route parent the tree is the space homepage's, named by the space key.
      expect(treeOf("job-root")).toEqual([home, "2025 (MEETINGS)", "2025-09 (MEETINGS)"]);
      // The person's page is untouched and holds no protocol.
      expect(one("2025-09").versions).toHaveLength(1);
      expect(current.filter((p) => p.parentId === one("2025-09").id)).toHaveLength(0);

      // Another publisher (empty caches) finds the same containers, by either title: nothing twice.
      await withClient(h, async (client) => {
        const fresh = new ContainerCache();
        const ensure = (parent: string | null, title: string, tree: string | null) =>
          Effect.runPromise(ensureContainer(client, fresh, "MEETINGS", parent, title, tree));
        const yearA = await ensure(teamA, "2025", teamA);
        expect(yearA).toBe(one("2025").id);
        expect(await ensure(yearA, "2025-09", teamA)).toBe(one(`2025-09 (${teamA})`).id);
        expect(await ensure(teamB, "2025", teamB)).toBe(one(`2025 (${teamB})`).id);
        expect(await ensure(null, "2025", null)).toBe(one("2025 (MEETINGS)").id);
        expect(h.sandbox.state.pages("MEETINGS").length).toBe(current.length);
      });
    },
  );

  it("puts pages directly under the parent when use_page_hierarchy is off", async () => {
    const h = await open({ config: { confluence: { advanced_settings: { use_page_hierarchy: false } } } });
    await h.submit({ jobId: "job-flat", markdown: protocol("Flat") });
    await recordIn(h, "job-flat", "published");
    const titles = h.sandbox.state.pages("MEETINGS").map((p) => p.versions.at(-1)!.title);
    expect(titles).not.toContain("2025-09");
  });
});

/** The job's record once it has handled the message with this stream sequence. */
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

/** The route parent a meeting page hangs under (its month page's year page's parent). */
const routeParentOf = (h: Harness, pageId: string) => {
  const parent = (id: string | null | undefined) => (id ? h.sandbox.state.page(id)?.parentId : undefined);
  return parent(parent(parent(pageId)));
};

describe("moving pages", () => {
  it.each(["cloud", "datacenter"] as const)(
    "moves a page whose route changed, alone when its content did not and with its update when it did, keeping the record in sync (%s)",
    async (mode) => {
      const h = await open({ mode });
      const teamA = await createAsPerson(h, "Team A");
      const teamB = await createAsPerson(h, "Team B");
      const markdown = protocol("Moving");
      await h.submit({ jobId: "job-move", markdown, parentPageId: teamA });
      const first = await recordIn(h, "job-move", "published");
      const id = first.pageId!;
      expect(routeParentOf(h, id)).toBe(teamA);

      // The same protocol routed elsewhere: the page moves and nothing else changes.
      const moved = await recordAfter(
        h,
        "job-move",
        await h.submit({ jobId: "job-move", markdown, parentPageId: teamB }),
      );
      expect(routeParentOf(h, id)).toBe(teamB);
      const versions = h.sandbox.state.versions(id);
      if (mode === "cloud") {
        expect(versions).toHaveLength(1);
      } else {
        // REST-API.md §4.3: DC moves by a versioned update; it is Minutes' own, not an edit.
        expect(versions).toHaveLength(2);
        expect(versions[1]).toMatchObject({
          title: versions[0]!.title,
          body: versions[0]!.body,
          message: "Moved by Minutes (event)",
          minorEdit: true,
          authorId: h.sandbox.user.accountId,
        });
      }
      expect(moved.pageVersion).toBe(versions.length);
      expect(moved.publishedAt).toBe(first.publishedAt);
      const history = await Effect.runPromise(h.store.listVersions("job-move"));
      expect(history.map((v) => v.pageVersion)).toEqual(versions.map((v) => v.number));

      // Again: the record is in sync with the page, so nothing is written.
      await recordAfter(h, "job-move", await h.submit({ jobId: "job-move", markdown, parentPageId: teamB }));
      expect(h.sandbox.state.versions(id)).toHaveLength(versions.length);

      // Changed content routed back: one version moves and updates the page.
      const seq = await h.submit({
        jobId: "job-move",
        markdown: protocol("Moving", "- decision two"),
        parentPageId: teamA,
      });
      const updated = await recordAfter(h, "job-move", seq);
      expect(routeParentOf(h, id)).toBe(teamA);
      expect(h.sandbox.state.versions(id)).toHaveLength(versions.length + 1);
      expect(updated.pageVersion).toBe(versions.length + 1);
      expect(h.sandbox.state.versions(id).at(-1)!.body).toContain("decision two");
      expect(pagesOfJob(h, "job-move")).toHaveLength(1);
    },
  );

  it("leaves a page a person moved where they put it, and moves it with its route again once it is back", async () => {
    const h = await open({ mode: "cloud" });
    const teamA = await createAsPerson(h, "Team A");
    const teamB = await createAsPerson(h, "Team B");
    const elsewhere = await createAsPerson(h, "Decisions we keep");
    await h.submit({ jobId: "job-kept", markdown: protocol("Kept"), parentPageId: teamA });
    const first = await recordIn(h, "job-kept", "published");
    const id = first.pageId!;
    const placedUnder = h.sandbox.state.page(id)!.parentId!;
    await moveAsPerson(h, id, elsewhere);

    // A newer protocol updates the page where the person put it, also when its route changes.
    let seq = await h.submit({ jobId: "job-kept", markdown: protocol("Kept", "- two"), parentPageId: teamA });
    await recordAfter(h, "job-kept", seq);
    seq = await h.submit({ jobId: "job-kept", markdown: protocol("Kept", "- three"), parentPageId: teamB });
    const updated = await recordAfter(h, "job-kept", seq);
    expect(h.sandbox.state.page(id)!.parentId).toBe(elsewhere);
    expect(updated.pageVersion).toBe(3);
    expect(h.sandbox.state.versions(id).at(-1)!.body).toContain("three");

    // Moved back where Minutes had placed it, the page follows its route again.
    await moveAsPerson(h, id, placedUnder);
    seq = await h.submit({ jobId: "job-kept", markdown: protocol("Kept", "- four"), parentPageId: teamB });
    await recordAfter(h, "job-kept", seq);
    expect(routeParentOf(h, id)).toBe(teamB);
    expect(pagesOfJob(h, "job-kept")).toHaveLength(1);
  });

  it("never moves a page over a person's edit on Data Center, so the edit stays detected", async () => {
    const h = await open({ mode: "datacenter" });
    const teamA = await createAsPerson(h, "Team A");
    const teamB = await createAsPerson(h, "Team B");
    await h.submit({ jobId: "job-edit-move", markdown: protocol("Edited mover"), parentPageId: teamA });
    const first = await recordIn(h, "job-edit-move", "published");
    const id = first.pageId!;
    await editAsPerson(h, id);
    const markdown = protocol("Edited mover", "- ours");
    await h.submit({ jobId: "job-edit-move", markdown, parentPageId: teamB });
    const failed = await recordIn(h, "job-edit-move", "failed");
    expect(failed.errorTag).toBe("ManualEditError");
    expect(routeParentOf(h, id)).toBe(teamA);
    expect(h.sandbox.state.versions(id)).toHaveLength(2);
    // Tried again: a version written by Minutes' move would now hide the edit; there is none.
    const seq = await h.publishRaw(
      publishRequestedSubject("job-edit-move", h.config.nats.subject_prefix),
      JSON.stringify({ jobId: "job-edit-move", trigger: "retry", requestedAt: new Date().toISOString() }),
    );
    const again = await recordAfter(h, "job-edit-move", seq, "failed");
    expect(again.errorTag).toBe("ManualEditError");
    expect(h.sandbox.state.versions(id)).toHaveLength(2);
    expect(h.sandbox.state.versions(id).at(-1)!.body).toContain("edited by a person");
  });
});

describe("page templates", () => {
  it("publishes the protocol inside the configured page template", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minutes-template-"));
    const file = join(dir, "template.xml");
    writeFileSync(
      file,
      '<ac:structured-macro ac:name="info"><ac:rich-text-body><p>{{topic}} — {{date}}</p></ac:rich-text-body></ac:structured-macro>{{content}}',
    );
    try {
      const h = await open({ config: { confluence: { page_template: file } } });
      await h.submit({ jobId: "job-tpl", markdown: protocol("Templated") });
      const record = await recordIn(h, "job-tpl", "published");
      const body = h.sandbox.state.page(record.pageId!)!.versions.at(-1)!.body;
      expect(body).toContain('<p>Templated — <time datetime="2025-09-02"');
      expect(body).toContain("decision one");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses to start with a template file it cannot read, naming the key", async () => {
    const h = await open();
    await expect(
      h.startPublisher({
        config: { ...h.config, confluence: { ...h.config.confluence, page_template: "/nonexistent/t.xml" } },
      }),
    ).rejects.toThrow("confluence.page_template: cannot read /nonexistent/t.xml (ENOENT)");
  });
});

/** The outcome events of a job, in order, up to the first one `last` accepts. */
const outcomesUntil = async (
  h: Harness,
  jobId: string,
  last: (o: PublicationOutcome) => boolean,
): Promise<Array<PublicationOutcome>> => {
  const consumer = await h.js.consumers.get(`${h.config.nats.stream}_OUTCOMES`, {
    filter_subjects: publicationEventWildcard(h.config.nats.subject_prefix),
  });
  const messages = await consumer.consume();
  const timer = setTimeout(() => void messages.close(), 30_000);
  const seen: Array<PublicationOutcome> = [];
  try {
    for await (const m of messages) {
      const o = Schema.decodeSync(PublicationOutcomeJson)(m.string());
      if (o.jobId !== jobId) continue;
      seen.push(o);
      if (last(o)) return seen;
    }
  } finally {
    clearTimeout(timer);
    await messages.close();
  }
  throw new Error(`no final outcome for ${jobId} within 30 s; saw ${seen.map((o) => o.outcome).join(", ")}`);
};

describe("records from another installation (page ids restart in every Confluence site)", () => {
  /** Confluence Cloud gives Minutes' service account the same id on every site. */
  const sameAccount = [
    {
      accountId: "557058:minutes-bot",
      email: "minutes-bot@example.com",
      displayName: "Minutes Bot",
      token: "",
    },
    { accountId: "557058:alice", email: "alice@example.com", displayName: "Alice Example", token: "" },
  ];
  /** Collects the warnings of a harness's publishers. */
  const warnings = () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { lines, logger };
  };
  const notOurs = (lines: ReadonlyArray<Record<string, unknown>>, jobId: string) =>
    lines.filter(
      (l) => l.jobId === jobId && String(l.msg).startsWith("the page this job's record names is not"),
    );
  /** Publishes one job on another installation (its own Confluence and database) and exports its records. */
  const exportOfAnotherInstallation = async (jobId: string, topic: string, hierarchy: boolean) => {
    const other = await startHarness({
      sandboxUsers: sameAccount,
      config: { confluence: { advanced_settings: { use_page_hierarchy: hierarchy } } },
    });
    try {
      await other.submit({ jobId, markdown: protocol(topic) });
      const record = await recordIn(other, jobId, "published");
      const lines = Chunk.toArray(await Effect.runPromise(Stream.runCollect(other.store.exportJsonl())));
      return { record, lines };
    } finally {
      await other.close();
    }
  };
  const snapshot = (h: Harness, pageId: string) => {
    const page = h.sandbox.state.page(pageId)!;
    return JSON.parse(
      JSON.stringify({
        status: page.status,
        parentId: page.parentId,
        versions: page.versions,
        properties: page.properties,
      }),
    ) as unknown;
  };

  it("leaves alone another job's page that an imported record names, and gives the imported job a page of its own", async () => {
    const theirs = await exportOfAnotherInstallation("demo-betriebsrat", "Betriebsrat", true);
    const log = warnings();
    const h = await open({ sandboxUsers: sameAccount, logger: log.logger });
    await h.submit({ jobId: "r-1", markdown: protocol("Weekly") });
    const mine = await recordIn(h, "r-1", "published");
    // The coincidence this is about: the same page id (and version 1, by the same account) on both sites.
    expect(mine.pageId).toBe(theirs.record.pageId);
    const before = snapshot(h, mine.pageId!);
    const containers = h.sandbox.state
      .pages("MEETINGS")
      .filter((p) => p.id !== mine.pageId && p.status === "current")
      .map((p) => [p.id, snapshot(h, p.id)] as const);

    expect(await Effect.runPromise(h.store.importJsonl(Stream.fromIterable(theirs.lines)))).toMatchObject({
      invalid: 0,
    });
    await h.submit({
      jobId: "demo-betriebsrat",
      markdown: protocol("Betriebsrat", "- a corrected decision"),
    });
    const imported = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("demo-betriebsrat"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageId !== mine.pageId
        ? r.value
        : undefined;
    });

    // r-1's page: same content, versions and property; the year and month pages too.
    expect(snapshot(h, mine.pageId!)).toEqual(before);
    for (const [id, was] of containers) expect(snapshot(h, id)).toEqual(was);
    expect((await Effect.runPromise(h.store.findByJob("r-1"))).pipe(Option.getOrThrow).pageId).toBe(
      mine.pageId,
    );
    // The imported job has a page of its own, marked as its own.
    expect(pagesOfJob(h, "demo-betriebsrat").map((p) => p.id)).toEqual([imported.pageId]);
    expect(h.sandbox.state.page(imported.pageId!)!.versions.at(-1)!.body).toContain("a corrected decision");
    expect(notOurs(log.lines, "demo-betriebsrat")).toMatchObject([
      { pageId: mine.pageId, pageProperty: "r-1", recordVerified: false },
    ]);
  });

  it("never takes a year page an imported record names for the job's page", async () => {
    // Without a page hierarchy there, the other installation's first page has the id of this
    // site's first page: the year page, Minutes' own untouched version 1 without a job property.
    const theirs = await exportOfAnotherInstallation("other-1", "Elsewhere", false);
    const log = warnings();
    const h = await open({ sandboxUsers: sameAccount, logger: log.logger });
    await h.submit({ jobId: "here-1", markdown: protocol("Here") });
    await recordIn(h, "here-1", "published");
    const year = h.sandbox.state.page(theirs.record.pageId!)!;
    expect(year.versions.at(-1)!.title).toBe("2025");
    const before = snapshot(h, year.id);

    await Effect.runPromise(h.store.importJsonl(Stream.fromIterable(theirs.lines)));
    await h.submit({ jobId: "other-1", markdown: protocol("Elsewhere", "- changed here") });
    const imported = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("other-1"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageId !== year.id
        ? r.value
        : undefined;
    });
    expect(snapshot(h, year.id)).toEqual(before);
    expect(pagesOfJob(h, "other-1").map((p) => p.id)).toEqual([imported.pageId]);
    expect(notOurs(log.lines, "other-1")).toMatchObject([{ pageId: year.id, pageProperty: "none" }]);
  });

  it("never writes a page whose job property names another job, even at the version and by the author its record names", async () => {
    const h = await open();
    await h.submit({ jobId: "job-x", markdown: protocol("Xray") });
    await h.submit({ jobId: "job-y", markdown: protocol("Yankee") });
    const x = await recordIn(h, "job-x", "published");
    const y = await recordIn(h, "job-y", "published");
    const yBefore = snapshot(h, y.pageId!);
    // x's record names y's page at the version Minutes wrote, as verified on this very site.
    await Effect.runPromise(
      h.store.transition(x.id, "pending", {
        pageId: y.pageId,
        pageVersion: y.pageVersion,
        verifiedOn: confluenceSite(h.config.confluence.base_url),
      }),
    );
    await h.submit({ jobId: "job-x", markdown: protocol("Xray", "- changed") });
    const updated = await eventually(async () => {
      const r = await Effect.runPromise(h.store.findByJob("job-x"));
      return r._tag === "Some" && r.value.status === "published" && r.value.pageId === x.pageId
        ? r.value
        : undefined;
    });
    expect(snapshot(h, y.pageId!)).toEqual(yBefore);
    // x's update went to its own page, found by its title and property.
    expect(h.sandbox.state.page(updated.pageId!)!.versions.at(-1)!.body).toContain("changed");
    expect(pagesOfJob(h, "job-x").map((p) => p.id)).toEqual([x.pageId]);
  });

  it("reads an imported record's page property once, then trusts the record it verified without an extra request", async () => {
    const h = await open();
    await h.submit({ jobId: "job-fast", markdown: protocol("Fast") });
    await recordIn(h, "job-fast", "published");
    const requests = async (n: number) =>
      (await outcomesUntil(h, "job-fast", (o) => o.outcome !== "deferred" && --n === 0)).at(-1)!;
    // The same protocol again: the page at the recorded version, by Minutes, written by this
    // installation: one request (the page), no property read.
    await h.submit({ jobId: "job-fast", markdown: protocol("Fast") });
    expect(await requests(2)).toMatchObject({ outcome: "unchanged", confluenceRequests: 1 });
    // Restored from a backup: the record must prove its page once (its property)…
    const lines = Chunk.toArray(await Effect.runPromise(Stream.runCollect(h.store.exportJsonl())));
    const withNewerStamp = lines.map((line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return parsed.kind === "publication"
        ? JSON.stringify({ ...parsed, updatedAt: new Date(Date.now() + 1000).toISOString() })
        : line;
    });
    expect(await Effect.runPromise(h.store.importJsonl(Stream.fromIterable(withNewerStamp)))).toMatchObject({
      updated: 1,
    });
    await h.submit({ jobId: "job-fast", markdown: protocol("Fast") });
    expect(await requests(3)).toMatchObject({ outcome: "unchanged", confluenceRequests: 2 });
    // …and is trusted by its version again from then on.
    await h.submit({ jobId: "job-fast", markdown: protocol("Fast") });
    expect(await requests(4)).toMatchObject({ outcome: "unchanged", confluenceRequests: 1 });
  });
});

describe("notifications", () => {
  it("sends a signed webhook for each publication and failure, retrying a receiver that is down", async () => {
    const received: Array<{ signature: string; timestamp: string; body: string }> = [];
    let refuseFirst = true;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        if (refuseFirst) {
          refuseFirst = false;
          res.writeHead(503).end();
          return;
        }
        received.push({
          signature: String(req.headers[SIGNATURE_HEADER]),
          timestamp: String(req.headers[TIMESTAMP_HEADER]),
          body,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const h = await open({
        config: {
          confluence: {
            notification_settings: {
              notify_on_publish: true,
              notify_on_error: true,
              notification_recipients: [`http://127.0.0.1:${port}/hook`, "ops@example.com"],
            },
          },
          publisher: { webhook_secret: "hook-secret" },
        },
      });
      await h.submit({ jobId: "job-hook", markdown: protocol("Hooked") });
      await h.submit({ jobId: "job-hook-bad", markdown: protocol("Nowhere"), spaceKey: "NOPE" });
      await eventually(() => (received.length >= 2 ? true : undefined), 30_000, "two webhooks");
      const types = received.map((r) => (JSON.parse(r.body) as { type: string }).type).sort();
      expect(types).toEqual(["publication.failed", "publication.published"]);
      for (const r of received) {
        expect(r.signature).toBe(signWebhook("hook-secret", Number(r.timestamp), r.body));
        expect(r.body).not.toContain(h.sandbox.user.token);
      }
    } finally {
      server.close();
    }
  });

  it("sends no webhook for a deferred attempt, only for the publication that follows", async () => {
    const received: Array<string> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        received.push((JSON.parse(body) as { type: string }).type);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const h = await open({
        config: {
          confluence: {
            notification_settings: {
              notify_on_publish: true,
              notify_on_error: true,
              notification_recipients: [`http://127.0.0.1:${port}/hook`],
            },
          },
        },
      });
      h.sandbox.faults.add({ kind: "status", status: 503, method: "POST", path: "/pages$", times: 3 });
      await h.submit({ jobId: "job-hook-later", markdown: protocol("Later") });
      const events = await outcomesUntil(h, "job-hook-later", (o) => o.outcome === "published");
      expect(events.map((o) => o.outcome)).toEqual(["deferred", "published"]);
      await eventually(() => (received.length >= 1 ? true : undefined), 10_000, "a webhook");
      // A webhook for the deferred attempt would have been sent a redelivery delay (1 s) before
      // the published one, so it would be here first.
      expect(received).toEqual(["publication.published"]);
    } finally {
      server.close();
    }
  });
});
