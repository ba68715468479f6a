// Promise-returning wrappers around TokenVault for callers that do not use Effect (scripts, the
// original integration's call sites). Each call builds the service for one file and rejects with
// the same tagged error instances the service fails with, so `instanceof` checks work.
import { Cause, Effect, Exit, type Redacted } from "effect";
import { defaultVaultFile } from "./config.js";
import type { KdfParams } from "./envelope.js";
import {
  type LoadedToken,
  type SavedTokenInfo,
  type SaveTokenInput,
  type TokenAccessInput,
  type TokenExpiryInput,
  TokenVault,
  type TokenVaultOptions,
  type TokenVaultShape,
} from "./TokenVault.js";
import type { VaultError } from "./VaultError.js";

/** Which vault file to use; defaults to {@link defaultVaultFile}. `kdf` is for tests only. */
export interface VaultFileOptions {
  readonly file?: string;
  readonly kdf?: KdfParams;
  readonly onWarning?: (message: string) => void;
}

/** Promise form of `TokenVault.saveEncryptedToken`. Rejects with a {@link VaultError}. */
export const saveEncryptedToken = (input: SaveTokenInput & VaultFileOptions): Promise<void> =>
  run(input, (vault) => vault.saveEncryptedToken(input));

/** Promise form of `TokenVault.loadEncryptedToken`. Rejects with a {@link VaultError}. */
export const loadEncryptedToken = (
  input: TokenAccessInput & VaultFileOptions,
): Promise<Redacted.Redacted<string>> => run(input, (vault) => vault.loadEncryptedToken(input));

/** Promise form of `TokenVault.loadEncryptedTokenWithInfo`. Rejects with a {@link VaultError}. */
export const loadEncryptedTokenWithInfo = (
  input: TokenAccessInput & VaultFileOptions,
): Promise<LoadedToken> => run(input, (vault) => vault.loadEncryptedTokenWithInfo(input));

/**
 * Promise form of `TokenVault.setTokenExpiry` (requires the password; `expiresAt: null` clears it).
 * Rejects with a {@link VaultError}.
 */
export const setTokenExpiry = (input: TokenExpiryInput & VaultFileOptions): Promise<void> =>
  run(input, (vault) => vault.setTokenExpiry(input));

/** Promise form of `TokenVault.deleteToken` (requires the password). Rejects with a {@link VaultError}. */
export const deleteToken = (input: TokenAccessInput & VaultFileOptions): Promise<void> =>
  run(input, (vault) => vault.deleteToken(input));

/** Promise form of `TokenVault.listSavedTokens`; needs no password and never returns tokens. */
export const listSavedTokens = (options: VaultFileOptions = {}): Promise<ReadonlyArray<SavedTokenInfo>> =>
  run(options, (vault) => vault.listSavedTokens());

/** Promise form of `TokenVault.changePassword`; resolves to the number of re-encrypted entries. */
export const changePassword = (
  oldPassword: Redacted.Redacted<string>,
  newPassword: Redacted.Redacted<string>,
  options: VaultFileOptions = {},
): Promise<number> => run(options, (vault) => vault.changePassword(oldPassword, newPassword));

// internal

const run = async <A>(
  options: VaultFileOptions,
  use: (vault: TokenVaultShape) => Effect.Effect<A, VaultError>,
): Promise<A> => {
  const layerOptions: TokenVaultOptions = {
    file: options.file ?? defaultVaultFile(),
    ...(options.kdf === undefined ? {} : { kdf: options.kdf }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  };
  const exit = await Effect.runPromiseExit(
    Effect.flatMap(TokenVault, use).pipe(Effect.provide(TokenVault.layer(layerOptions))),
  );
  if (Exit.isSuccess(exit)) return exit.value;
  throw Cause.squash(exit.cause);
};
