/**
 * Opens MikroORM for SQLite or PostgreSQL with the same SQL on top: connection pragmas (WAL,
 * busy timeout), migrations, instant conversion and the one place that decides which driver
 * errors mean "unavailable" (503) rather than "bug". Internal to the package. SQLite goes through
 * the synchronous libsql driver on one connection: a statement costs microseconds on the event
 * loop instead of a thread-pool round trip, but waiting for another process's write lock blocks it.
 * On SQLite the statements bind their parameters and stay prepared per connection; PostgreSQL
 * keeps MikroORM's `execute`, which inlines them. Opening refuses a database it cannot use (a
 * PostgreSQL database that does not exist, a SQLite file it may not write, a schema from a newer
 * version) instead of starting and failing on every write later.
 */

import { accessSync, closeSync, constants, mkdirSync, openSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import {
  ConnectionException,
  DeadlockException,
  LockWaitTimeoutException,
  MikroORM,
  type Options,
  UniqueConstraintViolationException,
} from "@mikro-orm/core";
import type { AbstractSqlDriver, Knex, SqlEntityManager } from "@mikro-orm/libsql";
import { Migrator } from "@mikro-orm/migrations";
import { Effect, Redacted } from "effect";
import { MIGRATIONS } from "./migrations-list.js";
import { StoreUnavailableError, StoreUnusableError } from "./PublicationStoreError.js";

/** Which database the store talks to. */
export type Dialect = "sqlite" | "postgresql";

/** Connection settings for `PublicationStore.layer`. */
export interface StoreConfig {
  /** `sqlite` (default deployment, one host) or `postgresql` (several publisher instances). */
  readonly type: Dialect;
  /**
   * SQLite database file; its directory is created. Required for `sqlite`. A relative path is
   * resolved against the process's working directory when the store opens (`location` says
   * which file that was).
   */
  readonly sqlitePath?: string | undefined;
  /** PostgreSQL connection URL. Required for `postgresql`. */
  readonly url?: Redacted.Redacted<string> | string | null | undefined;
  /** Log every SQL statement through MikroORM's logger. */
  readonly debug?: boolean | undefined;
  /** Where `debug` writes its lines (default: MikroORM's, `console.log`). */
  readonly logger?: ((message: string) => void) | undefined;
  /**
   * SQLite: how long a writer waits for another process's write lock (default 5000 ms). The wait
   * blocks the event loop (the driver is synchronous), so keep it short.
   */
  readonly busyTimeoutMs?: number | undefined;
  /** Apply pending migrations when the store starts (default `true`). */
  readonly migrate?: boolean | undefined;
}

/**
 * Which database a store opened, for the line a process logs at start: the absolute SQLite path
 * (`:memory:` stays so), or PostgreSQL's host, port and database name. Never a password.
 */
export type StoreLocation =
  | { readonly type: "sqlite"; readonly path: string }
  | { readonly type: "postgresql"; readonly host: string; readonly port: number; readonly database: string };

/** An open ORM plus what the SQL layer needs to know about it. */
export interface Database {
  readonly orm: MikroORM<AbstractSqlDriver>;
  readonly dialect: Dialect;
  readonly location: StoreLocation;
  /** SQLite's busy timeout on every connection (ms); 0 on PostgreSQL. */
  readonly busyTimeoutMs: number;
}

/**
 * Opens the ORM; closing is the caller's job (the layer does it in a finalizer). Fails with
 * `StoreUnusableError` when the database cannot be used as configured: a PostgreSQL database that
 * does not exist (it is never created: a mistyped name would otherwise give one publisher a
 * database of its own, outside the others' leases), a SQLite file, `-wal`/`-shm` file or directory
 * the process may not write. Other failures (server down, SQLite busy) are `StoreUnavailableError`.
 */
export const openDatabase = (
  config: StoreConfig,
): Effect.Effect<Database, StoreUnavailableError | StoreUnusableError> =>
  Effect.tryPromise({
    try: async (): Promise<Database> => {
      const common = {
        discovery: { warnWhenNoEntities: false },
        entities: [],
        debug: config.debug ?? false,
        ...(config.logger !== undefined ? { logger: config.logger } : {}),
        allowGlobalContext: false,
        // MikroORM's default creates a missing PostgreSQL database when it connects. The migrator
        // would too (its `up()` always calls `ensureDatabase`), but on PostgreSQL it only runs
        // after `migrateLocked` has queried the database, and `openDatabase` has checked it exists.
        ensureDatabase: false,
        extensions: [Migrator],
        migrations: {
          migrationsList: [...MIGRATIONS],
          snapshot: false,
          transactional: true,
          allOrNothing: true,
          silent: true,
        },
      } satisfies Partial<Options>;
      if (config.type === "postgresql") {
        const url =
          typeof config.url === "string" ? config.url : config.url ? Redacted.value(config.url) : null;
        if (!url) throw new Unusable("database.url is required when database.type is postgresql");
        const location = postgresLocation(url);
        const { PostgreSqlDriver } = await import("@mikro-orm/postgresql");
        const orm = (await MikroORM.init({
          ...common,
          driver: PostgreSqlDriver,
          clientUrl: url,
        })) as unknown as MikroORM<AbstractSqlDriver>;
        // MikroORM connects without asking anything of the database: this is the first query.
        await orm.em
          .getConnection()
          .execute("select 1")
          .catch(async (error: unknown) => {
            await orm.close(true).catch(() => undefined);
            const code = (error as { code?: unknown }).code;
            if (code === "3D000")
              throw new Unusable(
                `database "${location.database}" does not exist on ${location.host}:${location.port}; create it (CREATE DATABASE "${location.database.replaceAll('"', '""')}") or fix database.url`,
              );
            // The driver's "connect ECONNREFUSED 127.0.0.1:5432" does not say what it connected
            // to (and is empty when every address of a host refused): say PostgreSQL, where and why.
            const why = typeof code === "string" ? CONNECT_FAILURES[code] : undefined;
            throw why === undefined
              ? error
              : new Error(`cannot connect to PostgreSQL at ${location.host}:${location.port}: ${why}`);
          });
        return { orm, dialect: "postgresql", location, busyTimeoutMs: 0 };
      }
      if (!config.sqlitePath) throw new Unusable("database.sqlite_path is required for sqlite");
      const busy = Math.max(0, Math.trunc(config.busyTimeoutMs ?? 5_000));
      // Resolved once, here: the path in the start log line and in error messages is the file used.
      const path = config.sqlitePath === ":memory:" ? ":memory:" : resolve(config.sqlitePath);
      const location = { type: "sqlite", path } as const;
      if (path !== ":memory:") {
        createOwnerOnly(path);
        // Before any connection: opening a read-only file makes SQLite create its -wal and -shm
        // with the file's mode, read-only as well, and they would stay after the operator fixed
        // the file's permissions (and the message would blame files the operator never had).
        if (sqliteAccessProblems(path).length > 0) throw new SqliteNotWritable(path, "");
      }
      const { LibSqlDriver } = await import("@mikro-orm/libsql");
      const init = MikroORM.init({
        ...common,
        driver: LibSqlDriver,
        dbName: path,
        // knex puts a failed statement's SQL in front of the error message, by default with the
        // parameters inlined by its own escaping, which throws on the bigints bound here (and would
        // copy a protocol's Markdown into the message).
        driverOptions: { compileSqlOnError: false },
        pool: {
          // One connection: statements run synchronously, so more connections would only contend
          // for SQLite's write lock, and that wait (busy_timeout) blocks the event loop. In-process
          // callers queue for the connection instead, without blocking.
          min: 1,
          max: 1,
          // The pragmas go on every connection the pool opens (MikroORM's libsql dialect replaces a
          // file connection after 10 s): busy_timeout is per connection, WAL persists in the file
          // but setting it again is harmless (`:memory:` answers "memory" and stays so).
          afterCreate: (conn: SqliteRawConnection, done: (err: Error | null, conn: unknown) => void) => {
            try {
              conn.exec(
                `pragma journal_mode = wal; pragma busy_timeout = ${busy}; pragma foreign_keys = on; pragma synchronous = normal;`,
              );
              cachePreparedStatements(conn);
              done(null, conn);
            } catch (err) {
              done(err instanceof Error ? err : new Error(String(err)), conn);
            }
          },
        },
      }).catch((error: unknown) => {
        // libsql cannot open the file (a directory it may not write: "Unable to open connection
        // to local database …: 14"), or opens it read-only and then fails on the WAL pragma.
        throw path !== ":memory:" && isSqliteAccessError(error)
          ? new SqliteNotWritable(path, reasonOf(error))
          : error;
      });
      const orm = (await init) as unknown as MikroORM<AbstractSqlDriver>;
      const db: Database = { orm, dialect: "sqlite", location, busyTimeoutMs: busy };
      // A read-only file opens and reads fine; without this check the store would start, and
      // every write (each event) fail later.
      await checkSqliteWritable(db).catch(async (error: unknown) => {
        await orm.close(true).catch(() => undefined);
        throw error;
      });
      return db;
    },
    catch: (cause) =>
      cause instanceof Unusable || cause instanceof SqliteNotWritable
        ? new StoreUnusableError({ reason: cause.message })
        : new StoreUnavailableError({
            operation: "open",
            reason: cause instanceof Error ? cause.message : String(cause),
          }),
  });

/**
 * Applies pending migrations; returns the names applied (empty when the schema is current).
 * Fails with `StoreUnusableError` when the database has executed a migration this version does
 * not know: a newer Minutes migrated it, and its schema (a renamed column) would make this
 * version's statements fail later, as defects, one operation at a time.
 *
 * Several processes may start on a fresh database at the same moment (publishers and a gateway
 * brought up together), and MikroORM's migrator is not safe against that: both create its
 * bookkeeping table, or both apply the first migration. On PostgreSQL the migrations run under a
 * transaction-scoped advisory lock, so they run one process at a time. SQLite has no such lock
 * across processes: a run that loses the race (its table creation or its write lock) is tried
 * again, and then finds the work done. Each migration is one transaction, so a failed run leaves
 * nothing half applied.
 */
export const migrate = (
  db: Database,
): Effect.Effect<ReadonlyArray<string>, StoreUnavailableError | StoreUnusableError> =>
  Effect.tryPromise({
    try: async (): Promise<ReadonlyArray<string>> => {
      for (let run = 1; ; run++) {
        try {
          return db.dialect === "postgresql" ? await migrateLocked(db) : await migrateOnce(db);
        } catch (error) {
          if (run >= MIGRATE_RUNS || error instanceof Unusable) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** run + Math.random() * 50));
        }
      }
    },
    catch: (cause) => cause,
  }).pipe(
    Effect.catchAll(
      (cause): Effect.Effect<never, StoreUnavailableError | StoreUnusableError> =>
        cause instanceof Unusable
          ? Effect.fail(new StoreUnusableError({ reason: cause.message }))
          : unavailableOrDie("migrate", cause),
    ),
  );

