// Temporary vault files for tests, plus cheap scrypt parameters: production parameters cost
// ~0.35 s per derivation here, and most tests derive keys several times.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect } from "effect";
import type { KdfParams } from "../../src/index.js";
import {
  TokenVault,
  type TokenVaultOptions,
  type TokenVaultShape,
  type VaultError,
} from "../../src/index.js";

/** scrypt parameters for tests only (N = 2^10). */
export const FAST_KDF: KdfParams = { N: 1024, r: 8, p: 1 };

/** A fresh directory under the OS temp dir; `file` does not exist yet (nor does its directory). */
export interface TempVault {
  readonly dir: string;
  readonly file: string;
  readonly cleanup: () => Promise<void>;
}

export const makeTempVault = async (): Promise<TempVault> => {
  const dir = await mkdtemp(join(tmpdir(), "token-vault-test-"));
  return {
    dir,
    file: join(dir, "config", "minutes", "tokens.vault"),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
};

/** Runs `use` against a TokenVault over `options.file` (fast KDF unless given). */
export const withVault = <A>(
  options: Partial<TokenVaultOptions> & { readonly file: string },
  use: (vault: TokenVaultShape) => Effect.Effect<A, VaultError>,
): Promise<A> =>
  Effect.runPromise(
    Effect.flatMap(TokenVault, use).pipe(Effect.provide(TokenVault.layer({ kdf: FAST_KDF, ...options }))),
  );

/** Runs `use` and resolves to its failure; rejects if it succeeds. */
export const failureOf = <A>(
  options: Partial<TokenVaultOptions> & { readonly file: string },
  use: (vault: TokenVaultShape) => Effect.Effect<A, VaultError>,
): Promise<VaultError> =>
  Effect.runPromise(
    Effect.flatMap(TokenVault, (vault) => Effect.flip(use(vault))).pipe(
      Effect.provide(TokenVault.layer({ kdf: FAST_KDF, ...options })),
    ),
  );
