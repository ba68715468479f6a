import { readFile } from "node:fs/promises";
import { assert, it } from "@effect/vitest";
import type { SqlEntityManager } from "@mikro-orm/libsql";
import { Chunk, Deferred, Effect, Fiber, Option, Stream } from "effect";
import { describe } from "vitest";
import { appliedMigrations, attempt, migrate, openDatabase, rows } from "../src/database.js";
import { MIGRATIONS } from "../src/migrations-list.js";
import { PublicationStore } from "../src/PublicationStore.js";
import { BACKENDS, freshConfig } from "./helpers/backends.js";

const open = (config: Parameters<typeof openDatabase>[0]) =>
  Effect.acquireRelease(openDatabase(config), (db) => Effect.promise(() => db.orm.close(true)));

describe.each(BACKENDS)("database on $name", ({ name }) => {
  it.scoped("creates every table on a fresh database, and a second run applies nothing", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig(name);
      const db = yield* open(config);
      const applied = yield* migrate(db);
      assert.deepStrictEqual(
        applied,
        MIGRATIONS.map((m) => m.name),
      );
      const em = db.orm.em.fork() as SqlEntityManager;
      const tables = yield* attempt("tables", () =>
        rows(
          em,
          name === "sqlite"
            ? "select name from sqlite_master where type = 'table'"
            : "select table_name as name from information_schema.tables where table_schema = 'public'",
        ),
      );
      const names = tables.map((t) => String(t.name));
      for (const table of [
        "confluence_publications",
        "minutes_protocols",
        "confluence_publication_versions",
        "mikro_orm_migrations",
      ]) {
        assert.include(names, table);
      }
      const columns = yield* attempt("columns", () =>
        rows(
          em,
          name === "sqlite"
            ? "select name from pragma_table_info('confluence_publications')"
            : "select column_name as name from information_schema.columns where table_name = 'confluence_publications'",
        ),
      );
      const columnNames = columns.map((c) => String(c.name)).sort();
      assert.deepStrictEqual(
        columnNames,
        [
          "id",
          "job_id",
          "confluence_page_id",
          "confluence_page_url",
          "confluence_space_key",
          "parent_page_id",
          "page_title",
          "publication_status",
          "created_at",
          "updated_at",
          "error_message",
          "retry_count",
          "last_retry_at",
          "content_hash",
          "page_version",
          "stream_sequence",
          "attempts",
          "error_tag",
          "trigger",
          "published_at",
          "latency_ms",
          "claimed_by",
          "claimed_until",
          "meeting_date",
          "archived_at",
        ].sort(),
      );
      assert.deepStrictEqual(yield* migrate(db), []);
      assert.deepStrictEqual(
        yield* appliedMigrations(db),
        MIGRATIONS.map((m) => m.name),
      );
    }),
  );

  it.scoped("lets several processes start on a fresh database at the same moment", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig(name);
      // Publishers and a gateway starting together (docker compose up): each opens its own ORM and
      // migrates; exactly one applies the migrations and every start succeeds.
      const dbs = yield* Effect.all(
        Array.from({ length: 6 }, () => open(config)),
        { concurrency: "unbounded" },
      );
      const applied = yield* Effect.all(
        dbs.map((db) => migrate(db)),
        { concurrency: "unbounded" },
      );
      assert.deepStrictEqual(applied.flat().sort(), MIGRATIONS.map((m) => m.name).sort());
      assert.deepStrictEqual(
        yield* appliedMigrations(dbs[0]!),
        MIGRATIONS.map((m) => m.name),
      );
    }),
  );

  it.scoped("applies pending migrations when the store starts", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig(name);
      const store = yield* PublicationStore.make(config);
      yield* store.health();
      const db = yield* open(config);
      assert.deepStrictEqual(
        yield* appliedMigrations(db),
        MIGRATIONS.map((m) => m.name),
      );
    }),
  );
});

