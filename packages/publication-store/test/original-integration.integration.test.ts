// Moving over from the original integration: its SQLite `confluence_publications` table becomes
// import lines that the store takes, one record per job naming its page (no version, no hash).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "@effect/vitest";
import { Chunk, Effect, Option, Schema, Stream } from "effect";
import Database from "libsql";
import { afterEach, describe, expect } from "vitest";
import { ExportLineJson } from "../src/ExportLine.js";
import { runImportOriginal } from "../src/original-cli.js";
import { originalImportLines } from "../src/original-integration.js";
import { PublicationStore } from "../src/PublicationStore.js";
import { BACKENDS, freshConfig } from "./helpers/backends.js";
import { otherProcessWrites } from "./helpers/other-writer.js";

/** The original's table, as ORIGINAL-INTEGRATION.md documents it (its `jobs` table left out). */
const ORIGINAL_SCHEMA = `CREATE TABLE confluence_publications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    confluence_page_id TEXT NOT NULL,
    confluence_page_url TEXT NOT NULL,
    confluence_space_key TEXT NOT NULL,
    parent_page_id TEXT,
    page_title TEXT NOT NULL,
    publication_status TEXT NOT NULL DEFAULT 'published',
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    error_message TEXT,
    retry_count INTEGER DEFAULT 0,
    last_retry_at TIMESTAMP
)`;

const dirs: Array<string> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An original database with a published job (written twice), a failed one and a bad row. */
const originalDatabase = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "minutes-original-"));
  dirs.push(dir);
  const file = join(dir, "app.db");
  const db = new Database(file);
  db.exec(ORIGINAL_SCHEMA);
  const insert = db.prepare(
    `insert into confluence_publications (job_id, confluence_page_id, confluence_page_url, confluence_space_key,
       parent_page_id, page_title, publication_status, created_at, updated_at, error_message, retry_count, last_retry_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const url = (id: string) => `https://example.atlassian.net/wiki/spaces/MEETINGS/pages/${id}`;
  insert.run(
    "job_a",
    "1001",
    url("1001"),
    "MEETINGS",
    "77",
    "20250902 - Sync",
    "published",
    "2025-09-02 10:00:00",
    "2025-09-02 10:00:05",
    null,
    0,
    null,
  );
  insert.run(
    "job_a",
    "1001",
    url("1001"),
    "MEETINGS",
    "77",
    "20250902 - Sync",
    "published",
    "2025-09-02 10:00:00",
    "2025-09-03 08:30:00",
    null,
    1,
    "2025-09-03 08:29:00",
  );
  insert.run(
    "job_b",
    "",
    "",
    "TEAM",
    null,
    "20250910 - Broken",
    "failed",
    "2025-09-10 09:00:00",
    "2025-09-10 09:00:10",
    "Space TEAM not found",
    3,
    "2025-09-10 09:00:09",
  );
  insert.run(
    "  ",
    "1003",
    url("1003"),
    "MEETINGS",
    null,
    "no job",
    "published",
    "2025-09-11 09:00:00",
    "2025-09-11 09:00:00",
    null,
    0,
    null,
  );
  db.close();
  return file;
};

const capture = () => {
  let out = "";
  let err = "";
  return {
    io: (workingDirectory: string) => ({
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      workingDirectory,
    }),
    out: () => out,
    err: () => err,
  };
};

describe("originalImportLines", () => {
  it("keeps each job's latest row, maps its status and times, and reads the meeting date from the title", () => {
    const result = originalImportLines(
      [
        {
          id: 1,
          job_id: "j",
          confluence_page_id: "5",
          confluence_page_url: "u5",
          confluence_space_key: "S",
          parent_page_id: null,
          page_title: "20250231 - Not a day",
          publication_status: "published",
          created_at: "2025-01-01 00:00:00",
          updated_at: "2025-01-02T03:04:05.678+02:00",
          error_message: null,
          retry_count: null,
          last_retry_at: null,
        },
        {
          id: 2,
          job_id: "k",
          confluence_page_id: "6",
          confluence_page_url: "u6",
          confluence_space_key: "S",
          parent_page_id: null,
          page_title: "Weekly",
          publication_status: "publishing",
          created_at: null,
          updated_at: null,
          error_message: null,
          retry_count: 2,
          last_retry_at: null,
        },
      ],
      new Date("2026-01-01T00:00:00Z"),
    );
    const [, j, k] = result.lines.map((l) => JSON.parse(l));
    expect(j).toMatchObject({
      status: "published",
      updatedAt: "2025-01-02T01:04:05.678Z",
      publishedAt: "2025-01-02T01:04:05.678Z",
      meetingDate: null,
      pageVersion: null,
      contentHash: null,
      attempts: 1,
    });
    expect(k).toMatchObject({
      status: "failed",
      errorMessage: 'status "publishing" in the original integration',
      createdAt: "2026-01-01T00:00:00.000Z",
      attempts: 3,
      retryCount: 2,
    });
  });
});