/** How often a migration run that lost a race with another process is tried. */
const MIGRATE_RUNS = 6;

/** Key of the advisory lock migrations hold on PostgreSQL (any fixed number shared by all instances). */
const MIGRATION_LOCK_KEY = 0x6d696e75; // "minu"

const migrateOnce = async (db: Database): Promise<ReadonlyArray<string>> => {
  const migrator = db.orm.getMigrator();
  const known = new Set(MIGRATIONS.map((m) => m.name));
  const unknown = (await migrator.getExecutedMigrations()).map((m) => m.name).filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new Unusable(
      `the database was migrated by a newer Minutes (migration ${unknown.join(", ")}); run that version or restore a backup`,
    );
  return (await migrator.up()).map((m) => m.name);
};

/** Runs the migrations while holding the advisory lock in a transaction of its own. */
const migrateLocked = async (db: Database): Promise<ReadonlyArray<string>> => {
  const knex = (db.orm.em as SqlEntityManager).getConnection().getKnex();
  const lock = await knex.transaction();
  try {
    await lock.raw("select pg_advisory_xact_lock(?)", [MIGRATION_LOCK_KEY]);
    const applied = await migrateOnce(db);
    await lock.commit();
    return applied;
  } catch (error) {
    await lock.rollback().catch(() => undefined);
    throw error;
  }
};

