// DELETE …?deletePage=true while the gateway has no Confluence client answers as /health/confluence
// does for the same cause: a 503 only an operator fixes (no Retry-After) naming the settings to
// change, not a 409 that reads as a conflict in the record's state. Real HTTP, NATS and SQLite.
import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, listen, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("deleting a record's page without a Confluence client", () => {
  it("answers 503 confluence-not-configured without Retry-After, as the health check does, and keeps the record", async () => {
    h = await startHarness();
    const store = h.store;
    const base = await listen(h);
    const ensured = await Effect.runPromise(
      store.ensurePublication({ jobId: "job-unconfigured", spaceKey: "MEETINGS", parentPageId: null }),
    );
    const record = await Effect.runPromise(store.transition(ensured.id, "published", { pageId: "65560" }));

    const res = await fetch(`${base}/api/publications/${record.id}?deletePage=true`, {
      method: "DELETE",
      headers: h.auth,
    });
    const health = await fetch(`${base}/health/confluence`, { headers: h.auth });

    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.headers.get("retry-after")).toBeNull();
    const body = (await res.json()) as { type: string; status: number; detail: string };
    const healthBody = (await health.json()) as { type: string; status: number };
    expect({ status: body.status, type: body.type }).toEqual({
      status: health.status,
      type: healthBody.type,
    });
    expect(body.type).toBe("urn:minutes:problem:confluence-not-configured");
    expect(body.detail).toContain("the page 65560 was not deleted and the record was kept");
    for (const setting of ["confluence.enabled", "confluence.base_url", "confluence.api_token", "restart"])
      expect(body.detail).toContain(setting);
    expect(await Effect.runPromise(store.get(record.id))).toMatchObject({ id: record.id, pageId: "65560" });
  });

  it("is documented as that 503 in the OpenAPI document, no longer as a 409", async () => {
    h = await startHarness();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const responses = doc.paths["/api/publications/{id}"].delete.responses;
    expect(responses["503"].description).toContain("urn:minutes:problem:confluence-not-configured");
    expect(responses["503"].description).toContain("no `Retry-After`");
    expect(responses["409"].description).not.toMatch(/no Confluence client/);
  });
});
