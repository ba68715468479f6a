import { assert, it } from "@effect/vitest";
import type { SqlEntityManager } from "@mikro-orm/libsql";
import type { Publication } from "@minutes/contracts";
import { Effect, Fiber, Option, Schedule, TestClock } from "effect";
import { describe } from "vitest";
import { attempt, openDatabase, statements } from "../src/database.js";
import { CLEANUP_BATCH, PublicationStore, type PublicationStoreShape } from "../src/PublicationStore.js";
import { adminQuery, BACKENDS, type BackendName, freshConfig } from "./helpers/backends.js";
import { at, protocol, times, uid } from "./helpers/fixtures.js";
import { otherProcessWrites } from "./helpers/other-writer.js";

/** A store on a database of its own: a cleanup sees only the test's records. */
const freshStore = (name: BackendName) =>
  Effect.flatMap(freshConfig(name), (config) => PublicationStore.make(config));

type Status = Publication["status"];

/**
 * A job with its protocol and a record in `status`, changed one `tick` after the protocol was
 * saved; published ones have `versions` page versions.
 */
const job = (
  store: PublicationStoreShape,
  status: Status,
  options: { readonly versions?: number; readonly tick?: Effect.Effect<void> } = {},
) =>
  Effect.gen(function* () {
    const jobId = `job-${uid()}`;
    const tick = options.tick ?? TestClock.adjust("1 second");
    yield* store.saveProtocol(protocol({ jobId }));
    yield* tick;
    const record = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
    if (status === "pending") return record;
    if (status === "rejected") {
      return yield* store.transition(record.id, "rejected", {
        errorTag: "EventRejectedError",
        errorMessage: "Invalid event",
      });
    }
    yield* store.claim({ jobId, owner: "publisher-a", leaseMs: 60_000 });
    if (status === "publishing") return yield* store.get(record.id);
    if (status === "failed") {
      return yield* store.transition(record.id, "failed", {
        errorTag: "ConfluenceServerError",
        errorMessage: "Confluence answered 500",
      });
    }
    const versions = options.versions ?? 1;
    const pageId = String(100_000 + record.id);
    let done = yield* store.transition(record.id, "published", {
      pageId,
      pageVersion: versions,
      latencyMs: 5,
    });
    for (let v = 1; v <= versions; v++) {
      yield* store.recordVersion({
        publicationId: record.id,
        pageId,
        pageVersion: v,
        contentHash: `sha256:${v}`,
        pageTitle: "20261120 - Weekly",
        trigger: "event",
      });
    }
    if (status === "archived")
      done = yield* store.transition(record.id, "archived", { archivedAt: "2026-01-01T00:00:00.000Z" });
    return done;
  });

/** Whether the job still has its record, versions and protocol. */
const remains = (store: PublicationStoreShape, jobId: string) =>
  Effect.gen(function* () {
    return {
      record: Option.isSome(yield* store.findByJob(jobId)),
      versions: (yield* store.listVersions(jobId)).length,
      protocol: Option.isSome(yield* store.getProtocol(jobId)),
    };
  });

const GONE = { record: false, versions: 0, protocol: false };

