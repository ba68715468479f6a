/**
 * `pnpm bench`: performance as ratios measured side by side in one run, so the machine's speed
 * cancels out. Prints a table and, last, one JSON line; writes docs/benchmarks.md. Everything
 * runs on loopback: the sandbox Confluence, the gateway in this process (a child process of its
 * own for the intake part), the publisher as a child process (so its peak RSS is its own), NATS
 * at NATS_URL.
 */
import { type ChildProcess, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Sandbox, startSandbox } from "@minutes/confluence-sandbox";
import {
  gaveUpStreamName,
  protocolReadySubject,
  publicationEventWildcard,
  publisherRegistryStreamName,
} from "@minutes/contracts";
import { type RunningServer, startServer } from "@minutes/gateway";
import { markdownToStorage } from "@minutes/markdown-storage";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { keepAliveClient } from "./keep-alive-client.js";
import {
  type ConfigOverrides,
  decodeConfig,
  sandboxConfluence,
  spawnGateway,
  spawnIntakeFloor,
  spawnPublisher,
  writeConfigFile,
} from "./local-stack.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const PROTOCOLS = Number(process.env.BENCH_PROTOCOLS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const API_KEY = "bench-key";
/** `--skip-converter` (or BENCH_SKIP_CONVERTER=1) runs only the pipeline, replay and intake parts. */
const SKIP_CONVERTER = process.argv.includes("--skip-converter") || process.env.BENCH_SKIP_CONVERTER === "1";
/** `--only-intake` (or BENCH_ONLY_INTAKE=1) runs only the intake part: quick iterations on the gateway. */
const ONLY_INTAKE = process.argv.includes("--only-intake") || process.env.BENCH_ONLY_INTAKE === "1";
/** `--only-pipeline` runs only part 3 (event to page): quick iterations on the publisher. */
const ONLY_PIPELINE = process.argv.includes("--only-pipeline");
/** BENCH_PUBLISHER_NODE_ARGS: extra Node flags for the publisher child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`). */
const PUBLISHER_NODE_ARGS = (process.env.BENCH_PUBLISHER_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
/** BENCH_GATEWAY_NODE_ARGS: extra Node flags for the gateway child of the intake part. */
const GATEWAY_NODE_ARGS = (process.env.BENCH_GATEWAY_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
/** `--no-write` leaves docs/benchmarks.md alone (for partial or experimental runs). */
const WRITE_RESULTS =
  !process.argv.includes("--no-write") && !SKIP_CONVERTER && !ONLY_INTAKE && !ONLY_PIPELINE;

interface Row {
  readonly metric: string;
  readonly value: number;
  readonly goal: string;
  readonly note: string;
}

const rows: Array<Row> = [];
const result: Record<string, number> = {};
const record = (metric: string, value: number, goal = "", note = "") => {
  result[metric] = Number(value.toFixed(3));
  rows.push({ metric, value, goal, note });
};

const log = (line: string) => process.stderr.write(`${line}\n`);

/** ~2 KB protocols, each different, like a meeting processor writes them. */
const makeProtocol = (i: number): string => {
  const lines = [
    `# Meeting Protocol: Team sync ${i}`,
    "",
    `**Date:** ${new Date(Date.UTC(2025, i % 12, (i % 27) + 1)).toISOString().slice(0, 10)}`,
    "",
    "## Participants",
    "- Alice Example (chair)",
    "- Bob Example",
    "- Carol Example",
    "",
    "## Agenda",
    "1. Status of the release",
    "2. Incident review",
    "3. Next steps",
    "",
    "## Discussion",
    `The team reviewed item ${i}. The deployment went *mostly* well; one **rollback** was needed because of a`,
    "misconfigured flag. See `deploy.yaml` and the [runbook](https://example.com/runbook).",
    "",
    "| Topic | Owner | Status |",
    "| :--- | :---: | ---: |",
    "| Release | Alice | done |",
    "| Incident | Bob | open |",
    "",
    "```yaml",
    `service: team-${i}`,
    "replicas: 3",
    "```",
    "",
    "> [!NOTE]",
    "> The next review is in two weeks.",
    "",
    "## Action items",
    `- [ ] Alice: write the post-mortem (due 2025-10-${String((i % 20) + 10)})`,
    "- [x] Bob: roll back the flag",
    "- [ ] Carol: update the runbook",
  ];
  let text = lines.join("\n");
  while (text.length < 2000) text += `\n\nNote ${text.length}: decisions are recorded in the decision log.`;
  return `${text}\n`;
};

const time = async <A>(f: () => Promise<A> | A): Promise<{ readonly ms: number; readonly value: A }> => {
  const start = process.hrtime.bigint();
  const value = await f();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
};

const percentile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const converterBench = () => {
  log("converter: running the markdown-storage benchmark …");
  const run = spawnSync("pnpm", ["--silent", "--filter", "@minutes/markdown-storage", "run", "bench"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = run.stdout
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.trim().startsWith("{"));
  if (run.status !== 0 || line === undefined) {
    log(`converter benchmark failed: ${run.stderr.slice(-2000)}`);
    return;
  }
  const r = JSON.parse(line) as Record<string, number>;
  record("converter_vs_micromark", r.converter_vs_micromark ?? Number.NaN, "≥ 0.8", "MB/s ratio on ≥ 1 MB");
  record("converter_vs_showdown", r.converter_vs_showdown ?? Number.NaN, "reported", "MB/s ratio");
  record(
    "commonmark_match_ours",
    r.commonmark_match_ours ?? Number.NaN,
    "reported",
    "share of CommonMark examples",
  );
  record(
    "commonmark_match_showdown",
    r.commonmark_match_showdown ?? Number.NaN,
    "reported",
    "showdown-confluence",
  );
  record("converter_scaling", r.converter_scaling ?? Number.NaN, "≤ 12", "time(1 MiB) ÷ time(100 KiB)");
};

/** Peak RSS (VmHWM) of a process, in MB. */
const peakRssMb = (pid: number): number => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
};

/**
 * CPU time (user + system) a process has used so far, in ms (for the progress log); with
 * `mainThreadOnly`, its main thread's alone (without V8's collector and compiler threads).
 */
const cpuMs = (pid: number | undefined, mainThreadOnly = false): number => {
  if (pid === undefined) return Number.NaN;
  try {
    const path = mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
    // Fields after the command (which may hold spaces) start at index 2: utime is 14th, stime 15th.
    const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
};

const overridesFor = (dir: string, sandbox: Sandbox, id: string): ConfigOverrides => ({
  confluence: { ...sandboxConfluence(sandbox), max_retries: 3, retry_delay: 0.1, include_metadata: true },
  nats: {
    url: NATS_URL,
    stream: `BENCH_${id}`,
    subject_prefix: `bench${id}`,
    consumer: `bench_${id}`,
    concurrency: CONCURRENCY,
    ack_wait_seconds: 60,
    max_deliver: 10,
    backoff_seconds: [5, 10],
    duplicate_window_seconds: 120,
    max_age_days: 1,
  },
  database: { type: "sqlite", sqlite_path: join(dir, "bench.sqlite") },
  gateway: { host: "127.0.0.1", port: 0, admin_api_keys: [API_KEY], rate_limit_per_minute: 1_000_000 },
  logging: { level: "warn" },
  // BENCH_RENDER_THREADS: the publisher's `render_threads` (default: its own default for this machine).
  publisher: {
    render_threads:
      process.env.BENCH_RENDER_THREADS !== undefined ? Number(process.env.BENCH_RENDER_THREADS) : null,
  },
});

/** Headers of every event the benchmark sends. */
const JSON_HEADERS = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };

/** SIGTERM to a child process (if it still runs), resolved once it exited. */
const stopChild = async (child: ChildProcess | undefined): Promise<void> => {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
};

/**
 * `work`, or a clear failure when `child` exits before it settles: the pipeline and replay parts
 * wait for outcomes only the publisher produces, so a crashed publisher must end the run, not
 * leave it waiting forever.
 */
const whileAlive = async <A>(child: ChildProcess, what: string, work: Promise<A>): Promise<A> => {
  let onExit: (() => void) | undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () =>
      reject(
        new Error(
          `the publisher exited (${child.exitCode ?? child.signalCode}) during ${what}; its output is above`,
        ),
      );
    if (child.exitCode !== null || child.signalCode !== null) onExit();
    else child.once("exit", onExit);
  });
  try {
    return await Promise.race([work, exited]);
  } finally {
    if (onExit !== undefined) child.off("exit", onExit);
  }
};

