/**
 * The main job on one machine: NATS (at `NATS_URL`, or a nats-server started for the demo), the
 * sandbox Confluence, a demo vault, the publisher and the gateway on SQLite; the protocols go in
 * through the gateway as the meeting processor sends them. State lives in `.demo/` so a second run
 * updates, not duplicates; its streams have their own subject prefix, beside a default Minutes.
 */
import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { type Sandbox, startSandbox } from "@minutes/confluence-sandbox";
import {
  DEFAULT_SUBJECT_PREFIX,
  type MinutesConfig,
  PUBLICATION_STREAM_SUFFIX,
  protocolStreamWildcard,
  publicationEventWildcard,
  publisherPresenceWildcard,
  publisherRegistryStreamName,
  withoutNatsCredentials,
} from "@minutes/contracts";
import { type RunningServer, startServer } from "@minutes/gateway";
import { type RunningPublisher, startPublisher } from "@minutes/publisher";
import { listSavedTokens, normalizeUrl, saveEncryptedToken } from "@minutes/token-vault";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Either, Redacted } from "effect";
import { type ConfigOverrides, decodeConfig, freePort } from "./local-stack.js";

/** The demo's protocol stream (its outcome stream is `MINUTES_DEMO_OUTCOMES`). */
export const DEMO_STREAM = "MINUTES_DEMO";
/**
 * The demo's subject prefix: not the default `minutes`, whose subjects a default-configured
 * Minutes' stream (`MINUTES_PROTOCOLS`) stores; JetStream refuses two streams on the same subjects.
 */
export const DEMO_SUBJECT_PREFIX = "minutes_demo";
/** The publisher's durable consumer on the demo's stream. */
export const DEMO_CONSUMER = "minutes-demo-publisher";

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Repository root (for `.demo/` and the bundled protocols). */
  readonly root: string;
  readonly natsUrl: string;
  /** Extra Markdown files to submit besides the samples. */
  readonly files: ReadonlyArray<string>;
  readonly once: boolean;
  readonly gatewayPort: number;
  readonly sandboxPort: number;
  /** The protocol stream (`nats.stream`); default {@link DEMO_STREAM}. */
  readonly stream?: string;
  /** The first token of every subject (`nats.subject_prefix`); default {@link DEMO_SUBJECT_PREFIX}. */
  readonly subjectPrefix?: string;
  /** How long to wait for each protocol's publication; default 60 s. */
  readonly publishTimeoutMs?: number;
  /** Publish to a real Confluence (token from the vault) instead of the sandbox. */
  readonly confluenceUrl?: string;
  readonly username?: string;
  readonly vaultPassword?: string;
  readonly print: (line: string) => void;
}

/** One submitted protocol and how it ended. */
export interface DemoResult {
  readonly file: string;
  readonly jobId: string;
  /** The sequence the gateway answered for this submission (`null` when it was rejected). */
  readonly streamSequence: number | null;
  readonly status: string;
  readonly title: string | null;
  readonly viewUrl: string | null;
  readonly error: string | null;
}

/** A running demo. */
export interface RunningDemo {
  readonly results: ReadonlyArray<DemoResult>;
  readonly gatewayUrl: string;
  readonly apiKey: string;
  readonly sandboxUrl: string | null;
  readonly stop: () => Promise<void>;
}

/** A clear, one-line reason the demo cannot run. */
export class DemoError extends Error {}

