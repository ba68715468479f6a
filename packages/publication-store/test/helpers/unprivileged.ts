/**
 * File permissions for tests of read-only SQLite files and directories. Root passes every
 * permission check, so a test file about them calls `dropRoot()` first: under root (a container,
 * CI) its process becomes `nobody` for good. Vitest runs each test file in a process of its own
 * (the `forks` pool), so other files keep their user. Any other user runs as it is.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, type Scope } from "effect";

const NOBODY = 65534;

/** Makes this process `nobody` if it runs as root (real and effective ids, as `access()` reads the real one). */
export const dropRoot = (): void => {
  if (process.getuid?.() !== 0) return;
  process.setgroups?.([NOBODY]);
  process.setgid?.(NOBODY);
  process.setuid?.(NOBODY);
};

/** A fresh temp directory, removed with its files when the scope closes. */
export const openTempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "minutes-store-perm-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
);
