// Where the store says work on the protocol stream stopped (`streamProgress`), for a consumer
// created anew: what it has handled of this stream, what an unfinished job may still need, and
// what it cannot place. Each test has a database of its own and the test clock as the hosts' clock.
import { assert, it } from "@effect/vitest";
import { Effect, Option } from "effect";
import { describe } from "vitest";
import {
  PublicationStore,
  type PublicationStoreShape,
  type StreamProgressQuery,
} from "../src/PublicationStore.js";
import { BACKENDS, type BackendName, freshConfig } from "./helpers/backends.js";
import { at, protocol } from "./helpers/fixtures.js";

const freshStore = (name: BackendName) =>
  Effect.flatMap(freshConfig(name), (config) => PublicationStore.make(config));

/** The stream the consumer is created on: created at 08:00, holding everything from sequence 1. */
const STREAM: StreamProgressQuery = {
  streamCreatedAt: new Date("2030-01-01T08:00:00.000Z"),
  firstSequence: 1,
};

/** When JetStream stored the event with this sequence (after the stream was created). */
const storedAt = (sequence: number) => new Date(Date.parse("2030-01-01T09:00:00.000Z") + sequence * 1000);

/** The job's event `sequence`, saved at its stored time (host and server clocks agree). */
const save = (store: PublicationStoreShape, jobId: string, sequence: number, stored = storedAt(sequence)) =>
  Effect.gen(function* () {
    yield* at(stored.toISOString());
    yield* store.saveProtocol(
      protocol({
        jobId,
        streamSequence: sequence,
        storedAt: stored.toISOString(),
        contentHash: `h${sequence}`,
      }),
    );
  });

/** A job published from its event `sequence`, a second after it was saved. */
const published = (store: PublicationStoreShape, jobId: string, sequence: number) =>
  Effect.gen(function* () {
    yield* save(store, jobId, sequence);
    yield* at(new Date(storedAt(sequence).getTime() + 1000).toISOString());
    const record = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
    return yield* store.transition(record.id, "published", {
      pageId: `p-${jobId}`,
      pageVersion: 1,
      streamSequence: sequence,
      latencyMs: 10,
    });
  });

/** Runs a later message `sequence` (a command) of a published job: the record then names it. */
const commanded = (store: PublicationStoreShape, jobId: string, sequence: number) =>
  Effect.gen(function* () {
    yield* at(new Date(storedAt(sequence).getTime() + 1000).toISOString());
    const claimed = Option.getOrThrow(yield* store.claim({ jobId, owner: "publisher-a", leaseMs: 60_000 }));
    return yield* store.transition(claimed.id, "published", {
      pageVersion: 2,
      streamSequence: sequence,
      latencyMs: 10,
    });
  });

