/**
 * The publisher's only reader of `process.env`: it loads the layered configuration and the
 * proxy settings, and turns a bad configuration into one line per key and exit code 1.
 */
import { homedir } from "node:os";
import { loadConfig, type MinutesConfig } from "@minutes/contracts";
import { vaultFileFromEnv } from "@minutes/token-vault";
import { Either } from "effect";

/** What the process environment contributes besides the configuration keys. */
export interface ProcessSettings {
  readonly config: MinutesConfig;
  readonly proxy: { readonly httpsProxy?: string; readonly httpProxy?: string; readonly noProxy?: string };
  /** The vault file when `vault.file` is not set: `VAULT_FILE` or the XDG default. */
  readonly defaultVaultFile: string;
}

/** Reads the configuration of this process, or prints why it cannot and exits 1. */
export const readProcessSettings = (argv: ReadonlyArray<string> = process.argv.slice(2)): ProcessSettings => {
  const env = process.env;
  const loaded = loadConfig({ argv, env });
  if (Either.isLeft(loaded)) {
    for (const line of loaded.left.message.split("\n")) process.stderr.write(`minutes-publisher: ${line}\n`);
    process.exit(1);
  }
  const proxy = {
    ...(env.HTTPS_PROXY || env.https_proxy
      ? { httpsProxy: (env.HTTPS_PROXY || env.https_proxy) as string }
      : {}),
    ...(env.HTTP_PROXY || env.http_proxy ? { httpProxy: (env.HTTP_PROXY || env.http_proxy) as string } : {}),
    ...(env.NO_PROXY || env.no_proxy ? { noProxy: (env.NO_PROXY || env.no_proxy) as string } : {}),
  };
  return { config: loaded.right, proxy, defaultVaultFile: vaultFileFromEnv(env, homedir()) };
};
