// The operations audit's case, end to end: NATS restarted without its JetStream data under a
// running gateway and publisher (a nats-server of the test's own: the machine's shared one is
// never restarted or wiped). Neither process is restarted; both bring back what they need —
// streams, the publishers' durable consumer, the gateway's outcome feed — and the next protocol
// is published, as is a manual republish of one from before.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sandbox, startSandbox } from "@minutes/confluence-sandbox";
import { loadConfig, type MinutesConfig } from "@minutes/contracts";
import { type RunningServer, startServer } from "@minutes/gateway";
import { type RunningPublisher, startPublisher } from "@minutes/publisher";
import { type NatsServer, startNatsServer } from "@minutes/vitest-config/nats-server";
import { Either } from "effect";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "./helpers/eventually.js";

const API_KEY = "recovery-key-0123456789";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Last started, first stopped: publisher and gateway before NATS.
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups.length = 0;
});

const protocol = (topic: string) =>
  `# Meeting Protocol: ${topic}\n\nDate: 2025-10-14\n\n## Decisions\n- decided\n`;

interface Stack {
  readonly nats: NatsServer;
  readonly sandbox: Sandbox;
  readonly config: MinutesConfig;
  readonly gateway: RunningServer;
  readonly publisher: RunningPublisher;
  readonly base: string;
  readonly api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
}

const startStack = async (): Promise<Stack> => {
  const nats = await startNatsServer();
  cleanups.push(() => nats.close());
  const dir = mkdtempSync(join(tmpdir(), "minutes-recovery-"));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const sandbox = await startSandbox({ mode: "cloud", port: 0 });
  cleanups.push(() => sandbox.close());
  const loaded = loadConfig({
    env: {},
    overrides: {
      confluence: {
        enabled: true,
        base_url: sandbox.baseUrl,
        deployment: "cloud",
        username: sandbox.user.email,
        api_token: sandbox.user.token,
        auto_publish: true,
        timeout: 5,
        max_retries: 2,
        retry_delay: 0.05,
      },
      nats: {
        url: nats.url,
        stream: "RECOVERY",
        subject_prefix: "recovery",
        consumer: "recovery-publisher",
        ack_wait_seconds: 5,
        backoff_seconds: [1, 1, 1],
        max_deliver: 4,
      },
      database: { type: "sqlite", sqlite_path: join(dir, "minutes.sqlite") },
      gateway: { host: "127.0.0.1", port: 0, api_keys: [API_KEY], publish_wait_ms: 10_000 },
      vault: { file: join(dir, "tokens.vault") },
      logging: { level: "silent" },
    },
  });
  if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
  const config = loaded.right;
  const publisher = await startPublisher({
    config,
    defaultVaultFile: join(dir, "tokens.vault"),
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    clientOverrides: { gatewayUrl: sandbox.origin },
  });
  cleanups.push(() => publisher.stop());
  const gateway = await startServer(config);
  cleanups.push(() => gateway.stop());
  const base = gateway.address.replace("0.0.0.0", "127.0.0.1");
  const api: Stack["api"] = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: await res.json() };
  };
  return { nats, sandbox, config, gateway, publisher, base, api };
};

const published = (s: Stack, jobId: string, predicate: (p: any) => boolean = () => true) =>
  eventually(async () => {
    const { body } = await s.api("GET", `/api/jobs/${jobId}/publications`);
    const p = body?.items?.[0];
    return p?.status === "published" && predicate(p) ? p : undefined;
  }, `${jobId} to be published`);

const submit = (s: Stack, jobId: string, topic: string) =>
  s.api("POST", "/api/protocols", {
    jobId,
    markdown: protocol(topic),
    filename: `${jobId}.md`,
    occurredAt: new Date().toISOString(),
  });

describe("NATS restarted without its data", () => {
  it("is recovered by the running gateway and publisher: the next protocol is published", async () => {
    const s = await startStack();
    expect((await submit(s, "before", "Before the restart")).status).toBe(202);
    const before = await published(s, "before");

    await s.nats.stop();
    s.nats.wipe();
    await s.nats.start();

    // Once the gateway is connected again, the first submission is accepted (not 503).
    await eventually(async () => {
      const { body } = await s.api("GET", "/status/confluence");
      return body.nats.connected ? true : undefined;
    }, "the gateway to reconnect");
    const accepted = await submit(s, "after", "After the restart");
    expect(accepted.status).toBe(202);
    expect(accepted.body.streamSequence).toBe(1);

    const after = await published(s, "after");
    const page = s.sandbox.state.page(after.pageId);
    expect(page?.status).toBe("current");
    expect(page?.versions.at(-1)?.title).toBe("20251014 - After the restart");

    // The consumer is back: the status is ok again, with nothing left to consume.
    const status = await eventually(async () => {
      const res = await s.api("GET", "/status/confluence");
      return res.status === 200 && res.body.consumer.backlog === 0 ? res.body : undefined;
    }, "the status to be ok");
    expect(status).toMatchObject({ status: "ok", reasons: [], consumer: { found: true } });

    // Commands work too, and the gateway sees their outcomes on the re-created outcome stream.
    const now = await s.api("POST", "/api/jobs/before/publish-confluence?force=true");
    expect([200, 202]).toContain(now.status);
    await published(s, "before", (p) => p.pageVersion === 2);
    expect(s.sandbox.state.page(before.pageId)?.versions).toHaveLength(2);
    await eventually(async () => {
      const res = await fetch(`${s.base}/metrics/confluence`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      const text = await res.text();
      return text.includes('minutes_publication_outcomes_total{outcome="published"} 3') ? true : undefined;
    }, "the gateway to have seen the three outcomes");
  });
});
