/**
 * The main job on one machine: NATS (the one at `NATS_URL`, or a local nats-server started for
 * the demo), the sandbox Confluence, a demo vault holding the sandbox token, the publisher and
 * the gateway on SQLite. The sample protocols go in through the gateway exactly as the meeting
 * processor would send them. State lives in `.demo/` so a second run updates, not duplicates.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { type Sandbox, startSandbox } from "@minutes/confluence-sandbox";
import type { MinutesConfig } from "@minutes/contracts";
import { type RunningServer, startServer } from "@minutes/gateway";
import { type RunningPublisher, startPublisher } from "@minutes/publisher";
import { listSavedTokens, normalizeUrl, saveEncryptedToken } from "@minutes/token-vault";
import { connect } from "@nats-io/transport-node";
import { Either, Redacted } from "effect";
import { type ConfigOverrides, decodeConfig, freePort } from "./local-stack.js";

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
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  // The protocols given on the command line are read before anything starts: a misspelt name
  // stops the demo at once, not after the pipeline is up and the samples are submitted.
  const extra = options.files.map((f) => {
    const file = resolve(f);
    try {
      return { file, markdown: readFileSync(file, "utf8") };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new DemoError(
        `${f}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a Markdown file" : `cannot be read (${code ?? String(error)})`}`,
      );
    }
  });
  try {
    const nats = await ensureNats(options.natsUrl, dir, options.print);
    if (nats.stop) stops.push(nats.stop);

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
      if (username === "" || vaultPassword === "") {
        throw new DemoError(
          "--confluence-url needs --username and VAULT_PASSWORD, and a token saved with: pnpm vault add --file .demo/tokens.vault --url <url> --username <name>",
        );
      }
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
      baseUrl,
      username,
      deployment,
      vaultFile,
      vaultPassword,
      apiKey,
      gatewayPort: options.gatewayPort,
    });

    const publisher: RunningPublisher = await startPublisher({
      config,
      defaultVaultFile: vaultFile,
      ...(sandbox ? { clientOverrides: { gatewayUrl: sandbox.origin } } : {}),
    });
    stops.push(() => publisher.stop());
    const gateway: RunningServer = await startGatewayOn(config);
    stops.push(() => gateway.stop());
    const gatewayUrl = gateway.address.replace("0.0.0.0", "127.0.0.1");

    const files = [
      ...protocolFiles(options.root).map((file) => ({ file, markdown: readFileSync(file, "utf8") })),
      ...extra,
    ];
    options.print(`Publishing ${files.length} protocols through ${gatewayUrl} …`);
    const jobs = [];
    for (const { file, markdown } of files) {
      const jobId = `demo-${basename(file)
        .replace(/\.md$/i, "")
        .replace(/[^A-Za-z0-9_-]/g, "-")}`;
      const response = await fetch(`${gatewayUrl}/api/protocols`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          jobId,
          markdown,
          filename: basename(file),
          occurredAt: new Date().toISOString(),
          source: "minutes-demo",
        }),
      });
      const body = (await response.json()) as { detail?: string; duplicate?: boolean };
      if (response.status !== 202) {
        jobs.push({ file, jobId, rejected: body.detail ?? `HTTP ${response.status}` });
        options.print(`  ✗ ${basename(file)}: ${body.detail ?? response.status}`);
      } else {
        jobs.push({ file, jobId, rejected: null });
        options.print(
          `  → ${basename(file)} accepted${body.duplicate ? " (duplicate of an earlier submission)" : ""}`,
        );
      }
    }

    const results: Array<DemoResult> = [];
    for (const job of jobs) {
      if (job.rejected !== null) {
        results.push({
          file: job.file,
          jobId: job.jobId,
          status: "rejected",
          title: null,
          viewUrl: null,
          error: job.rejected,
        });
        continue;
      }
      const publication = await waitForFinal(gatewayUrl, apiKey, job.jobId, 60_000);
      const viewUrl =
        publication?.pageId && sandbox
          ? `${sandbox.origin}/sandbox/pages/${publication.pageId}`
          : (publication?.pageUrl ?? null);
      const result: DemoResult = {
        file: job.file,
        jobId: job.jobId,
        status: publication?.status ?? "timeout",
        title: publication?.pageTitle ?? null,
        viewUrl,
        error: publication?.errorMessage ?? (publication ? null : "not published within 60 s"),
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

// internal

interface PublicationView {
  readonly status: string;
  readonly pageId: string | null;
  readonly pageUrl: string | null;
  readonly pageTitle: string | null;
  readonly errorMessage: string | null;
}

const waitForFinal = async (
  gatewayUrl: string,
  apiKey: string,
  jobId: string,
  timeoutMs: number,
): Promise<PublicationView | undefined> => {
  const deadline = Date.now() + timeoutMs;
  let last: PublicationView | undefined;
  while (Date.now() < deadline) {
    const response = await fetch(`${gatewayUrl}/api/jobs/${encodeURIComponent(jobId)}/publications`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (response.ok) {
      const body = (await response.json()) as { items?: Array<PublicationView> } | Array<PublicationView>;
      const items = Array.isArray(body) ? body : (body.items ?? []);
      last = items[0];
      if (last && ["published", "failed", "rejected"].includes(last.status)) return last;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
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
      stream: "MINUTES_DEMO",
      consumer: "minutes-demo-publisher",
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
  const binary = findNatsServer();
  if (binary === undefined) {
    throw new DemoError(
      `no NATS server answers at ${url}: install one with JetStream (apt-get install nats-server, or docker run -p 4222:4222 nats -js) and run again, or set NATS_URL`,
    );
  }
  // A free port: a fixed one may be held by another server (without JetStream, say), which the
  // demo would then talk to while its own server failed to start.
  const port = await freePort();
  const local = `nats://127.0.0.1:${port}`;
  print(`No NATS at ${url}: starting ${binary} with JetStream on ${local}`);
  const child: ChildProcess = spawn(
    binary,
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", join(dir, "nats")],
    {
      stdio: "ignore",
    },
  );
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
