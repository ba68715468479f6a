// @minutes/token-vault: encrypted storage of Confluence tokens keyed by (base URL, username) with
// the expiry recorded for each, as an Effect service, Promise functions for non-Effect callers,
// the `minutes-vault` CLI, and how the services resolve and judge the token they use.

export { type CliIo, ExitCode, runCli } from "./cli.js";
export { defaultVaultFile, type VaultEnv, vaultFileFromEnv } from "./config.js";
export { CURRENT_ENVELOPE_VERSION, DEFAULT_KDF, type KdfParams } from "./envelope.js";
export { normalizeUrl } from "./normalize-url.js";
export {
  changePassword,
  deleteToken,
  listSavedTokens,
  loadEncryptedToken,
  loadEncryptedTokenWithInfo,
  saveEncryptedToken,
  setTokenExpiry,
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
  type LoadedToken,
  type SavedTokenInfo,
  type SaveTokenInput,
  type TokenAccessInput,
  type TokenExpiryInput,
  type TokenKey,
  TokenVault,
  type TokenVaultOptions,
  type TokenVaultShape,
} from "./TokenVault.js";
export {
  DEFAULT_TOKEN_EXPIRY_WARNING_DAYS,
  type TokenExpiryState,
  type TokenOrigin,
  tokenExpiredNote,
  tokenExpiryNotice,
  tokenExpiryState,
  tokenRotationAdvice,
} from "./token-expiry.js";
export {
  VaultCorruptError,
  VaultEntryNotFoundError,
  type VaultError,
  VaultInvalidInputError,
  VaultIoError,
  VaultWrongPasswordError,
} from "./VaultError.js";
export { CURRENT_FILE_VERSION } from "./vault-file.js";
