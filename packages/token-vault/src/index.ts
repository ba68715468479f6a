// @minutes/token-vault: encrypted storage of Confluence tokens keyed by (base URL, username), as
// an Effect service, Promise functions for non-Effect callers, and the `minutes-vault` CLI.

export { type CliIo, ExitCode, runCli } from "./cli.js";
export { defaultVaultFile, type VaultEnv, vaultFileFromEnv } from "./config.js";
export { CURRENT_ENVELOPE_VERSION, DEFAULT_KDF, type KdfParams } from "./envelope.js";
export { normalizeUrl } from "./normalize-url.js";
export {
  changePassword,
  deleteToken,
  listSavedTokens,
  loadEncryptedToken,
  saveEncryptedToken,
  type VaultFileOptions,
} from "./promise-api.js";
export type { CliInput, CliOutput } from "./read-secret.js";
export {
  type ResolvedToken,
  resolveConfluenceToken,
  type TokenSettings,
  TokenUnavailableError,
} from "./resolve-token.js";
export {
  type SavedTokenInfo,
  type SaveTokenInput,
  type TokenAccessInput,
  type TokenKey,
  TokenVault,
  type TokenVaultOptions,
  type TokenVaultShape,
} from "./TokenVault.js";
export {
  VaultCorruptError,
  VaultEntryNotFoundError,
  type VaultError,
  VaultInvalidInputError,
  VaultIoError,
  VaultWrongPasswordError,
} from "./VaultError.js";
export { CURRENT_FILE_VERSION } from "./vault-file.js";