describe("import-original", () => {
  it("writes import lines for the original's table and says what it left out; the original file is untouched", () => {
    const file = originalDatabase();
    const c = capture();
    expect(runImportOriginal(["app.db"], c.io(join(file, "..")))).toBe(0);
    const lines = c
      .out()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ kind: "header", format: "minutes-publication-store", version: 2 });
    expect(lines.at(-1)).toEqual({ kind: "end", protocols: 0, publications: 2, versions: 0 });
    expect(lines.slice(1, -1)).toEqual([
      expect.objectContaining({
        kind: "publication",
        id: 2,
        jobId: "job_a",
        status: "published",
        pageId: "1001",
        pageUrl: "https://example.atlassian.net/wiki/spaces/MEETINGS/pages/1001",
        spaceKey: "MEETINGS",
        parentPageId: "77",
        pageTitle: "20250902 - Sync",
        pageVersion: null,
        contentHash: null,
        trigger: "import",
        retryCount: 1,
        attempts: 2,
        createdAt: "2025-09-02T10:00:00.000Z",
        updatedAt: "2025-09-03T08:30:00.000Z",
        publishedAt: "2025-09-03T08:30:00.000Z",
        lastRetryAt: "2025-09-03T08:29:00.000Z",
        meetingDate: "2025-09-02",
      }),
      expect.objectContaining({
        jobId: "job_b",
        status: "failed",
        pageId: null,
        pageUrl: null,
        errorMessage: "Space TEAM not found",
        errorTag: "OriginalIntegrationError",
        publishedAt: null,
        retryCount: 3,
      }),
    ]);
    expect(c.err()).toContain("row 4 left out: job_id is empty");
    expect(c.err()).toContain("2 jobs from 4 rows (1 older rows of the same jobs, 1 left out)");
    // Read-only: the original keeps its four rows.
    const db = new Database(file, { readonly: true });
    expect((db.prepare("select count(*) as n from confluence_publications").get() as { n: number }).n).toBe(
      4,
    );
    db.close();
  });

  it("refuses a file without the original's table, and a missing file, with exit code 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "minutes-original-"));
    dirs.push(dir);
    const other = new Database(join(dir, "other.db"));
    other.exec("create table t (x)");
    other.close();
    const c = capture();
    expect(runImportOriginal(["other.db"], c.io(dir))).toBe(1);
    expect(c.err()).toContain("cannot read confluence_publications from");
    expect(c.err()).toContain("is this the original integration's database?");
    expect(runImportOriginal(["missing.db"], c.io(dir))).toBe(1);
    expect(c.err()).toContain(`${join(dir, "missing.db")}: no such file`);
    expect(c.out()).toBe("");
    expect(runImportOriginal([], c.io(dir))).toBe(2);
    expect(c.err()).toContain("usage: minutes import-original <original database file>");
  });
});

describe.each(BACKENDS)("importing the original's records ($name)", ({ name }) => {
  it.scoped("stores one record per job naming its page, without a version or hash", () =>
    Effect.gen(function* () {
      const c = capture();
      expect(runImportOriginal([originalDatabase()], c.io("/"))).toBe(0);
      const lines = c.out().trimEnd().split("\n");
      // Every line is a valid line of the backup format.
      for (const line of lines) Schema.decodeUnknownSync(ExportLineJson)(line);
      const store = yield* Effect.flatMap(freshConfig(name), PublicationStore.make);
      const result = yield* store.importJsonl(Stream.fromIterable(lines));
      expect(result).toMatchObject({ imported: 2, invalid: 0 });
      const a = yield* store.findByJob("job_a");
      expect(Option.getOrThrow(a)).toMatchObject({
        status: "published",
        pageId: "1001",
        pageVersion: null,
        contentHash: null,
        meetingDate: "2025-09-02",
      });
      const b = yield* store.findByJob("job_b");
      expect(Option.getOrThrow(b)).toMatchObject({ status: "failed", pageId: null });
      const again = yield* store.importJsonl(Stream.fromIterable(lines));
      expect(again).toMatchObject({ imported: 0 });
      const exported = yield* Stream.runCollect(store.exportJsonl()).pipe(Effect.map(Chunk.size));
      expect(exported).toBe(4);
    }),
  );
});

describe("importing on sqlite next to another process", () => {
  it.scopedLive("waits for the other process's write lock instead of failing on what it read before", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig("sqlite");
      const store = yield* PublicationStore.make(config);
      const c = capture();
      expect(runImportOriginal([originalDatabase()], c.io("/"))).toBe(0);
      // Another process (a publisher) takes the write lock, writes, and commits 300 ms later.
      const other = yield* otherProcessWrites(config.sqlitePath as string);
      const result = yield* store.importJsonl(Stream.fromIterable(c.out().trimEnd().split("\n")));
      expect(result).toMatchObject({ imported: 2, invalid: 0 });
      expect(Option.isSome(yield* store.getProtocol("other"))).toBe(true);
      const code = yield* Effect.promise(() => other.exited);
      expect(code).toBe(0);
    }),
  );
});
