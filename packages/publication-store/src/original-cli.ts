// `./minutes import-original <database>`: reads the original integration's SQLite database and
// writes its `confluence_publications` rows as Minutes backup lines on stdout, for
// `POST /api/import`. Read-only: the original's file is opened read-only and never changed.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import Database from "libsql";
import { type OriginalPublicationRow, originalImportLines } from "./original-integration.js";

const USAGE = "usage: minutes import-original <original database file> > original.jsonl";

/** Where the command writes, and the directory a relative file name is read from. */
export interface ImportOriginalIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly workingDirectory: string;
}

/** Runs `import-original` with its arguments; resolves the exit code (0 done, 1 unreadable, 2 usage). */
export const runImportOriginal = (args: ReadonlyArray<string>, io: ImportOriginalIo): number => {
  const { stdout, stderr } = io;
  if (args.length !== 1 || args[0] === undefined || args[0].startsWith("-")) {
    stderr.write(
      args.includes("--help") || args.includes("-h") ? `${USAGE}\n` : `import-original: ${USAGE}\n`,
    );
    return args.includes("--help") || args.includes("-h") ? 0 : 2;
  }
  const file = resolve(io.workingDirectory, args[0]);
  if (!existsSync(file)) {
    stderr.write(`import-original: ${file}: no such file\n`);
    return 1;
  }
  let rows: ReadonlyArray<OriginalPublicationRow>;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      rows = db
        .prepare("select * from confluence_publications order by id")
        .all() as Array<OriginalPublicationRow>;
    } finally {
      db.close();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    stderr.write(
      `import-original: cannot read confluence_publications from ${file}: ${reason}${/no such table/i.test(reason) ? " (is this the original integration's database?)" : ""}\n`,
    );
    return 1;
  }
  const result = originalImportLines(rows);
  for (const line of result.lines) stdout.write(`${line}\n`);
  for (const issue of result.issues)
    stderr.write(`import-original: row ${issue.row} left out: ${issue.reason}\n`);
  stderr.write(
    `import-original: ${result.jobs} jobs from ${rows.length} rows (${result.superseded} older rows of the same jobs, ${result.issues.length} left out); import with POST /api/import\n`,
  );
  return 0;
};
