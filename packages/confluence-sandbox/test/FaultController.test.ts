import { describe, expect, it } from "vitest";
import { FaultController, startSandbox } from "../src/index.js";
import { authFor, sandbox } from "./helpers/sandbox.js";

describe("FaultController", () => {
  it("fires a 'times' rule on exactly the next N matching requests", () => {
    const faults = new FaultController(1);
    faults.add({ kind: "status", status: 503, times: 2, method: "PUT" });
    expect(faults.decide("GET", "/wiki/api/v2/pages/1").kind).toBe("none");
    expect(faults.decide("PUT", "/wiki/api/v2/pages/1").kind).toBe("status");
    expect(faults.decide("PUT", "/wiki/api/v2/pages/1").kind).toBe("status");
    expect(faults.decide("PUT", "/wiki/api/v2/pages/1").kind).toBe("none");
    expect(faults.list()).toEqual([]);
  });

  it("is reproducible for rate-based rules with the same seed", () => {
    const run = () => {
      const f = new FaultController(42);
      f.add({ kind: "reset", rate: 0.3 });
      return Array.from({ length: 50 }, () => f.decide("GET", "/x").kind);
    };
    const a = run();
    expect(a).toEqual(run());
    expect(a.filter((k) => k === "reset").length).toBeGreaterThan(5);
    expect(a.filter((k) => k === "none").length).toBeGreaterThan(20);
  });

  it("filters by path pattern and rejects invalid rules", () => {
    const f = new FaultController(1);
    f.add({ kind: "rateLimit", path: "^/wiki/api/v2/pages$" });
    expect(f.decide("POST", "/wiki/api/v2/pages").kind).toBe("status");
    expect(f.decide("GET", "/wiki/api/v2/pages/1").kind).toBe("none");
    expect(() => f.add({ kind: "status", status: 200 })).toThrow(
      new TypeError("fault status must be an HTTP error status (400..599)"),
    );
    expect(() => f.add({ kind: "status", rate: 2 })).toThrow(
      new TypeError("fault rate must be a number between 0 and 1"),
    );
    expect(() => f.add({ kind: "status", times: 0 })).toThrow(
      new TypeError("fault times must be a positive integer"),
    );
    expect(() => f.add({ kind: "reset", path: "^(" })).toThrow(
      new TypeError("fault path is not a valid regular expression: ^("),
    );
    expect(f.list().map((r) => r.kind)).toEqual(["rateLimit"]);
  });
});

