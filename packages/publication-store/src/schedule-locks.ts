/**
 * Which process runs a scheduled job when several publishers share one PostgreSQL database: the
 * one holding the job's session advisory lock, on a connection of its own kept while the store is
 * open. The holder keeps it from run to run, so each period's run happens once; when it stops (or
 * its connection drops) the lock is free and the next publisher to ask takes it over. Tradeoff: one
 * more connection per publisher, opened at the first ask.
 */
import type pg from "pg";

/**
 * `pg`, loaded at the first ask: a store on SQLite (the default) never asks, and a publisher that
 * loaded it anyway would carry its code (about 4 MB of RSS) for nothing.
 */
let pgModule: Promise<typeof pg> | undefined;
const loadPg = (): Promise<typeof pg> => {
  pgModule ??= import("pg").then((m) => m.default);
  return pgModule;
};

/** The advisory locks of scheduled jobs, from {@link makeScheduleLocks}. */
export interface ScheduleLocks {
  /** Whether this process holds (or now took) the lock of `name`. Rejects when the database does not answer. */
  readonly holds: (name: string) => Promise<boolean>;
  /** Ends the connection, which frees the locks it held. */
  readonly close: () => Promise<void>;
}

/** Locks taken on a connection of their own to `url`. */
export const makeScheduleLocks = (url: string): ScheduleLocks => {
  // One connection attempt shared by every ask: asks made at once while it connects would each
  // open a connection otherwise, and the ones not kept would hold their locks past `close`.
  let client: Promise<pg.Client> | undefined;
  let closed = false;
  const held = new Set<string>();
  const drop = (attempt: Promise<pg.Client>, c: pg.Client) => {
    if (client !== attempt) return;
    client = undefined;
    held.clear();
    void c.end().catch(() => undefined);
  };
  const connection = (): Promise<pg.Client> => {
    if (closed) return Promise.reject(new Error("the schedule locks are closed"));
    if (client !== undefined) return client;
    const attempt: Promise<pg.Client> = loadPg().then((pgLib) => {
      const c = new pgLib.Client({ connectionString: url });
      // A lost connection lost its locks: the next ask connects again and tries to take them.
      c.on("error", () => drop(attempt, c));
      c.on("end", () => drop(attempt, c));
      return c.connect().then(
        () => c,
        (error: unknown) => {
          if (client === attempt) client = undefined;
          void c.end().catch(() => undefined);
          throw error;
        },
      );
    });
    client = attempt;
    return attempt;
  };
  const ask = async (name: string): Promise<boolean> => {
    const attempt = connection();
    const c = await attempt;
    try {
      // Held: the query only proves the connection (and so the lock) is still there.
      if (held.has(name)) {
        await c.query("select 1");
        return true;
      }
      const result = await c.query<{ taken: boolean }>("select pg_try_advisory_lock(hashtext($1)) as taken", [
        `minutes-schedule:${name}`,
      ]);
      const taken = result.rows[0]?.taken === true;
      // Taken on a connection dropped meanwhile (or after close): that lock is gone with it.
      if (taken && client === attempt) held.add(name);
      return taken && client === attempt;
    } catch (error) {
      drop(attempt, c);
      throw error;
    }
  };
  return {
    // A connection that dropped since the last ask is found dead by its first query: asked once more.
    holds: (name) => ask(name).catch(() => ask(name)),
    close: async () => {
      closed = true;
      const attempt = client;
      client = undefined;
      held.clear();
      const c = await attempt?.catch(() => undefined);
      await c?.end().catch(() => undefined);
    },
  };
};
