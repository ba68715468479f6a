// The TokenVault service: saves, loads, lists and deletes Confluence tokens keyed by (base URL,
// username) in one encrypted file guarded by one password, with when each expires as plain
// metadata. Writers serialise on a lock file and re-read under it, so concurrent processes lose
// nothing; readers never block.
import { Clock, Context, Effect, Either, Layer, Option, Redacted } from "effect";
import { type Binding, DEFAULT_KDF, isOutdated, type KdfParams, open, seal } from "./envelope.js";
import { normalizeUrl } from "./normalize-url.js";
import {
  VaultCorruptError,
  VaultEntryNotFoundError,
  type VaultError,
  VaultInvalidInputError,
  VaultWrongPasswordError,
} from "./VaultError.js";
import {
  CURRENT_FILE_VERSION,
  FILE_FORMAT,
  type LockOptions,
  readVault,
  type StoredEntry,
  type VaultContents,
  withLock,
  writeVault,
} from "./vault-file.js";

/** Options of {@link TokenVault.layer}. */
export interface TokenVaultOptions {
  /** The vault file. Its directory is created with mode 0700 on the first write. */
  readonly file: string;
  /**
   * scrypt parameters for newly sealed secrets; default N = 2^15, r = 8, p = 1. Lower them in
   * tests only: entries keep the parameters they were sealed with and are upgraded when a writer
   * with stronger parameters next rewrites the file.
   */
  readonly kdf?: KdfParams;
  /** Receives warnings (an existing file readable by group or others). Default: `Effect.logWarning`. */
  readonly onWarning?: (message: string) => void;
  /**
   * Lock timing; defaults: wait up to 30 s, and take over a lock older than 120 s (a lock whose
   * process is gone on this host is taken over at once).
   */
  readonly lock?: Partial<LockOptions>;
}

/** Which token to read or delete. `url` is normalised (see {@link normalizeUrl}). */
export interface TokenKey {
  readonly url: string;
  readonly username: string;
}

/** Input of `saveEncryptedToken`. */
export interface SaveTokenInput extends TokenKey {
  readonly token: Redacted.Redacted<string>;
  readonly password: Redacted.Redacted<string>;
  /**
   * When this token expires, if known (Confluence cannot tell; Atlassian shows it when the token is
   * made). Omitted or null: unknown, which also clears the expiry of the token it replaces.
   */
  readonly expiresAt?: Date | null | undefined;
}

/** Input of `loadEncryptedToken` and `deleteToken`. */
export interface TokenAccessInput extends TokenKey {
  readonly password: Redacted.Redacted<string>;
}

/** Input of `setTokenExpiry`: the entry, the vault password, and the expiry (null clears it). */
export interface TokenExpiryInput extends TokenAccessInput {
  readonly expiresAt: Date | null;
}

/** What `listSavedTokens` reports for each entry. It never includes the token. */
export interface SavedTokenInfo {
  readonly url: string;
  readonly username: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the token expires, as recorded with it; null when unknown. */
  readonly expiresAt: Date | null;
}

/** A decrypted token with its entry's details (`loadEncryptedTokenWithInfo`). */
export interface LoadedToken {
  readonly token: Redacted.Redacted<string>;
  readonly info: SavedTokenInfo;
}

