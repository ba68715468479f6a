import { AsyncLocalStorage } from "node:async_hooks";
import { assert, it, layer } from "@effect/vitest";
import { canTransition } from "@minutes/contracts";
import { Effect, Either, Exit, Layer, Option, TestClock } from "effect";
import Libsql from "libsql";
import { describe } from "vitest";
import type { StoreConfig } from "../src/database.js";
import { PublicationStore } from "../src/PublicationStore.js";
import { BACKENDS, execOnPostgres, freshConfig } from "./helpers/backends.js";
import { at, protocol, times, uid } from "./helpers/fixtures.js";

const storeLayer = (name: (typeof BACKENDS)[number]["name"]) =>
  Layer.unwrapScoped(Effect.map(freshConfig(name), (config) => PublicationStore.layer(config)));

describe.each(BACKENDS)("PublicationStore on $name", ({ name }) => {
  layer(storeLayer(name), { timeout: 120_000 })((it) => {
    it.effect("creates a pending record for a job and returns the same record on the next call", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `job-${uid()}`;
        const first = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: "123" });
        assert.strictEqual(first.status, "pending");
        assert.strictEqual(first.spaceKey, "MEET");
        assert.strictEqual(first.parentPageId, "123");
        assert.strictEqual(first.trigger, "event");
        assert.isNull(first.pageId);
        assert.strictEqual(first.attempts, 0);
        const second = yield* store.ensurePublication({ jobId, spaceKey: "OTHER", parentPageId: null });
        assert.deepStrictEqual(second, first);
        assert.deepStrictEqual(yield* store.get(first.id), first);
        assert.deepStrictEqual(yield* store.listByJob(jobId), [first]);
        assert.deepStrictEqual(yield* store.findByJob(jobId), Option.some(first));
        assert.deepStrictEqual(yield* store.findByJob(`missing-${uid()}`), Option.none());
      }),
    );

    it.effect(
      "commits a transaction without running an AsyncLocalStorage, which would switch on promise hooks for the process",
      () =>
        Effect.gen(function* () {
          const store = yield* PublicationStore;
          const created = yield* store.ensurePublication({
            jobId: `commit-${uid()}`,
            spaceKey: "MEET",
            parentPageId: null,
          });
          // MikroORM's flush runs in an AsyncLocalStorage; its first run makes every later promise
          // of the process pay for promise hooks (a tenth of the publisher's throughput).
          const runs = yield* Effect.acquireUseRelease(
            Effect.sync(() => {
              const counted = { n: 0 };
              const run = AsyncLocalStorage.prototype.run;
              AsyncLocalStorage.prototype.run = function <R>(
                this: AsyncLocalStorage<unknown>,
                ...args: Parameters<AsyncLocalStorage<unknown>["run"]>
              ): R {
                counted.n++;
                return run.apply(this, args) as R;
              };
              return { counted, run };
            }),
            ({ counted }) =>
              Effect.map(
                // A transition that records a page version is one transaction.
                store.transition(created.id, "published", {
                  pageId: "42",
                  pageVersion: 1,
                  version: {
                    pageId: "42",
                    pageVersion: 1,
                    contentHash: "sha256:1",
                    pageTitle: "T",
                    trigger: "event",
                  },
                }),
                () => counted.n,
              ),
            ({ run }) =>
              Effect.sync(() => {
                AsyncLocalStorage.prototype.run = run;
              }),
          );
          assert.strictEqual(runs, 0);
          const stored = yield* store.get(created.id);
          assert.strictEqual(stored.status, "published");
          assert.strictEqual(stored.pageId, "42");
          assert.deepStrictEqual(
            (yield* store.listVersions(created.jobId)).map((v) => v.pageVersion),
            [1],
          );
        }),
    );

    it.effect(
      "records a global space's key as Confluence knows it, so lists and statistics see one space",
      () =>
        Effect.gen(function* () {
          const store = yield* PublicationStore;
          const space = `sp${uid().replace(/[^A-Za-z0-9]/g, "")}`.slice(0, 30);
          const upper = space.toUpperCase();
          const created = yield* store.ensurePublication({
            jobId: `case-${uid()}`,
            spaceKey: space,
            parentPageId: null,
          });
          assert.strictEqual(created.spaceKey, upper);
          const moved = yield* store.ensurePublication({
            jobId: `case-${uid()}`,
            spaceKey: upper,
            parentPageId: null,
          });
          yield* store.transition(moved.id, "published", { spaceKey: space });
          const personal = yield* store.ensurePublication({
            jobId: `case-${uid()}`,
            spaceKey: "~alice",
            parentPageId: null,
          });
          assert.strictEqual(personal.spaceKey, "~alice");
          for (const filter of [space, upper]) {
            const page = yield* store.query({ spaceKey: filter });
            assert.deepStrictEqual(
              page.items.map((p) => [p.id, p.spaceKey]).sort(),
              [
                [created.id, upper],
                [moved.id, upper],
              ].sort(),
              filter,
            );
          }
          const stats = yield* store.stats({});
          assert.strictEqual(stats.bySpace[upper], 2);
          assert.isUndefined(stats.bySpace[space]);
        }),
    );

    it.effect("keeps one record per job when twenty publishers create it at once", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `race-${uid()}`;
        const results = yield* Effect.all(
          Array.from({ length: 20 }, () =>
            store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null }),
          ),
          { concurrency: "unbounded" },
        );
        const ids = new Set(results.map((r) => r.id));
        assert.strictEqual(ids.size, 1);
        assert.strictEqual((yield* store.listByJob(jobId)).length, 1);
      }),
    );

    it.effect("walks pending → publishing → published and records the page", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        yield* at("2030-01-01T10:00:00Z");
        const jobId = `flow-${uid()}`;
        yield* store.saveProtocol(protocol({ jobId, occurredAt: "2030-01-01T09:59:58Z" }));
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        const claimed = yield* store.claim({ jobId, owner: "pub-a", leaseMs: 60_000 });
        assert.isTrue(Option.isSome(claimed));
        yield* TestClock.adjust("1 second");
        const done = yield* store.transition(rec.id, "published", {
          pageId: "98765",
          pageUrl: "https://example.atlassian.net/wiki/spaces/MEET/pages/98765",
          pageTitle: "20301101 - Weekly",
          pageVersion: 1,
          contentHash: "sha256:aaaa",
          streamSequence: 7,
        });
        assert.strictEqual(done.status, "published");
        assert.strictEqual(done.pageId, "98765");
        assert.strictEqual(done.pageVersion, 1);
        assert.strictEqual(done.streamSequence, 7);
        assert.strictEqual(done.attempts, 1);
        assert.strictEqual(done.publishedAt, "2030-01-01T10:00:01.000Z");
        assert.strictEqual(done.updatedAt, "2030-01-01T10:00:01.000Z");
        // latency from the stored protocol's occurredAt when the caller gives none
        assert.strictEqual(done.latencyMs, 3_000);
        assert.isNull(done.errorMessage);
      }),
    );

    it.effect("records a failure with its error and clears it again on success", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `fail-${uid()}`;
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        yield* store.claim({ jobId, owner: "pub-a", leaseMs: 60_000 });
        const failed = yield* store.transition(rec.id, "failed", {
          errorMessage: "Confluence answered 503",
          errorTag: "ConfluenceServerError",
        });
        assert.strictEqual(failed.status, "failed");
        assert.strictEqual(failed.errorMessage, "Confluence answered 503");
        assert.strictEqual(failed.errorTag, "ConfluenceServerError");
        assert.strictEqual(failed.retryCount, 0);
        const retried = yield* store.transition(rec.id, "pending", { trigger: "retry" });
        assert.strictEqual(retried.retryCount, 1);
        assert.isNotNull(retried.lastRetryAt);
        assert.strictEqual(retried.trigger, "retry");
        const published = yield* store.transition(rec.id, "published", { latencyMs: 1234 });
        assert.isNull(published.errorMessage);
        assert.isNull(published.errorTag);
        assert.strictEqual(published.latencyMs, 1234);
        const marked = yield* store.markRetry(rec.id);
        assert.strictEqual(marked.retryCount, 2);
        assert.strictEqual(marked.status, "published");
      }),
    );

    it.effect("notes on a record being published why it takes long, and on no other record", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `note-${uid()}`;
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        const note = { errorTag: "ConfluenceRateLimitedError", errorMessage: "waiting 300 s" };
        yield* store.notePublishing(rec.id, note);
        assert.isNull((yield* store.get(rec.id)).errorTag);
        yield* store.claim({ jobId, owner: "pub-a", leaseMs: 60_000 });
        yield* store.notePublishing(rec.id, note);
        const noted = yield* store.get(rec.id);
        assert.strictEqual(noted.status, "publishing");
        assert.strictEqual(noted.errorTag, note.errorTag);
        assert.strictEqual(noted.errorMessage, note.errorMessage);
        const published = yield* store.transition(rec.id, "published", { latencyMs: 5 });
        assert.isNull(published.errorTag);
        assert.isNull(published.errorMessage);
      }),
    );

    it.effect("refuses transitions the lifecycle does not allow and names both statuses", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `bad-${uid()}`;
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        yield* store.transition(rec.id, "rejected", { errorMessage: "invalid event" });
        const error = yield* Effect.flip(store.transition(rec.id, "published"));
        assert.strictEqual(error._tag, "InvalidTransitionError");
        if (error._tag === "InvalidTransitionError") {
          assert.strictEqual(error.from, "rejected");
          assert.strictEqual(error.to, "published");
          assert.strictEqual(error.id, rec.id);
        }
        assert.strictEqual((yield* store.get(rec.id)).status, "rejected");
        // claim follows the same table: it may take a rejected record only if contracts allow it
        const claimed = yield* Effect.either(store.claim({ jobId, owner: "pub-a", leaseMs: 1000 }));
        assert.strictEqual(Either.isRight(claimed), canTransition("rejected", "publishing"));
        const missing = yield* Effect.flip(store.transition(-1, "published"));
        assert.strictEqual(missing._tag, "PublicationNotFoundError");
      }),
    );

    it.effect("lets exactly one of two concurrent claimers win the lease", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `claim-${uid()}`;
        yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        const [a, b] = yield* Effect.all(
          [
            store.claim({ jobId, owner: "pub-a", leaseMs: 60_000 }),
            store.claim({ jobId, owner: "pub-b", leaseMs: 60_000 }),
          ],
          { concurrency: "unbounded" },
        );
        assert.strictEqual([a, b].filter(Option.isSome).length, 1);
        const record = yield* store.findByJob(jobId).pipe(Effect.map(Option.getOrThrow));
        assert.strictEqual(record.status, "publishing");
        assert.strictEqual(record.attempts, 1);
      }),
    );

    it.effect("hands an expired lease to another publisher and keeps an unexpired one", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `lease-${uid()}`;
        const t0 = Date.parse("2030-01-02T00:00:00Z");
        yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        const a = yield* store.claim({ jobId, owner: "pub-a", leaseMs: 1_000, now: new Date(t0) });
        assert.isTrue(Option.isSome(a));
        const early = yield* store.claim({ jobId, owner: "pub-b", leaseMs: 1_000, now: new Date(t0 + 999) });
        assert.isTrue(Option.isNone(early));
        const renewed = yield* store.claim({
          jobId,
          owner: "pub-a",
          leaseMs: 1_000,
          now: new Date(t0 + 500),
        });
        assert.isTrue(Option.isSome(renewed));
        const late = yield* store.claim({ jobId, owner: "pub-b", leaseMs: 1_000, now: new Date(t0 + 1_501) });
        assert.isTrue(Option.isSome(late));
        assert.strictEqual(Option.getOrThrow(late).attempts, 3);
        const missing = yield* Effect.flip(store.claim({ jobId: `none-${uid()}`, owner: "x", leaseMs: 1 }));
        assert.strictEqual(missing._tag, "PublicationNotFoundError");
      }),
    );

    it.effect("tells a lease that is held from one whose holder stopped, as claim does", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        yield* at("2030-01-03T00:00:00Z");
        const jobId = `lease-read-${uid()}`;
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        const pending = yield* store.getLease(rec.id);
        assert.deepStrictEqual(pending, { publication: rec, owner: null, expiresAt: null, held: false });
        yield* store.claim({ jobId, owner: "pub-a/1", leaseMs: 1_000 });
        const held = yield* store.getLease(rec.id);
        assert.strictEqual(held.publication.status, "publishing");
        assert.deepStrictEqual(
          { owner: held.owner, expiresAt: held.expiresAt, held: held.held },
          { owner: "pub-a/1", expiresAt: "2030-01-03T00:00:01.000Z", held: true },
        );
        // At the instant it runs out another owner may claim it: it is no longer held.
        const ranOut = yield* store.getLease(rec.id, new Date("2030-01-03T00:00:01Z"));
        assert.isFalse(ranOut.held);
        assert.strictEqual(ranOut.owner, "pub-a/1");
        yield* TestClock.adjust("2 seconds");
        const stopped = yield* store.getLease(rec.id);
        assert.isFalse(stopped.held);
        assert.strictEqual(stopped.publication.status, "publishing");
        assert.isTrue(Option.isSome(yield* store.claim({ jobId, owner: "pub-b/1", leaseMs: 1_000 })));
        const taken = yield* store.getLease(rec.id);
        assert.deepStrictEqual([taken.owner, taken.held], ["pub-b/1", true]);
        const failed = yield* store.transition(rec.id, "failed", { errorMessage: "timeout" });
        assert.deepStrictEqual(yield* store.getLease(rec.id), {
          publication: failed,
          owner: null,
          expiresAt: null,
          held: false,
        });
        const missing = yield* Effect.flip(store.getLease(2_000_000_000));
        assert.strictEqual(missing._tag, "PublicationNotFoundError");
      }),
    );

    it.effect("creates and claims in one call with create, and still lets only one owner win", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `upsert-${uid()}`;
        const create = { spaceKey: "MEET", parentPageId: "123" };
        const [a, b] = yield* Effect.all(
          [
            store.claim({ jobId, owner: "pub-a", leaseMs: 60_000, create, trigger: "replay" }),
            store.claim({ jobId, owner: "pub-b", leaseMs: 60_000, create, trigger: "replay" }),
          ],
          { concurrency: "unbounded" },
        );
        assert.strictEqual([a, b].filter(Option.isSome).length, 1);
        const won = Option.getOrThrow(Option.orElse(a, () => b));
        assert.strictEqual(won.status, "publishing");
        assert.strictEqual(won.attempts, 1);
        assert.strictEqual(won.retryCount, 0);
        assert.strictEqual(won.spaceKey, "MEET");
        assert.strictEqual(won.parentPageId, "123");
        assert.strictEqual(won.trigger, "replay");
        const failed = yield* store.transition(won.id, "failed", { errorMessage: "timeout" });
        const again = yield* store.claim({
          jobId,
          owner: "pub-b",
          leaseMs: 60_000,
          create,
          trigger: "retry",
        });
        const record = Option.getOrThrow(again);
        assert.strictEqual(record.id, failed.id);
        assert.strictEqual(record.attempts, 2);
        assert.strictEqual(record.retryCount, 1);
        assert.strictEqual(record.trigger, "retry");
        assert.strictEqual((yield* store.listByJob(jobId)).length, 1);
      }),
    );

    it.effect("renews a lease only for the owner holding it, and a renewed lease keeps others out", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `renew-${uid()}`;
        const t0 = Date.parse("2030-01-03T00:00:00Z");
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        yield* store.claim({ jobId, owner: "pub-a", leaseMs: 1_000, now: new Date(t0) });
        const before = (yield* store.get(rec.id)).updatedAt;
        assert.isFalse(
          yield* store.renewLease({ id: rec.id, owner: "pub-b", leaseMs: 1_000, now: new Date(t0 + 600) }),
        );
        assert.isTrue(
          yield* store.renewLease({ id: rec.id, owner: "pub-a", leaseMs: 1_000, now: new Date(t0 + 600) }),
        );
        // Past the first lease, within the renewed one: still pub-a's.
        const early = yield* store.claim({
          jobId,
          owner: "pub-b",
          leaseMs: 1_000,
          now: new Date(t0 + 1_300),
        });
        assert.isTrue(Option.isNone(early));
        assert.strictEqual((yield* store.get(rec.id)).updatedAt, before);
        // Not renewed again: it expires and passes to pub-b, and pub-a cannot renew it back.
        const late = yield* store.claim({ jobId, owner: "pub-b", leaseMs: 1_000, now: new Date(t0 + 1_700) });
        assert.isTrue(Option.isSome(late));
        assert.isFalse(
          yield* store.renewLease({ id: rec.id, owner: "pub-a", leaseMs: 1_000, now: new Date(t0 + 1_800) }),
        );
        // Released by a transition: nothing left to renew.
        yield* store.transition(rec.id, "published", { latencyMs: 1, owner: "pub-b" });
        assert.isFalse(yield* store.renewLease({ id: rec.id, owner: "pub-b", leaseMs: 1_000 }));
      }),
    );

    it.effect("writes a transition with owner only while that owner holds the lease", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `owned-${uid()}`;
        const t0 = Date.parse("2030-01-04T00:00:00Z");
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        yield* store.claim({ jobId, owner: "pub-a", leaseMs: 1_000, now: new Date(t0) });
        // pub-a's lease expired unrenewed; pub-b took the record over and published it.
        yield* store.claim({ jobId, owner: "pub-b", leaseMs: 1_000, now: new Date(t0 + 1_500) });
        yield* store.notePublishing(rec.id, {
          errorTag: "Slow",
          errorMessage: "pub-a waits",
          owner: "pub-a",
        });
        assert.isNull((yield* store.get(rec.id)).errorTag);
        const published = yield* store.transition(rec.id, "published", {
          pageId: "p-2",
          pageVersion: 2,
          contentHash: "h-new",
          latencyMs: 5,
          owner: "pub-b",
        });
        assert.strictEqual(published.status, "published");
        // pub-a, late: neither its outcome nor its failure may replace pub-b's publication.
        for (const [to, patch] of [
          ["published", { pageVersion: 3, contentHash: "h-old", latencyMs: 9 }],
          ["published", { pageVersion: 3, contentHash: "h-old" }],
          ["pending", { errorMessage: "cannot move", errorTag: "InvalidTransitionError" }],
          ["failed", { errorMessage: "gave up" }],
        ] as const) {
          const lost = yield* Effect.flip(store.transition(rec.id, to, { ...patch, owner: "pub-a" }));
          assert.strictEqual(lost._tag, "LeaseLostError");
          assert.strictEqual(
            lost.message,
            `publication ${rec.id} is no longer claimed by pub-a: another attempt took it over`,
          );
        }
        assert.deepStrictEqual(yield* store.get(rec.id), published);
        // The owner that holds the lease writes as before.
        yield* store.claim({ jobId, owner: "pub-c", leaseMs: 60_000 });
        yield* store.notePublishing(rec.id, {
          errorTag: "Slow",
          errorMessage: "pub-c waits",
          owner: "pub-c",
        });
        assert.strictEqual((yield* store.get(rec.id)).errorMessage, "pub-c waits");
        const failed = yield* store.transition(rec.id, "failed", { errorMessage: "boom", owner: "pub-c" });
        assert.strictEqual(failed.status, "failed");
        assert.strictEqual(failed.pageVersion, 2);
      }),
    );

    it.effect("counts a retry when a failed record is claimed with the retry trigger", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `retry-${uid()}`;
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        yield* store.claim({ jobId, owner: "pub-a", leaseMs: 60_000 });
        yield* store.transition(rec.id, "failed", { errorMessage: "timeout" });
        // the failed transition released the lease: another owner can claim at once
        const claimed = yield* store.claim({ jobId, owner: "pub-b", leaseMs: 60_000, trigger: "retry" });
        const record = Option.getOrThrow(claimed);
        assert.strictEqual(record.retryCount, 1);
        assert.strictEqual(record.trigger, "retry");
        assert.strictEqual(record.attempts, 2);
      }),
    );

    it.effect("keeps the newer protocol when an older stream sequence is redelivered", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `proto-${uid()}`;
        const markdown = "# v10\n\nBackslash \\ quote ' question ? emoji 🎉 and ümlaut";
        const first = yield* store.saveProtocol(
          protocol({ jobId, markdown, streamSequence: 10, contentHash: "h10" }),
        );
        assert.strictEqual(first.outcome, "saved");
        const stale = yield* store.saveProtocol(
          protocol({ jobId, markdown: "# v5", streamSequence: 5, contentHash: "h5" }),
        );
        assert.strictEqual(stale.outcome, "stale");
        assert.strictEqual(stale.protocol.markdown, markdown);
        assert.strictEqual(stale.protocol.streamSequence, 10);
        const newer = yield* store.saveProtocol(
          protocol({ jobId, markdown: "# v11", streamSequence: 11, contentHash: "h11", filename: "v11.md" }),
        );
        assert.strictEqual(newer.outcome, "saved");
        const stored = Option.getOrThrow(yield* store.getProtocol(jobId));
        assert.strictEqual(stored.markdown, "# v11");
        assert.strictEqual(stored.filename, "v11.md");
        assert.strictEqual(stored.contentHash, "h11");
        assert.deepStrictEqual(stored.metadata, {
          topic: "Weekly",
          meetingDate: "2026-11-20",
          labels: ["team"],
          source: "recorder",
        });
        assert.isTrue(Option.isNone(yield* store.getProtocol(`none-${uid()}`)));
      }),
    );

    it.effect("takes an event stored after the protocol was saved as newer, whatever its sequence", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `restream-${uid()}`;
        yield* at("2030-01-01T10:00:00Z");
        yield* store.saveProtocol(protocol({ jobId, markdown: "# v10", streamSequence: 10 }));
        // Stored in the stream before the save: an older event of the same stream, redelivered.
        const redelivered = yield* store.saveProtocol(
          protocol({ jobId, markdown: "# v5", streamSequence: 5, storedAt: "2030-01-01T09:59:59Z" }),
        );
        assert.strictEqual(redelivered.outcome, "stale");
        // Stored after the save: a stream created anew (NATS lost its data) counts from 1 again.
        yield* at("2030-01-01T11:00:00Z");
        const renewed = yield* store.saveProtocol(
          protocol({ jobId, markdown: "# new stream", streamSequence: 1, storedAt: "2030-01-01T10:30:00Z" }),
        );
        assert.strictEqual(renewed.outcome, "saved");
        assert.strictEqual(renewed.protocol.streamSequence, 1);
        // From then on the new stream's sequences decide again.
        const older = yield* store.saveProtocol(
          protocol({ jobId, markdown: "# before", streamSequence: 0, storedAt: "2030-01-01T10:29:00Z" }),
        );
        assert.strictEqual(older.outcome, "stale");
        assert.strictEqual(Option.getOrThrow(yield* store.getProtocol(jobId)).markdown, "# new stream");
      }),
    );

    it.effect(
      "keeps the newer protocol when an older event comes after it, with this host's clock behind the NATS server's",
      () =>
        Effect.gen(function* () {
          const store = yield* PublicationStore;
          const jobId = `skew-${uid()}`;
          // This host's clock is 300 ms behind the server's: event 11, stored by JetStream at
          // 10:00:00.250, is saved here at 10:00:00.000 (10:00:00.300 on the server's clock).
          yield* at("2030-01-01T10:00:00.000Z");
          const newer = yield* store.saveProtocol(
            protocol({ jobId, markdown: "# N", streamSequence: 11, storedAt: "2030-01-01T10:00:00.250Z" }),
          );
          assert.strictEqual(newer.outcome, "saved");
          assert.strictEqual(newer.protocol.streamStoredAt, "2030-01-01T10:00:00.250Z");
          // Event 10, stored 100 ms before event 11, comes after it: redelivered after a nak, or
          // handled by a second publisher.
          yield* at("2030-01-01T10:00:00.050Z");
          const older = yield* store.saveProtocol(
            protocol({ jobId, markdown: "# O", streamSequence: 10, storedAt: "2030-01-01T10:00:00.150Z" }),
          );
          assert.strictEqual(older.outcome, "stale");
          assert.strictEqual(older.protocol.markdown, "# N");
          // Stored in the same millisecond: the sequence decides.
          const sameInstant = yield* store.saveProtocol(
            protocol({ jobId, markdown: "# O'", streamSequence: 10, storedAt: "2030-01-01T10:00:00.250Z" }),
          );
          assert.strictEqual(sameInstant.outcome, "stale");
          assert.strictEqual(Option.getOrThrow(yield* store.getProtocol(jobId)).markdown, "# N");
          // A stream created anew a second later (NATS lost its data): a lower sequence, stored later.
          yield* at("2030-01-01T10:00:01.000Z");
          const renewed = yield* store.saveProtocol(
            protocol({
              jobId,
              markdown: "# new stream",
              streamSequence: 1,
              storedAt: "2030-01-01T10:00:01.300Z",
            }),
          );
          assert.strictEqual(renewed.outcome, "saved");
          assert.strictEqual(renewed.protocol.streamStoredAt, "2030-01-01T10:00:01.300Z");
          // A save without the instant (not from the stream) forgets it: the sequence decides.
          const unstamped = yield* store.saveProtocol(
            protocol({ jobId, markdown: "# manual", streamSequence: 2 }),
          );
          assert.strictEqual(unstamped.outcome, "saved");
          assert.isNull(unstamped.protocol.streamStoredAt);
        }),
    );

    it.effect("falls back to occurredAt when a protocol has no stream sequence", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `manual-${uid()}`;
        const base = { jobId, streamSequence: null };
        yield* store.saveProtocol(protocol({ ...base, markdown: "new", occurredAt: "2030-01-02T00:00:00Z" }));
        const older = yield* store.saveProtocol(
          protocol({ ...base, markdown: "old", occurredAt: "2030-01-01T00:00:00Z" }),
        );
        assert.strictEqual(older.outcome, "stale");
        assert.strictEqual(older.protocol.markdown, "new");
        const newest = yield* store.saveProtocol(
          protocol({ ...base, markdown: "newest", occurredAt: "2030-01-03T00:00:00Z" }),
        );
        assert.strictEqual(newest.outcome, "saved");
        assert.strictEqual(newest.protocol.occurredAt, "2030-01-03T00:00:00.000Z");
      }),
    );

    it.effect("stores a one-mebibyte protocol unchanged", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `big-${uid()}`;
        const markdown = "| a | b |\n|---|---|\n| x \\| y | 'z' |\n".repeat(1 << 15).slice(0, 1 << 20);
        yield* store.saveProtocol(protocol({ jobId, markdown, streamSequence: null }));
        const stored = Option.getOrThrow(yield* store.getProtocol(jobId));
        assert.strictEqual(stored.markdown.length, 1 << 20);
        assert.isTrue(stored.markdown === markdown);
        assert.isNull(stored.streamSequence);
      }),
    );

    it.effect("records each page version once and lists them oldest first", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `ver-${uid()}`;
        const pageId = String(Math.floor(Math.random() * 1e12));
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        const input = {
          publicationId: rec.id,
          pageId,
          pageVersion: 1,
          contentHash: "h1",
          pageTitle: "Weekly",
          trigger: "event",
        } as const;
        const v1 = yield* store.recordVersion(input);
        const again = yield* store.recordVersion({ ...input, contentHash: "different" });
        assert.deepStrictEqual(again, v1);
        assert.strictEqual(v1.jobId, jobId);
        yield* store.recordVersion({ ...input, pageVersion: 2, contentHash: "h2", trigger: "manual" });
        const versions = yield* store.listVersions(jobId);
        assert.deepStrictEqual(
          versions.map((v) => [v.pageVersion, v.contentHash, v.trigger]),
          [
            [1, "h1", "event"],
            [2, "h2", "manual"],
          ],
        );
        const missing = yield* Effect.flip(store.recordVersion({ ...input, publicationId: -1 }));
        assert.strictEqual(missing._tag, "PublicationNotFoundError");
      }),
    );

    it.effect("deletes a record with its versions and returns what it deleted", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const jobId = `del-${uid()}`;
        const rec = yield* store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
        yield* store.recordVersion({
          publicationId: rec.id,
          pageId: `p-${uid()}`,
          pageVersion: 1,
          contentHash: "h",
          pageTitle: "t",
          trigger: "event",
        });
        const deleted = yield* store.deletePublication(rec.id);
        assert.deepStrictEqual(deleted, rec);
        assert.strictEqual((yield* Effect.flip(store.get(rec.id)))._tag, "PublicationNotFoundError");
        assert.strictEqual(
          (yield* Effect.flip(store.deletePublication(rec.id)))._tag,
          "PublicationNotFoundError",
        );
        assert.deepStrictEqual(yield* store.listVersions(jobId), []);
      }),
    );

    it.effect("pages through 120 records without duplicates or gaps while new records arrive", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const space = `Q${uid()}`;
        const base = Date.parse("2030-02-01T00:00:00Z");
        // 12 distinct instants, 10 records each: ties are broken by id
        const created = yield* times(120, (i) =>
          TestClock.setTime(base + Math.floor(i / 10) * 1_000).pipe(
            Effect.zipRight(
              store.ensurePublication({ jobId: `${space}-${i}`, spaceKey: space, parentPageId: null }),
            ),
          ),
        );
        const seen: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: { items: ReadonlyArray<{ id: number }>; nextCursor: string | null } =
            yield* store.query({
              spaceKey: space,
              limit: 25,
              cursor,
            });
          seen.push(...page.items.map((p) => p.id));
          cursor = page.nextCursor;
          pages++;
          if (pages === 1) {
            // arrivals during paging land before the cursor and never shift later pages
            yield* TestClock.setTime(base + 1_000_000);
            yield* times(5, (i) =>
              store.ensurePublication({ jobId: `${space}-late-${i}`, spaceKey: space, parentPageId: null }),
            );
          }
        } while (cursor !== null);
        assert.strictEqual(pages, 5);
        assert.strictEqual(seen.length, 120);
        assert.strictEqual(new Set(seen).size, 120);
        const expected = [...created]
          .sort((a, b) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt) || b.id - a.id)
          .map((p) => p.id);
        assert.deepStrictEqual(seen, expected);

        const all = yield* store.query({ spaceKey: space, limit: 500 });
        assert.strictEqual(all.items.length, 125);
        assert.isNull(all.nextCursor);
        const window = yield* store.query({
          spaceKey: space,
          since: new Date(base + 2_000),
          until: new Date(base + 5_000),
          limit: 500,
        });
        assert.strictEqual(window.items.length, 30);
        const one = yield* store.query({ spaceKey: space, limit: 0 });
        assert.strictEqual(one.items.length, 1);
        const clamped = yield* store.query({ limit: 10_000 });
        assert.isAtMost(clamped.items.length, 500);
      }),
    );

    it.effect("filters by status and rejects a cursor it did not issue", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const space = `F${uid()}`;
        const records = yield* times(10, (i) =>
          store.ensurePublication({ jobId: `${space}-${i}`, spaceKey: space, parentPageId: null }),
        );
        yield* Effect.forEach(records.slice(0, 3), (r) =>
          store.transition(r.id, "failed", { errorMessage: "x" }),
        );
        yield* store.transition(records[3]!.id, "rejected");
        const failed = yield* store.query({ spaceKey: space, status: "failed" });
        assert.strictEqual(failed.items.length, 3);
        assert.isTrue(failed.items.every((p) => p.status === "failed"));
        const several = yield* store.query({ spaceKey: space, status: ["failed", "rejected"] });
        assert.strictEqual(several.items.length, 4);
        const pending = yield* store.query({ spaceKey: space, status: "pending" });
        assert.strictEqual(pending.items.length, 6);
        const error = yield* Effect.flip(store.query({ cursor: "not-a-cursor!" }));
        assert.strictEqual(error._tag, "InvalidCursorError");
        const forged = yield* Effect.flip(
          store.query({ cursor: Buffer.from("[1,2]").toString("base64url") }),
        );
        assert.strictEqual(forged._tag, "InvalidCursorError");
        // well-formed, but a time no Date holds / an id no row has: refused, not a query failure
        for (const position of [
          [Number.MAX_SAFE_INTEGER, 1],
          [-Number.MAX_SAFE_INTEGER, 1],
          [8.64e15 + 1, 5],
          [Date.now(), 2_147_483_648],
          [Date.now(), 0],
        ]) {
          const tampered = yield* Effect.flip(
            store.query({ cursor: Buffer.from(JSON.stringify(["p1", ...position])).toString("base64url") }),
          );
          assert.strictEqual(tampered._tag, "InvalidCursorError", JSON.stringify(position));
        }
      }),
    );

    it.effect("computes statistics for a known set of records", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        const s = uid();
        const make = (day: string, space: string) =>
          at(`2030-03-${day}T12:00:00Z`).pipe(
            Effect.zipRight(
              store.ensurePublication({ jobId: `stats-${s}-${uid()}`, spaceKey: space, parentPageId: null }),
            ),
          );
        const publish = (day: string, space: string, latencyMs: number) =>
          make(day, space).pipe(Effect.flatMap((r) => store.transition(r.id, "published", { latencyMs })));
        yield* publish("01", "S1", 100);
        yield* publish("01", "S1", 200);
        yield* publish("02", "S1", 300);
        yield* publish("02", "S2", 400);
        const failed = yield* make("02", "S2");
        yield* store.transition(failed.id, "failed", { errorMessage: "boom" });
        yield* store.markRetry(failed.id);
        yield* store.markRetry(failed.id);
        yield* make("03", "S2");
        const rejected = yield* make("03", "S1");
        yield* store.transition(rejected.id, "rejected");
        // An archived meeting was published all the same: a success, with its latency.
        const archived = yield* publish("03", "S1", 500);
        yield* at("2030-03-03T13:00:00Z").pipe(Effect.zipRight(store.transition(archived.id, "archived")));
        // Archived weeks later: it still counts on the day it was published, not on the archive run's.
        const archivedLater = yield* publish("04", "S2", 600);
        yield* at("2030-03-20T12:00:00Z").pipe(
          Effect.zipRight(store.transition(archivedLater.id, "archived")),
        );
        // outside the window
        yield* publish("10", "S1", 9_999);

        const stats = yield* store.stats({
          since: new Date("2030-03-01T00:00:00Z"),
          until: new Date("2030-03-05T00:00:00Z"),
        });
        assert.deepStrictEqual(stats, {
          since: "2030-03-01T00:00:00.000Z",
          until: "2030-03-05T00:00:00.000Z",
          total: 9,
          byStatus: { published: 4, failed: 1, pending: 1, rejected: 1, archived: 2 },
          bySpace: { S1: 5, S2: 4 },
          // published and archived over those plus failed and rejected
          successRate: 6 / 8,
          retries: 2,
          latencyMs: { p50: 300, p95: 600 },
          perDay: [
            { day: "2030-03-01", published: 2, failed: 0, total: 2 },
            { day: "2030-03-02", published: 2, failed: 1, total: 3 },
            // the rejected protocol counts as failed, as in the success rate
            { day: "2030-03-03", published: 1, failed: 1, total: 3 },
            { day: "2030-03-04", published: 1, failed: 0, total: 1 },
          ],
        });
        const archiveRunDay = yield* store.stats({
          since: new Date("2030-03-20T00:00:00Z"),
          until: new Date("2030-03-21T00:00:00Z"),
        });
        assert.strictEqual(archiveRunDay.total, 0);
        const empty = yield* store.stats({
          since: new Date("2031-01-01T00:00:00Z"),
          until: new Date("2031-01-02T00:00:00Z"),
        });
        assert.strictEqual(empty.total, 0);
        assert.isNull(empty.successRate);
        assert.deepStrictEqual(empty.latencyMs, { p50: null, p95: null });
        assert.deepStrictEqual(empty.perDay, []);
      }),
    );

    it.effect("answers a health check", () =>
      Effect.gen(function* () {
        const store = yield* PublicationStore;
        yield* store.health();
      }),
    );
  });
});