/** Runs the whole pipeline and submits the protocols. */
export const runDemo = async (options: DemoOptions): Promise<RunningDemo> => {
  const dir = join(options.root, ".demo");
  const stream = options.stream ?? DEMO_STREAM;
  const subjectPrefix = options.subjectPrefix ?? DEMO_SUBJECT_PREFIX;
  const timeoutMs = options.publishTimeoutMs ?? 60_000;
  // Refused before anything starts: a real Confluence without a user or vault password.
  if (
    options.confluenceUrl !== undefined &&
    ((options.username ?? "") === "" || (options.vaultPassword ?? "") === "")
  ) {
    throw new DemoError(
      "--confluence-url needs --username and VAULT_PASSWORD, and a token saved with: pnpm vault add --file .demo/tokens.vault --url <url> --username <name>",
    );
  }
  // The protocols given on the command line are read before anything starts: a misspelt name
  // stops the demo at once, not after the pipeline is up and the samples are submitted.
  const extra = options.files.map((f) => {
    const file = resolve(f);
    try {
      return { file, markdown: readFileSync(file, "utf8"), real: realpathSync(file) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new DemoError(
        `${f}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a Markdown file" : `cannot be read (${code ?? String(error)})`}`,
      );
    }
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const nats = await ensureNats(options.natsUrl, dir, options.print);
    if (nats.stop) stops.push(nats.stop);
    if (options.stream === undefined && options.subjectPrefix === undefined) {
      await moveEarlierDemoStreams(nats.url, options.print);
    }

    let sandbox: Sandbox | undefined;
    let baseUrl: string;
    let username: string;
    let deployment: "cloud" | "datacenter" | null = null;
    const vaultFile = join(dir, "tokens.vault");
    let vaultPassword: string;
    if (options.confluenceUrl === undefined) {
      sandbox = await startSandboxOn(options.sandboxPort, join(dir, "sandbox.sqlite"));
      const sb = sandbox;
      stops.push(() => sb.close());
      baseUrl = sandbox.baseUrl;
      username = sandbox.user.email;
      deployment = sandbox.mode;
      vaultPassword = demoVaultPassword(dir);
      await saveEncryptedToken({
        file: vaultFile,
        url: baseUrl,
        username,
        token: Redacted.make(sandbox.user.token),
        password: Redacted.make(vaultPassword),
      });
    } else {
      baseUrl = options.confluenceUrl;
      username = options.username ?? "";
      vaultPassword = options.vaultPassword ?? "";
      const saved = await listSavedTokens({ file: vaultFile }).catch(() => []);
      // The vault keys tokens by URL and user name: a token saved for another URL is not found by
      // the publisher either, and every protocol would fail with "no token saved".
      const url = Either.getOrElse(normalizeUrl(baseUrl), () => baseUrl);
      if (!saved.some((t) => t.username === username && t.url === url)) {
        throw new DemoError(
          `no token for ${username} at ${url} in .demo/tokens.vault: run pnpm vault add --file .demo/tokens.vault --url ${baseUrl} --username ${username}${existsSync(join(dir, "vault-password")) ? " with VAULT_PASSWORD set to this vault's password (a sandbox run made the vault: its password is in .demo/vault-password)" : ""}`,
        );
      }
    }

    const apiKey = `demo-${randomBytes(12).toString("hex")}`;
    const config = demoConfig({
      dir,
      natsUrl: nats.url,
      stream,
      subjectPrefix,
      baseUrl,
      username,
      deployment,
      vaultFile,
      vaultPassword,
      apiKey,
      gatewayPort: options.gatewayPort,
    });

    const publisher: RunningPublisher = await withDemoAdvice(() =>
      startPublisher({
        config,
        defaultVaultFile: vaultFile,
        ...(sandbox ? { clientOverrides: { gatewayUrl: sandbox.origin } } : {}),
      }),
    );
    stops.push(() => publisher.stop());
    const gateway: RunningServer = await withDemoAdvice(() => startGatewayOn(config));
    stops.push(() => gateway.stop());
    const gatewayUrl = gateway.address.replace("0.0.0.0", "127.0.0.1");

    // Samples keep their base name as job id (the pages of earlier runs stay theirs); a file from
    // the command line is its own job wherever it lives, and the same file given twice is one.
    const seen = new Set<string>();
    const files = [
      ...protocolFiles(options.root).map((file) => ({
        file,
        markdown: readFileSync(file, "utf8"),
        real: realpathSync(file),
        jobId: sampleJobId(file),
      })),
      ...extra.map((e) => ({ ...e, jobId: fileJobId(e.file, e.real) })),
    ].filter((f) => !seen.has(f.real) && seen.add(f.real));
    options.print(`Publishing ${files.length} protocols through ${gatewayUrl} …`);
    const jobs: Array<Submission> = [];
    for (const { file, markdown, jobId } of files) {
      const submittedAt = Date.now();
      const response = await fetch(`${gatewayUrl}/api/protocols`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          jobId,
          markdown,
          filename: basename(file),
          occurredAt: new Date(submittedAt).toISOString(),
          source: "minutes-demo",
        }),
      });
      const body = (await response.json()) as {
        detail?: string;
        duplicate?: boolean;
        streamSequence?: number;
      };
      if (response.status !== 202 || typeof body.streamSequence !== "number") {
        jobs.push({ file, jobId, rejected: body.detail ?? `HTTP ${response.status}` });
        options.print(`  ✗ ${basename(file)}: ${body.detail ?? response.status}`);
      } else {
        jobs.push({
          file,
          jobId,
          rejected: null,
          accepted: { streamSequence: body.streamSequence, duplicate: body.duplicate === true, submittedAt },
        });
        options.print(
          `  → ${basename(file)} accepted${body.duplicate ? " (duplicate of an earlier submission)" : ""}`,
        );
      }
    }

    const results: Array<DemoResult> = [];
    for (const job of jobs) {
      if (job.rejected !== null || job.accepted === undefined) {
        results.push({
          file: job.file,
          jobId: job.jobId,
          streamSequence: null,
          status: "rejected",
          title: null,
          viewUrl: null,
          error: job.rejected,
        });
        continue;
      }
      const seq = job.accepted.streamSequence;
      const waited = await waitForOutcome(gatewayUrl, apiKey, job.jobId, job.accepted, timeoutMs);
      const publication = waited.outcome;
      const viewUrl =
        publication?.pageId && sandbox
          ? `${sandbox.origin}/sandbox/pages/${publication.pageId}`
          : (publication?.pageUrl ?? null);
      const seconds = `${Math.round(timeoutMs / 100) / 10} s`;
      const result: DemoResult = {
        file: job.file,
        jobId: job.jobId,
        streamSequence: seq,
        status: publication?.status ?? "timeout",
        title: publication?.pageTitle ?? null,
        viewUrl,
        error: publication
          ? publication.errorMessage
          : `not published within ${seconds}${waited.last ? `: the job's record is still at an earlier protocol (${waited.last.status}${waited.last.streamSequence !== null ? `, stream message ${waited.last.streamSequence}` : ""}), this one is stream message ${seq}` : ""}`,
      };
      results.push(result);
      options.print(
        result.status === "published"
          ? `  ✓ ${result.title}\n      ${result.viewUrl}`
          : `  ✗ ${basename(job.file)}: ${result.status}${result.error ? ` — ${result.error}` : ""}`,
      );
    }

    options.print("");
    options.print(`Gateway: ${gatewayUrl}`);
    options.print(`API key: ${apiKey}`);
    options.print(`OpenAPI: ${gatewayUrl}/docs`);
    options.print(`Sandbox: ${sandbox ? `${sandbox.origin}/sandbox` : "(real Confluence)"}`);
    return {
      results,
      gatewayUrl,
      apiKey,
      sandboxUrl: sandbox ? `${sandbox.origin}/sandbox` : null,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
};

/** The job id of a sample protocol: its base name, as every earlier demo run had it. */
export const sampleJobId = (file: string): string => `demo-${slug(file)}`;

/**
 * The job id of a protocol file given on the command line: its base name (readable) and a short
 * hash of its real path, so two files with the same name, or one named like a sample, are jobs
 * of their own, and the same file is the same job (and page) on every run.
 */
export const fileJobId = (file: string, realPath: string): string =>
  `demo-${slug(file)}-${createHash("sha256").update(realPath).digest("hex").slice(0, 8)}`;

/** How a submission's publication is known: its stream sequence, not just any record of the job. */
export interface AcceptedSubmission {
  /** What the gateway answered as `streamSequence`. */
  readonly streamSequence: number;
  /** The gateway's `duplicate`: JetStream had this very event already. */
  readonly duplicate: boolean;
  /** When it was sent (ms since the epoch). */
  readonly submittedAt: number;
}

/** The job's publication record, as `GET /api/jobs/:jobId/publications` lists it. */
export interface PublicationView {
  readonly status: string;
  readonly pageId: string | null;
  readonly pageUrl: string | null;
  readonly pageTitle: string | null;
  readonly errorMessage: string | null;
  readonly streamSequence: number | null;
  readonly updatedAt: string;
}

/**
 * Whether `record` is the outcome of this submission: final, and written for its stream message or
 * a later one. A new event must also have been recorded after it was sent: when NATS lost its data
 * the stream numbers from 1 again, and an earlier record's sequence may be higher.
 */
export const isOutcomeOf = (submission: AcceptedSubmission, record: PublicationView): boolean =>
  FINAL.has(record.status) &&
  record.streamSequence !== null &&
  record.streamSequence >= submission.streamSequence &&
  (submission.duplicate || Date.parse(record.updatedAt) >= submission.submittedAt);

// internal

const FINAL: ReadonlySet<string> = new Set(["published", "failed", "rejected", "archived"]);

interface Submission {
  readonly file: string;
  readonly jobId: string;
  readonly rejected: string | null;
  readonly accepted?: AcceptedSubmission;
}

const slug = (file: string): string =>
  basename(file)
    .replace(/\.md$/i, "")
    .replace(/[^A-Za-z0-9_-]/g, "-")
    .slice(0, 120);

/** Polls the job's record until it is this submission's outcome; `last` is what it saw else. */
const waitForOutcome = async (
  gatewayUrl: string,
  apiKey: string,
  jobId: string,
  submission: AcceptedSubmission,
  timeoutMs: number,
): Promise<{ readonly outcome?: PublicationView; readonly last?: PublicationView }> => {
  const deadline = Date.now() + timeoutMs;
  let last: PublicationView | undefined;
  while (Date.now() < deadline) {
    const response = await fetch(`${gatewayUrl}/api/jobs/${encodeURIComponent(jobId)}/publications`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (response.ok) {
      const body = (await response.json()) as { items?: Array<PublicationView> };
      last = body.items?.[0];
      if (last && isOutcomeOf(submission, last)) return { outcome: last };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last ? { last } : {};
};

/**
 * Start errors of the streams name configuration keys (`nats.stream`, `nats.subject_prefix`);
 * the demo takes those as flags, so its message names the flags.
 */
const withDemoAdvice = async <A>(start: () => Promise<A>): Promise<A> => {
  try {
    return await start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!/\bnats\.(stream|subject_prefix)\b/.test(message)) throw error;
    throw new DemoError(
      message.replace(/\bnats\.subject_prefix\b/g, "--nats-prefix").replace(/\bnats\.stream\b/g, "--stream"),
    );
  }
};

/**
 * Earlier demos ran `MINUTES_DEMO` on the default prefix `minutes`, on the subjects a
 * default-configured Minutes needs. When everything in it was published, its streams move to the
 * demo's prefix: emptied (purged, so the sequences go on and the records stay comparable), the
 * consumer and the presence registry (whose subjects are never updated) deleted and created anew.
 * Its records and pages are in `.demo/`, untouched. Events not yet published stop the demo with
 * what to run instead.
 */
const moveEarlierDemoStreams = async (url: string, print: (line: string) => void): Promise<void> => {
  const nc = await connect({ servers: url, timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await orNotFound(jsm.streams.info(DEMO_STREAM));
    const legacy = protocolStreamWildcard(DEFAULT_SUBJECT_PREFIX);
    const subjects = info?.config.subjects ?? [];
    if (info === undefined || subjects.length !== 1 || subjects[0] !== legacy) return;
    const consumer = await orNotFound(jsm.consumers.info(DEMO_STREAM, DEMO_CONSUMER));
    const waiting =
      consumer === undefined ? info.state.messages : consumer.num_pending + consumer.num_ack_pending;
    if (waiting > 0) {
      throw new DemoError(
        `stream ${DEMO_STREAM}, from an earlier demo, holds ${waiting} protocol event${waiting === 1 ? "" : "s"} no publisher has taken, on "${legacy}", the subjects of a default-configured Minutes: run the demo once with --nats-prefix ${DEFAULT_SUBJECT_PREFIX} to publish them; the next run without it moves the demo to its own prefix "${DEMO_SUBJECT_PREFIX}"`,
      );
    }
    if (consumer !== undefined) await jsm.consumers.delete(DEMO_STREAM, DEMO_CONSUMER);
    await jsm.streams.purge(DEMO_STREAM);
    await purgeIfOn(jsm, `${DEMO_STREAM}${PUBLICATION_STREAM_SUFFIX}`, publicationEventWildcard());
    const registry = publisherRegistryStreamName(DEMO_STREAM);
    const registryInfo = await orNotFound(jsm.streams.info(registry));
    if (registryInfo?.config.subjects?.includes(publisherPresenceWildcard()) === true) {
      await jsm.streams.delete(registry);
    }
    print(
      `Moved the demo's streams from subject prefix "${DEFAULT_SUBJECT_PREFIX}" to "${DEMO_SUBJECT_PREFIX}" (the earlier demo's events were all published; its pages and records are kept)`,
    );
  } finally {
    await nc.close();
  }
};

const purgeIfOn = async (jsm: JetStreamManager, stream: string, subject: string): Promise<void> => {
  const info = await orNotFound(jsm.streams.info(stream));
  if (info?.config.subjects?.includes(subject) === true) await jsm.streams.purge(stream);
};

const orNotFound = async <A>(lookup: Promise<A>): Promise<A | undefined> => {
  try {
    return await lookup;
  } catch (error) {
    if (error instanceof Error && /not found/i.test(error.message)) return undefined;
    throw error;
  }
};

const protocolFiles = (root: string): Array<string> => {
  const shared = resolve(root, "..", "shared", "protocols");
  const bundled = join(root, "apps", "demo", "protocols");
  const dir = existsSync(shared) ? shared : bundled;
  return readdirSync(dir)
    .filter((f) => f.endsWith(".md") && f !== "README.md")
    .sort()
    .map((f) => join(dir, f));
};

const demoVaultPassword = (dir: string): string => {
  const file = join(dir, "vault-password");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = randomBytes(24).toString("base64url");
  writeFileSync(file, password, { mode: 0o600 });
  return password;
};

const demoConfig = (p: {
  dir: string;
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
  baseUrl: string;
  username: string;
  deployment: "cloud" | "datacenter" | null;
  vaultFile: string;
  vaultPassword: string;
  apiKey: string;
  gatewayPort: number;
}): MinutesConfig => {
  const overrides: ConfigOverrides = {
    confluence: {
      enabled: true,
      base_url: p.baseUrl,
      username: p.username,
      deployment: p.deployment,
      auto_publish: true,
      advanced_settings: { content_macros: { add_toc: true, add_date_macro: true, add_info_panel: true } },
    },
    nats: {
      url: p.natsUrl,
      stream: p.stream,
      subject_prefix: p.subjectPrefix,
      consumer: DEMO_CONSUMER,
      ack_wait_seconds: 30,
    },
    database: { type: "sqlite", sqlite_path: join(p.dir, "minutes.sqlite") },
    // The one key the demo prints may do everything (replays, exports too): an operator's key.
    gateway: { host: "127.0.0.1", port: p.gatewayPort, admin_api_keys: [p.apiKey], publish_wait_ms: 10_000 },
    vault: { file: p.vaultFile, password: p.vaultPassword },
    logging: { level: "warn" },
  };
  return decodeConfig(overrides);
};

const startSandboxOn = async (port: number, sqliteFile: string): Promise<Sandbox> => {
  try {
    return await startSandbox({ mode: "cloud", port, sqliteFile });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return startSandbox({ mode: "cloud", port: 0, sqliteFile });
  }
};

const startGatewayOn = async (config: MinutesConfig): Promise<RunningServer> => {
  try {
    return await startServer(config);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return startServer({ ...config, gateway: { ...config.gateway, port: 0 } });
  }
};

/** NATS at `url`, or a nats-server with JetStream started for the demo when nothing answers. */
export const ensureNats = async (
  url: string,
  dir: string,
  print: (line: string) => void,
): Promise<{ readonly url: string; readonly stop?: () => Promise<void> }> => {
  if (await natsAnswers(url)) return { url };
  // NATS_URL as given may carry a user name and password.
  const shown = withoutNatsCredentials(url);
  const binary = findNatsServer();
  if (binary === undefined) {
    throw new DemoError(
      `no NATS server answers at ${shown}: install one with JetStream (apt-get install nats-server, or docker run -p 127.0.0.1:4222:4222 nats -js) and run again, or set NATS_URL`,
    );
  }
  // A free port: a fixed one may be held by another server (without JetStream, say), which the
  // demo would then talk to while its own server failed to start.
  const port = await freePort();
  const local = `nats://127.0.0.1:${port}`;
  print(`No NATS at ${shown}: starting ${binary} with JetStream on ${local}`);
  const start = natsServerSpawn(binary, port, dir);
  const child: ChildProcess = spawn(start.command, start.args, start.options);
  let exited: string | undefined;
  child.once("exit", (code, signal) => {
    exited = signal ?? String(code);
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited !== undefined)
      throw new DemoError(`started ${binary} but it exited (${exited}) before answering at ${local}`);
    if (await natsAnswers(local)) {
      return {
        url: local,
        stop: async () => {
          child.kill("SIGTERM");
        },
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill("SIGKILL");
  throw new DemoError(`started ${binary} but it did not answer at ${local}`);
};

/**
 * How the demo starts its own nats-server: JetStream on a loopback port, its store in `dir`, and
 * an empty environment. The demo's own holds VAULT_PASSWORD (required with --confluence-url), of
 * no use to a child; nats-server is run by its absolute path and needs no variable.
 */
export const natsServerSpawn = (
  binary: string,
  port: number,
  dir: string,
): { readonly command: string; readonly args: ReadonlyArray<string>; readonly options: SpawnOptions } => ({
  command: binary,
  args: ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "nats")],
  options: { stdio: "ignore", env: {} },
});

const natsAnswers = async (url: string): Promise<boolean> => {
  try {
    const nc = await connect({ servers: url, timeout: 2_000, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
};

const findNatsServer = (): string | undefined => {
  for (const candidate of ["/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server"]) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const found = which.stdout.trim();
  return found !== "" ? found : undefined;
};