describe.each(BACKENDS)("where work on the stream stopped, on $name", ({ name }) => {
  it.scoped("knows nothing of a stream when no protocol's event was stored in it", () =>
    Effect.gen(function* () {
      const store = yield* freshStore(name);
      assert.deepStrictEqual(yield* store.streamProgress(STREAM), {
        handled: null,
        unfinished: null,
        unplaced: null,
      });
      // Published from a stream deleted since (stored before this one was created, sequences far
      // beyond this stream's), and one saved before Minutes kept when JetStream stored the event.
      yield* at("2030-01-01T07:00:00Z");
      const old = yield* store.ensurePublication({ jobId: "old", spaceKey: "MEET", parentPageId: null });
      yield* save(store, "old", 500, new Date("2030-01-01T06:59:00Z"));
      yield* store.transition(old.id, "published", { pageId: "1", streamSequence: 500, latencyMs: 1 });
      yield* store.saveProtocol(protocol({ jobId: "undated", streamSequence: 700 }));
      yield* at("2030-01-01T07:00:01Z");
      yield* store.transition(
        (yield* store.ensurePublication({ jobId: "undated", spaceKey: "MEET", parentPageId: null })).id,
        "published",
        { pageId: "2", streamSequence: 700, latencyMs: 1 },
      );
      const progress = yield* store.streamProgress(STREAM);
      assert.isNull(progress.handled);
      assert.isNull(progress.unplaced);
    }),
  );

  it.scoped(
    "takes as handled the highest sequence of this stream's protocols, or of their records' later messages",
    () =>
      Effect.gen(function* () {
        const store = yield* freshStore(name);
        yield* published(store, "a", 3);
        yield* published(store, "b", 5);
        // An event of this stream vouches for its job's own sequence: the stored time says which message.
        assert.deepStrictEqual((yield* store.streamProgress(STREAM)).handled, {
          sequence: 5,
          jobId: "b",
          storedAt: storedAt(5).toISOString(),
        });
        // A forced publish of b, message 8: its record names it.
        yield* commanded(store, "b", 8);
        assert.deepStrictEqual(yield* store.streamProgress(STREAM), {
          handled: { sequence: 8, jobId: "b", storedAt: null },
          unfinished: null,
          unplaced: null,
        });
        // A stream deleted since numbered further: its sequences are not this stream's.
        yield* at("2030-01-01T07:00:00Z");
        yield* store.saveProtocol(
          protocol({ jobId: "old", streamSequence: 900, storedAt: "2030-01-01T07:00:00Z" }),
        );
        const old = yield* store.ensurePublication({ jobId: "old", spaceKey: "MEET", parentPageId: null });
        yield* at("2030-01-01T07:00:01Z");
        yield* store.transition(old.id, "published", { pageId: "9", streamSequence: 900, latencyMs: 1 });
        assert.strictEqual((yield* store.streamProgress(STREAM)).handled?.sequence, 8);
      }),
  );

  it.scoped(
    "counts a job whose record was deleted as done, and a protocol whose record was never made as unfinished",
    () =>
      Effect.gen(function* () {
        const store = yield* freshStore(name);
        yield* published(store, "kept", 2);
        const deleted = yield* published(store, "deleted", 4);
        // A forced publish, message 6, then the record is deleted through the API.
        yield* commanded(store, "deleted", 6);
        yield* store.deletePublication(deleted.id);
        assert.deepStrictEqual(yield* store.streamProgress(STREAM), {
          handled: { sequence: 6, jobId: "deleted", storedAt: null },
          unfinished: null,
          unplaced: null,
        });
        // Saved by a publisher that stopped before it made the record: its event is still to come.
        yield* save(store, "unrecorded", 7);
        assert.deepStrictEqual((yield* store.streamProgress(STREAM)).unfinished, {
          sequence: 7,
          jobId: "unrecorded",
          reason: "unrecorded",
          status: null,
        });
        // A new event of the deleted job takes the mark off: it makes a record again.
        yield* save(store, "deleted", 9);
        const progress = yield* store.streamProgress(STREAM);
        assert.deepStrictEqual(progress.unfinished, {
          sequence: 7,
          jobId: "unrecorded",
          reason: "unrecorded",
          status: null,
        });
        assert.deepStrictEqual(progress.handled, {
          sequence: 9,
          jobId: "deleted",
          storedAt: storedAt(9).toISOString(),
        });
        yield* store.transition(
          (yield* store.ensurePublication({ jobId: "unrecorded", spaceKey: "MEET", parentPageId: null })).id,
          "published",
          { pageId: "7", streamSequence: 7, latencyMs: 1 },
        );
        assert.deepStrictEqual((yield* store.streamProgress(STREAM)).unfinished, {
          sequence: 9,
          jobId: "deleted",
          reason: "unrecorded",
          status: null,
        });
      }),
  );

  it.scoped("does not mark the protocol of a deleted record that had not handled it", () =>
    Effect.gen(function* () {
      const store = yield* freshStore(name);
      // Published from message 3; message 5 (a newer protocol) saved, its publication not recorded.
      const record = yield* published(store, "j", 3);
      yield* save(store, "j", 5);
      yield* store.deletePublication(record.id);
      assert.deepStrictEqual((yield* store.streamProgress(STREAM)).unfinished, {
        sequence: 5,
        jobId: "j",
        reason: "unrecorded",
        status: null,
      });
      // A pending record (its message given back) deleted: its protocol is not marked either.
      yield* save(store, "p", 6);
      const pending = Option.getOrThrow(
        yield* store.claim({
          jobId: "p",
          owner: "publisher-a",
          leaseMs: 60_000,
          create: { spaceKey: "MEET", parentPageId: null },
        }),
      );
      yield* store.transition(pending.id, "pending", { streamSequence: 6, errorTag: "E", errorMessage: "e" });
      yield* store.deletePublication(pending.id);
      yield* store.transition(
        (yield* store.ensurePublication({ jobId: "j", spaceKey: "MEET", parentPageId: null })).id,
        "published",
        { pageId: "5", streamSequence: 5, latencyMs: 1 },
      );
      assert.deepStrictEqual((yield* store.streamProgress(STREAM)).unfinished, {
        sequence: 6,
        jobId: "p",
        reason: "unrecorded",
        status: null,
      });
    }),
  );

  it.scoped(
    "takes the lowest sequence an unfinished job may need: publishing, given back, or saved after its outcome",
    () =>
      Effect.gen(function* () {
        const store = yield* freshStore(name);
        yield* published(store, "done", 1);
        // Saved after its record's last outcome (message 4, the record says 2).
        yield* published(store, "newer", 2);
        yield* save(store, "newer", 4);
        yield* published(store, "later", 10);
        assert.deepStrictEqual((yield* store.streamProgress(STREAM)).unfinished, {
          sequence: 4,
          jobId: "newer",
          reason: "unrecorded",
          status: "published",
        });
        // Message 3, a job's first: claimed (a record without a sequence), its attempt still running.
        yield* save(store, "running", 3);
        yield* store.claim({
          jobId: "running",
          owner: "publisher-a",
          leaseMs: 60_000,
          create: { spaceKey: "MEET", parentPageId: null },
        });
        assert.deepStrictEqual((yield* store.streamProgress(STREAM)).unfinished, {
          sequence: 3,
          jobId: "running",
          reason: "publishing",
          status: "publishing",
        });
        // Message 2 of another job failed for a passing reason and was given back: pending, with the error.
        yield* save(store, "deferred", 2);
        const deferred = yield* store.claim({
          jobId: "deferred",
          owner: "publisher-b",
          leaseMs: 60_000,
          create: { spaceKey: "MEET", parentPageId: null },
        });
        yield* store.transition(Option.getOrThrow(deferred).id, "pending", {
          streamSequence: 2,
          errorTag: "ConfluenceServerError",
          errorMessage: "503",
        });
        const progress = yield* store.streamProgress(STREAM);
        assert.deepStrictEqual(progress.unfinished, {
          sequence: 2,
          jobId: "deferred",
          reason: "pending",
          status: "pending",
        });
        assert.strictEqual(progress.handled?.sequence, 10);
      }),
  );

  it.scoped(
    "leaves out pending records that wait for a publish command, when that is what pending means",
    () =>
      Effect.gen(function* () {
        const store = yield* freshStore(name);
        // auto_publish off: the event made the record pending, and it waits for a publish.
        yield* save(store, "waiting", 2);
        const waiting = yield* store.ensurePublication({
          jobId: "waiting",
          spaceKey: "MEET",
          parentPageId: null,
        });
        yield* published(store, "published", 3);
        assert.deepStrictEqual((yield* store.streamProgress(STREAM)).unfinished, {
          sequence: 2,
          jobId: "waiting",
          reason: "pending",
          status: "pending",
        });
        const waits = { ...STREAM, pendingWaitsForPublish: true };
        assert.isNull((yield* store.streamProgress(waits)).unfinished);
        // A publish command's attempt failed for a passing reason and gave its message (4) back.
        yield* store.claim({ jobId: "waiting", owner: "publisher-a", leaseMs: 60_000 });
        yield* store.transition(waiting.id, "pending", {
          streamSequence: 4,
          errorTag: "ConfluenceNetworkError",
          errorMessage: "reset",
        });
        assert.deepStrictEqual((yield* store.streamProgress(waits)).unfinished, {
          sequence: 2,
          jobId: "waiting",
          reason: "pending",
          status: "pending",
        });
      }),
  );

  it.scoped(
    "forgets what waits for messages the stream no longer holds, or held in a stream deleted since",
    () =>
      Effect.gen(function* () {
        const store = yield* freshStore(name);
        yield* published(store, "handled", 30);
        // Given back at message 5, which the stream has since dropped (its first is 10).
        yield* save(store, "aged", 5);
        const aged = yield* store.claim({
          jobId: "aged",
          owner: "publisher-a",
          leaseMs: 60_000,
          create: { spaceKey: "MEET", parentPageId: null },
        });
        yield* store.transition(Option.getOrThrow(aged).id, "pending", {
          streamSequence: 5,
          errorTag: "E",
          errorMessage: "e",
        });
        // Left pending by a stream deleted before this one was created (and untouched since).
        yield* at("2030-01-01T06:00:00Z");
        yield* store.saveProtocol(
          protocol({ jobId: "gone", streamSequence: 3, storedAt: "2030-01-01T06:00:00Z" }),
        );
        const gone = yield* store.claim({
          jobId: "gone",
          owner: "publisher-a",
          leaseMs: 60_000,
          create: { spaceKey: "MEET", parentPageId: null },
        });
        yield* store.transition(Option.getOrThrow(gone).id, "pending", {
          streamSequence: 3,
          errorTag: "E",
          errorMessage: "e",
        });
        const fromTen = { ...STREAM, firstSequence: 10 };
        assert.deepStrictEqual(yield* store.streamProgress(fromTen), {
          handled: { sequence: 30, jobId: "handled", storedAt: storedAt(30).toISOString() },
          unfinished: null,
          unplaced: null,
        });
        // A publishing record's message may be any later one: it counts, whatever its sequences.
        yield* at("2030-01-01T10:00:00Z");
        yield* store.claim({ jobId: "aged", owner: "publisher-a", leaseMs: 60_000 });
        assert.deepStrictEqual((yield* store.streamProgress(fromTen)).unfinished, {
          sequence: 5,
          jobId: "aged",
          reason: "publishing",
          status: "publishing",
        });
      }),
  );

  it.scoped("names an unfinished record it cannot place in the stream", () =>
    Effect.gen(function* () {
      const store = yield* freshStore(name);
      yield* published(store, "a", 4);
      // A protocol that did not come from the stream (an import), being published.
      yield* at("2030-01-01T10:00:00Z");
      yield* store.saveProtocol(protocol({ jobId: "imported", streamSequence: null }));
      yield* store.claim({
        jobId: "imported",
        owner: "publisher-a",
        leaseMs: 60_000,
        create: { spaceKey: "MEET", parentPageId: null },
      });
      assert.deepStrictEqual(yield* store.streamProgress(STREAM), {
        handled: { sequence: 4, jobId: "a", storedAt: storedAt(4).toISOString() },
        unfinished: null,
        unplaced: { jobId: "imported", status: "publishing" },
      });
    }),
  );

  it.scoped("counts the jobs a cleanup deleted, keeping their protocols, as done", () =>
    Effect.gen(function* () {
      const store = yield* freshStore(name);
      yield* published(store, "old", 2);
      const recent = yield* published(store, "recent", 5);
      // A forced publish of the old meeting, message 8; the recent one changes long after.
      yield* commanded(store, "old", 8);
      yield* at("2030-01-01T09:30:00Z");
      yield* store.transition(recent.id, "archived", { archivedAt: "2030-01-01T09:30:00Z" });
      yield* at("2030-02-01T00:00:00Z");
      const cleaned = yield* store.cleanup({
        before: new Date("2030-01-01T09:00:10.000Z"),
        keepProtocols: true,
      });
      assert.deepStrictEqual(cleaned.jobIds, ["old"]);
      assert.deepStrictEqual(yield* store.streamProgress(STREAM), {
        handled: { sequence: 8, jobId: "old", storedAt: null },
        unfinished: null,
        unplaced: null,
      });
    }),
  );
});
