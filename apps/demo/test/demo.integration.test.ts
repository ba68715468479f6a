// `pnpm demo --once` as a user runs it, in-process on a nats-server of each test's own (the tests
// create streams on a default installation's subjects and move the demo's streams, which must
// never happen on the machine's shared server): which files become which jobs and pages, that a
// submission is reported only once its own version is published, and the demo beside a
// default-configured Minutes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsServer, startNatsServer } from "@minutes/vitest-config/nats-server";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DemoOptions, type DemoResult, runDemo } from "../src/demo.js";
import { cleanUp } from "./helpers/clean-up.js";

const CONSUMER = "minutes-demo-publisher";
let nats: NatsServer;
let nc: NatsConnection;
const dirs: Array<string> = [];
beforeEach(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
});
afterEach(async () => {
  await cleanUp(
    () => nc.close(),
    () => nats.close(),
    ...dirs.splice(0).map((d) => () => rmSync(d, { recursive: true, force: true })),
  );
});

/** A checkout of its own: `.demo/` state, and `samples` as the bundled sample protocols. */
const checkout = (samples: Record<string, string> = {}): string => {
  const base = mkdtempSync(join(tmpdir(), "minutes-demo-run-"));
  dirs.push(base);
  const root = join(base, "repo");
  const bundled = join(root, "apps", "demo", "protocols");
  mkdirSync(bundled, { recursive: true });
  for (const [name, markdown] of Object.entries(samples)) writeFileSync(join(bundled, name), markdown);
  return root;
};

const protocolFile = (root: string, path: string, title: string, date = "2026-02-01"): string => {
  const file = join(root, "..", path);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `# ${title}\n\nDate: ${date}\n\n- ${title}, discussed\n`);
  return file;
};

/** `pnpm demo --once [files]`: runs, stops, and resolves what it reported with its output. */
const demoOnce = async (
  root: string,
  files: ReadonlyArray<string>,
  more: Partial<DemoOptions> = {},
): Promise<{ readonly results: ReadonlyArray<DemoResult>; readonly lines: ReadonlyArray<string> }> => {
  const lines: Array<string> = [];
  const demo = await runDemo({
    root,
    natsUrl: nats.url,
    files,
    once: true,
    gatewayPort: 0,
    sandboxPort: 0,
    print: (line) => void lines.push(line),
    ...more,
  });
  await demo.stop();
  return { results: demo.results, lines };
};

