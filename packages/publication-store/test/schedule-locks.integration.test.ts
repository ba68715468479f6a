import { assert, it } from "@effect/vitest";
import { Effect, Exit, Scope } from "effect";
import { describe } from "vitest";
import type { StoreConfig } from "../src/database.js";
import { PublicationStore } from "../src/PublicationStore.js";
import { execOnPostgres, freshConfig, queryOnPostgres } from "./helpers/backends.js";
import { uid } from "./helpers/fixtures.js";

/** A store on `config` in a scope of its own, so the test decides when it closes. */
const openStore = (config: StoreConfig) =>
  Effect.gen(function* () {
    const scope = yield* Effect.acquireRelease(Scope.make(), (s) => Scope.close(s, Exit.void));
    const store = yield* Scope.extend(PublicationStore.make(config), scope);
    return { store, close: Scope.close(scope, Exit.void) };
  });

/**
 * Ends, from the server side, every connection holding a schedule lock on the store's database,
 * and waits until they are gone: a terminated backend frees its locks as it exits, after the
 * terminating query returned.
 */
const dropLockConnections = (config: StoreConfig) =>
  Effect.gen(function* () {
    const advisory = `from pg_locks where locktype = 'advisory'
      and database = (select oid from pg_database where datname = current_database())`;
    yield* execOnPostgres(config, `select pg_terminate_backend(pid) ${advisory}`);
    const deadline = Date.now() + 10_000;
    while ((yield* queryOnPostgres(config, `select pid ${advisory}`)).length > 0) {
      if (Date.now() > deadline) return yield* Effect.die(new Error("the lock connections did not end"));
      yield* Effect.sleep("10 millis");
    }
  });

describe("holdsSchedule on PostgreSQL (two publishers on one database)", () => {
  it.scopedLive(
    "lets exactly one store hold a schedule, and the holder keeps it from ask to ask",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig("postgresql");
        const a = yield* openStore(config);
        const b = yield* openStore(config);
        const name = `archive-${uid()}`;
        assert.isTrue(yield* a.store.holdsSchedule(name));
        assert.isFalse(yield* b.store.holdsSchedule(name));
        assert.isTrue(yield* a.store.holdsSchedule(name));
        assert.isFalse(yield* b.store.holdsSchedule(name));
        assert.isTrue(yield* a.store.holdsSchedule(name));
      }),
    60_000,
  );

  it.scopedLive(
    "holds schedules of different names independently",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig("postgresql");
        const a = yield* openStore(config);
        const b = yield* openStore(config);
        const first = `archive-${uid()}`;
        const second = `report-${uid()}`;
        assert.isTrue(yield* a.store.holdsSchedule(first));
        assert.isTrue(yield* b.store.holdsSchedule(second));
        assert.isFalse(yield* a.store.holdsSchedule(second));
        assert.isFalse(yield* b.store.holdsSchedule(first));
      }),
    60_000,
  );

  it.scopedLive(
    "hands the schedule to the other store at its next ask once the holder's store closes",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig("postgresql");
        const a = yield* openStore(config);
        const b = yield* openStore(config);
        const name = `archive-${uid()}`;
        assert.isTrue(yield* a.store.holdsSchedule(name));
        assert.isFalse(yield* b.store.holdsSchedule(name));
        yield* a.close;
        assert.isTrue(yield* b.store.holdsSchedule(name));
        assert.isTrue(yield* b.store.holdsSchedule(name));
      }),
    60_000,
  );

  it.scopedLive(
    "notices when the server drops the holder's lock connection: the holder no longer claims a lock another store took",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig("postgresql");
        const a = yield* openStore(config);
        const b = yield* openStore(config);
        const name = `archive-${uid()}`;
        assert.isTrue(yield* a.store.holdsSchedule(name));
        // The holder asks first after the drop: it connects again and takes the free lock back.
        yield* dropLockConnections(config);
        assert.isTrue(yield* a.store.holdsSchedule(name));
        assert.isFalse(yield* b.store.holdsSchedule(name));
        // The other asks first after the drop: it takes the lock, and the old holder must not run too.
        yield* dropLockConnections(config);
        assert.isTrue(yield* b.store.holdsSchedule(name));
        assert.isFalse(yield* a.store.holdsSchedule(name));
      }),
    60_000,
  );

  it.scopedLive(
    "frees every lock it took when it closes, also locks taken by asks made at the same time",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig("postgresql");
        const a = yield* openStore(config);
        const names = [`archive-${uid()}`, `report-${uid()}`, `digest-${uid()}`];
        const held = yield* Effect.forEach(names, (n) => a.store.holdsSchedule(n), {
          concurrency: "unbounded",
        });
        assert.deepStrictEqual(held, [true, true, true]);
        yield* a.close;
        const b = yield* openStore(config);
        const taken = yield* Effect.forEach(names, (n) => b.store.holdsSchedule(n));
        assert.deepStrictEqual(taken, [true, true, true]);
      }),
    60_000,
  );
});

describe("holdsSchedule on SQLite (one publisher per file)", () => {
  it.scoped(
    "always holds, for every store on the file",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig("sqlite");
        const a = yield* openStore(config);
        const b = yield* openStore(config);
        assert.isTrue(yield* a.store.holdsSchedule("archive"));
        assert.isTrue(yield* b.store.holdsSchedule("archive"));
        assert.isTrue(yield* a.store.holdsSchedule("archive"));
      }),
    60_000,
  );
});