/**
 * Commits the transaction begun on `em` without flushing its unit of work. The store writes with
 * statements only, never through entities, so a flush has nothing to do; and MikroORM runs every
 * flush inside an `AsyncLocalStorage`, whose first run switches on Node's promise hooks for the
 * whole process (Node 20 and 22). From then on every promise the publisher makes (Effect, HTTP,
 * NATS) pays for them: about a tenth of its protocols per second in the benchmark.
 */
export const commitStatements = async (em: SqlEntityManager): Promise<void> => {
  const transaction = em.getTransactionContext<Knex.Transaction>();
  if (transaction === undefined) throw new Error("commit without a transaction begun on this EntityManager");
  await em.getConnection("write").commit(transaction);
  em.resetTransactionContext();
};

/** Names of the migrations already applied to this database. */
export const appliedMigrations = (
  db: Database,
): Effect.Effect<ReadonlyArray<string>, StoreUnavailableError> =>
  attempt("migrations", async () => (await db.orm.getMigrator().getExecutedMigrations()).map((m) => m.name));

/** Runs a database promise: availability problems fail with `StoreUnavailableError`, the rest die. */
export const attempt = <A>(
  operation: string,
  run: () => Promise<A>,
): Effect.Effect<A, StoreUnavailableError> =>
  Effect.tryPromise({ try: run, catch: (cause) => cause }).pipe(
    Effect.catchAll((cause) => unavailableOrDie(operation, cause)),
  );

