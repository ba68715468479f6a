/**
 * Shared by the demo, the benchmarks and the reliability suite: one set of configuration
 * overrides decoded for the in-process parts and written to a file for child processes, so all
 * always run with the same settings; and the publisher or the gateway as a child process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Sandbox } from "@minutes/confluence-sandbox";
import {
  type DeepPartial,
  loadConfig,
  type MinutesConfig,
  type MinutesConfigInput,
} from "@minutes/contracts";
import { Either } from "effect";

/** The configuration as JSON overrides (what a `config.json` holds). */
export type ConfigOverrides = DeepPartial<MinutesConfigInput>;

/** The `confluence` overrides that point Minutes at a sandbox with its bot user's token. */
export const sandboxConfluence = (sandbox: Sandbox): NonNullable<ConfigOverrides["confluence"]> => ({
  enabled: true,
  base_url: sandbox.baseUrl,
  deployment: sandbox.mode,
  username: sandbox.user.email,
  api_token: sandbox.user.token,
  auto_publish: true,
});

/** Decodes overrides over the defaults (the environment is ignored: local runs are self-contained). */
export const decodeConfig = (overrides: ConfigOverrides): MinutesConfig => {
  const loaded = loadConfig({ overrides, env: {} });
  if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
  return loaded.right;
};

/** Writes overrides as `config.json` (or `name`) in `dir` for a child process and returns its path. */
export const writeConfigFile = (dir: string, overrides: ConfigOverrides, name = "config.json"): string => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(overrides), { mode: 0o600 });
  return file;
};

/** The Node flags the publisher is documented to start with (see apps/publisher/src/main.ts). */
export const PUBLISHER_NODE_FLAGS: ReadonlyArray<string> = [
  "--max-semi-space-size=16",
  "--no-concurrent-marking",
  "--liftoff-only",
  "--heap-growing-percent=10",
];

/**
 * Starts `apps/publisher/dist/main.js` with a config file and {@link PUBLISHER_NODE_FLAGS}, as in
 * production. `nodeArgs` follow them (e.g. `--cpu-prof` when profiling a benchmark run).
 */
export const spawnPublisher = (
  root: string,
  configFile: string,
  stderr: "inherit" | "ignore" = "ignore",
  nodeArgs: ReadonlyArray<string> = [],
): ChildProcess =>
  spawn(
    process.execPath,
    [
      ...PUBLISHER_NODE_FLAGS,
      ...nodeArgs,
      join(root, "apps", "publisher", "dist", "main.js"),
      "--config",
      configFile,
    ],
    { stdio: ["ignore", "ignore", stderr] },
  );

/** A port that was free a moment ago on 127.0.0.1 (for a child process that cannot report its own). */
export const freePort = async (): Promise<number> => {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP port for a child process");
  return address.port;
};

/** A gateway running as a child process. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Its base URL, e.g. `http://127.0.0.1:40123`. */
  readonly base: string;
  /** SIGTERM (graceful: in-flight requests finish), resolved once the process exited. */
  readonly stop: () => Promise<void>;
}

/**
 * Starts `apps/gateway/dist/main.js` with `overrides` on a free port of 127.0.0.1 (its own
 * `gateway.json` in `dir`) and resolves once `/healthz` answers; rejects when the process exits
 * first or does not answer within `timeoutMs`. `nodeArgs` go to Node (e.g. `--cpu-prof`).
 */
export const spawnGateway = async (
  root: string,
  dir: string,
  overrides: ConfigOverrides,
  stderr: "inherit" | "ignore" = "ignore",
  timeoutMs = 30_000,
  nodeArgs: ReadonlyArray<string> = [],
): Promise<GatewayProcess> => {
  const port = await freePort();
  const configFile = writeConfigFile(
    dir,
    { ...overrides, gateway: { ...overrides.gateway, host: "127.0.0.1", port } },
    "gateway.json",
  );
  const args = [...nodeArgs, join(root, "apps", "gateway", "dist", "main.js"), "--config", configFile];
  return spawnServing("the gateway", args, `http://127.0.0.1:${port}`, stderr, timeoutMs);
};

/**
 * Starts the intake benchmark's floor (`apps/demo/dist/intake-floor.js`: bare node:http and the
 * same JetStream publish) on a free port of 127.0.0.1, resolved once `/healthz` answers.
 */
export const spawnIntakeFloor = async (
  root: string,
  natsUrl: string,
  subjectPrefix: string,
  stderr: "inherit" | "ignore" = "ignore",
): Promise<GatewayProcess> => {
  const port = await freePort();
  const args = [join(root, "apps", "demo", "dist", "intake-floor.js"), natsUrl, subjectPrefix, String(port)];
  return spawnServing("the intake floor server", args, `http://127.0.0.1:${port}`, stderr, 30_000);
};

// internal

/** Spawns Node with `args` and resolves once `${base}/healthz` answers (see `spawnGateway`). */
const spawnServing = async (
  what: string,
  args: ReadonlyArray<string>,
  base: string,
  stderr: "inherit" | "ignore",
  timeoutMs: number,
): Promise<GatewayProcess> => {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", stderr] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited while starting (${child.exitCode ?? child.signalCode})`);
    if (await answers(`${base}/healthz`)) return { child, base, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${what} did not answer on ${base} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const answers = async (url: string): Promise<boolean> => {
  try {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
};