/** The operations of {@link TokenVault}. */
export interface TokenVaultShape {
  /** The vault file this instance reads and writes. */
  readonly file: string;
  /**
   * Saves or replaces the token for (url, username), with its `expiresAt` when given (a
   * replacement without one has no known expiry: the old one was the old token's). The first save
   * into a new file sets the vault password; later saves must use it. Entries sealed with an older
   * envelope version or weaker KDF parameters are re-sealed in the same write.
   */
  readonly saveEncryptedToken: (input: SaveTokenInput) => Effect.Effect<void, VaultError>;
  /** Decrypts the token for (url, username). */
  readonly loadEncryptedToken: (
    input: TokenAccessInput,
  ) => Effect.Effect<Redacted.Redacted<string>, VaultError>;
  /** Decrypts the token for (url, username) and returns it with its entry's details, from one read of the file. */
  readonly loadEncryptedTokenWithInfo: (input: TokenAccessInput) => Effect.Effect<LoadedToken, VaultError>;
  /**
   * Records (or, with null, clears) when the token for (url, username) expires, without touching
   * the token or `updatedAt`. Requires the password, like `deleteToken`.
   */
  readonly setTokenExpiry: (input: TokenExpiryInput) => Effect.Effect<void, VaultError>;
  /** Removes the token for (url, username). Requires the password, so only its owner can delete. */
  readonly deleteToken: (input: TokenAccessInput) => Effect.Effect<void, VaultError>;
  /** Lists saved entries (URL, username, timestamps, expiry) without a password; never returns tokens. */
  readonly listSavedTokens: () => Effect.Effect<ReadonlyArray<SavedTokenInfo>, VaultError>;
  /**
   * Re-encrypts every entry under `newPassword`. Returns how many entries were re-encrypted
   * (0 when the file does not exist yet: there is nothing to change).
   */
  readonly changePassword: (
    oldPassword: Redacted.Redacted<string>,
    newPassword: Redacted.Redacted<string>,
  ) => Effect.Effect<number, VaultError>;
}

/**
 * Encrypted storage of Confluence tokens (AES-256-GCM, scrypt, one password per file).
 *
 * @example
 * const program = Effect.gen(function* () {
 *   const vault = yield* TokenVault
 *   yield* vault.saveEncryptedToken({ url, username, token: Redacted.make(t), password })
 *   return yield* vault.loadEncryptedToken({ url, username, password })
 * }).pipe(Effect.provide(TokenVault.layer({ file: "/home/me/.config/minutes/tokens.vault" })))
 */
export class TokenVault extends Context.Tag("@minutes/token-vault/TokenVault")<
  TokenVault,
  TokenVaultShape
>() {
  /** A vault over `options.file`. Building the layer touches nothing on disk. */
  static readonly layer = (options: TokenVaultOptions): Layer.Layer<TokenVault> =>
    Layer.sync(TokenVault, () => makeTokenVault(options));
}

// internal

const CHECK_PLAINTEXT = "minutes-token-vault password check";
const CHECK: Binding = { kind: "check" };

