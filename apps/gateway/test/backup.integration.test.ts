import { PassThrough, Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import { eventually, type Harness, protocolBody, startHarness } from "./helpers/harness.js";

const harnesses: Array<Harness> = [];
let publisher: FakePublisher | undefined;
afterEach(async () => {
  const p = publisher;
  publisher = undefined;
  await cleanUp(() => p?.stop(), ...harnesses.splice(0).map((h) => () => h.close()));
});

const start = async (...args: Parameters<typeof startHarness>) => {
  const h = await startHarness(...args);
  harnesses.push(h);
  return h;
};

describe("export and import", () => {
  it("exports JSON Lines and imports them into another store, idempotently", async () => {
    const source = await start();
    publisher = await startFakePublisher(source.nc, source.store, source.config);
    for (const jobId of ["b-1", "b-2", "b-3"]) {
      await source.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: source.auth,
        payload: protocolBody(jobId),
      });
    }
    await eventually(async () =>
      (await source.app.inject({ method: "GET", url: "/api/stats", headers: source.auth })).json().total === 3
        ? true
        : undefined,
    );
    await source.app.inject({
      method: "POST",
      url: "/api/jobs/b-1/publish-confluence",
      headers: source.auth,
    });

    const exported = await source.app.inject({ method: "GET", url: "/api/export", headers: source.auth });
    expect(exported.statusCode).toBe(200);
    expect(exported.headers["content-type"]).toMatch(/^application\/x-ndjson/);
    expect(exported.headers["content-disposition"]).toMatch(
      /^attachment; filename="minutes-export-.*\.jsonl"$/,
    );
    const lines = exported.body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ kind: "header", version: 2 });
    expect(lines.filter((l) => l.kind === "protocol")).toHaveLength(3);
    expect(lines.filter((l) => l.kind === "publication")).toHaveLength(3);
    expect(lines.at(-1)).toEqual({
      kind: "end",
      protocols: 3,
      publications: 3,
      versions: lines.filter((l) => l.kind === "version").length,
    });

    const target = await start();
    const imported = await postImport(target, exported.body);
    expect(imported.statusCode).toBe(200);
    expect(imported.json()).toEqual({
      imported: 6,
      updated: 0,
      skipped: 2,
      invalid: 0,
      errors: [],
      errorsOmitted: 0,
    });
    const again = await postImport(target, exported.body);
    expect(again.json()).toMatchObject({ imported: 0, updated: 0 });
    const record = await Effect.runPromise(target.store.findByJob("b-1"));
    expect(record._tag === "Some" && record.value.status).toBe("published");
  });

  it("refuses an export cut short, an empty body and a file without its header with a 400, writing nothing", async () => {
    const source = await start();
    for (const jobId of ["c-1", "c-2"]) {
      await Effect.runPromise(
        source.store.ensurePublication({ jobId, spaceKey: "MEET", parentPageId: null }),
      );
    }
    const body = (await source.app.inject({ method: "GET", url: "/api/export", headers: source.auth })).body;
    const lines = body.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(4);
    const target = await start();
    const post = (payload: string, query = "") =>
      target.app.inject({
        method: "POST",
        url: `/api/import${query}`,
        headers: { ...target.auth, "content-type": "application/x-ndjson" },
        payload,
      });
    const refusals: ReadonlyArray<readonly [string, string]> = [
      [
        `${lines.slice(0, 3).join("\n")}\n`,
        "import line 4: the file ends after line 3 without its end line: the export was cut short",
      ],
      ["", "import line 1: the file is empty: a Minutes export has at least its header line"],
      [
        lines.slice(1).join("\n"),
        'import line 1: expected the header line first, got a publication line: a Minutes export starts with {"kind":"header","format":"minutes-publication-store",…}',
      ],
      [
        [lines[0], lines[2], lines[3]].join("\n"),
        "import line 3: the end line counts 0 protocols, 2 publications and 0 versions, but the file has 0 protocols, 1 publication and 0 versions: lines are missing, it is not the export as written",
      ],
    ];
    for (const [payload, detail] of refusals) {
      for (const query of ["", "?onInvalidLine=skip"]) {
        const res = await post(payload, query);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ status: 400, detail });
      }
    }
    for (const jobId of ["c-1", "c-2"])
      expect(await Effect.runPromise(target.store.findByJob(jobId))).toMatchObject({ _tag: "None" });

    // An export of the previous format (version 1) has no end line, and still imports.
    const v1 = [lines[0]?.replace('"version":2', '"version":1'), lines[1], lines[2]].join("\n");
    const restored = await post(v1);
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ imported: 2, skipped: 1, invalid: 0 });
  });

  it("answers 413 for a backup over the import limit, naming the setting that raises it", async () => {
    const h = await start({ overrides: { gateway: { body_limit_bytes: 1_024 } } });
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: "x".repeat(64 * 1_024 + 1),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      status: 413,
      title: "Payload too large",
      detail:
        "the request body is larger than the 65536 bytes this route accepts: an import takes up to 64 × gateway.body_limit_bytes (1024 bytes); to restore a larger backup, raise gateway.body_limit_bytes (MINUTES_GATEWAY__BODY_LIMIT_BYTES) and restart the gateway",
    });
  });

  it("refuses other content types with 415 and bad lines with 400 (or reports them with onInvalidLine=skip)", async () => {
    const h = await start();
    const json = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: h.auth,
      payload: { kind: "header" },
    });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ status: 415 });
    const bad = '{"kind":"header","format":"minutes-publication-store","version":1}\n{"kind":"nope"}\n';
    const abort = await postImport(h, bad);
    expect(abort.statusCode).toBe(400);
    expect(abort.json().detail).toBe(
      'import line 2: kind: expected one of "header", "protocol", "publication", "version", "end", got "nope"',
    );
    const skip = await h.app.inject({
      method: "POST",
      url: "/api/import?onInvalidLine=skip",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: bad,
    });
    expect(skip.statusCode).toBe(200);
    expect(skip.json()).toEqual({
      imported: 0,
      updated: 0,
      skipped: 2,
      invalid: 1,
      errors: [
        {
          line: 2,
          reason: 'kind: expected one of "header", "protocol", "publication", "version", "end", got "nope"',
        },
      ],
      errorsOmitted: 0,
    });
  });

  it("names the bad field of a refused header in a short 400", async () => {
    const h = await start();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: `${JSON.stringify({ kind: "header", format: "minutes-publication-store", version: 3 })}\n`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      type: "urn:minutes:problem:invalid-request",
      title: "Invalid request",
      status: 400,
      detail: "import line 1: version: expected one of 1, 2, got 3",
      instance: "/api/import",
      errors: [{ path: "body", message: "import line 1: version: expected one of 1, 2, got 3" }],
    });
  });

  it("lists the first 100 invalid lines with readable reasons and counts every one", async () => {
    const h = await start();
    const header = JSON.stringify({ kind: "header", format: "minutes-publication-store", version: 1 });
    const protocol = JSON.stringify({
      kind: "protocol",
      jobId: "kept",
      markdown: "# Kept",
      filename: "kept.md",
      metadata: {},
      contentHash: "sha256:k",
      streamSequence: null,
      occurredAt: "2030-01-01T00:00:00.000Z",
      receivedAt: "2030-01-01T00:00:00.000Z",
      updatedAt: "2030-01-01T00:00:00.000Z",
    });
    const garbage = "x".repeat(1_000);
    const bad = 5_000;
    const body = [header, ...Array.from({ length: bad }, () => garbage), protocol, ""].join("\n");
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import?onInvalidLine=skip",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const summary = res.json();
    expect(summary).toMatchObject({
      imported: 1,
      updated: 0,
      skipped: 1 + bad,
      invalid: bad,
      errorsOmitted: bad - 100,
    });
    expect(summary.errors).toHaveLength(100);
    expect(summary.errors[0]).toEqual({
      line: 2,
      reason: expect.stringMatching(/^Unexpected token 'x', "x+"\.\.\. is not valid JSON$/),
    });
    expect(summary.errors.at(-1).line).toBe(101);
    // 100 short reasons, not 5,000 copies of Effect's type signatures
    expect(res.body.length).toBeLessThan(100 * 200);
    const kept = await Effect.runPromise(h.store.getProtocol("kept"));
    expect(kept._tag).toBe("Some");
  });

  it("documents the import summary in the OpenAPI document", async () => {
    const h = await start();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const schema = doc.paths["/api/import"].post.responses["200"].content["application/json"].schema;
    expect(schema.required).toEqual(
      expect.arrayContaining(["imported", "updated", "skipped", "invalid", "errors", "errorsOmitted"]),
    );
    expect(schema.properties.errors.items.required).toEqual(["line", "reason"]);
  });

  it("documents the NDJSON request body in the OpenAPI document, with an example it imports", async () => {
    const h = await start();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const body = doc.paths["/api/import"].post.requestBody;
    expect(body.required).toBe(true);
    expect(Object.keys(body.content)).toEqual(["application/x-ndjson"]);
    const documented = body.content["application/x-ndjson"];
    expect(documented.schema.type).toBe("string");
    expect(JSON.stringify(doc)).not.toContain("x-documented-body");
    // What Swagger UI would send from the document: accepted as a whole (empty) export.
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: documented.example,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ imported: 0, updated: 0, invalid: 0 });
  });

  it("imports a body that arrives in small chunks, splitting lines and multi-byte characters", async () => {
    const h = await start();
    const markdown = "# Café – 会議 😀\n\n- Zoë’s item\n";
    const body = exportOf([protocolLine("utf8-1", markdown), protocolLine("utf8-2", "# ü\n")], "\r\n");
    const bytes = Buffer.from(body);
    // Chunks of 1 to 5 bytes: cuts fall inside lines, inside "\r\n" and inside characters.
    const chunks: Array<Buffer> = [];
    for (let at = 0, n = 0; at < bytes.length; n++) {
      const size = 1 + (n % 5);
      chunks.push(bytes.subarray(at, at + size));
      at += size;
    }
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: Readable.from(chunks, { objectMode: false }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ imported: 2, updated: 0, skipped: 2, invalid: 0 });
    const stored = await Effect.runPromise(h.store.getProtocol("utf8-1"));
    expect(stored._tag === "Some" && stored.value.markdown).toBe(markdown);
  });

  it("answers 413 for a chunked body (no content-length) once it passes the limit, writing nothing", async () => {
    const h = await start({ overrides: { gateway: { body_limit_bytes: 1_024 } } });
    const lines = Array.from({ length: 200 }, (_, i) => protocolLine(`big-${i}`, "x".repeat(400)));
    const body = Buffer.from(exportOf(lines));
    expect(body.length).toBeGreaterThan(64 * 1_024);
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: Readable.from(chunksOf(body, 4_096), { objectMode: false }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().detail).toBe(
      "the request body is larger than the 65536 bytes this route accepts: an import takes up to 64 × gateway.body_limit_bytes (1024 bytes); to restore a larger backup, raise gateway.body_limit_bytes (MINUTES_GATEWAY__BODY_LIMIT_BYTES) and restart the gateway",
    );
    expect(await Effect.runPromise(h.store.getProtocol("big-0"))).toMatchObject({ _tag: "None" });
  });

  it("answers a second import 409 with Retry-After while the first runs, then imports again", async () => {
    const h = await start();
    const lines = [protocolLine("slow-1", "# One\n"), protocolLine("slow-2", "# Two\n")];
    const [header, first, second, end] = exportOf(lines).split("\n");
    const upload = new PassThrough();
    const post = (payload: string | PassThrough) => postImport(h, payload);
    // Sent now (`inject` sends when awaited); the body stays open until the test ends it.
    const running = Promise.resolve(post(upload));
    upload.write(`${header}\n${first}\n`);
    // Until the first import has started, a probe is imported, and refused as not an export
    // (writing nothing); then it is refused as a second import.
    const refused = await eventually(async () => {
      const res = await post("probe\n");
      return res.statusCode === 409 ? res : undefined;
    });
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.headers["retry-after"]).toBe("30");
    expect(refused.json()).toMatchObject({
      status: 409,
      title: "Conflict",
      detail: "an import is already running; try again when it has finished",
    });
    upload.end(`${second}\n${end}\n`);
    const done = await running;
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ imported: 2 });
    // Finished: the next import runs.
    const next = await post(exportOf([protocolLine("other", "# Other\n")]));
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ imported: 1 });
  });

  it("keeps the database writable while an import's upload is still arriving", async () => {
    const h = await start();
    const [header, first, end] = exportOf([protocolLine("late-1", "# One\n")]).split("\n");
    const upload = new PassThrough();
    const running = Promise.resolve(postImport(h, upload));
    upload.write(`${header}\n${first}\n`);
    await importRunning(h);
    // A publisher's write while the client is still sending: it does not wait for the upload
    // (were the transaction open, this would wait until the body ended, which it does only after).
    const written = await Effect.runPromise(
      h.store.ensurePublication({ jobId: "meanwhile", spaceKey: "MEETINGS", parentPageId: null }),
    );
    expect(written.jobId).toBe("meanwhile");
    upload.end(`${end}\n`);
    const done = await running;
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ imported: 1 });
  });

  it("answers 408 to an upload that stalls, importing nothing, and lets the next import run", async () => {
    const h = await start({ importIdleTimeoutMs: 300 });
    const [header, first] = exportOf([protocolLine("stalled-1", "# One\n")]).split("\n");
    const upload = new PassThrough();
    const running = Promise.resolve(postImport(h, upload));
    // Part of the file, then nothing: the client stalled (its connection stays open).
    upload.write(`${header}\n${first}\n`);
    const res = await running;
    expect(res.statusCode).toBe(408);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.headers.connection).toBe("close");
    expect(res.json().detail).toBe(
      "the upload sent nothing for 0.3 s; nothing was imported: send the file again",
    );
    expect(await Effect.runPromise(h.store.getProtocol("stalled-1"))).toMatchObject({ _tag: "None" });
    const next = await postImport(h, exportOf([protocolLine("stalled-1", "# One\n")]));
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ imported: 1 });
    upload.destroy();
  });

  it("rolls back an upload that stops halfway and lets the next import run", async () => {
    const h = await start();
    const [header, first] = exportOf([protocolLine("cut-1", "# One\n")]).split("\n");
    const upload = new PassThrough();
    const running = Promise.resolve(postImport(h, upload)).then(
      (res) => res.statusCode,
      () => "connection closed",
    );
    upload.write(`${header}\n${first}\n`);
    // The import is running once a second one is refused; then the client goes away.
    await importRunning(h);
    upload.destroy(new Error("the client went away"));
    // The client sees its connection closed; the gateway rolls the import back.
    expect(await running).toBe("connection closed");
    expect(await Effect.runPromise(h.store.getProtocol("cut-1"))).toMatchObject({ _tag: "None" });
    // The gateway frees the slot once it has cleaned up after the closed upload.
    const next = await eventually(async () => {
      const res = await postImport(h, exportOf([protocolLine("cut-1", "# One\n")]));
      return res.statusCode === 409 ? undefined : res;
    });
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ imported: 1 });
  });

  it("documents the 409 of a running import with its Retry-After in the OpenAPI document", async () => {
    const h = await start();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const conflict = doc.paths["/api/import"].post.responses["409"];
    expect(conflict.description).toContain("another import is running");
    expect(conflict.content["application/problem+json"].example.detail).toBe(
      "an import is already running; try again when it has finished",
    );
    expect(Object.keys(conflict.headers)).toEqual(["Retry-After"]);
  });

  it("imports a large export without holding it in memory", async () => {
    const h = await start();
    const protocols = 1_500;
    const markdown = `# Minutes\n\n${"- a decision was taken and written down\n".repeat(800)}`;
    const lineBytes = Buffer.byteLength(protocolLine("large-00000", markdown)) + 1;
    const bodyBytes = protocols * lineBytes;
    expect(bodyBytes).toBeGreaterThan(40_000_000);
    // The body comes from a generator, so neither side of the test holds it; the gateway runs in
    // this process, so its heap and buffers are measured here, at every chunk it asks for.
    const gc = collector();
    gc();
    const base = usedBytes();
    let peak = base;
    async function* body() {
      yield Buffer.from(`${JSON.stringify(HEADER)}\n`);
      for (let i = 0; i < protocols; i++) {
        // What is held, not garbage not collected yet: measured after a full collection.
        if (i % 100 === 0) {
          gc();
          peak = Math.max(peak, usedBytes());
        }
        const id = `large-${String(i).padStart(5, "0")}`;
        yield Buffer.from(`${protocolLine(id, markdown)}\n`);
      }
      yield Buffer.from(`${JSON.stringify(endLine(protocols))}\n`);
    }
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: Readable.from(body(), { objectMode: false }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ imported: protocols, invalid: 0 });
    // A gateway that reads the body whole holds it at least once (its bytes, then its text).
    const growth = peak - base;
    expect(growth, `grew by ${growth} bytes for a ${bodyBytes}-byte body`).toBeLessThan(bodyBytes / 4);
  });
});