const unavailableOrDie = (operation: string, cause: unknown): Effect.Effect<never, StoreUnavailableError> =>
  isUnavailable(cause)
    ? Effect.fail(new StoreUnavailableError({ operation, reason: reasonOf(cause) }))
    : Effect.die(cause);

/** Whether an error thrown by a query is a unique-constraint violation. */
export const isUniqueViolation = (db: Database, cause: unknown): boolean => {
  if (cause instanceof UniqueConstraintViolationException) return true;
  if (!(cause instanceof Error)) return false;
  return db.orm.em.getDriver().convertException(cause) instanceof UniqueConstraintViolationException;
};

/**
 * How the store runs its SQL: `?` placeholders, `params` in order, and the caller's
 * `EntityManager` (a transaction begun on it is used). Errors are MikroORM's converted exceptions
 * (`UniqueConstraintViolationException`, …) on both dialects.
 */
export interface Statements {
  /** Runs a statement and returns its rows typed as loose records. */
  readonly rows: (em: SqlEntityManager, sql: string, params?: ReadonlyArray<unknown>) => Promise<Row[]>;
  /** Runs a statement and returns the number of affected rows. */
  readonly run: (em: SqlEntityManager, sql: string, params?: ReadonlyArray<unknown>) => Promise<number>;
}

/**
 * The statements of `db`. PostgreSQL: `em.execute`, which inlines the parameters into the SQL
 * text. SQLite: the parameters are bound instead (see `executeSqlite`), so a statement's text is
 * the same on every call and its prepared form is reused (see `cachePreparedStatements`).
 */
export const statements = (db: Database): Statements => {
  const execute = db.dialect === "sqlite" ? executeSqlite : executeInlined;
  return {
    rows: async (em, sql, params = []) => (await execute(em, sql, params, "all")) as Row[],
    run: async (em, sql, params = []) => {
      const res = (await execute(em, sql, params, "run")) as { affectedRows?: number };
      return Number(res.affectedRows ?? 0);
    },
  };
};

/** A database row as the drivers return it. */
export type Row = Record<string, unknown>;

/** Reads an instant column: SQLite gives epoch ms, PostgreSQL (as MikroORM configures pg) a string. */
export const instantMs = (v: unknown): number | null => {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === "string") {
    if (/^-?\d+$/.test(v)) return Number(v);
    // "2026-11-26 18:10:44.123+00" → "2026-11-26T18:10:44.123+00:00"
    const iso = v.replace(" ", "T").replace(/([+-]\d{2})$/, "$1:00");
    const ms = Date.parse(iso);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error(`unexpected instant value ${JSON.stringify(v)}`);
};

/** `instantMs` as an ISO string. */
export const instantIso = (v: unknown): string | null => {
  const ms = instantMs(v);
  return ms === null ? null : new Date(ms).toISOString();
};

/** Reads a numeric column (PostgreSQL returns bigint and count(*) as strings). */
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Reads a text column. */
export const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

// internal

/** The part of a libsql `Database` (what knex's pool hands to `afterCreate`) used here; all synchronous. */
interface SqliteRawConnection {
  exec(sql: string): unknown;
  prepare(sql: string): unknown;
  close(): unknown;
}

