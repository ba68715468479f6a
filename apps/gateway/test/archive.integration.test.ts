// POST /api/archive/run over the machine's NATS: the gateway asks a publisher (here a responder
// on the real subject standing in for the publisher process) and answers with its result.
import { type ArchiveRunResult, archiveRunSubject } from "@minutes/contracts";
import type { Subscription } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { type Harness, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
let responder: Subscription | undefined;
afterEach(async () => {
  const [r, harness] = [responder, h];
  responder = undefined;
  h = undefined;
  await cleanUp(
    () => r?.unsubscribe(),
    () => harness?.close(),
  );
});

/** Answers archive requests like a publisher would, recording what it was asked. */
const respondWith = (harness: Harness, answer: (request: unknown) => unknown) => {
  const seen: Array<unknown> = [];
  responder = harness.nc.subscribe(archiveRunSubject(harness.config.nats.subject_prefix), {
    queue: "archivers",
    callback: (_error, msg) => {
      const request: unknown = msg.json();
      seen.push(request);
      msg.respond(JSON.stringify(answer(request)));
    },
  });
  return seen;
};

const run = (harness: Harness, payload: unknown) =>
  harness.app.inject({
    method: "POST",
    url: "/api/archive/run",
    headers: harness.auth,
    payload: payload as object,
  });

describe("POST /api/archive/run", () => {
  it("returns what the publisher's archive run did, passing the requested age on", async () => {
    h = await startHarness();
    const result: ArchiveRunResult = {
      before: "2025-01-01",
      archived: 3,
      failed: [
        { jobId: "job-1", pageId: "42", reason: "page 42 or its archive page was not found in Confluence" },
      ],
      instance: "publisher-1",
      durationMs: 12,
    };
    const seen = respondWith(h, () => result);
    const res = await run(h, { olderThanDays: 30 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(result);
    expect(seen).toEqual([{ olderThanDays: 30 }]);
    await h.nc.flush();
    const defaults = await run(h, {});
    expect(defaults.statusCode).toBe(200);
    expect(seen[1]).toEqual({});
    const bare = await h.app.inject({ method: "POST", url: "/api/archive/run", headers: h.auth });
    expect(bare.statusCode).toBe(200);
    expect(seen[2]).toEqual({});
  });

  it("answers 503 naming the cause when no publisher is running", async () => {
    h = await startHarness();
    const res = await run(h, {});
    expect(res.statusCode).toBe(503);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.json().type).toBe("urn:minutes:problem:no-publisher");
    expect(res.json().detail).toMatch(/no publisher is running/);
  });

  it("refuses an age that is not a whole number of days, naming the field, and asks no publisher", async () => {
    h = await startHarness();
    const seen = respondWith(h, () => ({
      before: "1926-01-01",
      archived: 0,
      failed: [],
      instance: "publisher-1",
      durationMs: 1,
    }));
    const res = await run(h, { olderThanDays: 0 });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { path: "olderThanDays", message: expect.stringMatching(/greater than 0/) },
    ]);
    const text = await run(h, { olderThanDays: "thirty" });
    expect(text.statusCode).toBe(400);
    expect(text.json().errors[0].path).toBe("olderThanDays");
    // an age no meeting has (and whose cut-off no Date holds) is refused up front too
    for (const olderThanDays of [36_501, 1e9, 2_147_483_647]) {
      const huge = await run(h, { olderThanDays });
      expect(huge.statusCode, String(olderThanDays)).toBe(400);
      expect(huge.json().errors).toEqual([
        { path: "olderThanDays", message: "expected at most 36500 days (100 years)" },
      ]);
    }
    expect((await run(h, { olderThanDays: 36_500 })).statusCode).toBe(200);
    expect(seen).toEqual([{ olderThanDays: 36_500 }]);
  });

  it("passes on why the publisher could not run the archive", async () => {
    h = await startHarness();
    respondWith(h, () => ({ error: "Confluence rejected the credentials" }));
    const res = await run(h, {});
    expect(res.statusCode).toBe(503);
    expect(res.json().detail).toBe("the archive run failed: Confluence rejected the credentials");
  });
});