describe("database on sqlite", () => {
  it.scoped("keeps the SQLite file in WAL mode with a busy timeout", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig("sqlite");
      const store = yield* PublicationStore.make({ ...config, busyTimeoutMs: 2_500 });
      yield* store.ensurePublication({ jobId: "wal", spaceKey: "MEET", parentPageId: null });
      // bytes 18 and 19 of the header are 2 when the file is in WAL mode, for every future connection
      const header = yield* Effect.promise(() => readFile(config.sqlitePath!));
      assert.strictEqual(header[18], 2);
      assert.strictEqual(header[19], 2);
      const db = yield* open({ ...config, busyTimeoutMs: 2_500 });
      const em = db.orm.em.fork() as SqlEntityManager;
      const mode = yield* attempt("pragma", () => rows(em, "pragma journal_mode"));
      assert.strictEqual(String(mode[0]?.journal_mode), "wal");
      const busy = yield* attempt("pragma", () => rows(em, "pragma busy_timeout"));
      assert.strictEqual(Number(Object.values(busy[0] ?? {})[0]), 2_500);
      const fk = yield* attempt("pragma", () => rows(em, "pragma foreign_keys"));
      assert.strictEqual(Number(Object.values(fk[0] ?? {})[0]), 1);
      const sync = yield* attempt("pragma", () => rows(em, "pragma synchronous"));
      assert.strictEqual(Number(Object.values(sync[0] ?? {})[0]), 1); // normal
    }),
  );

  it.scoped("fails a write with StoreUnavailableError while another connection holds the write lock", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig("sqlite");
      const store = yield* PublicationStore.make({ ...config, busyTimeoutMs: 50 });
      // Another process on the same file (the gateway next to the publisher) in a write transaction.
      const holder = yield* open(config);
      const em = holder.orm.em.fork() as SqlEntityManager;
      yield* Effect.acquireRelease(
        Effect.promise(() => em.begin()),
        () => Effect.promise(() => em.rollback()),
      );
      yield* attempt("hold", () =>
        rows(em, "insert into minutes_protocols values ('h', '#', 'h.md', '{}', 'x', null, 0, 0, 0)"),
      );
      const started = Date.now();
      const error = yield* Effect.flip(
        store.ensurePublication({ jobId: "waits", spaceKey: "MEET", parentPageId: null }),
      );
      assert.strictEqual(error._tag, "StoreUnavailableError");
      assert.isAtLeast(Date.now() - started, 40);
    }),
  );
});

describe("database on sqlite with one connection", () => {
  it.scopedLive("runs operations issued during an import after it commits, and they see its rows", () =>
    Effect.gen(function* () {
      const source = yield* PublicationStore.make({ type: "sqlite", sqlitePath: ":memory:" });
      yield* source.ensurePublication({ jobId: "imported", spaceKey: "MEET", parentPageId: null });
      const exported = Chunk.toReadonlyArray(yield* Stream.runCollect(source.exportJsonl()));

      const config = yield* freshConfig("sqlite");
      const store = yield* PublicationStore.make(config);
      // An import whose input pauses after its lines: its transaction holds the only connection.
      const release = yield* Deferred.make<void>();
      const linesRead = yield* Deferred.make<void>();
      const lines = Stream.concat(
        Stream.fromIterable(exported),
        Stream.fromEffect(
          Deferred.succeed(linesRead, undefined).pipe(Effect.zipRight(Deferred.await(release))),
        ).pipe(Stream.drain),
      );
      const importing = yield* Effect.fork(store.importJsonl(lines));
      yield* Deferred.await(linesRead);

      const read = yield* Effect.fork(store.findByJob("imported"));
      const write = yield* Effect.fork(
        store.ensurePublication({ jobId: "during", spaceKey: "MEET", parentPageId: null }),
      );
      yield* Effect.sleep("100 millis");
      // They wait for the connection (in the pool's queue, not in a blocked event loop).
      assert.isTrue(Option.isNone(yield* Fiber.poll(read)));
      assert.isTrue(Option.isNone(yield* Fiber.poll(write)));

      yield* Deferred.succeed(release, undefined);
      const counts = yield* Fiber.join(importing);
      assert.strictEqual(counts.imported, 1);
      const found = yield* Fiber.join(read);
      assert.strictEqual(Option.getOrThrow(found).jobId, "imported");
      const made = yield* Fiber.join(write);
      assert.strictEqual(made.status, "pending");
      assert.deepStrictEqual(yield* store.get(made.id), made);
    }),
  );

  it.scoped("keeps an in-memory database on one connection, where every statement sees it", () =>
    Effect.gen(function* () {
      const store = yield* PublicationStore.make({ type: "sqlite", sqlitePath: ":memory:" });
      const made = yield* Effect.all(
        Array.from({ length: 8 }, (_, i) =>
          store.ensurePublication({ jobId: `mem-${i}`, spaceKey: "MEET", parentPageId: null }),
        ),
        { concurrency: "unbounded" },
      );
      assert.lengthOf(made, 8);
      const listed = yield* store.query({ limit: 50 });
      assert.lengthOf(listed.items, 8);
    }),
  );
});

describe("database on an unreachable PostgreSQL", () => {
  it.scoped("fails to start with StoreUnavailableError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        PublicationStore.make({ type: "postgresql", url: "postgresql://postgres@127.0.0.1:1/nothing" }),
      );
      assert.strictEqual(error._tag, "StoreUnavailableError");
    }),
  );

  it.scoped("fails to start without a URL", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(PublicationStore.make({ type: "postgresql", url: null }));
      assert.strictEqual(error._tag, "StoreUnavailableError");
    }),
  );
});