/** Prepared statements a SQLite connection keeps; more distinct texts evict the least recently used. */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * Makes `conn.prepare` return the statement it prepared before for the same SQL text. knex's
 * libsql dialect prepares every statement it runs, and preparing (libsql parses the SQL, then
 * SQLite compiles it) costs about as much as running one of ours. Reuse is safe: the dialect only calls
 * `all` or `run` on the statement, which bind afresh, run it to the end synchronously and leave
 * no read transaction open, also after an error; SQLite prepares a statement again by itself when
 * the schema changed (a migration, another process). Statements hold the connection, so `close`
 * drops them.
 */
const cachePreparedStatements = (conn: SqliteRawConnection): void => {
  const prepare = conn.prepare.bind(conn);
  const close = conn.close.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    } else {
      cache.delete(sql); // re-inserted below: most recently used last
    }
    cache.set(sql, statement);
    return statement;
  };
  conn.close = () => {
    cache.clear();
    return close();
  };
};

type Execute = (
  em: SqlEntityManager,
  sql: string,
  params: ReadonlyArray<unknown>,
  method: "all" | "run",
) => Promise<unknown>;

/** MikroORM's `execute`: parameters inlined as escaped literals, results as MikroORM shapes them. */
const executeInlined: Execute = (em, sql, params, method) => em.execute(sql, [...params], method);

/**
 * Runs `sql` with bound parameters through knex (its pool queues callers for the one connection;
 * a transaction begun on `em` is used), with MikroORM's exception conversion, query logging and
 * result shape (`all`: the rows; `run`: `{ affectedRows }`). A value with no binding equal to its
 * inlined literal (see `sqliteBindings`) takes `executeInlined` instead.
 */
const executeSqlite: Execute = async (em, sql, params, method) => {
  const bound = sqliteBindings(params);
  if (bound === undefined) return executeInlined(em, sql, params, method);
  const connection = em.getConnection();
  await connection.ensureConnection();
  const knex = em.getTransactionContext<Knex.Transaction>() ?? connection.getKnex();
  const started = Date.now();
  let res: unknown;
  try {
    // knex's libsql dialect answers the rows, or `{ changes }` for a write without RETURNING.
    res = await knex.raw(sql, bound as Array<Knex.Value>);
  } catch (error) {
    logQuery(em, sql, params, started, { level: "error" });
    const failure = error instanceof Error ? error : new Error(String(error));
    // knex puts the statement in front of the driver's message. A defect keeps it; the reason of
    // a `StoreUnavailableError` (logged per retried message) gets the driver's message alone, and
    // for a file that cannot be written, which file and what needs write access.
    const prefix = `${sql} - `;
    const driverMessage = failure.message.startsWith(prefix)
      ? failure.message.slice(prefix.length)
      : failure.message;
    const path = em.config.get("dbName");
    Object.assign(failure, {
      sqlMessage:
        path && path !== ":memory:" && isSqliteAccessError(failure)
          ? new SqliteNotWritable(path, driverMessage).message
          : driverMessage,
    });
    throw em.getDriver().convertException(failure);
  }
  if (method === "all") {
    logQuery(em, sql, params, started, Array.isArray(res) ? { results: res.length } : {});
    return res;
  }
  const affectedRows = Array.isArray(res) ? res.length : Number((res as { changes?: unknown }).changes ?? 0);
  logQuery(em, sql, params, started, { affected: affectedRows });
  return { affectedRows };
};

/**
 * `params` as SQLite bindings equal to the literals `em.execute` inlines (MikroORM's SQLite
 * platform and sqlstring-sqlite): libsql binds a JS number as REAL, so integers and instants (epoch
 * ms) become bigint, and booleans 1/0 (SQLite's TRUE/FALSE). `undefined` when a value has no
 * binding that matches its literal exactly (an invalid Date, NaN, an unsafe integer, an object).
 */
const sqliteBindings = (params: ReadonlyArray<unknown>): Array<unknown> | undefined => {
  const out = new Array<unknown>(params.length);
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    if (v === null || v === undefined) out[i] = null;
    // NUL ends SQLite's reading of an inlined literal: such a statement fails as it always did.
    else if (typeof v === "string") {
      if (v.includes("\0")) return undefined;
      out[i] = v;
    } else if (typeof v === "number") {
      if (Number.isSafeInteger(v)) out[i] = BigInt(v);
      else if (Number.isFinite(v) && !Number.isInteger(v)) out[i] = v;
      else return undefined;
    } else if (typeof v === "boolean") out[i] = v ? 1n : 0n;
    else if (v instanceof Date && Number.isSafeInteger(v.getTime())) out[i] = BigInt(v.getTime());
    else return undefined;
  }
  return out;
};

