import { assert, it } from "@effect/vitest";
import { Chunk, Effect, Stream } from "effect";
import { describe } from "vitest";
import { PublicationStore, type PublicationStoreShape } from "../src/PublicationStore.js";
import { BACKENDS, type BackendName, freshConfig } from "./helpers/backends.js";
import { at, protocol, times } from "./helpers/fixtures.js";

const openFresh = (name: BackendName) => Effect.flatMap(freshConfig(name), PublicationStore.make);

const exported = (store: PublicationStoreShape) =>
  Stream.runCollect(store.exportJsonl()).pipe(Effect.map(Chunk.toReadonlyArray));

/** A store with protocols, records in several statuses and versions; more rows than one export batch. */
const populate = (store: PublicationStoreShape) =>
  Effect.gen(function* () {
    yield* at("2030-04-01T08:00:00Z");
    yield* store.saveProtocol(
      protocol({
        jobId: "job-a",
        markdown: "# A\n\nline \\ with 'quotes' and ? marks — ü 🎉",
        streamSequence: 3,
      }),
    );
    yield* store.saveProtocol(protocol({ jobId: "job-b", streamSequence: null, metadata: {} }));
    const a = yield* store.ensurePublication({ jobId: "job-a", spaceKey: "MEET", parentPageId: "42" });
    yield* store.claim({ jobId: "job-a", owner: "pub-a", leaseMs: 60_000 });
    yield* store.transition(a.id, "published", {
      pageId: "1001",
      pageUrl: "https://example.atlassian.net/wiki/spaces/MEET/pages/1001",
      pageTitle: "20300401 - A",
      pageVersion: 2,
      contentHash: "sha256:a",
      latencyMs: 1500,
    });
    yield* store.recordVersion({
      publicationId: a.id,
      pageId: "1001",
      pageVersion: 1,
      contentHash: "sha256:a0",
      pageTitle: "20300401 - A",
      trigger: "event",
    });
    yield* store.recordVersion({
      publicationId: a.id,
      pageId: "1001",
      pageVersion: 2,
      contentHash: "sha256:a",
      pageTitle: "20300401 - A",
      trigger: "manual",
    });
    const b = yield* store.ensurePublication({ jobId: "job-b", spaceKey: "OPS", parentPageId: null });
    yield* store.transition(b.id, "failed", { errorMessage: "HTTP 500", errorTag: "ConfluenceServerError" });
    yield* store.markRetry(b.id);
    yield* times(205, (i) =>
      store.ensurePublication({ jobId: `bulk-${i}`, spaceKey: "BULK", parentPageId: null }),
    );
  });

describe.each(BACKENDS)("JSON Lines backup on $name", ({ name }) => {
  it.scoped(
    "restores an export into a fresh database with the same data, and a second import changes nothing",
    () =>
      Effect.gen(function* () {
        const source = yield* openFresh(name);
        yield* populate(source);
        const lines = yield* exported(source);
        // header + 2 protocols + 207 publications + 2 versions
        assert.strictEqual(lines.length, 1 + 2 + 207 + 2);
        assert.deepStrictEqual(
          [...new Set(lines.map((l) => (JSON.parse(l) as { kind: string }).kind))],
          ["header", "protocol", "publication", "version"],
        );

        const target = yield* openFresh(name);
        const first = yield* target.importJsonl(source.exportJsonl());
        assert.deepStrictEqual(first, { imported: 211, updated: 0, skipped: 1, errors: [] });
        assert.deepStrictEqual(yield* exported(target), lines);

        const second = yield* target.importJsonl(Stream.fromIterable(lines));
        assert.deepStrictEqual(second, { imported: 0, updated: 0, skipped: 212, errors: [] });
        assert.deepStrictEqual(yield* exported(target), lines);

        // ids were kept, so new records continue after the restored ones
        const next = yield* target.ensurePublication({
          jobId: "after-restore",
          spaceKey: "MEET",
          parentPageId: null,
        });
        assert.strictEqual(next.id, 208);
      }),
    { timeout: 120_000 },
  );

  it.scoped(
    "updates a record only when the imported copy is newer",
    () =>
      Effect.gen(function* () {
        const source = yield* openFresh(name);
        yield* at("2030-05-01T00:00:00Z");
        const rec = yield* source.ensurePublication({ jobId: "job-n", spaceKey: "MEET", parentPageId: null });
        const target = yield* openFresh(name);
        yield* target.importJsonl(source.exportJsonl());
        yield* at("2030-05-02T00:00:00Z");
        yield* source.transition(rec.id, "failed", { errorMessage: "later failure" });
        const result = yield* target.importJsonl(source.exportJsonl());
        assert.deepStrictEqual(result, { imported: 0, updated: 1, skipped: 1, errors: [] });
        const restored = yield* target.get(rec.id);
        assert.strictEqual(restored.status, "failed");
        assert.strictEqual(restored.errorMessage, "later failure");
        // the older copy does not win back
        yield* at("2030-05-03T00:00:00Z");
        yield* target.transition(rec.id, "pending", { trigger: "retry" });
        const older = yield* target.importJsonl(source.exportJsonl());
        assert.deepStrictEqual(older, { imported: 0, updated: 0, skipped: 2, errors: [] });
        assert.strictEqual((yield* target.get(rec.id)).status, "pending");
      }),
    { timeout: 120_000 },
  );

  it.scoped(
    "reports a malformed line with its number and writes nothing",
    () =>
      Effect.gen(function* () {
        const source = yield* openFresh(name);
        yield* populate(source);
        const lines = [...(yield* exported(source))];
        const broken = [...lines.slice(0, 5), "", '{"kind":"publication","jobId":42}', ...lines.slice(5)];
        const target = yield* openFresh(name);
        const error = yield* Effect.flip(target.importJsonl(Stream.fromIterable(broken)));
        assert.strictEqual(error._tag, "ImportLineError");
        if (error._tag === "ImportLineError") {
          assert.strictEqual(error.line, 7);
          assert.match(error.reason, /jobId/);
        }
        assert.deepStrictEqual(yield* exported(target), [lines[0]!]);

        const notJson = yield* Effect.flip(target.importJsonl(Stream.make(lines[0]!, "{not json")));
        assert.strictEqual(notJson._tag, "ImportLineError");
        if (notJson._tag === "ImportLineError") assert.strictEqual(notJson.line, 2);

        const orphan = JSON.stringify({
          kind: "version",
          jobId: "nobody",
          publicationId: 1,
          pageId: "1",
          pageVersion: 1,
          contentHash: "h",
          pageTitle: "t",
          trigger: "event",
          createdAt: "2030-01-01T00:00:00.000Z",
        });
        const orphanError = yield* Effect.flip(target.importJsonl(Stream.make(orphan)));
        assert.strictEqual(orphanError._tag, "ImportLineError");
        assert.deepStrictEqual(yield* exported(target), [lines[0]!]);

        const skipping = yield* target.importJsonl(Stream.fromIterable(broken), { onInvalidLine: "skip" });
        assert.strictEqual(skipping.imported, 211);
        assert.deepStrictEqual(
          skipping.errors.map((e) => e.line),
          [7],
        );
        assert.deepStrictEqual(yield* exported(target), lines);
      }),
    { timeout: 120_000 },
  );
});
