// Optional persistence: the whole sandbox state as one JSON row in a SQLite file, written after
// each change (coalesced: at most one write in flight plus one pending) and read at start.
// A snapshot row is crude but robust: no schema migrations, and demo sizes stay small.

import sqlite3 from "sqlite3";
import type { SandboxSnapshot } from "./SandboxStore.js";

/** A single-row JSON snapshot table in a SQLite file. */
export class SqliteSnapshot {
  private writing: Promise<void> = Promise.resolve();
  private pending: (() => SandboxSnapshot) | null = null;
  private scheduled = false;

  private constructor(private readonly db: sqlite3.Database) {}

  /** Opens (creating when needed) the file and its table. */
  static async open(file: string): Promise<SqliteSnapshot> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err === null ? resolve(d) : reject(err)));
    });
    const snap = new SqliteSnapshot(db);
    await snap.run(
      "CREATE TABLE IF NOT EXISTS sandbox_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    );
    return snap;
  }

  /** The stored snapshot, if any. */
  async load(): Promise<SandboxSnapshot | undefined> {
    const row = await new Promise<{ json: string } | undefined>((resolve, reject) => {
      this.db.get(
        "SELECT json FROM sandbox_snapshot WHERE id = 1",
        (err: Error | null, r: { json: string } | undefined) => (err === null ? resolve(r) : reject(err)),
      );
    });
    return row === undefined ? undefined : (JSON.parse(row.json) as SandboxSnapshot);
  }

  /** Schedules a write of `snapshot()`; bursts of changes collapse into one write. */
  save(snapshot: () => SandboxSnapshot): void {
    this.pending = snapshot;
    if (this.scheduled) return;
    this.scheduled = true;
    this.writing = this.writing.then(async () => {
      this.scheduled = false;
      const next = this.pending;
      this.pending = null;
      if (next === null) return;
      await this.run(
        "INSERT INTO sandbox_snapshot (id, json) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json",
        JSON.stringify(next()),
      ).catch((err: unknown) => {
        process.emitWarning(`confluence-sandbox: could not persist state: ${String(err)}`);
      });
    });
  }

  /** Waits for pending writes, then closes the file. */
  async close(): Promise<void> {
    await this.writing;
    await new Promise<void>((resolve, reject) =>
      this.db.close((err) => (err === null ? resolve() : reject(err))),
    );
  }

  private run(sql: string, ...params: unknown[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, (err: Error | null) => (err === null ? resolve() : reject(err)));
    });
  }
}
