// What `successRate` of GET /api/stats tells its users: the share of the protocols that ended that
// were published. A rejected protocol was not published, so it counts against the rate.
import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("GET /api/stats successRate", () => {
  it("counts rejected records as not published, and leaves records still under way out", async () => {
    h = await startHarness();
    const store = h.store;
    const record = (jobId: string, status?: "published" | "failed" | "rejected") =>
      Effect.runPromise(
        store
          .ensurePublication({ jobId, spaceKey: "MEETINGS", parentPageId: null })
          .pipe(
            Effect.flatMap((r) =>
              status === undefined
                ? Effect.succeed(r)
                : store.transition(r.id, status, status === "published" ? { pageId: `p-${jobId}` } : {}),
            ),
          ),
      );
    await record("ok", "published");
    await record("broken", "failed");
    await record("invalid-1", "rejected");
    await record("invalid-2", "rejected");
    await record("waiting");

    const res = await h.app.inject({ method: "GET", url: "/api/stats", headers: h.auth });

    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      total: 5,
      byStatus: { published: 1, failed: 1, rejected: 2, pending: 1 },
      successRate: 0.25,
    });
  });

  it("is null while nothing ended, and 0 when every ending was a rejection", async () => {
    h = await startHarness();
    const store = h.store;
    await Effect.runPromise(
      store.ensurePublication({ jobId: "waiting", spaceKey: "MEETINGS", parentPageId: null }),
    );
    const none = await h.app.inject({ method: "GET", url: "/api/stats", headers: h.auth });
    expect(none.json()).toMatchObject({ total: 1, successRate: null });
    const rejected = await Effect.runPromise(
      store.ensurePublication({ jobId: "invalid", spaceKey: "MEETINGS", parentPageId: null }),
    );
    await Effect.runPromise(store.transition(rejected.id, "rejected"));
    const all = await h.app.inject({ method: "GET", url: "/api/stats", headers: h.auth });
    expect(all.json()).toMatchObject({ total: 2, successRate: 0 });
  });

  it("says in the OpenAPI document how it is computed", async () => {
    h = await startHarness();
    const doc = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    expect(doc.paths["/api/stats"].get.responses["200"].description).toContain(
      "(published + archived) / (published + archived + failed + rejected)",
    );
  });
});
