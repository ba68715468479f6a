// An import's upload holds the gateway's one import slot: one that trickles (a byte now and then,
// never idle for the idle limit) must still be cut off, freeing the slot, with nothing imported.
// A real HTTP client on a real listening gateway; real NATS and SQLite.
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { eventually, type Harness, startHarness } from "./helpers/harness.js";

const harnesses: Array<Harness> = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await cleanUp(...cleanups.splice(0), ...harnesses.splice(0).map((h) => () => h.close()));
});

describe("an import whose upload trickles", () => {
  it("is answered 408 once the upload limit is over, imports nothing, and frees the slot for the next import", async () => {
    // Idle never: a piece every 50 ms, far under the idle limit; the upload limit ends it.
    const h = await startHarness({ importIdleTimeoutMs: 10_000, importUploadTimeoutMs: 800 });
    harnesses.push(h);
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = h.app.server.address() as AddressInfo;
    const lines = exportOf(["trickled-1", "trickled-2", "trickled-3"]).split("\n");

    const startedAt = Date.now();
    const answer = new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = request({
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/api/import",
          headers: { ...h.auth, "content-type": "application/x-ndjson", "transfer-encoding": "chunked" },
        });
        // Every line but the end line, a few bytes at a time, then single spaces: never complete.
        let text = `${lines.slice(0, -2).join("\n")}\n`;
        const trickle = setInterval(() => {
          const piece = text.length > 0 ? text.slice(0, 40) : " ";
          text = text.slice(piece.length);
          req.write(piece);
        }, 50);
        cleanups.push(() => {
          clearInterval(trickle);
          req.destroy();
        });
        req.on("response", (res) => {
          clearInterval(trickle);
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        // The gateway closes the connection after its answer; a write after that fails here.
        req.on("error", (error) => reject(error));
      },
    );

    // While it trickles, the slot is taken: another import is refused.
    await eventually(async () => ((await postImport(h, "probe\n")).statusCode === 409 ? true : undefined));

    const res = await answer;
    expect(res.status).toBe(408);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(800);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.body).detail).toBe(
      "the upload was not complete after 0.8 s, the longest an import's upload may take; nothing was imported: send the file again over a faster connection",
    );
    // Nothing of the lines that had arrived was imported.
    for (const jobId of ["trickled-1", "trickled-2", "trickled-3"])
      expect(await Effect.runPromise(h.store.getProtocol(jobId)), jobId).toMatchObject({ _tag: "None" });
    // The slot is free: the same file, sent whole, is imported.
    const next = await postImport(h, exportOf(["trickled-1", "trickled-2", "trickled-3"]));
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ imported: 3, invalid: 0 });
  });

  it("still imports an upload that arrives within the limit, however it is cut into pieces", async () => {
    const h = await startHarness({ importIdleTimeoutMs: 10_000, importUploadTimeoutMs: 5_000 });
    harnesses.push(h);
    await h.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = h.app.server.address() as AddressInfo;
    const body = exportOf(["piece-1", "piece-2"]);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/import",
        headers: { ...h.auth, "content-type": "application/x-ndjson", "transfer-encoding": "chunked" },
      });
      req.on("response", (r) => {
        let text = "";
        r.setEncoding("utf8");
        r.on("data", (chunk: string) => {
          text += chunk;
        });
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      for (let at = 0; at < body.length; at += 25) req.write(body.slice(at, at + 25));
      req.end();
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ imported: 2, invalid: 0 });
  });
});

// internal

const postImport = (h: Harness, payload: string) =>
  h.app.inject({
    method: "POST",
    url: "/api/import",
    headers: { ...h.auth, "content-type": "application/x-ndjson" },
    payload,
  });

/** A whole export (format version 2) of one protocol per job. */
const exportOf = (jobIds: ReadonlyArray<string>): string =>
  [
    JSON.stringify({ kind: "header", format: "minutes-publication-store", version: 2 }),
    ...jobIds.map((jobId) =>
      JSON.stringify({
        kind: "protocol",
        jobId,
        markdown: `# ${jobId}\n`,
        filename: `${jobId}.md`,
        metadata: {},
        contentHash: `sha256:${jobId}`,
        streamSequence: null,
        occurredAt: "2030-01-01T00:00:00.000Z",
        receivedAt: "2030-01-01T00:00:00.000Z",
        updatedAt: "2030-01-01T00:00:00.000Z",
      }),
    ),
    JSON.stringify({ kind: "end", protocols: jobIds.length, publications: 0, versions: 0 }),
    "",
  ].join("\n");