/** Resolves once a session on `database` waits for a lock another holds; dies after 10 s. */
const waitingForLock = (database: string) =>
  adminQuery(
    `select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where not l.granted and a.datname = ?`,
    [database],
  ).pipe(
    Effect.map((rows) => (rows[0] as { n: number } | undefined)?.n ?? 0),
    Effect.repeat({ until: (n) => n > 0, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({
      duration: "10 seconds",
      onTimeout: () => new Error("the cleanup never waited for a lock"),
    }),
    Effect.orDie,
  );

describe.each(BACKENDS)("cleanup on $name", ({ name }) => {
  it.scoped(
    "deletes old final records with their versions and protocols, never recent, in-progress or newer-protocol ones",
    () =>
      Effect.gen(function* () {
        const store = yield* freshStore(name);
        yield* at("2026-01-01T00:00:00Z");
        const published = yield* job(store, "published", { versions: 2 });
        const failed = yield* job(store, "failed");
        const rejected = yield* job(store, "rejected");
        const archived = yield* job(store, "archived", { versions: 1 });
        const pending = yield* job(store, "pending");
        const publishing = yield* job(store, "publishing");
        const waiting = yield* job(store, "published");
        // A newer protocol of an old job, saved after its record last changed: it waits for a
        // publication (the record would be moved to pending or claimed a moment later).
        yield* at("2026-03-01T00:00:00Z");
        yield* store.saveProtocol(
          protocol({ jobId: waiting.jobId, streamSequence: 2, contentHash: "sha256:new" }),
        );
        yield* at("2026-06-01T00:00:00Z");
        const recent = yield* job(store, "published");

        const result = yield* store.cleanup({ before: new Date("2026-02-01T00:00:00Z") });
        assert.deepStrictEqual(result, {
          dryRun: false,
          deleted: 4,
          versionsDeleted: 3,
          protocolsDeleted: 4,
          keptNewerProtocol: 1,
          jobIds: [published.jobId, failed.jobId, rejected.jobId, archived.jobId],
        });
        for (const gone of [published, failed, rejected, archived]) {
          assert.deepStrictEqual(yield* remains(store, gone.jobId), GONE, gone.status);
          assert.strictEqual((yield* Effect.flip(store.get(gone.id)))._tag, "PublicationNotFoundError");
        }
        for (const kept of [pending, publishing, recent]) {
          assert.deepStrictEqual(yield* remains(store, kept.jobId), {
            record: true,
            versions: kept === recent ? 1 : 0,
            protocol: true,
          });
        }
        assert.strictEqual((yield* store.get(publishing.id)).status, "publishing");
        assert.deepStrictEqual(yield* remains(store, waiting.jobId), {
          record: true,
          versions: 1,
          protocol: true,
        });
        assert.strictEqual(
          Option.getOrThrow(yield* store.getProtocol(waiting.jobId)).contentHash,
          "sha256:new",
        );

        // Running it again finds nothing more to do.
        const again = yield* store.cleanup({ before: new Date("2026-02-01T00:00:00Z") });
        assert.deepStrictEqual(again, {
          ...result,
          deleted: 0,
          versionsDeleted: 0,
          protocolsDeleted: 0,
          jobIds: [],
        });
      }),
  );

  it.scoped("counts on a dry run what the cleanup then deletes, and deletes nothing", () =>
    Effect.gen(function* () {
      const store = yield* freshStore(name);
      yield* at("2026-01-01T00:00:00Z");
      const jobs = yield* times(3, () => job(store, "published", { versions: 2 }));
      const before = new Date("2026-02-01T00:00:00Z");
      const dry = yield* store.cleanup({ before, dryRun: true });
      assert.deepStrictEqual(dry, {
        dryRun: true,
        deleted: 3,
        versionsDeleted: 6,
        protocolsDeleted: 3,
        keptNewerProtocol: 0,
        jobIds: jobs.map((j) => j.jobId),
      });
      for (const j of jobs) {
        assert.deepStrictEqual(yield* remains(store, j.jobId), { record: true, versions: 2, protocol: true });
      }
      const real = yield* store.cleanup({ before });
      assert.deepStrictEqual(real, { ...dry, dryRun: false });
      assert.deepStrictEqual((yield* store.query()).items, []);
    }),
  );

  it.scoped(
    "deletes only the chosen statuses, only before the cutoff, and keeps the protocols when asked",
    () =>
      Effect.gen(function* () {
        const store = yield* freshStore(name);
        yield* at("2026-01-01T00:00:00Z");
        const failed = yield* job(store, "failed");
        const published = yield* job(store, "published");
        const late = yield* job(store, "failed");
        // `before` is exclusive: a record changed at that very instant stays.
        const cutoff = new Date(late.updatedAt);
        const result = yield* store.cleanup({ before: cutoff, statuses: ["failed"], keepProtocols: true });
        assert.deepStrictEqual(result, {
          dryRun: false,
          deleted: 1,
          versionsDeleted: 0,
          protocolsDeleted: 0,
          keptNewerProtocol: 0,
          jobIds: [failed.jobId],
        });
        assert.deepStrictEqual(yield* remains(store, failed.jobId), {
          record: false,
          versions: 0,
          protocol: true,
        });
        assert.isTrue((yield* remains(store, published.jobId)).record);
        assert.isTrue((yield* remains(store, late.jobId)).record);
        // In-progress statuses are never taken, even when asked for (the type forbids it too).
        const forced = yield* store.cleanup({
          before: new Date("2030-01-01T00:00:00Z"),
          statuses: ["pending", "publishing"] as unknown as ["failed"],
        });
        assert.strictEqual(forced.deleted, 0);
        assert.strictEqual((yield* store.cleanup({ before: cutoff, statuses: [] })).deleted, 0);
      }),
  );

  it.scoped(`deletes more records than one batch of ${CLEANUP_BATCH} holds, each one whole`, () =>
    Effect.gen(function* () {
      const store = yield* freshStore(name);
      yield* at("2026-01-01T00:00:00Z");
      const total = CLEANUP_BATCH * 2 + 17;
      const jobs = yield* times(total, (i) => job(store, i % 2 === 0 ? "published" : "failed"));
      const result = yield* store.cleanup({ before: new Date("2026-02-01T00:00:00Z") });
      assert.strictEqual(result.deleted, total);
      assert.strictEqual(result.versionsDeleted, Math.ceil(total / 2));
      assert.strictEqual(result.protocolsDeleted, total);
      assert.deepStrictEqual(
        result.jobIds,
        jobs.map((j) => j.jobId),
      );
      assert.deepStrictEqual((yield* store.query()).items, []);
      assert.strictEqual((yield* store.stats()).total, 0);
    }),
  );
});

describe("cleanup on sqlite next to another process", () => {
  it.scopedLive("waits for the other process's write lock instead of failing on what it read before", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig("sqlite");
      const store = yield* PublicationStore.make(config);
      const old = yield* job(store, "failed", { tick: Effect.sleep("5 millis") });
      yield* Effect.sleep("5 millis");
      // Another process (a publisher) takes the write lock, writes, and commits 300 ms later.
      const other = yield* otherProcessWrites(config.sqlitePath!);
      const result = yield* store.cleanup({ before: new Date(Date.now() + 60_000) });
      assert.strictEqual(result.deleted, 1);
      assert.deepStrictEqual(yield* remains(store, old.jobId), GONE);
      assert.isTrue(Option.isSome(yield* store.getProtocol("other")));
      const code = yield* Effect.promise(() => other.exited);
      assert.strictEqual(code, 0);
    }),
  );
});