const pageOf = (r: DemoResult | undefined): string | undefined => r?.viewUrl?.replace(/^.*\/pages\//, "");

describe("pnpm demo --once with protocol files", () => {
  it("makes each file its own job and page, also files with the same name, and keeps them on a re-run", async () => {
    const root = checkout({ "weekly-sync.md": "# Weekly sync\n\nDate: 2026-01-05\n\n- sample\n" });
    const a = protocolFile(root, "a/notes.md", "Notes A");
    const b = protocolFile(root, "b/notes.md", "Notes B");
    const likeSample = protocolFile(root, "c/weekly-sync.md", "Not the sample", "2026-01-06");

    const first = await demoOnce(root, [a, b, likeSample, a]);
    // The same file given twice is one job; every other file is its own.
    expect(first.results.map((r) => [r.file, r.status, r.title])).toEqual([
      [join(root, "apps", "demo", "protocols", "weekly-sync.md"), "published", "20260105 - Weekly sync"],
      [a, "published", "20260201 - Notes A"],
      [b, "published", "20260201 - Notes B"],
      [likeSample, "published", "20260106 - Not the sample"],
    ]);
    expect(new Set(first.results.map((r) => r.jobId)).size).toBe(4);
    expect(new Set(first.results.map(pageOf)).size).toBe(4);
    expect(first.results[1]?.jobId).toMatch(/^demo-notes-[0-9a-f]{8}$/);
    expect(first.results[0]?.jobId).toBe("demo-weekly-sync");

    // A re-run updates the same pages: the job ids do not change between runs.
    const again = await demoOnce(root, [b, a, likeSample]);
    const byFile = new Map(again.results.map((r) => [r.file, r]));
    for (const r of first.results) {
      expect(byFile.get(r.file)).toMatchObject({ jobId: r.jobId, status: "published", title: r.title });
      expect(pageOf(byFile.get(r.file))).toBe(pageOf(r));
    }
  }, 120_000);

  it("does not report a submission as published before its own version is", async () => {
    const root = checkout();
    const notes = protocolFile(root, "notes.md", "Notes v1");
    const first = await demoOnce(root, [notes]);
    expect(first.results).toMatchObject([{ status: "published", title: "20260201 - Notes v1" }]);

    // No publisher takes the next protocol: the demo's consumer now reads a subject no one sends to
    // (the publisher keeps the filter of a consumer it finds).
    const jsm = await jetstreamManager(nc);
    const info = (await jsm.streams.info("MINUTES_DEMO")).config;
    await jsm.consumers.delete(info.name, CONSUMER);
    await jsm.consumers.add(info.name, {
      durable_name: CONSUMER,
      ack_policy: AckPolicy.Explicit,
      filter_subject: info.subjects![0]!.replace(/>$/, "paused"),
    });
    protocolFile(root, "notes.md", "Notes v2");
    const held = await demoOnce(root, [notes], { publishTimeoutMs: 1_500 });
    // The job's record is the v1 publication, final: not this submission's outcome.
    expect(held.results).toHaveLength(1);
    expect(held.results[0]).toMatchObject({ status: "timeout", title: null });
    expect(held.results[0]?.error).toMatch(
      /^not published within 1\.5 s: the job's record is still at an earlier protocol \(published, stream message \d+\), this one is stream message \d+$/,
    );
    expect(held.lines.join("\n")).not.toContain("✓");

    // The publisher takes it once it has its consumer back; then the same submission is reported.
    await jsm.consumers.delete(info.name, CONSUMER);
    const released = await demoOnce(root, [notes]);
    expect(released.results).toMatchObject([{ status: "published", title: "20260201 - Notes v2" }]);
    expect(pageOf(released.results[0])).toBe(pageOf(first.results[0]));
    expect(released.results[0]?.streamSequence).toBe(held.results[0]?.streamSequence);
  }, 120_000);
});

describe("pnpm demo on a NATS server shared with a default-configured Minutes", () => {
  it("publishes beside MINUTES_PROTOCOLS on minutes.protocol.>, and names its flags when a prefix is taken", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "MINUTES_PROTOCOLS", subjects: ["minutes.protocol.>"] });
    await jsm.streams.add({ name: "MINUTES_PROTOCOLS_OUTCOMES", subjects: ["minutes.publication.>"] });
    const root = checkout({ "weekly-sync.md": "# Weekly sync\n\nDate: 2026-01-05\n\n- sample\n" });

    const { results } = await demoOnce(root, []);
    expect(results).toMatchObject([{ status: "published", title: "20260105 - Weekly sync" }]);
    expect((await jsm.streams.info("MINUTES_DEMO")).config.subjects).toEqual(["minutes_demo.protocol.>"]);
    // The installation's streams are as they were.
    expect((await jsm.streams.info("MINUTES_PROTOCOLS")).state.messages).toBe(0);

    // Told to use the installation's prefix, the demo says which of its flags to change.
    const taken = demoOnce(checkout(), [], { stream: "MINUTES_DEMO_2", subjectPrefix: "minutes" });
    await expect(taken).rejects.toThrow(
      'cannot create stream "MINUTES_DEMO_2": stream "MINUTES_PROTOCOLS" already stores "minutes.protocol.>". Set --stream back to "MINUTES_PROTOCOLS", or give this installation its own --nats-prefix.',
    );
  }, 120_000);

  it("moves an earlier demo's streams off the default prefix once all its events are published, keeping the pages", async () => {
    const root = checkout({ "weekly-sync.md": "# Weekly sync\n\nDate: 2026-01-05\n\n- sample\n" });
    const jsm = await jetstreamManager(nc);
    // What earlier demos left: MINUTES_DEMO on "minutes", with an event no publisher has taken.
    const earlier = await demoOnce(root, [], { subjectPrefix: "minutes" });
    expect((await jsm.streams.info("MINUTES_DEMO")).config.subjects).toEqual(["minutes.protocol.>"]);
    await jetstream(nc).publish(
      "minutes.protocol.ready.v1.demo-weekly-sync",
      JSON.stringify({
        schemaVersion: 1,
        jobId: "demo-weekly-sync",
        markdown: "# Weekly sync\n\nDate: 2026-01-05\n\n- revised\n",
        filename: "weekly-sync.md",
        occurredAt: new Date().toISOString(),
      }),
    );

    await expect(demoOnce(root, [])).rejects.toThrow(
      'stream MINUTES_DEMO, from an earlier demo, holds 1 protocol event no publisher has taken, on "minutes.protocol.>", the subjects of a default-configured Minutes: run the demo once with --nats-prefix minutes to publish them; the next run without it moves the demo to its own prefix "minutes_demo"',
    );
    // As advised: once with the old prefix, which publishes what waits, then without.
    await demoOnce(root, [], { subjectPrefix: "minutes" });
    const moved = await demoOnce(root, []);
    expect(moved.lines[0]).toBe(
      'Moved the demo\'s streams from subject prefix "minutes" to "minutes_demo" (the earlier demo\'s events were all published; its pages and records are kept)',
    );
    expect(moved.results).toMatchObject([{ status: "published" }]);
    expect(pageOf(moved.results[0])).toBe(pageOf(earlier.results[0]));
    expect((await jsm.streams.info("MINUTES_DEMO")).config.subjects).toEqual(["minutes_demo.protocol.>"]);
    expect((await jsm.streams.info("MINUTES_DEMO_OUTCOMES")).config.subjects).toEqual([
      "minutes_demo.publication.>",
    ]);
    // The default subjects are free for a default-configured Minutes.
    await jsm.streams.add({ name: "MINUTES_PROTOCOLS", subjects: ["minutes.protocol.>"] });
  }, 120_000);
});
