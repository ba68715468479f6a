/**
 * Which process runs a scheduled job when several publishers share one PostgreSQL database: the
 * one holding the job's session advisory lock, on a connection of its own kept while the store is
 * open. The holder keeps it from run to run, so each period's run happens once; when it stops (or
 * its connection drops) the lock is free and the next publisher to ask takes it over. Tradeoff: one
 * more connection per publisher, opened at the first ask.
 */
import pg from "pg";

/** The advisory locks of scheduled jobs, from {@link makeScheduleLocks}. */
export interface ScheduleLocks {
  /** Whether this process holds (or now took) the lock of `name`. Rejects when the database does not answer. */
  readonly holds: (name: string) => Promise<boolean>;
  /** Ends the connection, which frees the locks it held. */
  readonly close: () => Promise<void>;
}

/** Locks taken on a connection of their own to `url`. */
export const makeScheduleLocks = (url: string): ScheduleLocks => {
  let client: pg.Client | undefined;
  const held = new Set<string>();
  const drop = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    held.clear();
    void c.end().catch(() => undefined);
  };
  const connection = async (): Promise<pg.Client> => {
    if (client !== undefined) return client;
    const c = new pg.Client({ connectionString: url });
    // A lost connection lost its locks: the next ask connects again and tries to take them.
    c.on("error", () => drop(c));
    c.on("end", () => drop(c));
    await c.connect();
    client = c;
    return c;
  };
  const ask = async (name: string): Promise<boolean> => {
    const c = await connection();
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
      if (taken) held.add(name);
      return taken;
    } catch (error) {
      drop(c);
      throw error;
    }
  };
  return {
    // A connection that dropped since the last ask is found dead by its first query: asked once more.
    holds: (name) => ask(name).catch(() => ask(name)),
    close: async () => {
      const c = client;
      client = undefined;
      held.clear();
      await c?.end().catch(() => undefined);
    },
  };
};