describe("cleanup on postgresql next to a publisher", () => {
  it.scopedLive("keeps a record a publisher claims while the cleanup waits for its lock", () =>
    Effect.gen(function* () {
      const config = yield* freshConfig("postgresql");
      const store = yield* PublicationStore.make(config);
      const tick = Effect.sleep("5 millis");
      const claimed = yield* job(store, "failed", { versions: 0, tick });
      const other = yield* job(store, "failed", { tick });
      yield* tick;
      // A publisher's claim, in a transaction still open when the cleanup starts.
      const publisher = yield* Effect.acquireRelease(openDatabase(config), (db) =>
        Effect.promise(() => db.orm.close(true)),
      );
      const tx = publisher.orm.em.fork() as SqlEntityManager;
      yield* attempt("begin", () => tx.begin());
      // Should the test fail before the commit, the open transaction must not keep the scope from closing.
      yield* Effect.addFinalizer(() =>
        tx.isInTransaction() ? Effect.ignore(attempt("rollback", () => tx.rollback())) : Effect.void,
      );
      yield* attempt("claim", () =>
        statements(publisher).run(
          tx,
          "update confluence_publications set publication_status = 'publishing', updated_at = now() where id = ?",
          [claimed.id],
        ),
      );
      const cleanup = yield* Effect.fork(store.cleanup({ before: new Date(Date.now() + 60_000) }));
      // The publisher commits only once the cleanup waits for the claimed record's lock: without
      // that wait the cleanup would have read around the claim, and this test would prove nothing.
      yield* waitingForLock(new URL(String(config.url)).pathname.slice(1));
      yield* attempt("commit", () => tx.commit());
      const result = yield* Fiber.join(cleanup);
      assert.deepStrictEqual(result.jobIds, [other.jobId]);
      assert.strictEqual(result.deleted, 1);
      assert.strictEqual((yield* store.get(claimed.id)).status, "publishing");
      assert.isTrue((yield* remains(store, claimed.jobId)).protocol);
      assert.deepStrictEqual(yield* remains(store, other.jobId), GONE);
    }),
  );
});