const makeTokenVault = (options: TokenVaultOptions): TokenVaultShape => {
  const path = options.file;
  const kdf = options.kdf ?? DEFAULT_KDF;
  const lock: LockOptions = {
    timeoutMs: options.lock?.timeoutMs ?? 30_000,
    staleMs: options.lock?.staleMs ?? 120_000,
  };
  const onWarning = options.onWarning;
  const warn = (message: string): Effect.Effect<void> =>
    onWarning === undefined ? Effect.logWarning(message) : Effect.sync(() => onWarning(message));

  const read = readVault(path, warn);
  const locked = <A, E>(effect: Effect.Effect<A, E>) => withLock(path, lock, effect);

  /** Wrong password and tampering both fail GCM; only the check blob tells them apart. */
  const verifyPassword = Effect.fn("TokenVault.verifyPassword")(function* (
    contents: VaultContents,
    password: Redacted.Redacted<string>,
  ) {
    const plain = yield* open(contents.check, password, CHECK).pipe(
      Effect.catchTag("AuthenticationFailed", () => new VaultWrongPasswordError({ path })),
    );
    if (Redacted.value(plain) !== CHECK_PLAINTEXT) {
      return yield* new VaultCorruptError({ path, reason: "the password check holds an unexpected value" });
    }
  });

  /** Called after verifyPassword succeeded, so an authentication failure here means tampering. */
  const openEntry = Effect.fn("TokenVault.openEntry")(function* (
    entry: StoredEntry,
    password: Redacted.Redacted<string>,
  ) {
    return yield* open(entry.secret, password, bindingOf(entry)).pipe(
      Effect.catchTag(
        "AuthenticationFailed",
        () =>
          new VaultCorruptError({
            path,
            reason: `the entry for ${entry.username} at ${entry.url} failed authentication`,
          }),
      ),
    );
  });

  /**
   * Re-seals outdated entries (and the check) with the current version and parameters. The entry
   * about to be `replaced` is skipped, so a damaged entry can still be overwritten.
   */
  const upgrade = Effect.fn("TokenVault.upgrade")(function* (
    contents: VaultContents,
    password: Redacted.Redacted<string>,
    replaced?: TokenKey,
  ) {
    const check = isOutdated(contents.check, kdf)
      ? yield* seal(Redacted.make(CHECK_PLAINTEXT), password, CHECK, kdf)
      : contents.check;
    const entries: Array<StoredEntry> = [];
    for (const entry of contents.entries) {
      if (!isOutdated(entry.secret, kdf) || (replaced !== undefined && sameKey(entry, replaced))) {
        entries.push(entry);
        continue;
      }
      const token = yield* openEntry(entry, password);
      entries.push({ ...entry, secret: yield* seal(token, password, bindingOf(entry), kdf) });
    }
    const upgraded: VaultContents = { ...contents, version: CURRENT_FILE_VERSION, check, entries };
    return upgraded;
  });

  const saveEncryptedToken = Effect.fn("TokenVault.saveEncryptedToken")(function* (input: SaveTokenInput) {
    const key = yield* validateKey(input);
    yield* nonEmptySecret("password", input.password);
    yield* nonEmptySecret("token", input.token);
    const expiresAt = yield* validExpiry(input.expiresAt ?? null);
    yield* locked(
      Effect.gen(function* () {
        const existing = yield* read;
        const base = Option.isSome(existing)
          ? yield* verifyPassword(existing.value, input.password).pipe(
              Effect.zipRight(upgrade(existing.value, input.password, key)),
            )
          : yield* newVault(input.password);
        const now = new Date(yield* Clock.currentTimeMillis).toISOString();
        const previous = base.entries.find((e) => sameKey(e, key));
        const secret = yield* seal(input.token, input.password, entryBinding(key), kdf);
        const entry: StoredEntry = {
          url: key.url,
          username: key.username,
          createdAt: previous?.createdAt ?? now,
          updatedAt: now,
          ...(expiresAt === null ? {} : { expiresAt }),
          secret,
        };
        const entries =
          previous === undefined
            ? [...base.entries, entry]
            : base.entries.map((e) => (e === previous ? entry : e));
        yield* writeVault(path, { ...base, entries });
      }),
    );
  });

  const loadEncryptedTokenWithInfo = Effect.fn("TokenVault.loadEncryptedTokenWithInfo")(function* (
    input: TokenAccessInput,
  ) {
    const key = yield* validateKey(input);
    const existing = yield* read;
    if (Option.isNone(existing)) return yield* notFound(key);
    yield* verifyPassword(existing.value, input.password);
    const entry = existing.value.entries.find((e) => sameKey(e, key));
    if (entry === undefined) return yield* notFound(key);
    const token = yield* openEntry(entry, input.password);
    return { token, info: infoOf(entry) } satisfies LoadedToken;
  });

  const loadEncryptedToken = Effect.fn("TokenVault.loadEncryptedToken")(function* (input: TokenAccessInput) {
    return (yield* loadEncryptedTokenWithInfo(input)).token;
  });

  const setTokenExpiry = Effect.fn("TokenVault.setTokenExpiry")(function* (input: TokenExpiryInput) {
    const key = yield* validateKey(input);
    const expiresAt = yield* validExpiry(input.expiresAt);
    yield* locked(
      Effect.gen(function* () {
        const existing = yield* read;
        if (Option.isNone(existing)) return yield* notFound(key);
        yield* verifyPassword(existing.value, input.password);
        if (!existing.value.entries.some((e) => sameKey(e, key))) return yield* notFound(key);
        const entries = existing.value.entries.map((e): StoredEntry => {
          if (!sameKey(e, key)) return e;
          const { expiresAt: _old, secret, ...rest } = e;
          return { ...rest, ...(expiresAt === null ? {} : { expiresAt }), secret };
        });
        yield* writeVault(path, yield* upgrade({ ...existing.value, entries }, input.password));
      }),
    );
  });

  const deleteToken = Effect.fn("TokenVault.deleteToken")(function* (input: TokenAccessInput) {
    const key = yield* validateKey(input);
    yield* locked(
      Effect.gen(function* () {
        const existing = yield* read;
        if (Option.isNone(existing)) return yield* notFound(key);
        yield* verifyPassword(existing.value, input.password);
        if (!existing.value.entries.some((e) => sameKey(e, key))) return yield* notFound(key);
        const remaining = {
          ...existing.value,
          entries: existing.value.entries.filter((e) => !sameKey(e, key)),
        };
        yield* writeVault(path, yield* upgrade(remaining, input.password));
      }),
    );
  });

  const listSavedTokens = Effect.fn("TokenVault.listSavedTokens")(function* () {
    const existing = yield* read;
    if (Option.isNone(existing)) return [];
    return existing.value.entries.map(infoOf);
  });

  const changePassword = Effect.fn("TokenVault.changePassword")(function* (
    oldPassword: Redacted.Redacted<string>,
    newPassword: Redacted.Redacted<string>,
  ) {
    yield* nonEmptySecret("new password", newPassword);
    return yield* locked(
      Effect.gen(function* () {
        const existing = yield* read;
        if (Option.isNone(existing)) return 0;
        yield* verifyPassword(existing.value, oldPassword);
        const check = yield* seal(Redacted.make(CHECK_PLAINTEXT), newPassword, CHECK, kdf);
        const entries: Array<StoredEntry> = [];
        for (const entry of existing.value.entries) {
          const token = yield* openEntry(entry, oldPassword);
          entries.push({ ...entry, secret: yield* seal(token, newPassword, bindingOf(entry), kdf) });
        }
        yield* writeVault(path, { ...existing.value, version: CURRENT_FILE_VERSION, check, entries });
        return entries.length;
      }),
    );
  });

  const newVault = (password: Redacted.Redacted<string>) =>
    seal(Redacted.make(CHECK_PLAINTEXT), password, CHECK, kdf).pipe(
      Effect.map(
        (check): VaultContents => ({
          format: FILE_FORMAT,
          version: CURRENT_FILE_VERSION,
          check,
          entries: [],
        }),
      ),
    );

  const notFound = (key: TokenKey): Effect.Effect<never, VaultEntryNotFoundError> =>
    Effect.fail(new VaultEntryNotFoundError({ path, url: key.url, username: key.username }));

  return TokenVault.of({
    file: path,
    saveEncryptedToken,
    loadEncryptedToken,
    loadEncryptedTokenWithInfo,
    setTokenExpiry,
    deleteToken,
    listSavedTokens,
    changePassword,
  });
};