describe("a claim racing a release on PostgreSQL", () => {
  // The other attempt publishes between the claim's UPDATE (which saw its lease) and the claim's
  // read of the record. A statement-level trigger puts that commit exactly there: it runs after
  // every UPDATE of the table, also one that matched no row, before the claim reads again.
  it.scoped(
    "claims a record released right after the claim lost to its lease, instead of failing",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig("postgresql");
        const store = yield* PublicationStore.make(config);
        const jobId = `released-${uid()}`;
        const create = { spaceKey: "MEET", parentPageId: null };
        yield* store.claim({ jobId, owner: "pub-a", leaseMs: 60_000, create });
        yield* execOnPostgres(
          config,
          `create function release_after_update() returns trigger language plpgsql as $$
           begin
             if pg_trigger_depth() = 1 then
               update confluence_publications
                 set publication_status = 'published', claimed_by = null, claimed_until = null
                 where job_id = '${jobId}' and claimed_by = 'pub-a';
             end if;
             return null;
           end $$;
           create trigger release_after_update after insert or update on confluence_publications
             for each statement execute function release_after_update();`,
        );
        const claimed = yield* store.claim({ jobId, owner: "pub-b", leaseMs: 60_000, create });
        assert.isTrue(Option.isSome(claimed));
        const record = Option.getOrThrow(claimed);
        assert.strictEqual(record.status, "publishing");
        assert.strictEqual(record.attempts, 2);
        assert.isTrue(yield* store.renewLease({ id: record.id, owner: "pub-b", leaseMs: 60_000 }));
      }),
    120_000,
  );
});

