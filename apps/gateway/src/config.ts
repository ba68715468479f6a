/**
 * The gateway's configuration: the only module that reads `process.env`. Decoding is contracts'
 * `loadConfig` (defaults < `--config` file < environment); a bad configuration prints one line
 * per issue to stderr and exits 1, never a stack trace.
 */
import { type ConfigIssue, loadConfig, type MinutesConfig } from "@minutes/contracts";
import { Either } from "effect";

/** Loads the configuration or returns its issues (testable without exiting). */
export const tryReadConfig = (
  argv: ReadonlyArray<string> = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Either.Either<MinutesConfig, ReadonlyArray<ConfigIssue>> =>
  Either.mapLeft(loadConfig({ argv, env, cwd: process.cwd() }), (e) => e.issues);

/** One line per issue, as printed on stderr. */
export const formatConfigIssues = (issues: ReadonlyArray<ConfigIssue>): ReadonlyArray<string> =>
  issues.map((i) => `minutes-gateway: configuration error: ${i.path ? `${i.path}: ` : ""}${i.message}`);

/** Loads the configuration; on error prints the issues and exits with status 1. */
export const readConfig = (): MinutesConfig => {
  const result = tryReadConfig();
  if (Either.isRight(result)) return result.right;
  for (const line of formatConfigIssues(result.left)) process.stderr.write(`${line}\n`);
  process.exit(1);
};
