import { assert, it } from "@effect/vitest";
import { DriverException } from "@mikro-orm/core";
import { Cause, Effect, Exit } from "effect";
import Database from "libsql";
import { describe } from "vitest";
import { attempt } from "../src/database.js";

// libsql throws SqliteError with the extended result code in `.code` and no code prefix in the
// message ("database is locked", not "SQLITE_BUSY: database is locked").
const sqliteError = (message: string, code: string): Error =>
  Object.assign(new Error(message), { name: "SqliteError", code });

const outcome = (cause: unknown) =>
  Effect.exit(attempt("probe", () => Promise.reject(cause))).pipe(
    Effect.map((exit) =>
      Exit.isSuccess(exit)
        ? "success"
        : Cause.isFailType(exit.cause) && exit.cause.error._tag === "StoreUnavailableError"
          ? "unavailable"
          : Cause.isDie(exit.cause)
            ? "defect"
            : "other",
    ),
  );

/** What libsql itself throws for `run` (an in-memory database, no file). */
const thrownBy = (run: (db: Database.Database) => void): unknown => {
  const db = new Database(":memory:");
  try {
    run(db);
  } catch (error) {
    return error;
  } finally {
    if (db.open) db.close();
  }
  throw new Error("nothing thrown");
};

describe("attempt", () => {
  it.effect("treats SQLite busy, locked and I/O errors as unavailable, with extended codes too", () =>
    Effect.gen(function* () {
      for (const [message, code] of [
        ["database is locked", "SQLITE_BUSY"],
        ["database is locked", "SQLITE_BUSY_SNAPSHOT"],
        ["database table is locked", "SQLITE_LOCKED_SHAREDCACHE"],
        ["disk I/O error", "SQLITE_IOERR_WRITE"],
        ["unable to open database file", "SQLITE_CANTOPEN"],
        ["attempt to write a readonly database", "SQLITE_READONLY_DBMOVED"],
        ["database or disk is full", "SQLITE_FULL"],
      ] as const) {
        assert.strictEqual(yield* outcome(sqliteError(message, code)), "unavailable", code);
      }
      // libsql's own errors for a closed connection and a file it cannot open (no code on either).
      const closed = thrownBy((db) => {
        db.close();
        db.prepare("select 1");
      });
      assert.strictEqual(yield* outcome(closed), "unavailable", String(closed));
      const cannotOpen = yield* Effect.try(() => new Database("/nonexistent/minutes/store.sqlite")).pipe(
        Effect.flip,
      );
      assert.strictEqual(yield* outcome(cannotOpen.error), "unavailable", String(cannotOpen.error));
      // The pool's acquire timeout (the one connection held by an import for 60 s) as MikroORM throws it.
      const poolTimeout = new DriverException(
        Object.assign(
          new Error(
            "Knex: Timeout acquiring a connection. The pool is probably full. Are you missing a .transacting(trx) call?",
          ),
          { name: "KnexTimeoutError" },
        ),
      );
      assert.strictEqual(yield* outcome(poolTimeout), "unavailable");
    }),
  );

  it.effect("lets constraint and SQL errors die as defects", () =>
    Effect.gen(function* () {
      for (const [message, code] of [
        ["UNIQUE constraint failed: confluence_publications.job_id", "SQLITE_CONSTRAINT_UNIQUE"],
        ["FOREIGN KEY constraint failed", "SQLITE_CONSTRAINT_FOREIGNKEY"],
        ['near "selec": syntax error', "SQLITE_ERROR"],
        ["database disk image is malformed", "SQLITE_CORRUPT"],
      ] as const) {
        assert.strictEqual(yield* outcome(sqliteError(message, code)), "defect", code);
      }
      const unique = thrownBy((db) => {
        db.exec("create table t (k text unique); insert into t values ('a')");
        db.prepare("insert into t values ('a')").run();
      });
      assert.strictEqual((unique as { code?: unknown }).code, "SQLITE_CONSTRAINT_UNIQUE");
      assert.strictEqual(yield* outcome(unique), "defect");
      const syntax = thrownBy((db) => db.prepare("selec 1"));
      assert.strictEqual(yield* outcome(syntax), "defect");
    }),
  );
});
