// The vault file on disk: its JSON format, crash-safe writes (temp file, fsync, rename, fsync of
// the directory), owner-only permissions, and a lock file that serialises writers across
// processes. Readers take no lock: a rename is atomic, so they always see a whole file.

import { createHash, randomBytes } from "node:crypto";
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { Effect, Either, Option, ParseResult, Schema } from "effect";
import { type Envelope, envelopeProblem } from "./envelope.js";
import { VaultCorruptError, VaultIoError } from "./VaultError.js";

/** The `format` marker at the top of every vault file. */
export const FILE_FORMAT = "minutes-token-vault";

/** The file format version this release writes (and the only one it reads so far). */
export const CURRENT_FILE_VERSION = 1;

/**
 * One saved token: its key in clear (so listing needs no password) and the sealed token.
 * `expiresAt` (ISO, absent when unknown) is plain metadata like the timestamps: Confluence cannot
 * tell a token's expiry, so the operator records it. Absent rather than null, and added without a
 * new file version: a version-1 reader ignores entry fields it does not know, so files with
 * expiries still open in releases that predate them (which drop the field when they rewrite the file).
 */
export interface StoredEntry {
  readonly url: string;
  readonly username: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt?: string;
  readonly secret: Envelope;
}

/** The decoded vault file. `check` is a sealed constant that tells a wrong password from tampering. */
export interface VaultContents {
  readonly format: typeof FILE_FORMAT;
  readonly version: number;
  readonly check: Envelope;
  readonly entries: ReadonlyArray<StoredEntry>;
}

/** How long to wait for the lock and when a lock counts as abandoned. */
export interface LockOptions {
  readonly timeoutMs: number;
  readonly staleMs: number;
}

/**
 * Reads and validates the vault file; `None` when it does not exist. Calls `warn` when the file
 * can be read or written by group or others.
 */
export const readVault = Effect.fn("vaultFile.read")(function* (
  path: string,
  warn: (message: string) => Effect.Effect<void>,
) {
  const loaded = yield* Effect.tryPromise({
    try: async () => {
      const info = await stat(path);
      return { mode: info.mode, text: await readFile(path, "utf8") };
    },
    catch: (cause) => cause,
  }).pipe(
    Effect.map(Option.some),
    Effect.catchAll((cause) =>
      errorCode(cause) === "ENOENT"
        ? Effect.succeed(Option.none<{ mode: number; text: string }>())
        : Effect.fail(ioError(path, "read", cause)),
    ),
  );
  if (Option.isNone(loaded)) return Option.none<VaultContents>();
  const { mode, text } = loaded.value;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, "0");
    yield* warn(
      `${path} is accessible by group or others (mode ${octal}); run \`chmod 600 ${path}\`. ` +
        "The next change to the vault rewrites it with mode 0600.",
    );
  }
  return Option.some(yield* decodeVault(path, text));
});

/** Encodes the vault as the JSON text stored on disk. */
export const encodeVault = (contents: VaultContents): string => `${JSON.stringify(contents, null, 2)}\n`;

/**
 * Replaces the vault file atomically with mode 0600, creating its directory with mode 0700 when
 * missing. A crash leaves either the old or the new file, never a mix.
 */
export const writeVault = Effect.fn("vaultFile.write")(function* (path: string, contents: VaultContents) {
  yield* ensureDirectory(path);
  yield* Effect.tryPromise({
    try: () => writeAtomically(path, encodeVault(contents)),
    catch: (cause) => ioError(path, "write", cause),
  });
});

/** Creates the vault's directory (and missing parents) with mode 0700. */
export const ensureDirectory = (path: string) =>
  Effect.tryPromise({
    try: () => mkdir(dirname(path), { recursive: true, mode: 0o700 }),
    catch: (cause) => ioError(dirname(path), "create the directory", cause),
  }).pipe(Effect.asVoid);

