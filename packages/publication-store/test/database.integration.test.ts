import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { assert, it } from "@effect/vitest";
import type { SqlEntityManager } from "@mikro-orm/libsql";
import { Chunk, Deferred, Effect, Fiber, Option, Stream, TestClock } from "effect";
import Libsql from "libsql";
import { describe } from "vitest";
import {
  appliedMigrations,
  attempt,
  type Database,
  isUniqueViolation,
  migrate,
  openDatabase,
  reasonOf,
  STATEMENT_CACHE_SIZE,
  statements,
} from "../src/database.js";
import { MIGRATIONS } from "../src/migrations-list.js";
import { PublicationStore } from "../src/PublicationStore.js";
import { adminQuery, BACKENDS, execOnPostgres, freshConfig, PG_URL } from "./helpers/backends.js";

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
      const { rows } = statements(db);
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
          "page_verified_on",
        ].sort(),
      );
      const indexes = yield* attempt("indexes", () =>
        rows(
          em,
          name === "sqlite"
            ? "select name, group_concat(col, ',') as cols from (select il.name as name, ii.name as col from pragma_index_list('confluence_publications') il, pragma_index_info(il.name) ii order by il.name, ii.seqno) group by name"
            : `select i.relname as name, string_agg(a.attname, ',' order by k.n) as cols
               from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
               cross join lateral unnest(x.indkey) with ordinality as k(attnum, n)
               join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
               where t.relname = 'confluence_publications' group by i.relname`,
        ),
      );
      // The stats percentiles read the published and archived latencies from this index, in order.
      assert.deepInclude(
        indexes.map((i) => ({ name: String(i.name), cols: String(i.cols) })),
        { name: "confluence_publications_status_latency_index", cols: "publication_status,latency_ms" },
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

  it.scoped("refuses to start on a database migrated by a newer Minutes, naming the migration", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig(name);
      yield* Effect.scoped(PublicationStore.make(config));
      // What a newer version leaves behind: a migration this one does not know (and a schema to match).
      const future = "Migration20270101000000_future";
      if (name === "postgresql")
        yield* execOnPostgres(
          config,
          `insert into mikro_orm_migrations (name, executed_at) values ('${future}', now())`,
        );
      else
        yield* Effect.acquireUseRelease(
          Effect.sync(() => new Libsql(config.sqlitePath!)),
          (conn) =>
            Effect.sync(() =>
              conn
                .prepare("insert into mikro_orm_migrations (name, executed_at) values (?, ?)")
                .run(future, Date.now()),
            ),
          (conn) => Effect.sync(() => conn.close()),
        );
      const error = yield* Effect.flip(PublicationStore.make(config));
      assert.strictEqual(error._tag, "StoreUnusableError");
      assert.strictEqual(
        error.message,
        `the database was migrated by a newer Minutes (migration ${future}); run that version or restore a backup`,
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

  it.scoped("upper-cases the space keys of existing records in global spaces, not personal ones", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig(name);
      const db = yield* open(config);
      const before = "Migration20261127180000_status_latency_index";
      yield* Effect.promise(() => db.orm.getMigrator().up({ to: before }));
      const em = db.orm.em.fork() as SqlEntityManager;
      const { rows } = statements(db);
      const t = new Date("2026-11-26T10:00:00Z");
      for (const [jobId, key] of [
        ["lower", "meetings"],
        ["mixed", "Team_2"],
        ["personal", "~alice"],
        ["upper", "MEETINGS"],
      ])
        yield* attempt("insert", () =>
          rows(
            em,
            `insert into confluence_publications
               (job_id, confluence_space_key, parent_page_id, publication_status, "trigger", created_at, updated_at,
                retry_count, attempts)
             values (?, ?, null, 'pending', 'event', ?, ?, 0, 0)`,
            [jobId, key, t, t],
          ),
        );
      assert.deepStrictEqual(yield* migrate(db), [
        "Migration20261128090000_canonical_space_keys",
        "Migration20261201000000_page_verified_on",
        "Migration20261202000000_protocol_stream_stored_at",
        "Migration20261203000000_protocol_record_deleted",
      ]);
      const keys = yield* attempt("keys", () =>
        rows(em, "select job_id, confluence_space_key as k from confluence_publications order by job_id"),
      );
      assert.deepStrictEqual(
        keys.map((r) => [String(r.job_id), String(r.k)]),
        [
          ["lower", "MEETINGS"],
          ["mixed", "TEAM_2"],
          ["personal", "~alice"],
          ["upper", "MEETINGS"],
        ],
      );
    }),
  );
});

