// A SQLite file or directory the process may not write: the store refuses to start, naming the
// path and what needs write access, instead of starting and failing every write; and `health`
// notices a file that became read-only while the store runs.
import { chmod, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { assert, it } from "@effect/vitest";
import { Effect } from "effect";
import Libsql from "libsql";
import { describe } from "vitest";
import { PublicationStore } from "../src/PublicationStore.js";
import { dropRoot, openTempDir } from "./helpers/unprivileged.js";

// Root writes any file: under root this file's process becomes `nobody` before its tests run.
dropRoot();

/** What the process needs, as every message about a file it cannot write ends. */
const needs = (dir: string, base: string) =>
  `The process needs write access to the file and to its directory ${dir} (SQLite creates ${base}-wal and ${base}-shm there); fix the permissions or database.sqlite_path`;

/** Sets `path`'s mode for the rest of the scope, then gives the owner write access again (so it can be removed). */
const chmodScoped = (path: string, mode: number) =>
  Effect.acquireRelease(
    Effect.promise(() => chmod(path, mode)),
    () => Effect.promise(() => chmod(path, 0o755)),
  );

describe("SQLite permissions", () => {
  it.scoped("refuses to start on a read-only file, naming the path and what needs write access", () =>
    Effect.gen(function* () {
      const dir = yield* openTempDir;
      const path = join(dir, "store.sqlite");
      // Closed cleanly, so no -wal or -shm file is left: opening the read-only file would make
      // SQLite create them with the file's mode, read-only too, and the message would blame files
      // the operator never had. (A store's own connection closes when it is collected, so a store
      // made and closed here left them only some of the time.)
      yield* Effect.sync(() => {
        const conn = new Libsql(path);
        conn.exec("pragma journal_mode = wal; create table kept (x)");
        conn.close();
      });
      yield* chmodScoped(path, 0o444);
      const error = yield* Effect.flip(PublicationStore.make({ type: "sqlite", sqlitePath: path }));
      assert.strictEqual(error._tag, "StoreUnusableError");
      assert.strictEqual(
        error.message,
        `SQLite database ${path} cannot be written: the file is read-only. ${needs(dir, "store.sqlite")}`,
      );
      // Nothing left behind that would still be read-only once the operator fixed the file.
      assert.deepStrictEqual(
        (yield* Effect.promise(() => readdir(dir))).filter((f) => f.startsWith("store.sqlite")),
        ["store.sqlite"],
      );
    }),
  );

  it.scoped("refuses to start in a directory it may not write, where the -wal and -shm files go", () =>
    Effect.gen(function* () {
      const dir = yield* openTempDir;
      // A WAL database closed cleanly (its last connection removed the -wal and -shm files): the
      // next start has to create them. A store's pool keeps them until its statements are collected.
      yield* Effect.sync(() => {
        const conn = new Libsql(join(dir, "store.sqlite"));
        conn.exec("pragma journal_mode = wal; create table kept (x)");
        conn.close();
      });
      yield* chmodScoped(dir, 0o555);
      for (const base of ["store.sqlite", "new.sqlite"]) {
        const file = join(dir, base);
        const error = yield* Effect.flip(PublicationStore.make({ type: "sqlite", sqlitePath: file }));
        assert.strictEqual(error._tag, "StoreUnusableError", file);
        assert.strictEqual(
          error.message,
          `SQLite database ${file} cannot be written: the directory ${dir} is not writable. ${needs(dir, base)}`,
        );
      }
    }),
  );

  it.scoped("reports a database that became read-only from health, naming the path", () =>
    Effect.gen(function* () {
      const dir = yield* openTempDir;
      const path = join(dir, "store.sqlite");
      const store = yield* PublicationStore.make({ type: "sqlite", sqlitePath: path });
      yield* store.health();
      yield* chmodScoped(path, 0o444);
      const error = yield* Effect.flip(store.health());
      assert.strictEqual(error._tag, "StoreUnavailableError");
      assert.strictEqual(
        error.reason,
        `SQLite database ${path} cannot be written: the file is read-only. ${needs(dir, "store.sqlite")}`,
      );
      yield* Effect.promise(() => chmod(path, 0o644));
      yield* store.health();
    }),
  );
});

describe("SQLite file mode", () => {
  const modeOf = (path: string) => Effect.promise(async () => (await stat(path)).mode & 0o777);

  it.scoped(
    "creates a new database for the owner alone (SQLite its -wal and -shm alike), and leaves an existing file's mode",
    () =>
      Effect.gen(function* () {
        const dir = yield* openTempDir;
        // In a directory that does not exist yet, as database.sqlite_path may name one.
        const path = join(dir, "data", "minutes.sqlite");
        const store = yield* PublicationStore.make({ type: "sqlite", sqlitePath: path });
        yield* store.health();
        // While the store is open: its connection keeps the -wal and -shm files.
        for (const file of [path, `${path}-wal`, `${path}-shm`])
          assert.strictEqual((yield* modeOf(file)).toString(8), "600", file);

        // An operator's choice for a database that exists (shared with a group) stays.
        const shared = join(dir, "shared.sqlite");
        yield* Effect.sync(() => {
          const conn = new Libsql(shared);
          conn.exec("pragma journal_mode = wal; create table kept (x)");
          conn.close();
        });
        yield* Effect.promise(() => chmod(shared, 0o640));
        const other = yield* PublicationStore.make({ type: "sqlite", sqlitePath: shared });
        yield* other.health();
        assert.strictEqual((yield* modeOf(shared)).toString(8), "640");
      }),
  );
});
