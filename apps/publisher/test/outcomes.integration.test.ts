// Webhook delivery failures as the operator sees them in the log: a reason (status or network
// error code), and the recipient as scheme://host:port only, since webhook URLs carry their
// secret in the path. Real NATS, real HTTP receivers; nothing is mocked.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { assert, it as effect } from "@effect/vitest";
import { loadConfig, type PublicationOutcome } from "@minutes/contracts";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Deferred, Duration, Effect, Either, Exit, HashMap, Logger, Scope, TestClock } from "effect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { makeOutcomeSink, WEBHOOK_CONCURRENCY, WEBHOOK_DROP_REPORT_MS } from "../src/outcomes.js";
import { eventually, harnessPerTest, NATS_URL, recordIn } from "./helpers/harness.js";

const open = harnessPerTest();

describe("webhook notifications", () => {
  it("log why a delivery failed and the recipient without its path", async () => {
    const server = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    // A port nothing listens on: bind one, then close it.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nc = await connect({ servers: NATS_URL });
    const scope = Effect.runSync(Scope.make());
    try {
      const config = Either.getOrThrow(
        loadConfig({
          env: {},
          overrides: {
            nats: { url: NATS_URL, subject_prefix: `t_hooks_${Date.now()}` },
            confluence: {
              notification_settings: {
                notify_on_publish: true,
                notify_on_error: true,
                notification_recipients: [
                  `http://127.0.0.1:${port}/services/T0/B0/hook-path-secret`,
                  `http://127.0.0.1:${closedPort}/hook/other-path-secret?token=query-secret`,
                ],
              },
            },
          },
        }),
      );
      const logs: Array<{ message: string; annotations: Record<string, unknown> }> = [];
      const capture = Logger.make(({ message, annotations }) => {
        logs.push({
          message: String(Array.isArray(message) ? message[0] : message),
          annotations: Object.fromEntries(HashMap.toEntries(annotations)),
        });
      });
      const outcome: PublicationOutcome = { ...failedOutcome, jobId: "job-hook-log" };
      // The senders log with the logger of the scope they run in.
      const sink = await Effect.runPromise(
        makeOutcomeSink(jetstream(nc), config, { webhookAttempts: 1 }).pipe(
          Scope.extend(scope),
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        ),
      );
      await Effect.runPromise(sink.emit(outcome));
      const deadline = Date.now() + 15_000;
      const failures = () => logs.filter((l) => l.message === "webhook notification failed");
      while (failures().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const byRecipient = Object.fromEntries(
        failures().map((l) => [String(l.annotations.recipient), String(l.annotations.reason)]),
      );
      expect(byRecipient).toEqual({
        [`http://127.0.0.1:${port}`]: "answered HTTP 500",
        [`http://127.0.0.1:${closedPort}`]: "network error ECONNREFUSED",
      });
      expect(JSON.stringify(logs)).not.toMatch(/secret|UnknownException/);
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void));
      await nc.close();
      server.close();
    }
  });
});

