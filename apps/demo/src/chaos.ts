/**
 * `pnpm chaos [--jobs N]`: the reliability suite, loopback only and bounded in time. N protocols
 * (some sent twice with changed content) go through gateway → JetStream → publisher → sandbox
 * while the sandbox answers with 429s, 5xx, resets and hangs, the publisher process is killed
 * with SIGKILL at random moments and restarted, and the suite's own nats-server is restarted
 * once. Then it checks against the sandbox and the store: one page per job holding its latest
 * protocol, one `published` record per job, no duplicates, nothing lost.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox } from "@minutes/confluence-sandbox";
import { startServer } from "@minutes/gateway";
import { PublicationStore } from "@minutes/publication-store";
import { connect } from "@nats-io/transport-node";
import { Command } from "commander";
import { Effect, Exit, Option, Scope } from "effect";
import {
  type ConfigOverrides,
  decodeConfig,
  sandboxConfluence,
  spawnPublisher,
  writeConfigFile,
} from "./local-stack.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const program = new Command("minutes-chaos")
  .option("--jobs <n>", "protocols to publish", "1000")
  .option("--seed <n>", "random seed", String(Date.now() % 100_000))
  .option("--timeout <s>", "give up after this many seconds", "1200")
  .parse();
const opts = program.opts<{ jobs: string; seed: string; timeout: string }>();
const JOBS = Number(opts.jobs);
const DEADLINE = Date.now() + Number(opts.timeout) * 1000;
let seed = Number(opts.seed);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NATS_BIN = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server"].find((p) =>
  existsSync(p),
);
if (NATS_BIN === undefined) {
  process.stderr.write("chaos: needs a nats-server binary (apt-get install nats-server)\n");
  process.exit(2);
}
const NATS_PORT = 14_000 + Math.floor(random() * 900);
const NATS_URL = `nats://127.0.0.1:${NATS_PORT}`;
const dir = mkdtempSync(join(tmpdir(), "minutes-chaos-"));

const startNats = (): ChildProcess =>
  spawn(NATS_BIN, ["-a", "127.0.0.1", "-p", String(NATS_PORT), "-js", "-sd", join(dir, "nats")], {
    stdio: "ignore",
  });

const natsUp = async () => {
  while (Date.now() < DEADLINE) {
    try {
      const nc = await connect({ servers: NATS_URL, reconnect: false, timeout: 1000 });
      await nc.close();
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error("nats-server did not start");
};

const marker = (jobId: string, version: number) => `chaos-marker-${jobId}-v${version}`;
const protocol = (jobId: string, version: number) =>
  `# Meeting Protocol: Chaos ${jobId}\n\nDate: 2025-11-03\n\n## Decisions\n- ${marker(jobId, version)}\n\n- [ ] follow up (due 2025-11-10)\n`;

const main = async (): Promise<number> => {
  let nats = startNats();
  await natsUp();
  const sandbox = await startSandbox({ mode: "cloud", port: 0 });
  const apiKey = `chaos-${randomUUID()}`;
  const overrides: ConfigOverrides = {
    confluence: { ...sandboxConfluence(sandbox), timeout: 2, max_retries: 3, retry_delay: 0.05 },
    nats: {
      url: NATS_URL,
      stream: "CHAOS",
      consumer: "chaos-publisher",
      concurrency: 8,
      ack_wait_seconds: 10,
      max_deliver: 20,
      backoff_seconds: [2, 2, 4, 4, 8],
    },
    database: { type: "sqlite", sqlite_path: join(dir, "chaos.sqlite") },
    gateway: { host: "127.0.0.1", port: 0, admin_api_keys: [apiKey], rate_limit_per_minute: 1_000_000 },
    logging: { level: "error" },
  };
  const config = decodeConfig(overrides);
  const configFile = writeConfigFile(dir, overrides);

  let publisher: ChildProcess = spawnPublisher(root, configFile);
  const gateway = await startServer(config);
  const base = gateway.address;

  sandbox.faults.seed(seed);
  sandbox.faults.add({ kind: "rateLimit", rate: 0.04, retryAfter: 1 });
  sandbox.faults.add({ kind: "status", status: 503, rate: 0.03 });
  sandbox.faults.add({ kind: "status", status: 502, rate: 0.02 });
  sandbox.faults.add({ kind: "reset", rate: 0.02 });
  sandbox.faults.add({ kind: "hang", rate: 0.005 });

  const versions = new Map<string, number>();
  const submit = async (jobId: string, version: number) => {
    for (;;) {
      if (Date.now() > DEADLINE) throw new Error("deadline passed while submitting");
      try {
        const res = await fetch(`${base}/api/protocols`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({
            jobId,
            markdown: protocol(jobId, version),
            filename: `${jobId}.md`,
            occurredAt: new Date().toISOString(),
          }),
        });
        await res.arrayBuffer();
        if (res.status === 202) {
          versions.set(jobId, Math.max(versions.get(jobId) ?? 0, version));
          return;
        }
      } catch {
        // the gateway answers 503 while NATS restarts; a meeting processor retries
      }
      await sleep(200);
    }
  };

  // Kill the publisher at random moments (at least three times) and restart NATS once.
  let kills = 0;
  let natsRestarted = false;
  const chaos = (async () => {
    while (kills < 3 || !natsRestarted) {
      await sleep(1500 + random() * 4000);
      if (Date.now() > DEADLINE) return;
      if (kills === 1 && !natsRestarted) {
        log("restarting NATS");
        nats.kill("SIGTERM");
        await new Promise((r) => nats.once("exit", r));
        nats = startNats();
        await natsUp();
        natsRestarted = true;
        continue;
      }
      log(`killing the publisher (${kills + 1})`);
      publisher.kill("SIGKILL");
      await new Promise((r) => publisher.once("exit", r));
      kills++;
      publisher = spawnPublisher(root, configFile);
    }
  })();

  const jobs = Array.from({ length: JOBS }, (_, i) => `chaos-${i}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < jobs.length) {
        const jobId = jobs[next++] as string;
        await submit(jobId, 1);
        if (random() < 0.2) await submit(jobId, 2);
      }
    }),
  );
  log(`${JOBS} jobs submitted`);
  await chaos;

  const scope = Effect.runSync(Scope.make());
  const store = await Effect.runPromise(
    PublicationStore.make({ type: "sqlite", sqlitePath: config.database.sqlite_path }).pipe(
      Scope.extend(scope),
    ),
  );
  const recordOf = async (jobId: string) =>
    Option.getOrUndefined(await Effect.runPromise(store.findByJob(jobId)));

  // Wait for every job to settle; then, as an operator would, retry what failed under the faults.
  const settle = async () => {
    while (Date.now() < DEADLINE) {
      let open = 0;
      for (const jobId of jobs) {
        const r = await recordOf(jobId);
        if (!r || (r.status !== "published" && r.status !== "failed") || !pageHasLatest(jobId)) open++;
      }
      if (open === 0) return;
      log(`${open} jobs not settled yet`);
      await sleep(3000);
    }
  };
  const pagesOf = (jobId: string) =>
    sandbox.state
      .pages()
      .filter((p) => p.status === "current")
      .filter((p) =>
        p.properties.some((x) => x.key === "minutes.job" && (x.value as { jobId?: string }).jobId === jobId),
      );
  const pageHasLatest = (jobId: string) =>
    pagesOf(jobId).some((p) => p.versions.at(-1)?.body.includes(marker(jobId, versions.get(jobId) ?? 1)));

  await settle();
  sandbox.faults.clear();
  for (const jobId of jobs) {
    const r = await recordOf(jobId);
    if (r?.status === "failed") {
      await fetch(`${base}/api/publications/${r.id}/retry`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}` },
      });
    }
  }
  await settle();

  let published = 0;
  let duplicates = 0;
  let lost = 0;
  let failed = 0;
  for (const jobId of jobs) {
    const r = await recordOf(jobId);
    const pages = pagesOf(jobId);
    if (pages.length > 1) duplicates += pages.length - 1;
    if (!r || pages.length === 0) lost++;
    else if (r.status === "published" && pageHasLatest(jobId)) published++;
    else failed++;
  }
  await Effect.runPromise(Scope.close(scope, Exit.void));
  publisher.kill("SIGTERM");
  await gateway.stop();
  await sandbox.close();
  nats.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    `chaos: ${JOBS} jobs, ${published} published, ${duplicates} duplicate pages, ${lost} lost, ${failed} failed\n`,
  );
  return published === JOBS && duplicates === 0 && lost === 0 && failed === 0 ? 0 : 1;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
    rmSync(dir, { recursive: true, force: true });
    process.exit(1);
  },
);