describe.each(BACKENDS)("a publication and its page version on $name", ({ name }) => {
  /** Runs DDL on the store's own database, beside the store's connection. */
  const execOnStore = (config: StoreConfig, sql: string) =>
    config.type === "postgresql"
      ? execOnPostgres(config, sql)
      : Effect.sync(() => {
          const db = new Libsql(String(config.sqlitePath));
          try {
            db.exec(sql);
          } finally {
            db.close();
          }
        });

  /** Makes every insert into the version history fail, as a full disk or a lost connection would. */
  const refuseVersions = (config: StoreConfig) =>
    execOnStore(
      config,
      config.type === "postgresql"
        ? `create function refuse_versions() returns trigger language plpgsql as $$
           begin raise exception 'versions refused'; end $$;
           create trigger refuse_versions before insert on confluence_publication_versions
             for each row execute function refuse_versions();`
        : `create trigger refuse_versions before insert on confluence_publication_versions
           begin select raise(fail, 'versions refused'); end`,
    );

  it.scoped(
    "are recorded together or not at all",
    () =>
      Effect.gen(function* () {
        const config = yield* freshConfig(name);
        const store = yield* PublicationStore.make(config);
        const jobId = `together-${uid()}`;
        yield* store.saveProtocol(protocol({ jobId }));
        const claimed = yield* store.claim({
          jobId,
          owner: "pub-a",
          leaseMs: 60_000,
          create: { spaceKey: "MEET", parentPageId: null },
        });
        const record = Option.getOrThrow(claimed);
        const patch = {
          pageId: "4711",
          pageTitle: "Weekly",
          pageVersion: 3,
          contentHash: "sha256:abc",
          owner: "pub-a",
          version: {
            pageId: "4711",
            pageVersion: 3,
            contentHash: "sha256:abc",
            pageTitle: "Weekly",
            trigger: "event",
          },
        } as const;

        yield* refuseVersions(config);
        const refused = yield* Effect.exit(store.transition(record.id, "published", patch));
        assert.isTrue(Exit.isFailure(refused));
        // The record did not move without its version: it is still being published, and its
        // next attempt records both.
        const unchanged = yield* store.get(record.id);
        assert.strictEqual(unchanged.status, "publishing");
        assert.isNull(unchanged.pageId);
        assert.deepStrictEqual(yield* store.listVersions(jobId), []);

        yield* execOnStore(
          config,
          `drop trigger refuse_versions${config.type === "postgresql" ? " on confluence_publication_versions" : ""}`,
        );
        const published = yield* store.transition(record.id, "published", patch);
        assert.strictEqual(published.status, "published");
        assert.strictEqual(published.pageVersion, 3);
        const versions = yield* store.listVersions(jobId);
        assert.deepStrictEqual(
          versions.map((v) => [v.publicationId, v.pageId, v.pageVersion, v.contentHash, v.trigger]),
          [[record.id, "4711", 3, "sha256:abc", "event"]],
        );
      }),
    120_000,
  );
});

