// Several publishers sharing the durable consumer and one PostgreSQL store, as the README's
// scale-out section deploys them: whatever one of them does (pauses, dies, loses its lease), every
// job ends with one page holding its newest protocol and one record saying so.
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import {
  eventually,
  harnessPerTest,
  pagesOfJob,
  protocol,
  recordIn,
  spawnPublisherProcess,
} from "./helpers/harness.js";

const open = harnessPerTest();

describe("several publishers on one PostgreSQL store", () => {
  it("never lets a paused instance whose lease was taken over write an older protocol over the newer page", async () => {
    const h = await open({ mode: "datacenter", database: "postgresql" });
    await h.stopPublishers();
    // The instance that will be paused runs as a process of its own, one message at a time, and
    // waits long enough for Confluence to answer a read that is held back below.
    const paused = await spawnPublisherProcess(h, {
      confluence: { timeout: 60 },
      nats: { concurrency: 1 },
      publisher: { shutdown_grace_seconds: 60 },
    });
    const jobId = "job-paused-holder";
    await h.submit({ jobId, markdown: protocol("Paused holder", "- first") });
    const first = await recordIn(h, jobId, "published");

    // Its next read of the page is answered only after the other instance has published the
    // newest protocol: what a long stop of the process (a VM pause, a stalled host) looks like.
    h.sandbox.faults.add({
      kind: "latency",
      latencyMs: 15_000,
      times: 1,
      method: "GET",
      path: `/content/${first.pageId}$`,
    });
    await h.submit({ jobId, markdown: protocol("Paused holder", "- older") });
    await eventually(
      // The rule is spent (and dropped) once it held a request back.
      () => (h.sandbox.faults.list().every((f) => f.remaining === 0) ? true : undefined),
      20_000,
      "the paused instance to read the page",
    );
    paused.child.kill("SIGSTOP");
    try {
      await h.startPublisher({ instanceId: "other" });
      await h.submit({ jobId, markdown: protocol("Paused holder", "- newest") });
      await eventually(
        () => (pagesOfJob(h, jobId)[0]?.versions.at(-1)?.body.includes("newest") ? true : undefined),
        30_000,
        "the other instance to publish the newest protocol",
      );
    } finally {
      paused.child.kill("SIGCONT");
    }
    // The paused instance finishes what it was doing (its read is answered), then stops.
    expect(await paused.stop()).toBe(0);

    const pages = pagesOfJob(h, jobId);
    expect(pages).toHaveLength(1);
    const bodies = pages[0]!.versions.map((v) => v.body);
    const newest = bodies.findIndex((b) => b.includes("newest"));
    expect(newest).toBeGreaterThan(0);
    // Nothing older was written over the newest protocol.
    expect(bodies.slice(newest).every((b) => b.includes("newest"))).toBe(true);
    const record = await recordIn(h, jobId, "published");
    expect(record.pageId).toBe(first.pageId);
    expect(record.pageVersion).toBe(pages[0]!.versions.at(-1)!.number);
    const stored = await Effect.runPromise(h.store.getProtocol(jobId));
    expect(stored._tag === "Some" && stored.value.markdown.includes("newest")).toBe(true);
  }, 90_000);

  it("gives two jobs with one title a page each when the second comes while the first one's page has no job property yet", async () => {
    const h = await open({ database: "postgresql" });
    await h.startPublisher({ instanceId: "second" });
    // On Cloud a new page gets its job property right after the create: that write is held back.
    h.sandbox.faults.add({
      kind: "latency",
      latencyMs: 3_000,
      times: 1,
      method: "POST",
      path: "/pages/[0-9]+/properties$",
    });
    const markdown = (item: string) => protocol("Same title", `- ${item}`);
    await h.submit({ jobId: "job-title-a", markdown: markdown("from job a") });
    await eventually(
      () => (h.sandbox.faults.list().every((f) => f.remaining === 0) ? true : undefined),
      20_000,
      "the first job's page to be created",
    );
    await h.submit({ jobId: "job-title-b", markdown: markdown("from job b") });
    const a = await recordIn(h, "job-title-a", "published", 30_000);
    const b = await recordIn(h, "job-title-b", "published", 30_000);

    expect(a.pageId).not.toBe(b.pageId);
    const [pageA] = pagesOfJob(h, "job-title-a");
    const [pageB] = pagesOfJob(h, "job-title-b");
    expect(pagesOfJob(h, "job-title-a")).toHaveLength(1);
    expect(pagesOfJob(h, "job-title-b")).toHaveLength(1);
    expect(pageA!.id).toBe(a.pageId);
    expect(pageB!.id).toBe(b.pageId);
    // Each page only ever held its own job's protocol; the first job keeps the plain title.
    expect(pageA!.versions.every((v) => v.body.includes("from job a"))).toBe(true);
    expect(pageB!.versions.every((v) => v.body.includes("from job b"))).toBe(true);
    expect(pageA!.versions.at(-1)!.title).toBe("20250902 - Same title");
    expect(pageB!.versions.at(-1)!.title).not.toBe(pageA!.versions.at(-1)!.title);
  }, 60_000);
});
