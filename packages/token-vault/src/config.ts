// Where the vault lives by default. The only module (with bin.ts) that reads process.env, so
// everything else takes its environment as an argument and stays testable.
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/** Environment variables as a plain record (the shape of `process.env`). */
export type VaultEnv = Readonly<Record<string, string | undefined>>;

/**
 * The vault file for an environment: `VAULT_FILE`, else `$XDG_CONFIG_HOME/minutes/tokens.vault`,
 * else `<home>/.config/minutes/tokens.vault`. A relative `XDG_CONFIG_HOME` is ignored, as the XDG
 * specification requires.
 */
export const vaultFileFromEnv = (env: VaultEnv, homeDirectory: string): string => {
  const explicit = env.VAULT_FILE;
  if (explicit !== undefined && explicit !== "") return explicit;
  const xdg = env.XDG_CONFIG_HOME;
  const configHome =
    xdg !== undefined && xdg !== "" && isAbsolute(xdg) ? xdg : join(homeDirectory, ".config");
  return join(configHome, "minutes", "tokens.vault");
};

/** The vault file of this process ({@link vaultFileFromEnv} over `process.env` and the home directory). */
export const defaultVaultFile = (): string => vaultFileFromEnv(process.env, homedir());
