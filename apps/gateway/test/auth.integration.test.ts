import { afterEach, describe, expect, it } from "vitest";
import { type Harness, listen, startHarness } from "./helpers/harness.js";

interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const UNKNOWN_PATHS = [
  ["GET", "/api/no-such-route"],
  ["GET", "/api/publications/7/nothing-here"],
  ["POST", "/api/admin"],
  ["PATCH", "/api/publications"],
  ["GET", "/api"],
] as const;

describe("API keys on paths that do not exist", () => {
  it("answers 401 for an unknown /api path without a valid key, like a known one, so paths cannot be probed", async () => {
    h = await startHarness();
    const base = await listen(h);
    const known = await fetch(`${base}/api/publications`);
    expect(known.status).toBe(401);
    const knownBody = (await known.json()) as Problem;
    for (const [method, path] of UNKNOWN_PATHS) {
      for (const headers of [{}, { authorization: "Bearer not-the-key" }]) {
        const res = await fetch(`${base}${path}`, { method, headers });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get("content-type"), path).toMatch(/^application\/problem\+json/);
        expect(res.headers.get("www-authenticate"), path).toBe('Bearer realm="minutes"');
        const body = (await res.json()) as Problem;
        expect(body, path).toMatchObject({ type: knownBody.type, title: knownBody.title, status: 401 });
        expect(body.detail, path).not.toContain(path);
      }
    }
  });

  it("answers 404 problem for an unknown /api path with a valid key, and leaves other unknown paths 404", async () => {
    h = await startHarness();
    const base = await listen(h);
    for (const [method, path] of UNKNOWN_PATHS) {
      const res = await fetch(`${base}${path}`, { method, headers: h.auth });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 404, detail: `no route for ${method} ${path}` });
    }
    const outside = await fetch(`${base}/apix/nothing`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).toMatchObject({ status: 404 });
  });

  it("counts unknown /api paths against the rate limit, so they cannot be used to try keys", async () => {
    h = await startHarness({ overrides: { gateway: { rate_limit_per_minute: 3 } } });
    const base = await listen(h);
    const statuses = [];
    for (const i of [1, 2, 3, 4])
      statuses.push(
        (await fetch(`${base}/api/no-such-route`, { headers: { authorization: `Bearer guess-${i}` } }))
          .status,
      );
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});
