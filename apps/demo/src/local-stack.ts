/**
 * Shared by the demo, the benchmarks and the reliability suite: one set of configuration
 * overrides decoded for the in-process parts and written to a file for a publisher child
 * process, so both always run with the same settings; and the publisher as a child process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
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

/** Writes overrides as `config.json` in `dir` for a child process and returns its path. */
export const writeConfigFile = (dir: string, overrides: ConfigOverrides): string => {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(overrides), { mode: 0o600 });
  return file;
};

/**
 * V8 settings for a publisher process. Its live heap is small (~50 MB, mostly code), but every
 * message in flight outlives several young-generation collections, so its state is promoted
 * and dies in the old generation; V8's default sizing lets that garbage grow to 4x the live
 * heap before a full collection (340+ MB of RSS on a roomy host). A fixed 2x growth factor
 * collects it at ~100 MB instead, for no measurable CPU. Smaller factors were measured too:
 * 1.3x reaches ~190 MB but runs ~7x more full collections, +40-50% publisher CPU.
 */
export const PUBLISHER_NODE_FLAGS: ReadonlyArray<string> = ["--heap-growing-percent=100"];

/**
 * Starts `apps/publisher/dist/main.js` with a config file and {@link PUBLISHER_NODE_FLAGS}.
 * `nodeArgs` go before the script too (e.g. `--cpu-prof` when profiling a benchmark run).
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
