import { describe, expect, it } from "vitest";
import { createV2Page, sandbox } from "../helpers/sandbox.js";

describe("admin endpoints", () => {
  it("sets and clears faults with POST and DELETE /sandbox/admin/faults", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const set = await call("POST", "/sandbox/admin/faults", {
      base: sb.origin,
      body: { seed: 7, faults: [{ kind: "status", status: 502, times: 1 }] },
    });
    expect(set.status).toBe(200);
    expect(set.body.faults).toHaveLength(1);
    expect((await call("GET", "/api/v2/spaces")).status).toBe(502);
    await call("POST", "/sandbox/admin/faults", { base: sb.origin, body: { kind: "rateLimit" } });
    expect((await call("GET", "/api/v2/spaces")).status).toBe(429);
    expect((await call("DELETE", "/sandbox/admin/faults", { base: sb.origin })).status).toBe(204);
    expect((await call("GET", "/api/v2/spaces")).status).toBe(200);
    const bad = await call("POST", "/sandbox/admin/faults", { base: sb.origin, body: { kind: "explode" } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({
      error: "fault kind must be one of latency, rateLimit, status, reset, hang, lostResponse",
    });
  });

  it("refuses a body that is no object with 400 and says what it must be, adding no fault", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    for (const rawBody of ["null", "5", '"status"', "[]"]) {
      const res = await call("POST", "/sandbox/admin/faults", { base: sb.origin, rawBody });
      expect(res.status, rawBody).toBe(400);
      expect(res.body, rawBody).toEqual({
        error: 'the body must be one fault rule or { "faults": [rules], "seed": number }',
      });
    }
    expect(sb.faults.list()).toEqual([]);
  });

  it("refuses a list of faults with one invalid rule whole, adding none of them", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const res = await call("POST", "/sandbox/admin/faults", {
      base: sb.origin,
      body: {
        faults: [
          { kind: "status", status: 502 },
          { kind: "status", times: -1 },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "fault times must be a positive integer" });
    expect((await call("GET", "/sandbox/admin/faults", { base: sb.origin })).body).toEqual({ faults: [] });
    expect((await call("GET", "/api/v2/spaces")).status).toBe(200);
  });

  it("adds a user whose token works right away, so a test can edit as a person", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const added = await call("POST", "/sandbox/admin/users", {
      base: sb.origin,
      body: { email: "bob@example.com", displayName: "Bob" },
    });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ email: "bob@example.com", displayName: "Bob" });
    const page = await createV2Page(call, "By Bob", { user: added.body });
    expect(page.body.authorId).toBe(added.body.accountId);
    expect(sb.users.map((u) => u.email)).toContain("bob@example.com");
  });

  it("dumps the state as JSON and resets to the initial spaces", async () => {
    const { sb, call } = await sandbox({
      mode: "cloud",
      spaces: [{ key: "MEETINGS" }, { key: "OPS", name: "Operations" }],
    });
    const page = await createV2Page(call, "Temporary");
    const state = await call("GET", "/sandbox/admin/state", { base: sb.origin });
    expect(state.body.mode).toBe("cloud");
    expect(state.body.spaces.map((s: { key: string }) => s.key)).toEqual(["MEETINGS", "OPS"]);
    expect(state.body.pages.some((p: { id: string }) => p.id === page.body.id)).toBe(true);
    expect((await call("POST", "/sandbox/admin/reset", { base: sb.origin })).status).toBe(204);
    expect(sb.state.page(page.body.id)).toBeUndefined();
    expect(sb.state.spaces().map((s) => s.key)).toEqual(["MEETINGS", "OPS"]);
    expect((await call("GET", "/api/v2/spaces")).status).toBe(200);
  });
});
