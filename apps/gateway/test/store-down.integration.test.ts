import { readdirSync, readlinkSync } from "node:fs";
import { PublicationStore } from "@minutes/publication-store";
import { Effect, Exit, Fiber, Scope, Stream } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { cleanUp } from "./helpers/clean-up.js";
import { eventually, type Harness, protocolBody, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const harness = h;
  h = undefined;
  await cleanUp(...cleanups.splice(0).reverse(), () => harness?.close());
});

describe("database unavailable", () => {
  it("answers 503 problems (not 500) while the SQLite database is locked, and still accepts events", async () => {
    h = await startHarness({ busyTimeoutMs: 50 });
    const harness = h;
    const record = await Effect.runPromise(
      harness.store.ensurePublication({ jobId: "locked", spaceKey: "MEETINGS", parentPageId: null }),
    );
    // A second process-like store holds the write lock: an import that stored one line and waits.
    const scope = Effect.runSync(Scope.make());
    cleanups.push(() => Effect.runPromise(Scope.close(scope, Exit.void)));
    const other = await Effect.runPromise(
      Scope.extend(
        PublicationStore.make({ type: "sqlite", sqlitePath: harness.config.database.sqlite_path }),
        scope,
      ),
    );
    const line = JSON.stringify({
      kind: "protocol",
      jobId: "holder",
      markdown: "# x",
      filename: "x.md",
      metadata: {},
      contentHash: "h",
      streamSequence: null,
      occurredAt: "2026-01-01T00:00:00.000Z",
      receivedAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    });
    const header = JSON.stringify({ kind: "header", format: "minutes-publication-store", version: 2 });
    const holder = Effect.runFork(other.importJsonl(Stream.concat(Stream.make(header, line), Stream.never)));
    cleanups.push(() => Effect.runPromise(Fiber.interrupt(holder)).then(() => undefined));

    const del = await eventually(
      async () => {
        const res = await harness.app.inject({
          method: "DELETE",
          url: `/api/publications/${record.id}`,
          headers: harness.auth,
        });
        return res.statusCode === 503 ? res : undefined;
      },
      { what: "the lock to be held" },
    );
    expect(del.json()).toMatchObject({ status: 503, type: "urn:minutes:problem:database-unavailable" });
    expect(del.headers["retry-after"]).toBe("5");
    expect(del.body).not.toMatch(/SQLITE|stack/i);
    const imported = await harness.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...harness.auth, "content-type": "application/x-ndjson" },
      payload: `${header}\n${line.replace("holder", "other")}\n`,
    });
    expect(imported.statusCode).toBe(503);
    // Its spooled upload is gone, file and descriptor: the import never began reading it.
    expect(openSpoolFiles()).toEqual([]);
    // Events do not need the database: JetStream still stores them.
    const accepted = await harness.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: harness.auth,
      payload: protocolBody("x"),
    });
    expect(accepted.statusCode).toBe(202);

    await Effect.runPromise(Fiber.interrupt(holder));
    const after = await harness.app.inject({
      method: "DELETE",
      url: `/api/publications/${record.id}`,
      headers: harness.auth,
    });
    expect(after.statusCode).toBe(200);
  });
});

/** Files of import spools this process holds open (deleted or not), from /proc. */
const openSpoolFiles = (): Array<string> =>
  readdirSync("/proc/self/fd")
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return "";
      }
    })
    .filter((target) => target.includes("minutes-import-"));