/**
 * Runs `effect` while holding `<path>.lock`, created atomically with its content (a temp file
 * hard-linked into place; the directory is created first). A lock whose owner process is gone
 * (same host) or that is older than `staleMs` is stale: of the writers that find it so, exactly
 * one removes it (see `removeStale`), and then they race for a new lock as usual. Waiting longer
 * than `timeoutMs` fails with {@link VaultIoError}. Assumes a local POSIX filesystem where `link`
 * and `unlink` are atomic (Linux ext4, xfs, btrfs, tmpfs), and writers whose clocks agree.
 */
export const withLock = <A, E, R>(
  path: string,
  options: LockOptions,
  effect: Effect.Effect<A, E, R>,
): Effect.Effect<A, E | VaultIoError, R> =>
  Effect.acquireUseRelease(
    Effect.zipRight(ensureDirectory(path), acquireLock(`${path}.lock`, options)),
    () => effect,
    (owned) => releaseLock(`${path}.lock`, owned),
  );

/** The claim file a writer creates to remove the lock now at `lockPath` once it is stale (for tests). */
export const claimPathFor = async (lockPath: string): Promise<string | undefined> => {
  const seen = await snapshot(lockPath);
  return seen === undefined ? undefined : `${lockPath}.claim-${identity(seen)}`;
};

/**
 * Test seam: lets a test hold a writer at the points of the lock protocol where interleavings
 * matter (after it judged a lock stale, before it acts; each failed attempt). Unset in production;
 * not exported by the package.
 */
export const lockProbes: {
  staleJudged?: (lockPath: string) => Promise<void>;
  busy?: (lockPath: string) => void;
} = {};

// internal

const Kdf = Schema.Struct({
  name: Schema.Literal("scrypt"),
  N: Schema.Number,
  r: Schema.Number,
  p: Schema.Number,
});
const EnvelopeSchema = Schema.Struct({
  v: Schema.Number,
  kdf: Kdf,
  salt: Schema.String,
  iv: Schema.String,
  ct: Schema.String,
  tag: Schema.String,
});
const Entry = Schema.Struct({
  url: Schema.String,
  username: Schema.String,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  expiresAt: Schema.optionalWith(Schema.String, { exact: true }),
  secret: EnvelopeSchema,
});
const VaultSchema = Schema.Struct({
  format: Schema.Literal(FILE_FORMAT),
  version: Schema.Number,
  check: EnvelopeSchema,
  entries: Schema.Array(Entry),
});
const Header = Schema.Struct({ format: Schema.Literal(FILE_FORMAT), version: Schema.Number });

const decodeVault = (path: string, text: string): Effect.Effect<VaultContents, VaultCorruptError> => {
  const corrupt = (reason: string) => Effect.fail(new VaultCorruptError({ path, reason }));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return corrupt("the file is not valid JSON");
  }
  const header = Schema.decodeUnknownEither(Header)(json);
  if (Either.isLeft(header)) return corrupt("the file is not a token vault");
  if (header.right.version !== CURRENT_FILE_VERSION) {
    return corrupt(`unsupported file version ${header.right.version} (written by a newer release?)`);
  }
  const decoded = Schema.decodeUnknownEither(VaultSchema)(json);
  if (Either.isLeft(decoded)) return corrupt(`malformed structure (${firstIssuePath(decoded.left)})`);
  const contents = decoded.right;
  const checkProblem = envelopeProblem(contents.check);
  if (checkProblem !== undefined) return corrupt(`password check: ${checkProblem}`);
  const seen = new Set<string>();
  for (const entry of contents.entries) {
    const key = JSON.stringify([entry.url, entry.username]);
    if (seen.has(key)) return corrupt(`duplicate entry for ${entry.username} at ${entry.url}`);
    seen.add(key);
    const problem = envelopeProblem(entry.secret) ?? timestampProblem(entry);
    if (problem !== undefined) return corrupt(`entry for ${entry.username} at ${entry.url}: ${problem}`);
  }
  return Effect.succeed(contents);
};

