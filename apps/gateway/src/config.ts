/**
 * The gateway's configuration: the only module that reads `process.env`. Decoding is contracts'
 * `loadConfig` (defaults < `--config` file < environment). A bad command line prints one usage
 * line and exits 2; a bad configuration prints one line per issue and exits 1; never a stack trace.
 */
import { type ConfluenceProxyConfig, proxyConfigFromEnv } from "@minutes/confluence-core";
import {
  CONFIG_USAGE,
  type ConfigError,
  type ConfigIssue,
  type ConfigUsageError,
  configHelp,
  invocationDirectory,
  loadConfig,
  type MinutesConfig,
  parseConfigArgs,
} from "@minutes/contracts";
import { Either } from "effect";

const PROGRAM = "minutes-gateway";

/**
 * The proxy for Confluence requests from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (or their
 * lowercase forms), or why it cannot be used: one line naming the variable, never its value (a
 * proxy URL may carry `user:password@`).
 */
export const readProxySettings = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): Either.Either<ConfluenceProxyConfig, string> =>
  Either.mapLeft(proxyConfigFromEnv(env), (problem) => `${PROGRAM}: configuration error: ${problem}`);

/**
 * Loads the configuration or returns why it cannot be used (testable without exiting). A relative
 * `--config` (or `MINUTES_CONFIG`) means the directory the command was typed in (`INIT_CWD`, set by
 * `pnpm --filter @minutes/gateway start`, which runs us in apps/gateway), else the working directory.
 */
export const tryReadConfig = (
  argv: ReadonlyArray<string> = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Either.Either<MinutesConfig, ConfigError | ConfigUsageError> =>
  loadConfig({ argv, env, cwd: invocationDirectory(env) });

/** One line per issue, as printed on stderr. */
export const formatConfigIssues = (issues: ReadonlyArray<ConfigIssue>): ReadonlyArray<string> =>
  issues.map((i) => `${PROGRAM}: configuration error: ${i.path ? `${i.path}: ` : ""}${i.message}`);

/** What to print on stderr, and the exit code, for a configuration that cannot be used. */
export const configFailure = (
  error: ConfigError | ConfigUsageError,
): { readonly lines: ReadonlyArray<string>; readonly exitCode: 1 | 2 } =>
  error._tag === "ConfigUsageError"
    ? { lines: [`${PROGRAM}: ${error.problem}; usage: ${PROGRAM} ${CONFIG_USAGE}`], exitCode: 2 }
    : { lines: formatConfigIssues(error.issues), exitCode: 1 };

/**
 * Loads the configuration and the proxy settings. `--help` prints the usage and exits 0; a bad command line exits 2, a
 * bad configuration 1, each after printing why.
 */
export const readConfig = (
  argv: ReadonlyArray<string> = process.argv.slice(2),
): { readonly config: MinutesConfig; readonly proxy: ConfluenceProxyConfig } => {
  const args = parseConfigArgs(argv);
  if (Either.isRight(args) && args.right.help) {
    process.stdout.write(configHelp(PROGRAM));
    process.exit(0);
  }
  const result = tryReadConfig(argv);
  if (Either.isLeft(result)) {
    const failure = configFailure(result.left);
    for (const line of failure.lines) process.stderr.write(`${line}\n`);
    process.exit(failure.exitCode);
  }
  const proxy = readProxySettings();
  if (Either.isLeft(proxy)) {
    process.stderr.write(`${proxy.left}\n`);
    process.exit(1);
  }
  return { config: result.right, proxy: proxy.right };
};
