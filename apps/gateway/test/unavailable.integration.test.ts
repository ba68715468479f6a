// Every kind of 503 the gateway sends, over real HTTP, and its Retry-After: a temporary 503 (a
// dependency down or not answering) carries `Retry-After: 5`; a 503 that only an operator
// changing the configuration can fix carries none, and its detail names the settings.
// The database's and the event stream's 503s are checked in store-down and protocols tests.
import { createServer } from "node:net";
import { Effect } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makeConfluenceAccess } from "../src/confluence.js";
import { type Harness, type HarnessOptions, listen, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A port nothing listens on (bound once, then released). */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
};

/** Confluence configured with a token, at an address where nothing answers. */
const unreachableConfluence = async (): Promise<HarnessOptions> => ({
  overrides: {
    confluence: {
      enabled: true,
      base_url: `http://127.0.0.1:${await closedPort()}`,
      deployment: "cloud",
      username: "bot@example.com",
      api_token: "confluence-token-503",
      max_retries: 0,
    },
  },
  confluence: (config) =>
    makeConfluenceAccess(config.confluence, { value: config.confluence.api_token, source: "config" }),
});

describe("503 answers and Retry-After", () => {
  it("sends no Retry-After when Confluence is not configured, and says which settings to change", async () => {
    h = await startHarness();
    const base = await listen(h);
    const res = await fetch(`${base}/health/confluence`);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.headers.get("retry-after")).toBeNull();
    const body = (await res.json()) as { type: string; detail: string };
    expect(body.type).toBe("urn:minutes:problem:confluence-not-configured");
    for (const setting of ["confluence.enabled", "confluence.base_url", "confluence.api_token", "restart"])
      expect(body.detail).toContain(setting);
  });

  it("sends Retry-After: 5 when Confluence does not answer the health check", async () => {
    h = await startHarness(await unreachableConfluence());
    const base = await listen(h);
    const res = await fetch(`${base}/health/confluence`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    const body = (await res.json()) as { type: string; detail: string };
    expect(body.type).toBe("urn:minutes:problem:confluence-unreachable");
    expect(JSON.stringify(body)).not.toContain("confluence-token-503");
  });

  it("sends Retry-After: 5 with a degraded status, and none with an ok one", async () => {
    h = await startHarness();
    const base = await listen(h);
    // No publisher created the consumer yet: degraded.
    const degraded = await fetch(`${base}/status/confluence`);
    expect(degraded.status).toBe(503);
    expect(((await degraded.json()) as { status: string }).status).toBe("degraded");
    expect(degraded.headers.get("retry-after")).toBe("5");
    await h.ctx.jsm.consumers.add(h.ctx.streams.protocol, {
      durable_name: h.config.nats.consumer,
      ack_policy: "explicit",
    });
    const ok = await fetch(`${base}/status/confluence`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("retry-after")).toBeNull();
  });

  it("sends Retry-After: 5 when Confluence fails to delete a record's page, and keeps the record", async () => {
    h = await startHarness(await unreachableConfluence());
    const base = await listen(h);
    const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e);
    const record = await run(
      h.store.ensurePublication({ jobId: "del-503", spaceKey: "MEETINGS", parentPageId: null }),
    );
    await run(h.store.transition(record.id, "published", { pageId: "12345", pageUrl: "https://x/y" }));
    const res = await fetch(`${base}/api/publications/${record.id}?deletePage=true`, {
      method: "DELETE",
      headers: h.auth,
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as { type: string }).type).toBe(
      "urn:minutes:problem:confluence-delete-failed",
    );
    const kept = await fetch(`${base}/api/publications/${record.id}`, { headers: h.auth });
    expect(kept.status).toBe(200);
  });

  it("sends Retry-After: 5 when no publisher is running to archive pages", async () => {
    h = await startHarness();
    const base = await listen(h);
    const res = await fetch(`${base}/api/archive/run`, { method: "POST", headers: h.auth });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(((await res.json()) as { type: string }).type).toBe("urn:minutes:problem:no-publisher");
  });
});