describe.each(BACKENDS)(
  "protocols saved before Minutes kept when JetStream stored their event, on $name",
  ({ name }) => {
    it.scoped(
      "keep none, and are replaced by an event stored well after their save, but not by an older event stored just after it",
      () =>
        Effect.gen(function* () {
          const config = yield* freshConfig(name);
          const db = yield* open(config);
          yield* Effect.promise(() =>
            db.orm.getMigrator().up({ to: "Migration20261201000000_page_verified_on" }),
          );
          const em = db.orm.em.fork() as SqlEntityManager;
          const { rows } = statements(db);
          // Event 11, saved at 10:00:00.000 by a publisher whose clock is 300 ms behind the NATS server's.
          const saved = new Date("2030-01-01T10:00:00.000Z");
          yield* attempt("insert", () =>
            rows(
              em,
              `insert into minutes_protocols
               (job_id, markdown, filename, metadata, content_hash, stream_sequence, occurred_at, received_at, updated_at)
             values ('legacy', '# N', 'n.md', '{}', 'h11', 11, ?, ?, ?)`,
              [saved, saved, saved],
            ),
          );
          assert.deepStrictEqual(yield* migrate(db), [
            "Migration20261202000000_protocol_stream_stored_at",
            "Migration20261203000000_protocol_record_deleted",
          ]);
          const store = yield* PublicationStore.make(config);
          assert.isNull(Option.getOrThrow(yield* store.getProtocol("legacy")).streamStoredAt);

          // Event 10, stored 100 ms before event 11 (server clock), comes after it.
          yield* TestClock.setTime(Date.parse("2030-01-01T10:00:00.050Z"));
          const older = yield* store.saveProtocol({
            jobId: "legacy",
            markdown: "# O",
            filename: "o.md",
            metadata: {},
            contentHash: "h10",
            streamSequence: 10,
            occurredAt: "2030-01-01T09:59:59Z",
            storedAt: "2030-01-01T10:00:00.150Z",
          });
          assert.strictEqual(older.outcome, "stale");
          assert.strictEqual(older.protocol.markdown, "# N");

          // A stream created anew (NATS lost its data) half an hour later numbers its events from 1.
          yield* TestClock.setTime(Date.parse("2030-01-01T10:30:00.000Z"));
          const renewed = yield* store.saveProtocol({
            jobId: "legacy",
            markdown: "# new stream",
            filename: "n.md",
            metadata: {},
            contentHash: "h1",
            streamSequence: 1,
            occurredAt: "2030-01-01T10:29:59Z",
            storedAt: "2030-01-01T10:30:00.300Z",
          });
          assert.strictEqual(renewed.outcome, "saved");
          assert.strictEqual(renewed.protocol.streamStoredAt, "2030-01-01T10:30:00.300Z");
        }),
    );
  },
);

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
      const { rows } = statements(db);
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
        statements(holder).rows(
          em,
          "insert into minutes_protocols (job_id, markdown, filename, metadata, content_hash, stream_sequence, occurred_at, received_at, updated_at) values ('h', '#', 'h.md', '{}', 'x', null, 0, 0, 0)",
        ),
      );
      const started = Date.now();
      const error = yield* Effect.flip(
        store.ensurePublication({ jobId: "waits", spaceKey: "MEET", parentPageId: null }),
      );
      assert.strictEqual(error._tag, "StoreUnavailableError");
      assert.isAtLeast(Date.now() - started, 40);
      // The reason is logged for every message retried meanwhile: the driver's words, not the statement.
      assert.strictEqual(
        error.message,
        "publication store unavailable during ensurePublication: database is locked",
      );
    }),
  );

  it.scoped("resolves a relative path against the working directory and says which file it opened", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig("sqlite");
      const store = yield* PublicationStore.make({
        ...config,
        sqlitePath: relative(process.cwd(), config.sqlitePath!),
      });
      assert.deepStrictEqual(store.location, { type: "sqlite", path: config.sqlitePath! });
      const memory = yield* PublicationStore.make({ type: "sqlite", sqlitePath: ":memory:" });
      assert.deepStrictEqual(memory.location, { type: "sqlite", path: ":memory:" });
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

describe("prepared statements on sqlite", () => {
  /** A migrated SQLite database, its statements and an EntityManager. */
  const sqlite = Effect.gen(function* () {
    const config = yield* freshConfig("sqlite");
    const db = yield* open(config);
    yield* migrate(db);
    return { db, path: config.sqlitePath!, em: db.orm.em.fork() as SqlEntityManager, ...statements(db) };
  });

  /** Calls `f` with the pool's connection (the raw libsql `Database`), released afterwards. */
  const onConnection = <A>(db: Database, f: (conn: Libsql.Database) => A) =>
    Effect.promise(async () => {
      const client = db.orm.em.getConnection().getKnex().client;
      const conn = (await client.acquireConnection()) as Libsql.Database;
      const result = f(conn);
      await client.releaseConnection(conn);
      return result;
    });

  /** What a promise rejects with, `undefined` when it resolves. */
  const rejection = (run: () => Promise<unknown>) =>
    Effect.promise(() =>
      run().then(
        () => undefined,
        (error: unknown) => error,
      ),
    );

  /** Another process's connection to the same file. */
  const otherConnection = (path: string) =>
    Effect.acquireRelease(
      Effect.sync(() => new Libsql(path)),
      (conn) => Effect.sync(() => conn.close()),
    );

  const insertProtocol =
    "insert into minutes_protocols (job_id, markdown, filename, metadata, content_hash, occurred_at, received_at, updated_at) values (?, ?, 'p.md', ?, 'h', ?, ?, ?)";

  it.scoped("runs a statement again with new parameters, on the statement prepared the first time", () =>
    Effect.gen(function* () {
      const { db, em, rows, run } = yield* sqlite;
      const t = new Date("2026-11-20T10:00:00Z");
      for (const job of ["a", "b", "c"]) {
        assert.strictEqual(
          yield* Effect.promise(() => run(em, insertProtocol, [job, `# ${job}`, "{}", t, t, t])),
          1,
        );
      }
      const select = "select job_id, markdown from minutes_protocols where job_id = ?";
      const prepared = yield* onConnection(db, (conn) => conn.prepare(select));
      for (const job of ["c", "a", "b", "nothing"]) {
        const found = yield* Effect.promise(() => rows(em, select, [job]));
        assert.deepStrictEqual(found, job === "nothing" ? [] : [{ job_id: job, markdown: `# ${job}` }]);
      }
      assert.strictEqual(yield* onConnection(db, (conn) => conn.prepare(select)), prepared);
      // In a transaction (on another EntityManager) and after it, on the same statement.
      const tx = db.orm.em.fork() as SqlEntityManager;
      yield* Effect.promise(() => tx.begin());
      yield* Effect.promise(() => run(tx, insertProtocol, ["rolled-back", "#", "{}", t, t, t]));
      assert.lengthOf(yield* Effect.promise(() => rows(tx, select, ["rolled-back"])), 1);
      yield* Effect.promise(() => tx.rollback());
      assert.lengthOf(yield* Effect.promise(() => rows(em, select, ["rolled-back"])), 0);
    }),
  );

  it.scoped("runs a statement again after it failed on a unique violation", () =>
    Effect.gen(function* () {
      const { db, path, em, rows, run } = yield* sqlite;
      const t = new Date("2026-11-20T10:00:00Z");
      const returning = `${insertProtocol} returning job_id`;
      yield* Effect.promise(() => rows(em, returning, ["dup", "#", "{}", t, t, t]));
      const again = yield* rejection(() => rows(em, returning, ["dup", "#", "{}", t, t, t]));
      assert.isTrue(isUniqueViolation(db, again), String(again));
      const plain = yield* rejection(() => run(em, insertProtocol, ["dup", "#", "{}", t, t, t]));
      assert.isTrue(isUniqueViolation(db, plain), String(plain));
      assert.deepStrictEqual(yield* Effect.promise(() => rows(em, returning, ["next", "#", "{}", t, t, t])), [
        { job_id: "next" },
      ]);
      assert.strictEqual(
        yield* Effect.promise(() => run(em, insertProtocol, ["last", "#", "{}", t, t, t])),
        1,
      );
      // Nothing is left open: another process can write and checkpoint the whole WAL.
      assert.isFalse(yield* onConnection(db, (conn) => conn.inTransaction));
      const other = yield* otherConnection(path);
      other.prepare("delete from minutes_protocols where job_id = 'last'").run();
      assert.deepStrictEqual(other.prepare("pragma wal_checkpoint(TRUNCATE)").all(), [
        { busy: 0, log: 0, checkpointed: 0 },
      ]);
    }),
  );

  it.scoped("reads many rows on a reused statement, and a later read sees other processes' writes", () =>
    Effect.gen(function* () {
      const { db, path, em, rows, run } = yield* sqlite;
      const t = new Date("2026-11-20T10:00:00Z");
      yield* Effect.promise(() => em.begin());
      for (let i = 0; i < 1500; i++) {
        const metadata = i === 700 ? "not json" : JSON.stringify({ topic: `t${i}` });
        yield* Effect.promise(() =>
          run(em, insertProtocol, [`j${String(i).padStart(4, "0")}`, "#", metadata, t, t, t]),
        );
      }
      yield* Effect.promise(() => em.commit());
      const after = "select job_id from minutes_protocols where job_id > ? order by job_id";
      assert.lengthOf(yield* Effect.promise(() => rows(em, after, [""])), 1500);
      assert.lengthOf(yield* Effect.promise(() => rows(em, after, ["j1000"])), 499);
      // A read that fails after its first rows (row 700's metadata is not JSON), then succeeds.
      const topics =
        "select json_extract(metadata, '$.topic') as topic from minutes_protocols where job_id >= ? order by job_id";
      const failed = yield* rejection(() => rows(em, topics, ["j0000"]));
      assert.match(String(failed), /malformed JSON/);
      const read = yield* Effect.promise(() => rows(em, topics, ["j0701"]));
      assert.lengthOf(read, 799);
      assert.deepStrictEqual(read[0], { topic: "t701" });
      // Neither read holds a snapshot: another process writes, checkpoints, and the next read sees it.
      const other = yield* otherConnection(path);
      other.prepare(insertProtocol).run(["j9999", "#", "{}", t.getTime(), t.getTime(), t.getTime()]);
      assert.strictEqual(
        (other.prepare("pragma wal_checkpoint(TRUNCATE)").all()[0] as { busy: number }).busy,
        0,
      );
      assert.lengthOf(yield* Effect.promise(() => rows(em, after, ["j1000"])), 500);
      assert.isFalse(yield* onConnection(db, (conn) => conn.inTransaction));
    }),
  );

  it.scoped("sees a schema changed by another process after the statement was prepared", () =>
    Effect.gen(function* () {
      const { path, em, rows, run } = yield* sqlite;
      const t = new Date("2026-11-20T10:00:00Z");
      yield* Effect.promise(() => run(em, insertProtocol, ["s", "#", "{}", t, t, t]));
      const select = "select * from minutes_protocols where job_id = ?";
      const before = yield* Effect.promise(() => rows(em, select, ["s"]));
      assert.notProperty(before[0], "extra");
      const other = yield* otherConnection(path);
      other.exec("alter table minutes_protocols add column extra text not null default 'x'");
      const after = yield* Effect.promise(() => rows(em, select, ["s"]));
      assert.deepStrictEqual(after, [{ ...before[0], extra: "x" }]);
    }),
  );

  it.scoped("binds every value as the literal MikroORM inlines, with identical results", () =>
    Effect.gen(function* () {
      const { em, rows } = yield* sqlite;
      const values: ReadonlyArray<unknown> = [
        null,
        undefined,
        0,
        -0,
        -17,
        42,
        Number.MAX_SAFE_INTEGER,
        1.5,
        -0.1,
        1e-7,
        "",
        "it's a 'quoted' \\ text",
        "line\nbreak\ttab",
        "Umlaute äöü, emoji 🎉",
        "lone \ud800 surrogate",
        "?",
        "12",
        true,
        false,
        new Date("2026-11-20T10:00:00.123Z"),
        new Date(0),
      ];
      const sql = "select ? as v, typeof(?) as t, ? = 12 as twelve, ? || '' as s";
      for (const v of values) {
        const bound = yield* Effect.promise(() => rows(em, sql, [v, v, v, v]));
        const inlined = yield* Effect.promise(() => em.execute(sql, [v, v, v, v], "all"));
        assert.deepStrictEqual(bound, inlined, String(v));
      }
      // Values with no exact binding take MikroORM's path, and succeed or fail as they did.
      const settle = (query: () => Promise<unknown>) =>
        Effect.promise(() =>
          query().then(
            (value) => ({ value }),
            (error: unknown) => ({ error: String(error) }),
          ),
        );
      for (const v of ["nul \0 byte", 2 ** 60, Number.NaN]) {
        const bound = yield* settle(() => rows(em, sql, [v, v, v, v]));
        const inlined = yield* settle(() => em.execute(sql, [v, v, v, v], "all"));
        assert.deepStrictEqual(bound, inlined, String(v));
      }
    }),
  );

  it.scoped(
    `keeps at most ${STATEMENT_CACHE_SIZE} statements per connection, the least recently used going first`,
    () =>
      Effect.gen(function* () {
        const { db, em, rows } = yield* sqlite;
        const kept = "select 'kept' as v where ? = 1";
        const dropped = "select 'dropped' as v where ? = 1";
        const [keptFirst, droppedFirst] = yield* onConnection(db, (conn) => [
          conn.prepare(kept),
          conn.prepare(dropped),
        ]);
        for (let i = 0; i < STATEMENT_CACHE_SIZE - 1; i++) {
          yield* Effect.promise(() => rows(em, `select ${i} as v where ? = 1`, [1]));
          if (i === 100) yield* Effect.promise(() => rows(em, kept, [1]));
        }
        const [keptNow, droppedNow] = yield* onConnection(db, (conn) => [
          conn.prepare(kept),
          conn.prepare(dropped),
        ]);
        assert.strictEqual(keptNow, keptFirst);
        assert.notStrictEqual(droppedNow, droppedFirst);
        assert.deepStrictEqual(yield* Effect.promise(() => rows(em, dropped, [1])), [{ v: "dropped" }]);
      }),
  );
});

describe("database on an unreachable PostgreSQL", () => {
  it.scoped(
    "fails to start with StoreUnavailableError naming PostgreSQL, where and why, never the password",
    () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          PublicationStore.make({
            type: "postgresql",
            url: "postgresql://postgres:pw-s3cret@127.0.0.1:1/nothing",
          }),
        );
        assert.strictEqual(error._tag, "StoreUnavailableError");
        assert.strictEqual(
          error.message,
          "publication store unavailable during open: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused",
        );
        assert.notInclude(JSON.stringify(error), "pw-s3cret");
      }),
  );

  it.scoped("fails to start without a URL", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(PublicationStore.make({ type: "postgresql", url: null }));
      assert.strictEqual(error._tag, "StoreUnusableError");
      assert.strictEqual(error.message, "database.url is required when database.type is postgresql");
    }),
  );
});

