// One of several publishers loses its PostgreSQL connection while the others keep theirs: the
// protocols it holds go to a live peer within seconds instead of waiting for its database, and
// each is published once. Its database runs through a TCP proxy the test cuts (real connections,
// refused while cut); the peer reaches the same database directly.
import { connect, createServer, type Server, type Socket } from "node:net";
import {
  type MinutesConfig,
  type PublicationOutcome,
  PublicationOutcomeJson,
  publicationEventWildcard,
} from "@minutes/contracts";
import { DeliverPolicy } from "@nats-io/jetstream";
import { Redacted, Schema } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import {
  captureLog,
  eventually,
  type Harness,
  harnessPerTest,
  pagesOfJob,
  protocol,
  recordIn,
} from "./helpers/harness.js";

const open = harnessPerTest();

describe("a publisher that loses its database while a peer keeps its own", () => {
  it("hands the protocols it holds to the live peer, which publishes each of them once within seconds", async () => {
    const h = await open({ database: "postgresql" });
    const proxy = await pgProxy();
    await h.stopPublishers();
    const log = captureLog();
    const outage = await h.startPublisher({
      instanceId: "outage",
      config: throughProxy(h.config, proxy.port),
      logger: log.logger,
    });
    proxy.cut();
    const jobs = ["job-held-1", "job-held-2", "job-held-3", "job-held-4"];
    for (const jobId of jobs) await h.submit({ jobId, markdown: protocol(`Held ${jobId}`) });

    // Alone, it keeps them (tried again and again, no delivery spent) rather than handing them back.
    await eventually(
      () =>
        outage.inFlight() === jobs.length &&
        log.lines("database unavailable; trying the message again") >= 3 * jobs.length
          ? true
          : undefined,
      20_000,
      "the outage instance to keep the four messages",
    );
    const alone = await h.jsm.consumers.info(h.config.nats.stream, h.config.nats.consumer);
    expect(alone.num_redelivered).toBe(0);
    expect(alone.num_ack_pending).toBe(jobs.length);

    // A healthy peer starts: the held protocols are published while the outage lasts.
    const healthy = await h.startPublisher({ instanceId: "healthy" });
    for (const jobId of jobs) await recordIn(h, jobId, "published", 10_000);
    await eventually(
      () => (outage.inFlight() === 0 ? true : undefined),
      5_000,
      "the held messages to be handed back",
    );

    // Each job once: one page with one version, one `published` outcome and nothing else.
    for (const jobId of jobs) {
      const pages = pagesOfJob(h, jobId);
      expect(pages).toHaveLength(1);
      expect(pages[0]!.versions).toHaveLength(1);
    }
    const outcomes = await outcomesOf(h);
    for (const jobId of jobs)
      expect(outcomes.filter((o) => o.jobId === jobId).map((o) => o.outcome)).toEqual(["published"]);

    // The outage instance pulls again once its database answers: it publishes alone afterwards.
    proxy.restore();
    await eventually(
      () => (log.lines("the database answers again; pulling again") > 0 ? true : undefined),
      10_000,
      "the outage instance to pull again",
    );
    await healthy.stop();
    await h.submit({ jobId: "job-after", markdown: protocol("After the outage") });
    await recordIn(h, "job-after", "published", 10_000);
  }, 60_000);
});

// helpers

/** A TCP proxy to the test PostgreSQL server whose connections can be cut (and refused) and restored. */
interface PgProxy {
  readonly port: number;
  /** Ends every open connection and refuses new ones. */
  readonly cut: () => void;
  readonly restore: () => void;
}

const proxies: Array<{ readonly server: Server; readonly open: Set<Socket> }> = [];
afterEach(async () => {
  for (const { server, open } of proxies.splice(0)) {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of open) socket.destroy();
    await closed;
  }
});

const pgProxy = async (): Promise<PgProxy> => {
  const target = new URL(process.env.PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test");
  const open = new Set<Socket>();
  let cut = false;
  const server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream).pipe(client);
  });
  proxies.push({ server, open });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  return {
    port: address.port,
    cut: () => {
      cut = true;
      for (const socket of [...open]) socket.destroy();
    },
    restore: () => {
      cut = false;
    },
  };
};

/** The harness's configuration with its PostgreSQL database reached through the proxy on `port`. */
const throughProxy = (config: MinutesConfig, port: number): MinutesConfig => {
  const url = new URL(Redacted.value(config.database.url!));
  url.host = `127.0.0.1:${port}`;
  return { ...config, database: { ...config.database, url: Redacted.make(url.toString()) } };
};

/** Every outcome event the publishers emitted so far. */
const outcomesOf = async (h: Harness): Promise<Array<PublicationOutcome>> => {
  const stream = `${h.config.nats.stream}_OUTCOMES`;
  const count = (await h.jsm.streams.info(stream)).state.messages;
  if (count === 0) return [];
  const consumer = await h.js.consumers.get(stream, {
    filter_subjects: publicationEventWildcard(h.config.nats.subject_prefix),
    deliver_policy: DeliverPolicy.All,
  });
  const seen: Array<PublicationOutcome> = [];
  const messages = await consumer.fetch({ max_messages: count, expires: 5_000 });
  for await (const m of messages) {
    seen.push(Schema.decodeSync(PublicationOutcomeJson)(m.string()));
    if (m.info.pending === 0) break;
  }
  return seen;
};