// internal

const HEADER = { kind: "header", format: "minutes-publication-store", version: 2 } as const;

const endLine = (protocols: number) => ({ kind: "end", protocols, publications: 0, versions: 0 });

const protocolLine = (jobId: string, markdown: string): string =>
  JSON.stringify({
    kind: "protocol",
    jobId,
    markdown,
    filename: `${jobId}.md`,
    metadata: {},
    contentHash: `sha256:${jobId}`,
    streamSequence: null,
    occurredAt: "2030-01-01T00:00:00.000Z",
    receivedAt: "2030-01-01T00:00:00.000Z",
    updatedAt: "2030-01-01T00:00:00.000Z",
  });

/** A whole export (format version 2) of these protocol lines. */
const exportOf = (protocolLines: ReadonlyArray<string>, newline = "\n"): string =>
  [JSON.stringify(HEADER), ...protocolLines, JSON.stringify(endLine(protocolLines.length)), ""].join(newline);

const chunksOf = (bytes: Buffer, size: number): Array<Buffer> =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

/** The heap in use plus the buffers outside it (a body read whole is held in Buffers first). */
const usedBytes = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** A full garbage collection, for a baseline without garbage of earlier tests. */
const collector = (): (() => void) => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
};

/** `POST /api/import` of `payload`: a string, or a stream the test writes and ends. */
const postImport = (h: Harness, payload: string | PassThrough) =>
  h.app.inject({
    method: "POST",
    url: "/api/import",
    headers: { ...h.auth, "content-type": "application/x-ndjson" },
    payload,
  });

/**
 * Waits until an import runs: a probe is then refused 409 (before, the probe is imported itself and
 * refused as not an export, writing nothing).
 */
const importRunning = (h: Harness) =>
  eventually(async () => ((await postImport(h, "probe\n")).statusCode === 409 ? true : undefined));