describe("webhook redirects", () => {
  it("are not followed: the signed body stays with the recipient, and the delivery failed", async () => {
    // Where a receiver could point: it must receive nothing.
    const elsewhere: Array<string> = [];
    const target = createServer((req, res) => {
      elsewhere.push(req.url ?? "");
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const targetPort = (target.address() as AddressInfo).port;
    let redirected = 0;
    const receiver = createServer((_req, res) => {
      redirected++;
      res.writeHead(307, { location: `http://127.0.0.1:${targetPort}/elsewhere/path-secret` }).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    const nc = await connect({ servers: NATS_URL });
    const scope = Effect.runSync(Scope.make());
    try {
      const config = Either.getOrThrow(
        loadConfig({
          env: {},
          overrides: {
            nats: { url: NATS_URL, subject_prefix: `t_redirect_${Date.now()}` },
            publisher: { webhook_secret: "redirect-signing-key" },
            confluence: {
              notification_settings: {
                notify_on_error: true,
                notification_recipients: [`http://127.0.0.1:${port}/hooks/hook-path-secret`],
              },
            },
          },
        }),
      );
      const logs: Array<{ message: string; annotations: Record<string, unknown> }> = [];
      const capture = Logger.make(({ message, annotations }) => {
        logs.push({
          message: String(Array.isArray(message) ? message[0] : message),
          annotations: Object.fromEntries(HashMap.toEntries(annotations)),
        });
      });
      const sink = await Effect.runPromise(
        makeOutcomeSink(jetstream(nc), config, { webhookAttempts: 2, webhookBaseDelayMs: 10 }).pipe(
          Scope.extend(scope),
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        ),
      );
      await Effect.runPromise(sink.emit({ ...failedOutcome, jobId: "job-hook-redirect" }));
      const failure = await eventually(
        () => logs.find((l) => l.message === "webhook notification failed"),
        15_000,
        "the failed delivery to be logged",
      );
      expect(failure.annotations).toMatchObject({
        recipient: `http://127.0.0.1:${port}`,
        reason: `answered HTTP 307, a redirect to http://127.0.0.1:${targetPort} (not followed)`,
      });
      // Retried like any failed delivery, each time without following.
      expect(redirected).toBe(2);
      expect(elsewhere).toEqual([]);
      expect(JSON.stringify(logs)).not.toMatch(/secret|signing-key/);
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void));
      await nc.close();
      receiver.close();
      target.close();
    }
  });
});

describe("webhook sends", () => {
  it("keep at most WEBHOOK_CONCURRENCY requests open to a receiver that never answers, and end with the stop", async () => {
    let openRequests = 0;
    let mostOpen = 0;
    const receiver = createServer((_req, res) => {
      mostOpen = Math.max(mostOpen, ++openRequests);
      // Never answered: open until the sender gives up on it.
      res.on("close", () => openRequests--);
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const { port } = receiver.address() as AddressInfo;
    try {
      const h = await open({
        config: {
          confluence: {
            notification_settings: {
              notify_on_publish: true,
              notification_recipients: [`http://127.0.0.1:${port}/hook`],
            },
          },
        },
      });
      const jobs = Array.from({ length: 3 * WEBHOOK_CONCURRENCY }, (_, i) => `job-hook-${i}`);
      for (const jobId of jobs)
        await h.submit({ jobId, markdown: `# Hooked ${jobId}\n\nDate: 2025-09-02\n` });
      for (const jobId of jobs) await recordIn(h, jobId, "published");
      await eventually(
        () => (openRequests >= WEBHOOK_CONCURRENCY ? true : undefined),
        10_000,
        "the senders' requests",
      );
      expect(mostOpen).toBe(WEBHOOK_CONCURRENCY);
      await h.stopPublishers();
      // The stop interrupted the senders (closing their scope waits for them) and destroyed their
      // connections: the requests they left open close, and none of them sends again.
      await eventually(() => (openRequests === 0 ? true : undefined), 5_000, "the requests to be closed");
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  });

  it("warn of the first dropped notification while the receiver hangs, count the rest, and send what waited once it answers", async () => {
    // One sender and a backlog of two: of seven notifications the sender holds one, two wait and
    // four are dropped, whatever the order the outcomes come in.
    const concurrency = 1;
    const backlogSize = 2;
    const jobs = Array.from({ length: 7 }, (_, i) => `job-overflow-${i}`);
    const expectedDrops = jobs.length - concurrency - backlogSize;
    const held: Array<ServerResponse> = [];
    const delivered = new Set<string>();
    let answering = false;
    const receiver = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        body += chunk;
      });
      req.on("end", () => {
        const jobId = (JSON.parse(body) as { data: { jobId: string } }).data.jobId;
        if (answering) {
          delivered.add(jobId);
          res.writeHead(204).end();
        } else {
          res.on("finish", () => delivered.add(jobId));
          held.push(res);
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const { port } = receiver.address() as AddressInfo;
    const lines: Array<{ msg: string; [field: string]: unknown }> = [];
    const raw: Array<string> = [];
    const logger = pino(
      { level: "warn" },
      {
        write: (line: string) => {
          raw.push(line);
          lines.push(JSON.parse(line));
        },
      },
    );
    const dropLines = () => lines.filter((l) => /^dropped .*webhook notification/.test(l.msg));
    const droppedSoFar = () => dropLines().reduce((sum, l) => sum + Number(l.dropped), 0);
    try {
      const h = await open({
        logger,
        publisher: { webhookConcurrency: concurrency, webhookBacklog: backlogSize, webhookDropReportMs: 200 },
        config: {
          confluence: {
            notification_settings: {
              notify_on_publish: true,
              notification_recipients: [`http://127.0.0.1:${port}/hook/path-secret?token=query-secret`],
            },
          },
        },
      });
      for (const jobId of jobs)
        await h.submit({ jobId, markdown: `# Overflow ${jobId}\n\nDate: 2025-09-02\n` });

      // The first drop is logged at once, while the sender's request still hangs.
      const first = await eventually(
        () => lines.find((l) => l.msg.startsWith("dropped a webhook notification")),
        10_000,
        "the warning of the first drop",
      );
      expect(first).toMatchObject({
        recipient: `http://127.0.0.1:${port}`,
        backlog: backlogSize,
        dropped: 1,
      });
      expect(first.msg).toContain(`http://127.0.0.1:${port}`);
      expect(first.msg).toContain(`backlog of ${backlogSize}`);
      // The later drops of the streak are counted, in a line of their own, still while it hangs.
      await eventually(() => (droppedSoFar() === expectedDrops ? true : undefined), 10_000, "the drop count");
      expect(held).toHaveLength(1);
      expect(delivered.size).toBe(0);
      expect(dropLines().filter((l) => l.msg.startsWith("dropped a webhook notification"))).toHaveLength(1);

      // The receiver answers: the held notification and the two that waited are sent.
      answering = true;
      for (const res of held) res.writeHead(204).end();
      await eventually(
        () => (delivered.size === concurrency + backlogSize ? true : undefined),
        10_000,
        "the waiting notifications to be sent",
      );
      await h.stopPublishers();
      expect(droppedSoFar()).toBe(expectedDrops);
      expect(lines.filter((l) => l.msg.includes("not sent: the publisher stopped"))).toHaveLength(0);
      expect(raw.join("\n")).not.toMatch(/secret/);
    } finally {
      receiver.closeAllConnections();
      receiver.close();
    }
  });
});

describe("dropped webhook sends", () => {
  effect.scoped(
    "are counted in one line per WEBHOOK_DROP_REPORT_MS while the backlog stays full",
    () =>
      Effect.gen(function* () {
        const firstRequest = yield* Deferred.make<void>();
        const receiver = yield* Effect.acquireRelease(
          Effect.async<Server>((resume) => {
            // Holds every request: the one sender stays busy with the first notification.
            const server = createServer(() => Deferred.unsafeDone(firstRequest, Exit.void));
            server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)));
          }),
          (server) =>
            Effect.sync(() => {
              server.closeAllConnections();
              server.close();
            }),
        );
        const { port } = receiver.address() as AddressInfo;
        const nc = yield* Effect.acquireRelease(
          Effect.promise(() => connect({ servers: NATS_URL })),
          (c) => Effect.promise(() => c.close()),
        );
        const config = Either.getOrThrow(
          loadConfig({
            env: {},
            overrides: {
              nats: { url: NATS_URL, subject_prefix: `t_drops_${Date.now()}` },
              confluence: {
                notification_settings: {
                  notify_on_error: true,
                  notification_recipients: [`http://127.0.0.1:${port}/hook`],
                },
              },
            },
          }),
        );
        const drops: Array<{ message: string; dropped: unknown }> = [];
        const capture = Logger.make(({ message, annotations }) => {
          const text = String(Array.isArray(message) ? message[0] : message);
          if (text.startsWith("dropped "))
            drops.push({ message: text, dropped: HashMap.unsafeGet(annotations, "dropped") });
        });
        const sink = yield* makeOutcomeSink(jetstream(nc), config, {
          webhookConcurrency: 1,
          webhookBacklog: 1,
        }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)));
        const emit = (n: number) =>
          sink
            .emit({ ...failedOutcome, jobId: `job-drop-${n}` })
            .pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)));
        /** Lets the reporter run after the clock moved (it logs within a few scheduler turns). */
        const settle = Effect.repeatN(Effect.yieldNow(), 100);

        yield* emit(1);
        yield* Deferred.await(firstRequest);
        yield* emit(2); // waits in the backlog
        for (let n = 3; n <= 5; n++) yield* emit(n); // dropped
        yield* settle;
        assert.deepStrictEqual(
          drops.map((d) => d.dropped),
          [1],
        );
        yield* TestClock.adjust(Duration.millis(WEBHOOK_DROP_REPORT_MS - 1));
        yield* settle;
        assert.strictEqual(drops.length, 1);
        yield* TestClock.adjust(Duration.millis(1));
        yield* settle;
        assert.deepStrictEqual(
          drops.map((d) => d.dropped),
          [1, 2],
        );
        // Still full: the next drop is counted, not a new warning, and logged a period later.
        yield* emit(6);
        yield* settle;
        assert.strictEqual(drops.length, 2);
        yield* TestClock.adjust(Duration.millis(WEBHOOK_DROP_REPORT_MS));
        yield* settle;
        assert.deepStrictEqual(
          drops.map((d) => d.dropped),
          [1, 2, 1],
        );
      }),
    20_000,
  );
});

const failedOutcome: PublicationOutcome = {
  outcome: "failed",
  jobId: "job-drop",
  publicationId: null,
  trigger: "event",
  pageId: null,
  pageUrl: null,
  pageTitle: null,
  pageVersion: null,
  spaceKey: "NOPE",
  errorTag: "ConfluenceNotFoundError",
  errorMessage: "no such space",
  latencyMs: null,
  retries: 0,
  rateLimited: 0,
  occurredAt: new Date().toISOString(),
};
