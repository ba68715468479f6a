/**
 * Another process (a publisher) writing to a SQLite store: it takes the write lock, inserts a
 * protocol for job `other`, and commits 300 ms later. Resolves once it holds the lock; the scope
 * kills it if it is still running. `exited` resolves its exit code.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Effect, type Scope } from "effect";

export const otherProcessWrites = (
  sqlitePath: string,
): Effect.Effect<{ readonly exited: Promise<number | null> }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const child = spawn(
      process.execPath,
      [
        "-e",
        `const Database = require("libsql");
         const db = new Database(process.argv[1]);
         db.exec("begin immediate");
         db.exec("insert into minutes_protocols (job_id, markdown, filename, metadata, content_hash, occurred_at, received_at, updated_at) values ('other', '#', 'o.md', '{}', 'h', 0, 0, 0)");
         console.log("locked");
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
         db.exec("commit");`,
        sqlitePath,
      ],
      { cwd: fileURLToPath(new URL("../..", import.meta.url)), stdio: ["ignore", "pipe", "inherit"] },
    );
    yield* Effect.addFinalizer(() => Effect.sync(() => child.kill()));
    const exited = once(child, "exit").then(([code]) => code as number | null);
    yield* Effect.promise(() => once(child.stdout, "data"));
    return { exited };
  });