const timestampProblem = (entry: StoredEntry): string | undefined =>
  [entry.createdAt, entry.updatedAt, entry.expiresAt ?? entry.createdAt].some((t) =>
    Number.isNaN(Date.parse(t)),
  )
    ? "malformed timestamp"
    : undefined;

/** The path of the first schema issue, e.g. `entries.0.secret.iv`; values are never echoed. */
const firstIssuePath = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0];
  return issue === undefined || issue.path.length === 0 ? "root" : issue.path.map(String).join(".");
};

const writeAtomically = async (path: string, text: string): Promise<void> => {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temp, 0o600); // the umask can only remove bits; this guards against a default ACL adding some
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined); // never leave a half-written copy behind
    throw error;
  }
  await syncDirectory(dir);
};

/** Makes the rename durable. Some platforms cannot open or fsync a directory; that is not an error there. */
const syncDirectory = async (dir: string): Promise<void> => {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = errorCode(error);
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw error;
  } finally {
    await handle?.close();
  }
};

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly acquiredAt: number;
  readonly nonce: string;
}

type LockAttempt =
  | { readonly _tag: "Acquired"; readonly content: string }
  | { readonly _tag: "Busy"; readonly holder: string };

/** What a writer saw at a lock path: the text and the inode it read it from. Lock files never change after creation. */
interface LockSnapshot {
  readonly text: string;
  readonly ino: bigint;
  readonly mtimeNs: bigint;
}

const acquireLock = (lockPath: string, options: LockOptions): Effect.Effect<string, VaultIoError> =>
  Effect.gen(function* () {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const attempt = yield* Effect.tryPromise({
        try: () => tryLockOnce(lockPath, options.staleMs),
        catch: (cause) => ioError(lockPath, "lock", cause),
      });
      if (attempt._tag === "Acquired") return attempt.content;
      lockProbes.busy?.(lockPath);
      if (Date.now() >= deadline) {
        return yield* new VaultIoError({
          path: lockPath,
          operation: "lock",
          reason: `another process (${attempt.holder}) held the lock for more than ${options.timeoutMs} ms; if none is running, delete the lock file`,
        });
      }
      yield* Effect.sleep(20 + Math.floor(Math.random() * 40));
    }
  });

const tryLockOnce = async (lockPath: string, staleMs: number): Promise<LockAttempt> => {
  const content = ownerText();
  if (await createExclusively(lockPath, content)) return { _tag: "Acquired", content };
  const seen = await snapshot(lockPath);
  if (seen === undefined) return { _tag: "Busy", holder: "released" }; // released meanwhile: try again soon
  const holder = parseOwner(seen.text);
  if (!isStale(seen, holder, staleMs)) {
    return { _tag: "Busy", holder: holder === undefined ? "unknown" : `pid ${holder.pid} on ${holder.host}` };
  }
  await lockProbes.staleJudged?.(lockPath);
  await removeStale(lockPath, lockPath, seen, staleMs, 0);
  return { _tag: "Busy", holder: "a stale lock, now removed" };
};

/**
 * Removes `path` if it is still the file `seen` that the caller judged stale, so that of all the
 * writers that judged it stale, exactly one removes it and none removes a newer lock. They race to
 * create a claim file named after `seen` (O_EXCL semantics via `link`): the winner alone may
 * remove `seen`, and only `seen`'s (dead or expired) owner could remove it too. So "read, still
 * `seen`, unlink" cannot hit a newer lock. A claim left by a writer that died while holding it is
 * stale by the same rules and removed the same way (a claim of the claim), a few levels deep at most.
 */