/** Logs like MikroORM's `execute` (with `debug`): parameters inlined when `query-params` is on. */
const logQuery = (
  em: SqlEntityManager,
  sql: string,
  params: ReadonlyArray<unknown>,
  started: number,
  outcome: { readonly level?: "error"; readonly results?: number; readonly affected?: number },
): void => {
  const logger = em.config.getLogger();
  if (!logger.isEnabled("query")) return;
  logger.logQuery({
    level: "info",
    query: logger.isEnabled("query-params") ? em.getPlatform().formatQuery(sql, [...params]) : sql,
    params: [...params],
    took: Date.now() - started,
    ...outcome,
  });
};

/**
 * Creates a SQLite database file that does not exist yet as the owner's alone (0600, like the
 * token vault): it holds every protocol, and SQLite gives its -wal and -shm files the database
 * file's mode. An existing file keeps its mode (an operator may have shared it with a group), and
 * a file that cannot be made here is left to the driver, whose open says why.
 */
const createOwnerOnly = (path: string): void => {
  try {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, "wx", 0o600));
  } catch {
    // It exists, or the directory cannot be written: see above.
  }
};

/** The database cannot be used as configured: `openDatabase` and `migrate` turn it into `StoreUnusableError`. */
class Unusable extends Error {}

/**
 * A SQLite database this process cannot write. At open it becomes `StoreUnusableError`; later
 * (`health`, a statement) its code makes it "unavailable", with the same message.
 */
class SqliteNotWritable extends Error {
  readonly code = "SQLITE_READONLY";
  constructor(path: string, detail: string) {
    const dir = dirname(path);
    const base = basename(path);
    const problems = sqliteAccessProblems(path);
    super(
      `SQLite database ${path} cannot be written: ${problems.length > 0 ? problems.join("; ") : detail}. ` +
        `The process needs write access to the file and to its directory ${dir} (SQLite creates ${base}-wal and ${base}-shm there); fix the permissions or database.sqlite_path`,
    );
  }
}

/**
 * What keeps a new connection from writing `path`, as far as the file system says (root passes
 * every permission check; a read-only mount fails it too): the file, `-wal` or `-shm` read-only,
 * or a directory it may not write while `-wal` or `-shm` still has to be created there.
 */
const sqliteAccessProblems = (path: string): Array<string> => {
  const dir = dirname(path);
  const problems: Array<string> = [];
  let sidecarsMissing = false;
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    const access = writeAccess(file);
    if (access === "missing") sidecarsMissing ||= file !== path;
    else if (access === "denied")
      problems.push(file === path ? "the file is read-only" : `${basename(file)} is read-only`);
  }
  if (sidecarsMissing && writeAccess(dir) === "denied") problems.push(`the directory ${dir} is not writable`);
  return problems;
};

const writeAccess = (file: string): "ok" | "missing" | "denied" => {
  try {
    accessSync(file, constants.W_OK);
    return "ok";
  } catch (error) {
    return (error as { code?: unknown }).code === "ENOENT" ? "missing" : "denied";
  }
};

/** libsql's errors for a file it cannot open or write (with a code, or libsql's own code-less one). */
const isSqliteAccessError = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && SQLITE_ACCESS_CODES.has(primaryCode(code))) return true;
  return /Unable to open connection to local database|readonly database|unable to open database file/i.test(
    error.message,
  );
};

