/**
 * Opens MikroORM for SQLite or PostgreSQL with the same SQL on top: connection pragmas (WAL,
 * busy timeout), migrations, instant conversion and the one place that decides which driver
 * errors mean "unavailable" (503) rather than "bug". Internal to the package.
 */
import {
  ConnectionException,
  DeadlockException,
  LockWaitTimeoutException,
  MikroORM,
  type Options,
  UniqueConstraintViolationException,
} from "@mikro-orm/core";
import { Migrator } from "@mikro-orm/migrations";
import type { AbstractSqlDriver, SqlEntityManager } from "@mikro-orm/sqlite";
import { Effect, Redacted } from "effect";
import { MIGRATIONS } from "./migrations-list.js";
import { StoreUnavailableError } from "./PublicationStoreError.js";

/** Which database the store talks to. */
export type Dialect = "sqlite" | "postgresql";

/** Connection settings for `PublicationStore.layer`. */
export interface StoreConfig {
  /** `sqlite` (default deployment, one host) or `postgresql` (several publisher instances). */
  readonly type: Dialect;
  /** SQLite database file; its directory is created. Required for `sqlite`. */
  readonly sqlitePath?: string | undefined;
  /** PostgreSQL connection URL. Required for `postgresql`. */
  readonly url?: Redacted.Redacted<string> | string | null | undefined;
  /** Log every SQL statement through MikroORM's logger. */
  readonly debug?: boolean | undefined;
  /** SQLite: how long a writer waits for another process's lock (default 5000 ms). */
  readonly busyTimeoutMs?: number | undefined;
  /** Apply pending migrations when the store starts (default `true`). */
  readonly migrate?: boolean | undefined;
}

/** An open ORM plus what the SQL layer needs to know about it. */
export interface Database {
  readonly orm: MikroORM<AbstractSqlDriver>;
  readonly dialect: Dialect;
}

/** Opens the ORM; closing is the caller's job (the layer does it in a finalizer). */
export const openDatabase = (config: StoreConfig): Effect.Effect<Database, StoreUnavailableError> =>
  Effect.tryPromise({
    try: async (): Promise<Database> => {
      const common = {
        discovery: { warnWhenNoEntities: false },
        entities: [],
        debug: config.debug ?? false,
        allowGlobalContext: false,
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
        if (!url) throw new ConfigurationProblem("database.url is required when database.type is postgresql");
        const { PostgreSqlDriver } = await import("@mikro-orm/postgresql");
        const orm = (await MikroORM.init({
          ...common,
          driver: PostgreSqlDriver,
          clientUrl: url,
        })) as unknown as MikroORM<AbstractSqlDriver>;
        return { orm, dialect: "postgresql" };
      }
      if (!config.sqlitePath) throw new ConfigurationProblem("database.sqlite_path is required for sqlite");
      const busy = Math.max(0, Math.trunc(config.busyTimeoutMs ?? 5_000));
      const { SqliteDriver } = await import("@mikro-orm/sqlite");
      const orm = (await MikroORM.init({
        ...common,
        driver: SqliteDriver,
        dbName: config.sqlitePath,
        pool: {
          // sqlite3 runs each statement on the libuv thread pool and hands its connection back only
          // when the busy event loop gets to the completion: with one connection, a loaded publisher
          // managed one statement per loop turn (15-30 ms per single-row statement, measured). WAL
          // lets the connections read side by side and SQLite still serializes the writes. An
          // in-memory database exists once per connection, so it keeps one.
          min: 1,
          max: isInMemory(config.sqlitePath) ? 1 : SQLITE_CONNECTIONS,
          // Every pooled connection gets the pragmas: busy_timeout is per connection, WAL persists
          // in the file but setting it again is harmless.
          afterCreate: (conn: SqliteRawConnection, done: (err: Error | null, conn: unknown) => void) => {
            conn.exec(
              `pragma journal_mode = wal; pragma busy_timeout = ${busy}; pragma foreign_keys = on; pragma synchronous = normal;`,
              (err) => done(err, conn),
            );
          },
        },
      })) as unknown as MikroORM<AbstractSqlDriver>;
      return { orm, dialect: "sqlite" };
    },
    catch: (cause) =>
      new StoreUnavailableError({
        operation: "open",
        reason: cause instanceof Error ? cause.message : String(cause),
      }),
  });

/** Pooled connections to a SQLite file: as many as libuv's thread pool runs statements at once by default. */
export const SQLITE_CONNECTIONS = 4;

/** Whether a SQLite path names a private in-memory (or temporary) database rather than a file. */
const isInMemory = (path: string): boolean =>
  path === "" || path === ":memory:" || /^file:.*(?:mode=memory|:memory:)/.test(path);

/** Applies pending migrations; returns the names applied (empty when the schema is current). */
export const migrate = (db: Database): Effect.Effect<ReadonlyArray<string>, StoreUnavailableError> =>
  attempt("migrate", async () => {
    const applied = await db.orm.getMigrator().up();
    return applied.map((m) => m.name);
  });

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
    Effect.catchAll((cause) =>
      isUnavailable(cause)
        ? Effect.fail(new StoreUnavailableError({ operation, reason: describe(cause) }))
        : Effect.die(cause),
    ),
  );

/** Whether an error thrown by a query is a unique-constraint violation. */
export const isUniqueViolation = (db: Database, cause: unknown): boolean => {
  if (cause instanceof UniqueConstraintViolationException) return true;
  if (!(cause instanceof Error)) return false;
  return db.orm.em.getDriver().convertException(cause) instanceof UniqueConstraintViolationException;
};

/** `em.execute` with rows typed as loose records; parameters are bound by MikroORM (`?`). */
export const rows = (
  em: SqlEntityManager,
  sql: string,
  params: ReadonlyArray<unknown> = [],
): Promise<Row[]> => em.execute<Row[]>(sql, [...params], "all");

/** Runs a statement and returns the number of affected rows. */
export const run = async (
  em: SqlEntityManager,
  sql: string,
  params: ReadonlyArray<unknown> = [],
): Promise<number> => {
  const res = await em.execute<{ affectedRows: number }>(sql, [...params], "run");
  return Number(res.affectedRows ?? 0);
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

interface SqliteRawConnection {
  exec(sql: string, cb: (err: Error | null) => void): void;
}

class ConfigurationProblem extends Error {}

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
  "28P01", // password authentication failed
  "28000",
]);

const isUnavailable = (cause: unknown): boolean => {
  if (
    cause instanceof ConnectionException ||
    cause instanceof LockWaitTimeoutException ||
    cause instanceof DeadlockException
  )
    return true;
  if (!(cause instanceof Error)) return false;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || code.startsWith("08"))) return true;
  if (cause.name === "KnexTimeoutError") return true;
  return /Connection terminated|connection is closed|Client has encountered a connection error|database is closed|SQLITE_BUSY|ECONNREFUSED/i.test(
    cause.message,
  );
};

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));
