import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type FakePublisher, startFakePublisher } from "./helpers/FakePublisher.js";
import { eventually, type Harness, protocolBody, startHarness } from "./helpers/harness.js";

const harnesses: Array<Harness> = [];
let publisher: FakePublisher | undefined;
afterEach(async () => {
  await publisher?.stop();
  publisher = undefined;
  for (const h of harnesses.splice(0)) await h.close();
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
    expect(lines[0]).toMatchObject({ kind: "header" });
    expect(lines.filter((l) => l.kind === "protocol")).toHaveLength(3);
    expect(lines.filter((l) => l.kind === "publication")).toHaveLength(3);

    const target = await start();
    const imported = await target.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...target.auth, "content-type": "application/x-ndjson" },
      payload: exported.body,
    });
    expect(imported.statusCode).toBe(200);
    expect(imported.json()).toMatchObject({ imported: 6, updated: 0, errors: [] });
    const again = await target.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...target.auth, "content-type": "application/x-ndjson" },
      payload: exported.body,
    });
    expect(again.json()).toMatchObject({ imported: 0, updated: 0 });
    const record = await Effect.runPromise(target.store.findByJob("b-1"));
    expect(record._tag === "Some" && record.value.status).toBe("published");
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
    const abort = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: bad,
    });
    expect(abort.statusCode).toBe(400);
    expect(abort.json().detail).toContain("import line 2");
    const skip = await h.app.inject({
      method: "POST",
      url: "/api/import?onInvalidLine=skip",
      headers: { ...h.auth, "content-type": "application/x-ndjson" },
      payload: bad,
    });
    expect(skip.statusCode).toBe(200);
    expect(skip.json()).toMatchObject({ imported: 0, skipped: 1, errors: [{ line: 2 }] });
  });
});