describe("faults over HTTP", () => {
  // REST-API.md §8.1: 429 with Retry-After (seconds or HTTP date) and X-RateLimit-* headers
  it("answers 429 with Retry-After in seconds, as an HTTP date, or the huge value Cloud has sent", async () => {
    const { call, sb } = await sandbox({ mode: "cloud" });
    sb.faults.add({ kind: "rateLimit", times: 1, retryAfter: 2 });
    const limited = await call("GET", "/api/v2/spaces");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.body.errors[0].status).toBe(429);
    const date = "Wed, 21 Oct 2026 07:28:00 GMT";
    sb.faults.add({ kind: "rateLimit", times: 1, retryAfter: date });
    expect((await call("GET", "/api/v2/spaces")).headers.get("retry-after")).toBe(date);
    sb.faults.add({
      kind: "rateLimit",
      times: 1,
      retryAfter: "9223372036854775807",
      headers: { "X-RateLimit-Limit": "0" },
    });
    const huge = await call("GET", "/api/v2/spaces");
    expect(huge.headers.get("retry-after")).toBe("9223372036854775807");
    expect(huge.headers.get("x-ratelimit-limit")).toBe("0");
    expect((await call("GET", "/api/v2/spaces")).status).toBe(200);
  });

  // REST-API.md §8.2: Data Center's token bucket names its interval and fill rate, not a reset time
  it("answers a Data Center 429 with Data Center's rate-limit headers", async () => {
    const { call, sb } = await sandbox({ mode: "datacenter" });
    sb.faults.add({ kind: "rateLimit", times: 1, retryAfter: 3 });
    const limited = await call("GET", "/rest/api/space/MEETINGS");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.headers.get("x-ratelimit-interval-seconds")).not.toBeNull();
    expect(limited.headers.get("x-ratelimit-fillrate")).not.toBeNull();
    expect(limited.headers.get("x-ratelimit-reset")).toBeNull();
    expect(limited.headers.get("ratelimit-reason")).toBeNull();
  });

  // REST-API.md §8.1: transient 5xx (503 may carry Retry-After)
  it("answers 500, 502 and 503 in the API's envelope", async () => {
    const { call, sb } = await sandbox({ mode: "datacenter" });
    for (const status of [500, 502, 503]) {
      sb.faults.add({ kind: "status", status, times: 1, retryAfter: 1 });
      const res = await call("GET", "/rest/api/space/MEETINGS");
      expect(res.status).toBe(status);
      expect(res.body.statusCode).toBe(status);
      expect(res.headers.get("retry-after")).toBe("1");
    }
  });

  it("resets the connection, so fetch fails with a network error", async () => {
    const { sb } = await sandbox({ mode: "cloud" });
    sb.faults.add({ kind: "reset", times: 1 });
    await expect(
      fetch(`${sb.baseUrl}/api/v2/spaces`, { headers: { authorization: authFor(sb, sb.user) } }),
    ).rejects.toThrow(TypeError);
    const ok = await fetch(`${sb.baseUrl}/api/v2/spaces`, {
      headers: { authorization: authFor(sb, sb.user) },
    });
    expect(ok.status).toBe(200);
  });

  it("hangs until the client times out, and close() does not wait for hung requests", async () => {
    const sb = await startSandbox({ mode: "cloud" });
    sb.faults.add({ kind: "hang", times: 2 });
    const timedOut = fetch(`${sb.baseUrl}/api/v2/spaces`, {
      headers: { authorization: authFor(sb, sb.user) },
      signal: AbortSignal.timeout(200),
    });
    await expect(timedOut).rejects.toThrow(/abort|timeout/i);
    const stillHanging = fetch(`${sb.baseUrl}/api/v2/spaces`, {
      headers: { authorization: authFor(sb, sb.user) },
    });
    const started = Date.now();
    await sb.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(stillHanging).rejects.toThrow(TypeError);
  });

  it("adds latency from options and from latency rules", async () => {
    const { call, sb } = await sandbox({ mode: "cloud", latencyMs: 50 });
    sb.faults.add({ kind: "latency", latencyMs: 100, times: 1 });
    const started = Date.now();
    expect((await call("GET", "/api/v2/spaces")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe("lost responses", () => {
  it("applies a write but drops the connection before the answer, so a retry finds the title taken", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const spaces = await call("GET", "/api/v2/spaces?keys=MEETINGS");
    sb.faults.add({ kind: "lostResponse", method: "POST", path: "/pages$", times: 1 });
    const body = JSON.stringify({
      spaceId: spaces.body.results[0].id,
      title: "Lost",
      body: { representation: "storage", value: "<p/>" },
    });
    const headers = { authorization: authFor(sb, sb.user), "content-type": "application/json" };
    await expect(fetch(`${sb.baseUrl}/api/v2/pages`, { method: "POST", headers, body })).rejects.toThrow(
      TypeError,
    );
    const written = sb.state.pageByTitle("MEETINGS", "Lost");
    expect(written?.versions.map((v) => v.title)).toEqual(["Lost"]);
    const retry = await fetch(`${sb.baseUrl}/api/v2/pages`, { method: "POST", headers, body });
    expect(retry.status).toBe(400);
    // REST-API.md §7.2: the title conflict a client must recognise to adopt the page it wrote.
    expect(((await retry.json()) as { errors: ReadonlyArray<unknown> }).errors).toEqual([
      {
        status: 400,
        code: "BAD_REQUEST",
        title:
          "A page with this title already exists: A page already exists with the same TITLE in this space",
        detail: null,
      },
    ]);
    expect(sb.state.pages("MEETINGS").filter((p) => p.versions.at(-1)?.title === "Lost")).toHaveLength(1);
  });
});