describe.each(BACKENDS)("counting records by status on $name", ({ name }) => {
  it.scoped(
    "counts every status in one statement over the status index, the counts stats has",
    () =>
      Effect.gen(function* () {
        const logged: Array<string> = [];
        const config = yield* freshConfig(name);
        const store = yield* PublicationStore.make({ ...config, debug: true, logger: (m) => logged.push(m) });
        const create = (jobId: string) =>
          store.ensurePublication({ jobId, spaceKey: "S", parentPageId: null });
        assert.deepStrictEqual(yield* store.countByStatus(), {
          pending: 0,
          publishing: 0,
          published: 0,
          failed: 0,
          rejected: 0,
          archived: 0,
        });
        yield* create("pending-1");
        yield* create("pending-2");
        for (const jobId of ["published-1", "published-2", "published-3"]) {
          const r = yield* create(jobId);
          yield* store.transition(r.id, "published", { latencyMs: 100 });
        }
        const failed = yield* create("failed-1");
        yield* store.transition(failed.id, "failed", { errorMessage: "boom" });
        yield* store.claim({
          jobId: "publishing-1",
          owner: "pub",
          leaseMs: 60_000,
          create: { spaceKey: "S", parentPageId: null },
        });

        logged.length = 0;
        const counts = yield* store.countByStatus();
        const statements = logged.filter((m) => m.includes("[query]"));
        assert.deepStrictEqual(counts, {
          pending: 2,
          publishing: 1,
          published: 3,
          failed: 1,
          rejected: 0,
          archived: 0,
        });
        // One aggregate: none of the per-day, space or latency percentile queries of `stats`.
        assert.strictEqual(statements.length, 1, statements.join("\n"));
        assert.match(statements[0] ?? "", /group by publication_status/);
        assert.notMatch(statements[0] ?? "", /latency_ms|order by/);
        const stats = yield* store.stats();
        for (const [status, n] of Object.entries(counts)) assert.strictEqual(stats.byStatus[status] ?? 0, n);
      }),
    60_000,
  );
});
