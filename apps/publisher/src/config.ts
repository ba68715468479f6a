/**
 * The publisher's only reader of `process.env`: it loads the layered configuration and the
 * proxy settings (checked here too: a proxy URL may carry `user:password@`, never printed). A bad command line is one usage line and exit code 2; a bad configuration is
 * one line per key and exit code 1.
 */
import { homedir } from "node:os";
import { proxyConfigFromEnv } from "@minutes/confluence-core";
import {
  CONFIG_USAGE,
  configHelp,
  invocationDirectory,
  loadConfig,
  type MinutesConfig,
  parseConfigArgs,
} from "@minutes/contracts";
import { vaultFileFromEnv } from "@minutes/token-vault";
import { Either } from "effect";

/** What the process environment contributes besides the configuration keys. */
export interface ProcessSettings {
  readonly config: MinutesConfig;
  readonly proxy: { readonly httpsProxy?: string; readonly httpProxy?: string; readonly noProxy?: string };
  /** The vault file when `vault.file` is not set: `VAULT_FILE` or the XDG default. */
  readonly defaultVaultFile: string;
}

const PROGRAM = "minutes-publisher";

/**
 * Reads the configuration of this process. `--help` prints the usage and exits 0; otherwise it
 * prints why it cannot and exits 2 (command line) or 1 (configuration).
 */
export const readProcessSettings = (argv: ReadonlyArray<string> = process.argv.slice(2)): ProcessSettings => {
  const env = process.env;
  const args = parseConfigArgs(argv);
  if (Either.isRight(args) && args.right.help) {
    process.stdout.write(configHelp(PROGRAM));
    process.exit(0);
  }
  // A relative --config or MINUTES_CONFIG means where the command was typed (INIT_CWD under
  // `pnpm --filter @minutes/publisher start`, which runs us in apps/publisher).
  const loaded = loadConfig({ argv, env, cwd: invocationDirectory(env) });
  if (Either.isLeft(loaded)) {
    if (loaded.left._tag === "ConfigUsageError") {
      process.stderr.write(`${PROGRAM}: ${loaded.left.problem}; usage: ${PROGRAM} ${CONFIG_USAGE}\n`);
      process.exit(2);
    }
    for (const line of loaded.left.message.split("\n")) process.stderr.write(`${PROGRAM}: ${line}\n`);
    process.exit(1);
  }
  // A proxy URL the client cannot use would otherwise fail every message; the line names the
  // variable, never its value (it may hold the proxy password).
  const proxy = proxyConfigFromEnv(env);
  if (Either.isLeft(proxy)) {
    process.stderr.write(`${PROGRAM}: ${proxy.left}\n`);
    process.exit(1);
  }
  return { config: loaded.right, proxy: proxy.right, defaultVaultFile: vaultFileFromEnv(env, homedir()) };
};