describe("database on PostgreSQL", () => {
  /** PG_URL with another database and a password (trust auth ignores it; it must not be shown). */
  const urlFor = (database: string) => {
    const url = new URL(PG_URL);
    url.password = "not-for-logs-7";
    url.pathname = `/${database}`;
    return url;
  };

  /** Whether the server has a database of this name (asked on PG_URL's database). */
  const databaseExists = (database: string) =>
    Effect.map(
      adminQuery("select 1 from pg_database where datname = ?", [database]),
      (rows) => rows.length > 0,
    );

  it.scoped("keeps a failed statement's values (meeting text) out of the reason it gives", () =>
    Effect.gen(function* () {
      const db = yield* open(yield* freshConfig("postgresql"));
      const em = db.orm.em.fork() as SqlEntityManager;
      // PostgreSQL's errors come as "<the statement with its values> - <reason>".
      const error = yield* Effect.flip(
        Effect.tryPromise(() =>
          em.getConnection().execute("insert into no_such_table (a) values (?)", ["Budget: the secret plan"]),
        ),
      );
      assert.include(String(error.cause), "secret plan");
      assert.strictEqual(reasonOf(error.cause), 'relation "no_such_table" does not exist (SQLSTATE 42P01)');
    }),
  );

  it.scoped("refuses to start on a database that does not exist, and does not create it", () =>
    Effect.gen(function* () {
      const missing = `minutes_missing_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      // Should the store create it after all, the test drops it.
      yield* Effect.addFinalizer(() =>
        execOnPostgres(
          { type: "postgresql", url: PG_URL },
          `drop database if exists ${missing} with (force)`,
        ),
      );
      const url = urlFor(missing);
      const error = yield* Effect.flip(PublicationStore.make({ type: "postgresql", url: url.toString() }));
      assert.strictEqual(error._tag, "StoreUnusableError");
      assert.strictEqual(
        error.message,
        `database "${missing}" does not exist on ${url.hostname}:${url.port || 5432}; create it (CREATE DATABASE "${missing}") or fix database.url`,
      );
      assert.notInclude(JSON.stringify(error), "not-for-logs-7");
      assert.isFalse(yield* databaseExists(missing));
    }),
  );

  it.scoped("says which database it opened: host, port and name, never the password", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig("postgresql");
      const url = new URL(String(config.url));
      url.password = "not-for-logs-7";
      const store = yield* PublicationStore.make({ type: "postgresql", url: url.toString() });
      assert.deepStrictEqual(store.location, {
        type: "postgresql",
        host: url.hostname,
        port: Number(url.port || 5432),
        database: url.pathname.slice(1),
      });
    }),
  );
});