const removeStale = async (
  lockPath: string,
  path: string,
  seen: LockSnapshot,
  staleMs: number,
  depth: number,
): Promise<void> => {
  const claimPath = `${lockPath}.claim-${identity(seen)}`;
  if (!(await createExclusively(claimPath, ownerText()))) {
    // Another writer is removing `seen` right now, or died doing so.
    const claim = await snapshot(claimPath);
    if (claim !== undefined && depth < 3 && isStale(claim, parseOwner(claim.text), staleMs)) {
      await removeStale(lockPath, claimPath, claim, staleMs, depth + 1);
    }
    return;
  }
  try {
    const current = await snapshot(path);
    if (current !== undefined && sameFile(current, seen)) await unlinkIfPresent(path);
  } finally {
    await unlinkIfPresent(claimPath);
  }
};

const releaseLock = (lockPath: string, content: string): Effect.Effect<void> =>
  Effect.promise(async () => {
    // Only remove our own lock: if it was taken over as stale, the file now belongs to someone else.
    const current = await readFile(lockPath, "utf8").catch(() => undefined);
    if (current === content) await unlink(lockPath).catch(() => undefined);
  });

const ownerText = (): string =>
  JSON.stringify({
    pid: process.pid,
    host: hostname(),
    acquiredAt: Date.now(),
    nonce: randomBytes(8).toString("hex"),
  } satisfies LockOwner);

/**
 * Creates `path` with `content`, or returns false when it exists. The content is written to a
 * private temp file first and then hard-linked into place, so nobody ever reads a half-written lock.
 */
const createExclusively = async (path: string, content: string): Promise<boolean> => {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temp, "wx", 0o600);
  try {
    try {
      await handle.writeFile(content, "utf8");
    } finally {
      await handle.close();
    }
    await link(temp, path);
    return true;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
};

/** The text and inode of `path`, read through one handle so both come from the same file; `undefined` when absent. */
const snapshot = async (path: string): Promise<LockSnapshot | undefined> => {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    const info = await handle.stat({ bigint: true });
    return { text: await handle.readFile("utf8"), ino: info.ino, mtimeNs: info.mtimeNs };
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  } finally {
    await handle?.close();
  }
};

const isStale = (seen: LockSnapshot, holder: LockOwner | undefined, staleMs: number): boolean => {
  const age =
    holder === undefined ? Date.now() - Number(seen.mtimeNs / 1_000_000n) : Date.now() - holder.acquiredAt;
  const ownerGone = holder !== undefined && holder.host === hostname() && !processIsAlive(holder.pid);
  return ownerGone || age > staleMs;
};

const sameFile = (a: LockSnapshot, b: LockSnapshot): boolean =>
  a.text === b.text && a.ino === b.ino && a.mtimeNs === b.mtimeNs;

/** A file-name-safe name for one lock file as seen: its owner's nonce is in the text, the inode and mtime tell empty files apart. */
const identity = (seen: LockSnapshot): string =>
  createHash("sha256").update(`${seen.ino}:${seen.mtimeNs}:${seen.text}`).digest("hex").slice(0, 24);

const unlinkIfPresent = (path: string): Promise<void> =>
  unlink(path).catch((error: unknown) => {
    if (errorCode(error) !== "ENOENT") throw error;
  });

const parseOwner = (text: string): LockOwner | undefined => {
  try {
    const value: unknown = JSON.parse(text);
    if (
      typeof value === "object" &&
      value !== null &&
      "pid" in value &&
      "host" in value &&
      "acquiredAt" in value &&
      typeof value.pid === "number" &&
      typeof value.host === "string" &&
      typeof value.acquiredAt === "number"
    ) {
      return { pid: value.pid, host: value.host, acquiredAt: value.acquiredAt, nonce: "" };
    }
    return undefined;
  } catch {
    return undefined;
  }
};

const processIsAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === "EPERM"; // exists, owned by another user
  }
};

const errorCode = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;

/** A short, stack-free reason: `EACCES: permission denied, open '/x'`. */
const ioError = (path: string, operation: string, cause: unknown): VaultIoError =>
  new VaultIoError({
    path,
    operation,
    reason: cause instanceof Error ? cause.message : String(cause),
  });
