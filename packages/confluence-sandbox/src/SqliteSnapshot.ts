// Optional persistence: the whole sandbox state as one JSON row in a SQLite file, written after
// each change (coalesced: the changes of one event-loop turn make one write) and read at start.
// A snapshot row is crude but robust: no schema migrations, and demo sizes stay small. libsql is
// synchronous, so a write runs on the event loop (in a `setImmediate`, after the turn's changes).

import Database from "libsql";
import type { SandboxSnapshot } from "./SandboxStore.js";

/** A single-row JSON snapshot table in a SQLite file. */
export class SqliteSnapshot {
  private writing: Promise<void> = Promise.resolve();
  private pending: (() => SandboxSnapshot) | null = null;
  private scheduled = false;

  private constructor(private readonly db: Database.Database) {}

  /** Opens (creating when needed) the file and its table. */
  static async open(file: string): Promise<SqliteSnapshot> {
    const db = new Database(file);
    try {
      db.exec(
        "CREATE TABLE IF NOT EXISTS sandbox_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
      );
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteSnapshot(db);
  }

  /** The stored snapshot, if any. */
  async load(): Promise<SandboxSnapshot | undefined> {
    const row = this.db.prepare("SELECT json FROM sandbox_snapshot WHERE id = 1").get() as
      | { json: string }
      | undefined;
    return row === undefined ? undefined : (JSON.parse(row.json) as SandboxSnapshot);
  }

  /** Schedules a write of `snapshot()`; bursts of changes collapse into one write. */
  save(snapshot: () => SandboxSnapshot): void {
    this.pending = snapshot;
    if (this.scheduled) return;
    this.scheduled = true;
    this.writing = this.writing.then(
      () =>
        new Promise<void>((resolve) =>
          setImmediate(() => {
            this.scheduled = false;
            const next = this.pending;
            this.pending = null;
            if (next !== null) this.write(next);
            resolve();
          }),
        ),
    );
  }

  /** Waits for pending writes, then closes the file. */
  async close(): Promise<void> {
    await this.writing;
    this.db.close();
  }

  private write(next: () => SandboxSnapshot): void {
    try {
      this.db
        .prepare(
          "INSERT INTO sandbox_snapshot (id, json) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json",
        )
        .run(JSON.stringify(next()));
    } catch (err) {
      process.emitWarning(`confluence-sandbox: could not persist state: ${String(err)}`);
    }
  }
}