/** Runs `tasks` with at most `limit` in flight. */
const pool = async (count: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const i = next++;
        await task(i);
      }
    }),
  );
};

interface Stack {
  readonly base: string;
  readonly config: ReturnType<typeof decodeConfig>;
  readonly sandbox: Sandbox;
  readonly js: ReturnType<typeof jetstream>;
  readonly docs: ReadonlyArray<string>;
  readonly id: string;
}

/** 3 and 4: the whole pipeline, event to page, then a replay at 50 ms per Confluence request. */
/**
 * Protocols per second `markdownToStorage` converts on this core. Measured before and again right
 * after the pipeline part, which uses the mean: this machine's speed drifts by a quarter within a
 * minute (seen: 390 and 500 per second in back-to-back runs), and the pipeline runs in between.
 */
const convertPerSecond = (docs: ReadonlyArray<string>): number => {
  const start = process.hrtime.bigint();
  for (const d of docs) markdownToStorage(d, { addToc: true, addDateMacro: true, includeMetadata: true });
  return docs.length / (Number(process.hrtime.bigint() - start) / 1e9);
};

const pipelineAndReplay = async (stack: Stack, publisher: ChildProcess, convertBefore: number) => {
  const { base, config, sandbox, js, docs, id } = stack;
  // 3. the whole pipeline, event to page
  const outcomes = await js.consumers.get(`${config.nats.stream}_OUTCOMES`, {
    filter_subjects: publicationEventWildcard(config.nats.subject_prefix),
  });
  // The replay part replays from here: the streams exist already, so the window is whole.
  const replaySince = new Date().toISOString();
  const ownCpuBefore = process.cpuUsage();
  const natsPid = Number(spawnSync("pgrep", ["-o", "nats-server"], { encoding: "utf8" }).stdout.trim());
  const natsCpuBefore = cpuMs(natsPid);
  const publisherCpuBefore = cpuMs(publisher.pid);
  const publisherMainBefore = cpuMs(publisher.pid, true);
  const pipeline = await time(async () => {
    const seen = new Set<string>();
    const done = (async () => {
      const messages = await outcomes.consume();
      for await (const m of messages) {
        const o = m.json<{ jobId: string; outcome: string }>();
        if (o.outcome === "published" || o.outcome === "failed") seen.add(o.jobId);
        if (seen.size >= PROTOCOLS) break;
      }
    })();
    // The meeting processor's side: the lean client of the intake part, so that the load
    // generator takes as little CPU as it can from the pipeline it measures on the same cores.
    const client = keepAliveClient(base);
    try {
      await pool(PROTOCOLS, 32, async (i) => {
        const body = JSON.stringify({
          jobId: `bench-${id}-${i}`,
          markdown: docs[i],
          filename: `bench-${i}.md`,
          occurredAt: new Date().toISOString(),
        });
        const { status } = await client.request("POST", "/api/protocols", JSON_HEADERS, body);
        if (status !== 202) throw new Error(`pipeline: POST /api/protocols answered ${status}, not 202`);
      });
    } finally {
      client.close();
    }
    await whileAlive(publisher, "the pipeline part", done);
  });
  const pipelinePerS = PROTOCOLS / (pipeline.ms / 1000);
  const cpuAfterPipeline = cpuMs(publisher.pid);
  const mainAfterPipeline = cpuMs(publisher.pid, true);
  const own = process.cpuUsage(ownCpuBefore);
  const natsCpu = cpuMs(natsPid) - natsCpuBefore;
  const convertPerS = (convertBefore + convertPerSecond(docs)) / 2;
  log(
    `pipeline: ${pipeline.ms.toFixed(0)} ms; CPU during it: publisher ${(cpuAfterPipeline - publisherCpuBefore).toFixed(0)} ms ` +
      `(main thread ${(mainAfterPipeline - publisherMainBefore).toFixed(0)} ms), ` +
      `gateway + sandbox + clients ${((own.user + own.system) / 1000).toFixed(0)} ms, nats-server ${natsCpu.toFixed(0)} ms`,
  );
  const store = await import("@minutes/publication-store");
  const { Effect, Exit, Scope } = await import("effect");
  const scope = Effect.runSync(Scope.make());
  const s = await Effect.runPromise(
    store.PublicationStore.make({ type: "sqlite", sqlitePath: config.database.sqlite_path }).pipe(
      Scope.extend(scope),
    ),
  );
  const all = await Effect.runPromise(s.query({ status: "published", limit: 500 }));
  const latencies: Array<number> = [];
  let cursor = all.nextCursor;
  for (const p of all.items) if (p.latencyMs !== null) latencies.push(p.latencyMs);
  while (cursor !== null) {
    const page = await Effect.runPromise(s.query({ status: "published", limit: 500, cursor }));
    for (const p of page.items) if (p.latencyMs !== null) latencies.push(p.latencyMs);
    cursor = page.nextCursor;
  }
  await Effect.runPromise(Scope.close(scope, Exit.void));
  record("pipeline_vs_convert", pipelinePerS / convertPerS, "≥ 0.5", `${PROTOCOLS} protocols of ~2 KB`);
  record("pipeline_per_s", pipelinePerS, "reported", "gateway → JetStream → publisher → sandbox → SQLite");
  record(
    "convert_per_s",
    convertPerS,
    "reported",
    "markdownToStorage alone, one core (mean of before and after 3)",
  );
  record("latency_p50_ms", percentile(latencies, 50), "reported", "event → page");
  record("latency_p99_ms", percentile(latencies, 99), "reported", "event → page");

  if (ONLY_PIPELINE) {
    record(
      "publisher_rss_mb",
      publisher.pid !== undefined ? peakRssMb(publisher.pid) : Number.NaN,
      "≤ 200",
      "peak RSS during 3",
    );
    return;
  }
  // 4. replay at 50 ms per Confluence request
  const latencyRule = sandbox.faults.add({ kind: "latency", latencyMs: 50 });
  const replayToEnd = async () => {
    const res = await fetch(`${base}/api/replays`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ since: replaySince, force: true }),
    });
    const started = (await res.json()) as { id: string };
    for (;;) {
      const r = await fetch(`${base}/api/replays/${started.id}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      const p = (await r.json()) as { status: string; done: number; total: number };
      if (p.status !== "running") return p;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const replay = await time(() => whileAlive(publisher, "the replay part", replayToEnd()));
  log(
    `replay: ${replay.ms.toFixed(0)} ms, publisher CPU ${(cpuMs(publisher.pid) - cpuAfterPipeline).toFixed(0)} ms`,
  );
  const requests = sandbox.faults.list().find((f) => f.id === latencyRule)?.fired ?? 0;
  sandbox.faults.clear(latencyRule);
  const ideal = (requests * 50) / CONCURRENCY;
  record("replay_vs_ideal", replay.ms / ideal, "≤ 1.15", `${requests} requests, concurrency ${CONCURRENCY}`);
  record(
    "publisher_rss_mb",
    publisher.pid !== undefined ? peakRssMb(publisher.pid) : Number.NaN,
    "≤ 200",
    "peak RSS during 3 and 4",
  );
};

/**
 * Requests each side of the intake part measures (BENCH_INTAKE_REQUESTS). Both sides run at
 * 10,000+ per second here: 2,000 made rounds of 20-50 ms, and a GC pause or a scheduler hiccup
 * then moved the ratio by a quarter (0.32-0.45 between runs); 10,000 keeps runs within a few %.
 */
const INTAKE_REQUESTS = Number(process.env.BENCH_INTAKE_REQUESTS ?? 10_000);
/** Rounds the intake part alternates its two sides in (see `intakeVsJetstream`). */
const INTAKE_ROUNDS = 4;

/**
 * 5. intake vs a bare JetStream publish loop with the same NATS client, INTAKE_REQUESTS each with 32
 * in flight. The gateway runs as its own process, as in production, driven over keep-alive
 * connections by a lean HTTP/1.1 client (keep-alive-client.ts); the bare loop publishes from this
 * process. Both sides first get the same warm-up (BENCH_WARMUP, default n): a freshly started
 * gateway spends its first thousand or so requests in unoptimised code, about twice the CPU of a
 * long-running one. The measured requests alternate between the sides in INTAKE_ROUNDS rounds,
 * so load from other processes on the machine falls on both sides alike. Every intake request
 * must answer 202 (stored in JetStream, acked) or the run fails.
 *
 * A third side, reported only, is the floor (intake-floor.ts): bare node:http doing the same
 * publish as its own process, driven by the same client. Its ratio to the bare loop is what a Node
 * HTTP front door can reach on the machine at all; `intake_vs_floor` is the gateway's share of it.
 */
const intakeVsJetstream = async (stack: Stack, dir: string, overrides: ConfigOverrides) => {
  const { config, js, docs, id } = stack;
  const n = INTAKE_REQUESTS;
  const warmup = Number(process.env.BENCH_WARMUP ?? n);
  const gateway = await spawnGateway(root, dir, overrides, "inherit", undefined, GATEWAY_NODE_ARGS);
  const floor = await spawnIntakeFloor(root, NATS_URL, config.nats.subject_prefix, "inherit");
  const client = keepAliveClient(gateway.base);
  const floorClient = keepAliveClient(floor.base);
  const statuses = new Map<number, number>();
  const intakeRun = (prefix: string, from: number, count: number, via = client) =>
    pool(count, 32, async (k) => {
      const i = from + k;
      const body = JSON.stringify({
        jobId: `${prefix}-${id}-${i}`,
        markdown: docs[i % docs.length],
        filename: "i.md",
        occurredAt: new Date().toISOString(),
      });
      const { status } = await via.request("POST", "/api/protocols", JSON_HEADERS, body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
  const bareRun = (prefix: string, from: number, count: number) =>
    pool(count, 32, (k) => {
      const i = from + k;
      return js.publish(
        protocolReadySubject(`${prefix}-${id}-${i}`, config.nats.subject_prefix),
        JSON.stringify({ markdown: docs[i % docs.length] }),
        { msgID: `${prefix}-${id}-${i}` },
      );
    });
  try {
    await intakeRun("intake-warmup", 0, warmup);
    await intakeRun("floor-warmup", 0, warmup, floorClient);
    await bareRun("bare-warmup", 0, warmup);
    statuses.clear();
    let intakeMs = 0;
    let floorMs = 0;
    let bareMs = 0;
    const perRound = Math.ceil(n / INTAKE_ROUNDS);
    for (let from = 0; from < n; from += perRound) {
      const count = Math.min(perRound, n - from);
      intakeMs += (await time(() => intakeRun("intake", from, count))).ms;
      floorMs += (await time(() => intakeRun("floor", from, count, floorClient))).ms;
      bareMs += (await time(() => bareRun("bare", from, count))).ms;
    }
    if (statuses.get(202) !== 2 * n)
      throw new Error(`intake: expected ${2 * n} answers 202, got ${JSON.stringify([...statuses])}`);
    const intakePerS = n / (intakeMs / 1000);
    const floorPerS = n / (floorMs / 1000);
    const barePerS = n / (bareMs / 1000);
    record("intake_vs_jetstream", intakePerS / barePerS, "≥ 0.5", "requests/s ratio");
    record("intake_per_s", intakePerS, "reported", "POST /api/protocols, 32 in flight, gateway process");
    record("jetstream_per_s", barePerS, "reported", "bare js.publish + ack, 32 in flight");
    record(
      "intake_floor_vs_jetstream",
      floorPerS / barePerS,
      "reported",
      "bare node:http + the same publish, own process (intake-floor.ts)",
    );
    record("intake_vs_floor", intakePerS / floorPerS, "reported", "the gateway's share of the floor");
  } finally {
    client.close();
    floorClient.close();
    await Promise.all([gateway.stop(), floor.stop()]);
  }
};

const main = async () => {
  if (!SKIP_CONVERTER && !ONLY_INTAKE && !ONLY_PIPELINE) converterBench();

  const docs = Array.from({ length: PROTOCOLS }, (_, i) => makeProtocol(i));
  const convertBefore = ONLY_INTAKE ? Number.NaN : convertPerSecond(docs);

  const dir = mkdtempSync(join(tmpdir(), "minutes-bench-"));
  const id = randomUUID().slice(0, 8);
  const sandbox = await startSandbox({ mode: "cloud", port: 0 });
  const overrides = overridesFor(dir, sandbox, id);
  const config = decodeConfig(overrides);
  const configFile = writeConfigFile(dir, overrides);
  const gateway: RunningServer = await startServer(config);
  const base = gateway.address;
  const publisher = ONLY_INTAKE
    ? undefined
    : spawnPublisher(root, configFile, "inherit", PUBLISHER_NODE_ARGS);
  // The same client settings as the gateway's connection (apps/gateway/src/server.ts), so the
  // bare publish loop of part 5 is not slowed by async stack traces the gateway does not pay for.
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stack: Stack = { base, config, sandbox, js, docs, id };
  try {
    if (publisher !== undefined) await pipelineAndReplay(stack, publisher, convertBefore);
    // The intake measures the gateway and JetStream alone: the publisher has exited by then.
    await stopChild(publisher);
    if (!ONLY_PIPELINE) await intakeVsJetstream(stack, dir, overrides);
  } finally {
    await stopChild(publisher);
    await gateway.stop();
    await jsm.streams.delete(config.nats.stream).catch(() => undefined);
    await jsm.streams.delete(`${config.nats.stream}_OUTCOMES`).catch(() => undefined);
    await jsm.streams.delete(gaveUpStreamName(config.nats.stream)).catch(() => undefined);
    await jsm.streams.delete(publisherRegistryStreamName(config.nats.stream)).catch(() => undefined);
    await nc.drain();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const table = [
    "| metric | value | goal | note |",
    "| --- | ---: | --- | --- |",
    ...rows.map((r) => `| ${r.metric} | ${r.value.toFixed(3)} | ${r.goal} | ${r.note} |`),
  ].join("\n");
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
  if (WRITE_RESULTS)
    writeFileSync(
      join(root, "docs", "benchmarks.md"),
      `# Benchmarks\n\nMeasured by \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine}.\nEverything on loopback; ratios compare two measurements taken in the same run.\n\n${table}\n\n\`\`\`json\n${JSON.stringify(result)}\n\`\`\`\n`,
    );
  process.stdout.write(`${table}\n${JSON.stringify(result)}\n`);
};

await main();
