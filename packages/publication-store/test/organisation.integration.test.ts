import { assert, layer } from "@effect/vitest";
import { Effect, Layer, Option } from "effect";
import { describe } from "vitest";
import { PublicationStore, type PublicationStoreShape } from "../src/PublicationStore.js";
import { BACKENDS, freshConfig } from "./helpers/backends.js";
import { uid } from "./helpers/fixtures.js";

const storeLayer = (name: (typeof BACKENDS)[number]["name"]) =>
  Layer.unwrapScoped(Effect.map(freshConfig(name), (config) => PublicationStore.layer(config)));

/** A job published to `pageId` in space/parent, for a meeting on `meetingDate`. */
const published = (
  store: PublicationStoreShape,
  spaceKey: string,
  parentPageId: string | null,
  title: string,
  meetingDate: string | null,
) =>
  Effect.gen(function* () {
    const jobId = `job-${uid()}`;
    const record = yield* store.ensurePublication({ jobId, spaceKey, parentPageId });
    yield* store.claim({ jobId, owner: "test", leaseMs: 60_000 });
    return yield* store.transition(record.id, "published", {
      pageId: String(Math.floor(Math.random() * 1e9)),
      pageTitle: title,
      pageVersion: 1,
      meetingDate,
    });
  });

describe.each(BACKENDS)("page organisation records on $name", ({ name }) => {
  layer(storeLayer(name), { timeout: 120_000 })((it) => {
    it.effect("lists an index location's published and archived pages, newest meeting first", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const space = `IDX${uid().replace(/-/g, "").slice(0, 8)}`.toUpperCase();
        const january = yield* published(store, space, "100", "January", "2025-01-10");
        const march = yield* published(store, space, "100", "March", "2025-03-01");
        const december = yield* published(store, space, "100", "December", "2024-12-01");
        yield* store.transition(december.id, "archived", { archivedAt: "2026-01-01T00:00:00.000Z" });
        const undated = yield* published(store, space, "100", "Undated", null);
        yield* published(store, space, "200", "Elsewhere", "2025-02-01");
        yield* published(store, space, null, "At the root", "2025-02-02");
        const failed = yield* store.ensurePublication({
          jobId: `job-${uid()}`,
          spaceKey: space,
          parentPageId: "100",
        });
        yield* store.claim({ jobId: failed.jobId, owner: "test", leaseMs: 60_000 });
        yield* store.transition(failed.id, "failed", { errorMessage: "boom" });

        const { items: listed, total } = yield* store.listIndexed({ spaceKey: space, parentPageId: "100" });
        assert.deepStrictEqual(
          listed.map((p) => p.pageTitle),
          ["March", "January", "December", "Undated"],
        );
        assert.strictEqual(total, 4);
        assert.strictEqual(listed[0]?.id, march.id);
        assert.strictEqual(listed[1]?.id, january.id);
        assert.strictEqual(listed[2]?.archivedAt, "2026-01-01T00:00:00.000Z");
        assert.strictEqual(listed[3]?.id, undated.id);
        const root = yield* store.listIndexed({ spaceKey: space, parentPageId: null });
        assert.deepStrictEqual(
          root.items.map((p) => p.pageTitle),
          ["At the root"],
        );
        // A long index lists the newest meetings and says how many there are in all.
        const newest = yield* store.listIndexed({ spaceKey: space, parentPageId: "100" }, { limit: 2 });
        assert.deepStrictEqual(
          newest.items.map((p) => p.pageTitle),
          ["March", "January"],
        );
        assert.strictEqual(newest.total, 4);
        const none = yield* store.listIndexed({ spaceKey: `${space}X`, parentPageId: null }, { limit: 2 });
        assert.deepStrictEqual(none, { items: [], total: 0 });
      }),
    );

    it.effect("offers published meetings older than a date for archiving, oldest first", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const space = `ARC${uid().replace(/-/g, "").slice(0, 8)}`.toUpperCase();
        const old = yield* published(store, space, null, "Old", "2001-05-01");
        const older = yield* published(store, space, null, "Older", "2001-01-01");
        yield* published(store, space, null, "Recent", "2001-07-01");
        const gone = yield* published(store, space, null, "Already archived", "2000-01-01");
        yield* store.transition(gone.id, "archived", { archivedAt: "2026-01-01T00:00:00.000Z" });
        const ours = (yield* store.listArchivable({ before: "2001-06-01" })).filter(
          (p) => p.spaceKey === space,
        );
        assert.deepStrictEqual(
          ours.map((p) => p.id),
          [older.id, old.id],
        );
        assert.strictEqual(ours[0]?.meetingDate, "2001-01-01");
      }),
    );

    it.effect("keeps an archived job archived when a newer protocol is published into the archive", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const record = yield* published(store, "MEET", null, "Kept", "2001-01-01");
        const archived = yield* store.transition(record.id, "archived", {
          archivedAt: "2026-02-03T04:05:06.000Z",
        });
        assert.strictEqual(archived.status, "archived");
        const claimed = yield* store.claim({ jobId: record.jobId, owner: "test", leaseMs: 60_000 });
        assert.isTrue(Option.isSome(claimed));
        const again = yield* store.transition(record.id, "archived", { pageVersion: 2 });
        assert.strictEqual(again.status, "archived");
        assert.strictEqual(again.pageVersion, 2);
        assert.strictEqual(again.archivedAt, "2026-02-03T04:05:06.000Z");
        const restored = yield* store.claim({ jobId: record.jobId, owner: "test", leaseMs: 60_000 });
        assert.isTrue(Option.isSome(restored));
        const out = yield* store.transition(record.id, "published", { archivedAt: null });
        assert.isNull(out.archivedAt);
      }),
    );
  });
});
