import { assert, it } from "@effect/vitest";
import { Chunk, Effect, Option, Stream } from "effect";
import { describe } from "vitest";
import {
  IMPORT_MAX_ERRORS,
  IMPORT_MAX_INVALID,
  type ImportOptions,
  PublicationStore,
  type PublicationStoreShape,
} from "../src/PublicationStore.js";
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
        storedAt: "2030-04-01T07:59:59.500Z",
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
        // header + 207 publications (each batch followed by its versions: 2) + 2 protocols + end
        assert.strictEqual(lines.length, 1 + 207 + 2 + 2 + 1);
        assert.deepStrictEqual(
          [...new Set(lines.map((l) => (JSON.parse(l) as { kind: string }).kind))],
          ["header", "publication", "version", "protocol", "end"],
        );
        assert.deepStrictEqual(JSON.parse(lines[0]!), {
          kind: "header",
          format: "minutes-publication-store",
          version: 2,
        });
        assert.deepStrictEqual(JSON.parse(lines.at(-1)!), {
          kind: "end",
          protocols: 2,
          publications: 207,
          versions: 2,
        });

        const target = yield* openFresh(name);
        const first = yield* target.importJsonl(source.exportJsonl());
        assert.deepStrictEqual(first, {
          imported: 211,
          updated: 0,
          skipped: 2,
          invalid: 0,
          errors: [],
          errorsOmitted: 0,
        });
        assert.deepStrictEqual(yield* exported(target), lines);
        // When JetStream stored a protocol's event goes with it: what the next event is compared with.
        const restored = Option.getOrThrow(yield* target.getProtocol("job-a"));
        assert.strictEqual(restored.streamStoredAt, "2030-04-01T07:59:59.500Z");
        assert.isNull(Option.getOrThrow(yield* target.getProtocol("job-b")).streamStoredAt);

        const second = yield* target.importJsonl(Stream.fromIterable(lines));
        assert.deepStrictEqual(second, {
          imported: 0,
          updated: 0,
          skipped: 213,
          invalid: 0,
          errors: [],
          errorsOmitted: 0,
        });
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
    "restores an export taken while records are created, given versions and deleted between its batches",
    () =>
      Effect.gen(function* () {
        const source = yield* openFresh(name);
        yield* populate(source);
        const a = Option.getOrThrow(yield* source.findByJob("job-a"));
        // The export is read in batches: pull it piece by piece, and between the pieces do what a
        // publisher does meanwhile (a new job's protocol, record and page version; another version
        // of an exported page) and what a cleanup does (delete a record with its versions).
        const pull = yield* Stream.toPull(source.exportJsonl());
        const lines: Array<string> = [];
        for (let step = 1; ; step++) {
          const piece = yield* pull.pipe(
            Effect.map(Option.some),
            Effect.catchAll(
              Option.match({ onNone: () => Effect.succeedNone, onSome: (e) => Effect.fail(e) }),
            ),
          );
          if (Option.isNone(piece)) break;
          lines.push(...piece.value);
          const jobId = `during-${step}`;
          yield* source.saveProtocol(protocol({ jobId, streamSequence: step }));
          const made = yield* source.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null });
          yield* source.recordVersion({
            publicationId: made.id,
            pageId: `page-${jobId}`,
            pageVersion: 1,
            contentHash: "sha256:d",
            pageTitle: jobId,
            trigger: "event",
          });
          yield* source.recordVersion({
            publicationId: a.id,
            pageId: "1001",
            pageVersion: 10 + step,
            contentHash: "sha256:a",
            pageTitle: "20300401 - A",
            trigger: "event",
          });
          const doomed = yield* source.findByJob(`bulk-${step * 20}`);
          if (Option.isSome(doomed)) yield* source.deletePublication(doomed.value.id);
        }
        const parsed = lines.map((l) => JSON.parse(l) as { kind: string; jobId?: string });
        const jobsOf = (kind: string) => new Set(parsed.filter((l) => l.kind === kind).map((l) => l.jobId));
        // Records created during the export are in it, with their versions: the test raced something.
        const publications = jobsOf("publication");
        assert.isTrue([...publications].some((j) => j?.startsWith("during-")));
        assert.isTrue(parsed.some((l) => l.kind === "version" && l.jobId?.startsWith("during-")));
        // A record saved after its protocol comes with that protocol.
        const protocols = jobsOf("protocol");
        for (const jobId of publications)
          if (jobId?.startsWith("during-")) assert.isTrue(protocols.has(jobId));

        const target = yield* openFresh(name);
        const result = yield* target.importJsonl(Stream.fromIterable(lines));
        assert.strictEqual(result.invalid, 0);
        for (const jobId of publications) assert.isTrue(Option.isSome(yield* target.findByJob(jobId ?? "")));
      }),
    { timeout: 120_000 },
  );

  it.scoped(
    "refuses a file cut short, without its header or whose end line counts other lines, writing nothing",
    () =>
      Effect.gen(function* () {
        const source = yield* openFresh(name);
        yield* populate(source);
        const lines = [...(yield* exported(source))];
        const target = yield* openFresh(name);
        const empty = [...(yield* exported(target))];
        const refusal = (file: ReadonlyArray<string>, options?: ImportOptions) =>
          Effect.flip(target.importJsonl(Stream.fromIterable(file), options)).pipe(
            Effect.map((e) => (e._tag === "ImportLineError" ? e.message : e._tag)),
          );

        // Cut at a line boundary, anywhere: also with the newline after the last line (a blank
        // line) and when bad lines are skipped.
        for (const kept of [1, 2, 150, 207, lines.length - 1]) {
          const message = `import line ${kept + 1}: the file ends after line ${kept} without its end line: the export was cut short`;
          assert.strictEqual(yield* refusal(lines.slice(0, kept)), message);
          assert.strictEqual(yield* refusal([...lines.slice(0, kept), ""]), message);
          assert.strictEqual(yield* refusal(lines.slice(0, kept), { onInvalidLine: "skip" }), message);
        }
        for (const nothing of [[], [""], ["", "  ", ""]]) {
          assert.strictEqual(
            yield* refusal(nothing),
            "import line 1: the file is empty: a Minutes export has at least its header line",
          );
        }
        assert.strictEqual(
          yield* refusal(["", ...lines.slice(1)], { onInvalidLine: "skip" }),
          'import line 2: expected the header line first, got a publication line: a Minutes export starts with {"kind":"header","format":"minutes-publication-store",…}',
        );
        // Lines left out or added are refused also when bad lines are skipped; only unreadable lines
        // skipped may stand for lines the end line counts.
        const withoutOne = [...lines.slice(0, 3), ...lines.slice(4)];
        const missing = `import line ${withoutOne.length}: the end line counts 2 protocols, 207 publications and 2 versions, but the file has 2 protocols, 206 publications and 2 versions`;
        assert.strictEqual(
          yield* refusal(withoutOne),
          `${missing}: lines are missing, it is not the export as written`,
        );
        assert.strictEqual(
          yield* refusal(withoutOne, { onInvalidLine: "skip" }),
          `${missing}: lines are missing, it is not the export as written`,
        );
        const withOneMore = [...lines.slice(0, 3), lines.at(-2)!, ...lines.slice(3)];
        assert.strictEqual(
          yield* refusal(withOneMore, { onInvalidLine: "skip" }),
          `import line ${withOneMore.length}: the end line counts 2 protocols, 207 publications and 2 versions, but the file has 3 protocols, 207 publications and 2 versions: lines were added, it is not the export as written`,
        );
        const twoGarbled = [...lines.slice(0, 3), "{garbled", ...lines.slice(5)];
        assert.strictEqual(
          yield* refusal(twoGarbled, { onInvalidLine: "skip" }),
          `import line ${twoGarbled.length}: the end line counts 2 protocols, 207 publications and 2 versions, but the file has 2 protocols, 205 publications and 2 versions (and 1 unreadable line, skipped): lines are missing, it is not the export as written`,
        );
        assert.strictEqual(
          yield* refusal([...lines, "", lines[1]!]),
          `import line ${lines.length + 2}: a line after the end line (line ${lines.length}): an export ends with its end line, and one file holds one export`,
        );
        assert.strictEqual(
          yield* refusal([...lines.slice(0, 2), lines[0]!, ...lines.slice(2)]),
          "import line 3: a second header line (the first is line 1): one file holds one export",
        );
        assert.deepStrictEqual(yield* exported(target), empty);

        // A version 1 file (exported before the end line existed) ends without one.
        const v1 = [HEADER, ...lines.slice(1, -1)];
        const result = yield* target.importJsonl(Stream.fromIterable(v1));
        assert.deepStrictEqual(result, {
          imported: 211,
          updated: 0,
          skipped: 1,
          invalid: 0,
          errors: [],
          errorsOmitted: 0,
        });
        assert.deepStrictEqual(yield* exported(target), lines);
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
        assert.deepStrictEqual(result, {
          imported: 0,
          updated: 1,
          skipped: 2,
          invalid: 0,
          errors: [],
          errorsOmitted: 0,
        });
        const restored = yield* target.get(rec.id);
        assert.strictEqual(restored.status, "failed");
        assert.strictEqual(restored.errorMessage, "later failure");
        // the older copy does not win back
        yield* at("2030-05-03T00:00:00Z");
        yield* target.transition(rec.id, "pending", { trigger: "retry" });
        const older = yield* target.importJsonl(source.exportJsonl());
        assert.deepStrictEqual(older, {
          imported: 0,
          updated: 0,
          skipped: 3,
          invalid: 0,
          errors: [],
          errorsOmitted: 0,
        });
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
          // every issue is collected; the reason names the first three and counts the rest
          assert.match(
            error.reason,
            /^id: is missing; jobId: expected a string, got 42; status: is missing; and \d+ more$/,
          );
        }
        const emptyExport = [
          lines[0]!,
          JSON.stringify({ kind: "end", protocols: 0, publications: 0, versions: 0 }),
        ];
        assert.deepStrictEqual(yield* exported(target), emptyExport);

        // Text with U+0000 cannot be stored: the line is invalid, named as such, and nothing is written.
        const publicationLine = lines.findIndex((l) => l.includes('"kind":"publication"'));
        const withNul = [...lines];
        withNul[publicationLine] = withNul[publicationLine]!.replace('"jobId":"', '"jobId":"\\u0000');
        const nul = yield* Effect.flip(target.importJsonl(Stream.fromIterable(withNul)));
        assert.strictEqual(nul._tag, "ImportLineError");
        if (nul._tag === "ImportLineError") {
          assert.strictEqual(nul.line, publicationLine + 1);
          assert.strictEqual(nul.reason, "jobId: must not contain the NUL character (U+0000)");
        }
        assert.deepStrictEqual(yield* exported(target), emptyExport);

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
        const orphanError = yield* Effect.flip(target.importJsonl(Stream.make(lines[0]!, orphan)));
        assert.strictEqual(orphanError._tag, "ImportLineError");
        assert.strictEqual(
          orphanError.message,
          'import line 2: no publication for job "nobody" (its publication line must come first)',
        );
        assert.deepStrictEqual(yield* exported(target), emptyExport);

        // The orphan in place of a version line, as a damaged file has it: the end line's counts
        // still match (the unreadable line added at line 7 is not of a kind it counts).
        const replaced = broken.findLastIndex((l) => l.startsWith('{"kind":"version"'));
        const damaged = broken.with(replaced, orphan);
        const skipping = yield* target.importJsonl(Stream.fromIterable(damaged), {
          onInvalidLine: "skip",
        });
        // the header, the end line and the two invalid lines were skipped; the blank line is not
        // counted
        assert.deepStrictEqual(
          { ...skipping, errors: skipping.errors.map((e) => e.line) },
          {
            imported: 210,
            updated: 0,
            skipped: 4,
            invalid: 2,
            errors: [7, replaced + 1],
            errorsOmitted: 0,
          },
        );
        // everything but the replaced version
        assert.deepStrictEqual(
          yield* exported(target),
          lines
            .filter((l) => l !== broken[replaced])
            .with(-1, JSON.stringify({ kind: "end", protocols: 2, publications: 207, versions: 1 })),
        );
      }),
    { timeout: 120_000 },
  );

  it.scoped(
    "skips up to ten thousand invalid lines, listing the first hundred with short reasons and counting all",
    () =>
      Effect.gen(function* () {
        const store = yield* openFresh(name);
        const garbage = "x".repeat(1_000);
        const total = IMPORT_MAX_INVALID + 1; // one of them blank
        // header, a protocol, the garbage (with one blank line in it), another protocol
        const file = function* () {
          yield HEADER;
          yield protocolLine("kept-1");
          for (let i = 0; i < total; i++) yield i === 500 ? "" : garbage;
          yield protocolLine("kept-2");
        };
        const result = yield* store.importJsonl(Stream.fromIterable({ [Symbol.iterator]: file }), {
          onInvalidLine: "skip",
        });

        const invalid = total - 1;
        assert.strictEqual(result.imported, 2);
        assert.strictEqual(result.updated, 0);
        assert.strictEqual(result.invalid, invalid);
        assert.strictEqual(result.skipped, 1 + invalid);
        assert.strictEqual(result.errors.length, IMPORT_MAX_ERRORS);
        assert.strictEqual(result.errorsOmitted, invalid - IMPORT_MAX_ERRORS);
        assert.deepStrictEqual(
          result.errors.map((e) => e.line),
          Array.from({ length: IMPORT_MAX_ERRORS }, (_, i) => i + 3),
        );
        for (const e of result.errors) {
          assert.match(e.reason, /^Unexpected token 'x', "x+"\.\.\. is not valid JSON$/);
          assert.isAtMost(e.reason.length, 160);
        }
        // Lines without `streamStoredAt` (exported before it existed) import with none.
        assert.isNull(Option.getOrThrow(yield* store.getProtocol("kept-1")).streamStoredAt);
        assert.isTrue(Option.isSome(yield* store.getProtocol("kept-2")));
      }),
    { timeout: 120_000 },
  );

  it.scoped(
    "imports a record's page as verified nowhere, whatever the exporting installation verified",
    () =>
      Effect.gen(function* () {
        const source = yield* openFresh(name);
        const site = "https://a.atlassian.net/wiki";
        const record = yield* source.ensurePublication({
          jobId: "job-v",
          spaceKey: "MEET",
          parentPageId: null,
        });
        yield* source.claim({ jobId: "job-v", owner: "pub", leaseMs: 60_000 });
        yield* source.transition(record.id, "published", {
          pageId: "65541",
          pageVersion: 1,
          contentHash: "sha256:v",
          verifiedOn: site,
        });
        const claimed = (store: PublicationStoreShape) =>
          store.claim({ jobId: "job-v", owner: "check", leaseMs: 60_000 }).pipe(
            Effect.map(Option.getOrThrow),
            Effect.tap((r) => store.transition(r.id, "published", {})),
          );
        assert.strictEqual((yield* claimed(source)).pageVerifiedOn, site);
        // Never in the export: it would vouch for a page on a site the importer cannot know.
        const lines = yield* exported(source);
        assert.isFalse(lines.some((l) => l.includes(site)));

        const target = yield* openFresh(name);
        yield* target.importJsonl(Stream.fromIterable(lines));
        const imported = yield* claimed(target);
        assert.strictEqual(imported.pageId, "65541");
        assert.strictEqual(imported.pageVerifiedOn, null);
        // A page id set without saying where it was verified is not verified anywhere either.
        yield* source.claim({ jobId: "job-v", owner: "pub", leaseMs: 60_000 });
        yield* source.transition(record.id, "published", { pageId: "65542" });
        assert.strictEqual((yield* claimed(source)).pageVerifiedOn, null);
      }),
    { timeout: 60_000 },
  );

  it.scoped("gives up on a file that is mostly not an export, writing nothing", () =>
    Effect.gen(function* () {
      const store = yield* openFresh(name);
      const file = function* () {
        yield HEADER;
        yield protocolLine("not-kept");
        for (let i = 0; i <= IMPORT_MAX_INVALID; i++) yield "{x}";
      };
      const error = yield* Effect.flip(
        store.importJsonl(Stream.fromIterable({ [Symbol.iterator]: file }), { onInvalidLine: "skip" }),
      );
      assert.strictEqual(error._tag, "ImportLineError");
      assert.strictEqual(
        error.message,
        `import line ${IMPORT_MAX_INVALID + 3}: more than ${IMPORT_MAX_INVALID} invalid lines: this is not a Minutes export; nothing was imported`,
      );
      assert.isTrue(Option.isNone(yield* store.getProtocol("not-kept")));
    }),
  );

  it.scoped("names the field, what was expected and what was found, in a reason of bounded length", () =>
    Effect.gen(function* () {
      const store = yield* openFresh(name);
      const reasonOf = (line: string) =>
        Effect.flip(store.importJsonl(Stream.make(line))).pipe(
          Effect.map((e) => (e._tag === "ImportLineError" ? e.message : e._tag)),
        );

      assert.strictEqual(
        yield* reasonOf(JSON.stringify({ kind: "header", format: "minutes-publication-store", version: 3 })),
        "import line 1: version: expected one of 1, 2, got 3",
      );
      assert.strictEqual(
        yield* reasonOf('{"kind":"nope"}'),
        'import line 1: kind: expected one of "header", "protocol", "publication", "version", "end", got "nope"',
      );
      assert.strictEqual(
        yield* reasonOf(JSON.stringify({ ...JSON.parse(protocolLine("job-m")), markdown: 5 })),
        "import line 1: markdown: expected a string, got 5",
      );
      // a megabyte-long value is cut, not quoted whole
      const long = yield* reasonOf(JSON.stringify({ kind: "k".repeat(1_000_000) }));
      assert.match(
        long,
        /^import line 1: kind: expected one of "header", "protocol", "publication", "version", "end", got "k+"…$/,
      );
      assert.isAtMost(long.length, 200);
      const many = yield* reasonOf(JSON.stringify({ kind: "publication", jobId: 1, status: 2, spaceKey: 3 }));
      assert.match(many, /; and \d+ more$/);
      assert.isAtMost(many.length, 600);
    }),
  );

  it.scoped("gives the event loop turns while it reads a long file", () =>
    Effect.gen(function* () {
      const store = yield* openFresh(name);
      // Counts turns of the event loop: a setImmediate that queues itself again.
      let turns = 0;
      let ticking = true;
      const tick = () => {
        turns += 1;
        if (ticking) setImmediate(tick);
      };
      yield* Effect.acquireRelease(
        Effect.sync(() => setImmediate(tick)),
        () =>
          Effect.sync(() => {
            ticking = false;
          }),
      );
      let first: number | undefined;
      let last = 0;
      const file = function* () {
        yield HEADER;
        for (let i = 0; i < IMPORT_MAX_INVALID; i++) {
          first ??= turns;
          last = turns;
          yield "not json";
        }
      };
      const result = yield* store.importJsonl(Stream.fromIterable({ [Symbol.iterator]: file }), {
        onInvalidLine: "skip",
      });
      // The lines are pulled in chunks; the last chunk is pulled after thousands were imported.
      assert.isAbove(last - (first ?? last), 0);
      assert.strictEqual(result.invalid, IMPORT_MAX_INVALID);
    }),
  );
});

// A version 1 header: such files end without an end line, so these tests' files need none.
const HEADER = JSON.stringify({ kind: "header", format: "minutes-publication-store", version: 1 });

const protocolLine = (jobId: string): string =>
  JSON.stringify({
    kind: "protocol",
    jobId,
    markdown: "# Kept",
    filename: "kept.md",
    metadata: {},
    contentHash: "sha256:k",
    streamSequence: null,
    occurredAt: "2030-01-01T00:00:00.000Z",
    receivedAt: "2030-01-01T00:00:00.000Z",
    updatedAt: "2030-01-01T00:00:00.000Z",
  });
