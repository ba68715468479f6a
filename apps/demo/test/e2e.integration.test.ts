// End to end, as the meeting processor and an operator see it: HTTP into the gateway, JetStream,
// the publisher, the sandbox Confluence and the SQLite publication records — all real, in one
// process, on unique stream names.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sandbox, startSandbox } from "@minutes/confluence-sandbox";
import {
  type DeepPartial,
  gaveUpStreamName,
  JOB_PROPERTY_KEY,
  loadConfig,
  type MinutesConfig,
  type MinutesConfigInput,
  publisherRegistryStreamName,
} from "@minutes/contracts";
import { type RunningServer, startServer } from "@minutes/gateway";
import { type RunningPublisher, startPublisher } from "@minutes/publisher";
import { saveEncryptedToken } from "@minutes/token-vault";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Either, Redacted } from "effect";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "./helpers/eventually.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const API_KEY = "e2e-key-0123456789";
const VAULT_PASSWORD = "e2e vault password";

interface Stack {
  readonly sandbox: Sandbox;
  readonly config: MinutesConfig;
  readonly gateway: RunningServer;
  publisher: RunningPublisher;
  readonly startPublisher: (config?: MinutesConfig) => Promise<RunningPublisher>;
  readonly api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
  readonly close: () => Promise<void>;
}

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const startStack = async (
  options: { token?: string; config?: DeepPartial<MinutesConfigInput> } = {},
): Promise<Stack> => {
  const id = randomUUID().replace(/-/g, "").slice(0, 10);
  const dir = mkdtempSync(join(tmpdir(), "minutes-e2e-"));
  // What is up so far, undone in reverse by `close`, or at once when a later step of the start
  // fails; each step runs even when an earlier one fails, so nothing is left behind.
  const undo: Array<() => Promise<unknown>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const undoAll = async () => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    return await startIn(id, dir, undo, undoAll, options);
  } catch (e) {
    await undoAll();
    throw e;
  }
};

const startIn = async (
  id: string,
  dir: string,
  undo: Array<() => Promise<unknown>>,
  undoAll: () => Promise<void>,
  options: { token?: string; config?: DeepPartial<MinutesConfigInput> },
): Promise<Stack> => {
  const sandbox = await startSandbox({ mode: "cloud", port: 0 });
  undo.push(() => sandbox.close());
  const vaultFile = join(dir, "tokens.vault");
  await saveEncryptedToken({
    file: vaultFile,
    url: sandbox.baseUrl,
    username: sandbox.user.email,
    token: Redacted.make(options.token ?? sandbox.user.token),
    password: Redacted.make(VAULT_PASSWORD),
  });
  const { confluence: confluenceOverrides, ...otherOverrides } = options.config ?? {};
  const loaded = loadConfig({
    env: {},
    overrides: {
      confluence: {
        ...confluenceOverrides,
        enabled: true,
        base_url: sandbox.baseUrl,
        deployment: "cloud",
        username: sandbox.user.email,
        auto_publish: true,
        timeout: 5,
        max_retries: 2,
        retry_delay: 0.05,
      },
      nats: {
        url: NATS_URL,
        stream: `E2E_${id}`,
        subject_prefix: `e2e${id}`,
        consumer: `e2e_${id}`,
        ack_wait_seconds: 5,
        backoff_seconds: [1, 1, 1],
        max_deliver: 4,
        concurrency: 8,
        duplicate_window_seconds: 60,
        max_age_days: 1,
      },
      database: { type: "sqlite", sqlite_path: join(dir, "minutes.sqlite") },
      gateway: { host: "127.0.0.1", port: 0, api_keys: [API_KEY], publish_wait_ms: 10_000 },
      vault: { file: vaultFile, password: VAULT_PASSWORD },
      logging: { level: "silent" },
      ...otherOverrides,
    } as DeepPartial<MinutesConfigInput>,
  });
  if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
  const config = loaded.right;
  undo.push(async () => {
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      for (const name of [
        config.nats.stream,
        `${config.nats.stream}_OUTCOMES`,
        gaveUpStreamName(config.nats.stream),
        publisherRegistryStreamName(config.nats.stream),
      ])
        await jsm.streams.delete(name).catch(() => false);
    } finally {
      await nc.close();
    }
  });
  const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const launch = (c: MinutesConfig = config) =>
    startPublisher({
      config: c,
      defaultVaultFile: vaultFile,
      logger: quiet,
      clientOverrides: { gatewayUrl: sandbox.origin },
    });
  // Whichever publisher runs last (tests replace it) is stopped.
  let latest: RunningPublisher | undefined;
  undo.push(async () => latest?.stop());
  latest = await launch();
  const publisher = latest;
  const gateway = await startServer(config);
  undo.push(() => gateway.stop());
  const base = gateway.address.replace("0.0.0.0", "127.0.0.1");
  const s: Stack = {
    sandbox,
    config,
    gateway,
    publisher,
    startPublisher: async (c) => {
      latest = await launch(c);
      s.publisher = latest;
      return s.publisher;
    },
    api: async (method, path, body) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed };
    },
    close: undoAll,
  };
  stack = s;
  return s;
};

