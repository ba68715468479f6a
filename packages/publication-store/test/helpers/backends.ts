/**
 * Real databases for the integration suites: a SQLite file in a temp dir, or a unique
 * PostgreSQL database on the machine's server (PG_URL), dropped when the scope closes.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MikroORM } from "@mikro-orm/core";
import { PostgreSqlDriver } from "@mikro-orm/postgresql";
import { Effect, type Scope } from "effect";
import type { StoreConfig } from "../../src/database.js";

export const PG_URL = process.env.PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export type BackendName = "sqlite" | "postgresql";

export const BACKENDS: ReadonlyArray<{ readonly name: BackendName }> = [
  { name: "sqlite" },
  { name: "postgresql" },
];

/** A fresh, empty database of the given kind, removed when the scope closes. */
export const freshConfig = (name: BackendName): Effect.Effect<StoreConfig, never, Scope.Scope> =>
  name === "sqlite" ? freshSqlite : freshPostgres;

const freshSqlite = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "minutes-store-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
).pipe(Effect.map((dir): StoreConfig => ({ type: "sqlite", sqlitePath: join(dir, "store.sqlite") })));

/** Runs SQL on PG_URL's database as the tests' administrator; resolves the rows it returns. */
export const adminQuery = (sql: string, params: ReadonlyArray<string> = []) =>
  Effect.promise(async () => {
    const admin = await MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: PG_URL,
      entities: [],
      discovery: { warnWhenNoEntities: false },
      allowGlobalContext: true,
    });
    try {
      return (await admin.em.getConnection().execute(sql, [...params])) as ReadonlyArray<unknown>;
    } finally {
      await admin.close(true);
    }
  });

const withAdmin = (sql: string) => Effect.asVoid(adminQuery(sql));

/** Runs SQL on a PostgreSQL store's own database (its URL), as the tests' administrator. */
export const execOnPostgres = (config: StoreConfig, sql: string) =>
  Effect.asVoid(queryOnPostgres(config, sql));

/** Like {@link execOnPostgres}; resolves the rows the SQL returns. */
export const queryOnPostgres = (config: StoreConfig, sql: string) =>
  Effect.promise(async () => {
    const orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: String(config.url),
      entities: [],
      discovery: { warnWhenNoEntities: false },
      allowGlobalContext: true,
    });
    try {
      return (await orm.em.getConnection().execute(sql)) as ReadonlyArray<unknown>;
    } finally {
      await orm.close(true);
    }
  });

const freshPostgres = Effect.acquireRelease(
  Effect.sync(() => `minutes_store_${process.pid}_${Math.random().toString(36).slice(2, 10)}`).pipe(
    Effect.tap((db) => withAdmin(`create database ${db}`)),
  ),
  (db) => withAdmin(`drop database if exists ${db} with (force)`),
).pipe(
  Effect.map((db): StoreConfig => {
    const url = new URL(PG_URL);
    url.pathname = `/${db}`;
    return { type: "postgresql", url: url.toString() };
  }),
);