const validateKey = (input: TokenKey): Effect.Effect<TokenKey, VaultInvalidInputError> => {
  const url = normalizeUrl(input.url);
  if (Either.isLeft(url)) return Effect.fail(url.left);
  if (input.username.trim() === "") {
    return Effect.fail(new VaultInvalidInputError({ field: "username", reason: "the username is empty" }));
  }
  return Effect.succeed({ url: url.right, username: input.username });
};

const nonEmptySecret = (field: string, secret: Redacted.Redacted<string>) =>
  Redacted.value(secret) === ""
    ? Effect.fail(new VaultInvalidInputError({ field, reason: `the ${field} is empty` }))
    : Effect.void;

/** An expiry as stored (ISO), or null; an invalid Date is refused before the file is touched. */
const validExpiry = (expiresAt: Date | null): Effect.Effect<string | null, VaultInvalidInputError> =>
  expiresAt === null
    ? Effect.succeed(null)
    : Number.isNaN(expiresAt.getTime())
      ? Effect.fail(
          new VaultInvalidInputError({ field: "expiresAt", reason: "the expiry is not a valid date" }),
        )
      : Effect.succeed(expiresAt.toISOString());

const infoOf = (e: StoredEntry): SavedTokenInfo => ({
  url: e.url,
  username: e.username,
  createdAt: new Date(e.createdAt),
  updatedAt: new Date(e.updatedAt),
  expiresAt: e.expiresAt === undefined ? null : new Date(e.expiresAt),
});

const sameKey = (entry: TokenKey, key: TokenKey): boolean =>
  entry.url === key.url && entry.username === key.username;

const entryBinding = (key: TokenKey): Binding => ({ kind: "entry", url: key.url, username: key.username });

const bindingOf = (entry: StoredEntry): Binding => entryBinding(entry);