const publication = (s: Stack, jobId: string, predicate: (p: any) => boolean, timeoutMs?: number) =>
  eventually(
    async () => {
      const { body } = await s.api("GET", `/api/jobs/${encodeURIComponent(jobId)}/publications`);
      const p = body?.items?.[0];
      return p && predicate(p) ? p : undefined;
    },
    `publication of ${jobId}`,
    timeoutMs,
  );

/** Current pages of the sandbox's MEETINGS space whose job property names `jobId`. */
const pagesOfJob = (s: Stack, jobId: string) =>
  s.sandbox.state
    .pages("MEETINGS")
    .filter((p) => p.status === "current")
    .filter((p) =>
      p.properties.some(
        (prop) => prop.key === JOB_PROPERTY_KEY && (prop.value as { jobId?: string }).jobId === jobId,
      ),
    );

const protocol = (topic: string, extra = "- first decision") =>
  `# Meeting Protocol: ${topic}\n\nDate: 2025-10-14\n\n## Decisions\n${extra}\n\n## Action items\n- [ ] Write the ADR (due 2025-10-21)\n`;

const event = (jobId: string, markdown: string) => ({
  jobId,
  markdown,
  filename: `${jobId}.md`,
  occurredAt: new Date().toISOString(),
});

describe("Minutes end to end", () => {
  it("publishes, updates changed content as the next version and leaves unchanged content alone", async () => {
    const s = await startStack();
    const accepted = await s.api("POST", "/api/protocols", event("e2e-1", protocol("Architecture Board")));
    expect(accepted.status).toBe(202);
    const first = await publication(s, "e2e-1", (p) => p.status === "published");
    expect(first.pageTitle).toBe("20251014 - Architecture Board");
    const page = s.sandbox.state.page(first.pageId)!;
    expect(page.versions.at(-1)!.body).toContain("ac:task-list");

    await s.api(
      "POST",
      "/api/protocols",
      event("e2e-1", protocol("Architecture Board", "- changed decision")),
    );
    const second = await publication(s, "e2e-1", (p) => p.status === "published" && p.pageVersion === 2);
    expect(second.pageId).toBe(first.pageId);

    // The same content again: de-duplicated at intake, and a manual republish writes nothing.
    const again = await s.api(
      "POST",
      "/api/protocols",
      event("e2e-1", protocol("Architecture Board", "- changed decision")),
    );
    expect(again.status).toBe(202);
    expect(again.body.duplicate).toBe(true);
    const manual = await s.api("POST", "/api/jobs/e2e-1/publish-confluence");
    // 200: the publisher handled the command (a 202 would leave the check below racing it).
    expect(manual.status, JSON.stringify(manual.body)).toBe(200);
    expect(manual.body).toMatchObject({ status: "published", pageId: first.pageId, pageVersion: 2 });
    // From the outcome event ("unchanged"), or from the record when it came a moment later (null).
    expect(["unchanged", null]).toContain(manual.body.outcome);
    expect(s.sandbox.state.page(first.pageId)!.versions).toHaveLength(2);
    expect(pagesOfJob(s, "e2e-1").map((p) => p.id)).toEqual([first.pageId]);

    // Version history: every version Minutes wrote, with its hash and what triggered it.
    const versions = await s.api("GET", "/api/jobs/e2e-1/versions");
    expect(versions.status).toBe(200);
    expect(versions.body.items.map((v: any) => [v.pageVersion, v.trigger])).toEqual([
      [1, "event"],
      [2, "event"],
    ]);
    expect(versions.body.items[0].contentHash).not.toBe(versions.body.items[1].contentHash);
  });

  it("fails on a bad token, and publishes after the token is fixed and the publication retried", async () => {
    const s = await startStack({ token: "not-the-right-token" });
    await s.api("POST", "/api/protocols", event("e2e-auth", protocol("Auth")));
    const failed = await publication(s, "e2e-auth", (p) => p.status === "failed");
    expect(failed.errorTag).toBe("ConfluenceAuthenticationError");
    expect(JSON.stringify(failed)).not.toContain("not-the-right-token");

    await saveEncryptedToken({
      file: s.config.vault.file!,
      url: s.sandbox.baseUrl,
      username: s.sandbox.user.email,
      token: Redacted.make(s.sandbox.user.token),
      password: Redacted.make(VAULT_PASSWORD),
    });
    const retry = await s.api("POST", `/api/publications/${failed.id}/retry`);
    expect(retry.status).toBe(202);
    const published = await publication(s, "e2e-auth", (p) => p.status === "published");
    expect(published.retryCount).toBeGreaterThanOrEqual(1);
    expect(published.errorMessage).toBeNull();
    expect(pagesOfJob(s, "e2e-auth").map((p) => p.id)).toEqual([published.pageId]);
    expect(s.sandbox.state.page(published.pageId)!.versions.at(-1)!.body).toContain("first decision");
  });

  it("gives two jobs with the same title two pages", async () => {
    const s = await startStack();
    await s.api("POST", "/api/protocols", event("e2e-a", protocol("Weekly")));
    const a = await publication(s, "e2e-a", (p) => p.status === "published");
    await s.api("POST", "/api/protocols", event("e2e-b", protocol("Weekly")));
    const b = await publication(s, "e2e-b", (p) => p.status === "published");
    expect(a.pageId).not.toBe(b.pageId);
    expect(b.pageTitle).toBe("20251014 - Weekly (e2e-b)");
  });

  it("keeps an index page and archives old meetings on request through the API", async () => {
    const s = await startStack({
      config: { confluence: { advanced_settings: { create_index_page: true } } },
    });
    await s.api(
      "POST",
      "/api/protocols",
      event("e2e-recent", protocol("Recent").replace("2025-10-14", new Date().toISOString().slice(0, 10))),
    );
    await s.api(
      "POST",
      "/api/protocols",
      event("e2e-old", protocol("Old").replace("2025-10-14", "2019-02-03")),
    );
    const recent = await publication(s, "e2e-recent", (p) => p.status === "published");
    const old = await publication(s, "e2e-old", (p) => p.status === "published");
    expect(old.meetingDate).toBe("2019-02-03");

    const run = await s.api("POST", "/api/archive/run", { olderThanDays: 365 });
    expect(run.status).toBe(200);
    expect(run.body.archived).toBe(1);
    expect(run.body.failed).toEqual([]);
    const archived = await publication(s, "e2e-old", (p) => p.status === "archived");
    expect(archived.archivedAt).not.toBeNull();
    const current = s.sandbox.state.pages("MEETINGS").filter((p) => p.status === "current");
    const archive = current.find((p) => p.versions.at(-1)!.title === "Archive")!;
    expect(s.sandbox.state.page(old.pageId)!.parentId).toBe(archive.id);
    expect(s.sandbox.state.page(recent.pageId)!.parentId).not.toBe(archive.id);
    const again = await s.api("POST", "/api/archive/run", { olderThanDays: 365 });
    expect(again.body.archived).toBe(0);

    const index = await eventually(async () => {
      const page = s.sandbox.state
        .pages("MEETINGS")
        .find((p) => p.status === "current" && p.versions.at(-1)!.title === "Meeting protocols");
      const body = page?.versions.at(-1)?.body ?? "";
      return body.includes("(archived)") ? body : undefined;
    }, "the index page to mark the archived meeting");
    expect(index).toContain(`ri:content-title="${recent.pageTitle}"`);
    expect(index).toContain(`ri:content-title="${old.pageTitle}"`);
  });

  it("takes a deleted publication off the index page at once", async () => {
    const s = await startStack({
      config: { confluence: { advanced_settings: { create_index_page: true } } },
    });
    await s.api("POST", "/api/protocols", event("e2e-keep", protocol("Keep")));
    await s.api("POST", "/api/protocols", event("e2e-drop", protocol("Drop")));
    const keep = await publication(s, "e2e-keep", (p) => p.status === "published");
    const drop = await publication(s, "e2e-drop", (p) => p.status === "published");
    const indexBody = () =>
      s.sandbox.state
        .pages("MEETINGS")
        .find((p) => p.status === "current" && p.versions.at(-1)!.title === "Meeting protocols")
        ?.versions.at(-1)?.body ?? "";
    const listed = (p: { pageTitle: string }) => indexBody().includes(`ri:content-title="${p.pageTitle}"`);
    await eventually(async () => (listed(keep) && listed(drop) ? true : undefined), "both in the index");

    const deleted = await s.api("DELETE", `/api/publications/${drop.id}?deletePage=true`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ pageDeleted: true, indexRefreshed: true });
    // The answer came after the rewrite: no waiting for the next publication.
    expect(listed(drop)).toBe(false);
    expect(listed(keep)).toBe(true);

    // With no publisher to ask, the delete still succeeds and says the index waits.
    await s.publisher.stop();
    const second = await s.api("DELETE", `/api/publications/${keep.id}`);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ pageDeleted: false, indexRefreshed: false });
    expect((await s.api("GET", `/api/publications/${keep.id}`)).status).toBe(404);
  });

  it("rejects a bad event with a clear 400 and stores nothing", async () => {
    const s = await startStack();
    const bad = await s.api("POST", "/api/protocols", {
      jobId: "e2e-bad",
      markdown: "",
      filename: "x.md",
      occurredAt: "yesterday",
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("occurredAt");
    expect((await s.api("GET", "/api/jobs/e2e-bad/publications")).body.items).toEqual([]);
    const nc = await connect({ servers: NATS_URL });
    const info = await (await jetstreamManager(nc)).streams.info(s.config.nats.stream);
    await nc.drain();
    expect(info.state.messages).toBe(0);
  });

  it("replays 200 events, republishing the changed ones and skipping the unchanged", async () => {
    const s = await startStack();
    const since = new Date(Date.now() - 1000).toISOString();
    const jobs = Array.from({ length: Number(process.env.E2E_REPLAY_JOBS ?? 200) }, (_, i) => `e2e-r-${i}`);
    for (const jobId of jobs) {
      const r = await s.api("POST", "/api/protocols", event(jobId, protocol(`Replay ${jobId}`)));
      expect(r.status).toBe(202);
    }
    for (const jobId of jobs) await publication(s, jobId, (p) => p.status === "published", 120_000);

    // Change 20 protocols while publishing is manual: they are stored, not published.
    await s.publisher.stop();
    await s.startPublisher({ ...s.config, confluence: { ...s.config.confluence, auto_publish: false } });
    const changed = jobs.slice(0, 20);
    for (const jobId of changed) {
      await s.api("POST", "/api/protocols", event(jobId, protocol(`Replay ${jobId}`, "- changed")));
    }
    for (const jobId of changed) await publication(s, jobId, (p) => p.status === "pending", 60_000);

    const started = await s.api("POST", "/api/replays", { since });
    expect(started.status).toBe(202);
    const done = await eventually(
      async () => {
        const { body } = await s.api("GET", `/api/replays/${started.body.id}`);
        return body.status === "completed" ? body : undefined;
      },
      "the replay to complete",
      180_000,
    );
    expect(done.total).toBe(jobs.length);
    expect(done.done).toBe(jobs.length);
    expect(done.skippedUnchanged).toBe(jobs.length - changed.length);
    expect(done.failed).toBe(0);
    for (const jobId of changed) {
      const p = await publication(s, jobId, (x) => x.status === "published");
      expect(p.pageVersion).toBe(2);
    }
  }, 400_000);
});