const SQLITE_ACCESS_CODES = new Set(["SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "EACCES", "EROFS"]);

/**
 * Fails with `SqliteNotWritable` unless this process can write the SQLite database: the file
 * system allows it, and the pool's connection can write in a transaction that is rolled back
 * (`user_version` set to the value it has: nothing reaches the file). libsql begins a write
 * transaction (`BEGIN IMMEDIATE`) on a file it opened read-only; only a write fails. The check
 * waits for no lock: another process holding the write lock (`SQLITE_BUSY`) proves the file
 * writable as far as this check can tell. `:memory:` passes.
 */
export const checkSqliteWritable = async (db: Database): Promise<void> => {
  if (db.location.type !== "sqlite" || db.location.path === ":memory:") return;
  const path = db.location.path;
  // A connection opened before a chmod keeps writing until the pool replaces it: the file
  // system says first what the next connection will find.
  if (sqliteAccessProblems(path).length > 0) throw new SqliteNotWritable(path, "");
  const client = db.orm.em.getConnection().getKnex().client as PoolClient;
  const conn = (await client.acquireConnection()) as SqliteRawConnection;
  try {
    // Synchronous from here to the restored timeout: no other caller runs on the connection between.
    conn.exec("pragma busy_timeout = 0");
    try {
      const version = Number((conn.prepare("pragma user_version") as AllRows).all()[0]?.user_version ?? 0);
      conn.exec("begin immediate");
      try {
        conn.exec(`pragma user_version = ${Math.trunc(version)}`);
      } finally {
        conn.exec("rollback");
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === "string" && primaryCode(code) === "SQLITE_BUSY") return;
      throw isSqliteAccessError(error) ? new SqliteNotWritable(path, reasonOf(error)) : error;
    } finally {
      conn.exec(`pragma busy_timeout = ${db.busyTimeoutMs}`);
    }
  } finally {
    await client.releaseConnection(conn);
  }
};

/** A libsql statement, as far as `checkSqliteWritable` reads one. */
interface AllRows {
  all(): Array<Record<string, unknown>>;
}

/** The part of knex's client that hands out the pool's connections. */
interface PoolClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

/**
 * Host, port and database of a PostgreSQL URL, for log lines and messages (the URL itself may
 * hold a password). libpq's `?host=` (a socket directory) counts as the host.
 */
const postgresLocation = (url: string): StoreLocation & { readonly type: "postgresql" } => {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const host = parsed?.hostname || parsed?.searchParams.get("host") || "localhost";
  return {
    type: "postgresql",
    host,
    port: parsed?.port ? Number(parsed.port) : 5432,
    database: parsed ? decodeURIComponent(parsed.pathname.replace(/^\//, "")) : "",
  };
};

/** Why a connection to the server failed, by the socket's error code, in words. */
const CONNECT_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name not resolved (DNS temporarily unavailable)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EPIPE",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "SQLITE_IOERR",
  "SQLITE_FULL",
  "SQLITE_READONLY",
  "57P01", // admin_shutdown
  "57P02",
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "3D000", // database does not exist
  "55000", // object_not_in_prerequisite_state: the database does not allow connections now
  "28P01", // password authentication failed
  "28000",
]);

// libsql's SqliteError.code is the extended result code ("SQLITE_BUSY_SNAPSHOT", "SQLITE_IOERR_WRITE",
// "SQLITE_READONLY_DBMOVED"): its primary code is the part before the second "_".
const primaryCode = (code: string): string => /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;

const isUnavailable = (cause: unknown): boolean => {
  if (
    cause instanceof ConnectionException ||
    cause instanceof LockWaitTimeoutException ||
    cause instanceof DeadlockException
  )
    return true;
  if (!(cause instanceof Error)) return false;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_CODES.has(primaryCode(code)) || code.startsWith("08")))
    return true;
  if (cause.name === "KnexTimeoutError") return true;
  // libsql: "database is locked" (SQLITE_BUSY), a TypeError "The database connection is not open"
  // after close, and a code-less Error "ConnectionFailed(\"Unable to open connection to local
  // database …\")" when the file cannot be opened. MikroORM wraps knex's pool timeout in a
  // DriverException, which keeps only the message ("Knex: Timeout acquiring a connection …").
  return /Connection terminated|connection is closed|Client has encountered a connection error|database is closed|database connection is not open|database is locked|Unable to open connection|Timeout acquiring a connection|SQLITE_BUSY|ECONNREFUSED/i.test(
    cause.message,
  );
};

/**
 * Why a statement failed, without the statement: `sqlMessage` is the driver's message without it
 * (see `executeSqlite`); PostgreSQL's errors come through knex as `<statement with its values> -
 * <reason>`, and the values are meeting text (protocols, titles) that does not belong in a log
 * line or an API answer, so only the reason and its SQLSTATE are kept.
 */
export const reasonOf = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause);
  const sqlMessage = (cause as { sqlMessage?: unknown }).sqlMessage;
  if (typeof sqlMessage === "string") return sqlMessage;
  const code = (cause as { code?: unknown }).code;
  const at = cause.message.lastIndexOf(" - ");
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && at !== -1)
    return `${cause.message.slice(at + 3)} (SQLSTATE ${code})`;
  return cause.message;
};
