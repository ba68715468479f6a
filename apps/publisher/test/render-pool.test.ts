// Render threads are real worker threads here: the pool against its own thread script (loaded
// from the sources through tsx, as under vitest) and against a thread that misbehaves on request.
import { readdirSync, readFileSync } from "node:fs";
import { loadConfig } from "@minutes/contracts";
import { Cause, Effect, Either, Exit, Option, Scope } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type PreparableProtocol, prepareProtocol } from "../src/render.js";
import {
  defaultRenderThreads,
  INLINE_RENDER_LIMIT,
  makeRenderPool,
  type Renderer,
  renderSettingsOf,
  type ThreadExit,
} from "../src/render-pool.js";
import { eventually } from "./helpers/harness.js";

const config = (() => {
  const r = loadConfig({ env: {} });
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right;
})();
const settings = renderSettingsOf({
  ...config.confluence,
  advanced_settings: {
    ...config.confluence.advanced_settings,
    content_macros: { add_toc: true, add_date_macro: true, add_info_panel: true },
  },
});

/** The sample protocols the repository carries (the demo's). */
const SAMPLES = new URL("../../demo/protocols/", import.meta.url);
const samples: ReadonlyArray<PreparableProtocol> = readdirSync(SAMPLES)
  .filter((name) => name.endsWith(".md") && name !== "README.md")
  .map((name, i) => ({
    jobId: `job-${i}`,
    markdown: readFileSync(new URL(name, SAMPLES), "utf8"),
    filename: name,
    occurredAt: "2025-11-26T09:00:00Z",
    metadata: { labels: ["Board"] },
  }));

const FAULTY = new URL("./fixtures/faulty-render-thread.mjs", import.meta.url);
const scopes: Array<Scope.CloseableScope> = [];
afterEach(async () => {
  for (const scope of scopes.splice(0)) await Effect.runPromise(Scope.close(scope, Exit.void));
});

/** A pool in a scope the test closes afterwards. */
const pool = async (options: Omit<Parameters<typeof makeRenderPool>[0], "settings">): Promise<Renderer> => {
  const scope = Effect.runSync(Scope.make());
  scopes.push(scope);
  return Effect.runPromise(makeRenderPool({ settings, ...options }).pipe(Scope.extend(scope)));
};

const protocol = (markdown: string): PreparableProtocol => ({
  jobId: "job",
  markdown,
  filename: "x.md",
  occurredAt: "2025-09-02T10:00:00Z",
  metadata: {},
});

/** The defect or error a render failed with (its message), or the title it rendered. */
const outcome = async (renderer: Renderer, markdown: string): Promise<string> => {
  const exit = await Effect.runPromiseExit(renderer.prepare(protocol(markdown)));
  if (Exit.isSuccess(exit)) return exit.value.rendered.title;
  const failure = Option.getOrUndefined(Cause.failureOption(exit.cause));
  if (failure !== undefined) return `${failure._tag}: ${failure.seconds} s, ${failure.bytes} bytes`;
  const defect = Option.getOrUndefined(Cause.dieOption(exit.cause));
  return `defect: ${defect instanceof Error ? defect.message : String(defect)}`;
};

describe("render threads", () => {
  it("render every sample protocol exactly as the event loop does", async () => {
    const renderer = await pool({ threads: 2, template: "<p>{{participants}}</p>{{content}}" });
    const threaded = await Effect.runPromise(
      Effect.forEach(samples, (p) => renderer.prepare(p), { concurrency: "unbounded" }),
    );
    expect(samples.length).toBeGreaterThanOrEqual(5);
    expect(threaded).toEqual(
      samples.map((p) => prepareProtocol(p, settings, "<p>{{participants}}</p>{{content}}")),
    );
  });

  it("fail only the protocol a thread could not render, and go on with a new thread", async () => {
    const exits: Array<{ exitCode: number; rendering: boolean }> = [];
    const renderer = await pool({ threads: 1, script: FAULTY, onThreadExit: (e) => exits.push(e) });
    const results = await Promise.all(["a", "exit", "b", "throw", "c"].map((m) => outcome(renderer, m)));
    expect(results).toEqual([
      "a",
      "defect: the render thread stopped while rendering (exit code 7)",
      "b",
      "defect: the table cannot be converted",
      "c",
    ]);
    expect(exits).toEqual([{ exitCode: 7, rendering: true, timedOut: false, jobId: "job" }]);
  });

  it("stop a thread whose protocol overruns the deadline, fail only that protocol, and go on with a new thread", async () => {
    const exits: Array<ThreadExit> = [];
    const renderer = await pool({
      threads: 1,
      script: FAULTY,
      timeoutMs: 300,
      onThreadExit: (e) => exits.push(e),
    });
    // "b" waits behind the stuck protocol on the only thread, and is rendered by its replacement.
    const results = await Promise.all(["a", "hang", "b"].map((m) => outcome(renderer, m)));
    expect(results).toEqual(["a", "RenderTimeoutError: 0.3 s, 4 bytes", "b"]);
    // The log line names the job whose protocol overran.
    expect(exits).toEqual([{ exitCode: 1, rendering: false, timedOut: true, jobId: "job" }]);
    expect(await outcome(renderer, "c")).toBe("c");
  });

  it("count the deadline from when a thread takes the protocol, not from when it was queued", async () => {
    const renderer = await pool({ threads: 1, script: FAULTY, timeoutMs: 400 });
    // Each one waits for the one before it to overrun (0.4 s), longer than its own deadline.
    const results = await Promise.all(["hang 1", "hang 2", "d"].map((m) => outcome(renderer, m)));
    expect(results).toEqual([
      "RenderTimeoutError: 0.4 s, 6 bytes",
      "RenderTimeoutError: 0.4 s, 6 bytes",
      "d",
    ]);
  });

  it("stop the publisher's start when a thread cannot start, saying why", async () => {
    const failing = new URL("./fixtures/unstartable-render-thread.mjs", import.meta.url);
    await expect(pool({ threads: 2, script: failing })).rejects.toThrow(
      /a render thread could not start: cannot load the converter/,
    );
  });

  it("refuse protocols once stopped, as a defect (the message is redelivered)", async () => {
    const scope = Effect.runSync(Scope.make());
    const renderer = await Effect.runPromise(
      makeRenderPool({ settings, threads: 1, script: FAULTY }).pipe(Scope.extend(scope)),
    );
    expect(await outcome(renderer, "a")).toBe("a");
    await Effect.runPromise(Scope.close(scope, Exit.void));
    expect(await outcome(renderer, "b")).toBe("defect: the render threads have stopped");
  });

  it("render on the event loop with 0 threads", async () => {
    const renderer = await pool({ threads: 0 });
    const first = samples[0] as PreparableProtocol;
    expect(await Effect.runPromise(renderer.prepare(first))).toEqual(prepareProtocol(first, settings));
  });

  it("with 0 threads, render longer protocols on a thread under the deadline, shorter ones on the event loop", async () => {
    const renderer = await pool({ threads: 0, script: FAULTY, timeoutMs: 300, inlineLimit: 12 });
    // The faulty thread titles a page by its text; the event loop renders the real title.
    const short = "# Standup\n";
    expect(await outcome(renderer, short)).toBe(prepareProtocol(protocol(short), settings).rendered.title);
    expect(await outcome(renderer, "hang for a while")).toBe("RenderTimeoutError: 0.3 s, 16 bytes");
    // The stuck thread was replaced: the next long protocol is rendered.
    expect(await outcome(renderer, "a longer protocol")).toBe("a longer protocol");
  });

  it("with 0 threads, keep protocols the size of ordinary ones on the event loop, and start no thread for them", async () => {
    // The sample protocols (and the benchmark's) are 1–2 KB: they must not pay a thread hop.
    expect(Math.max(...samples.map((p) => p.markdown.length))).toBeLessThan(INLINE_RENDER_LIMIT);
    const failing = new URL("./fixtures/unstartable-render-thread.mjs", import.meta.url);
    const renderer = await pool({ threads: 0, script: failing, timeoutMs: 300 });
    for (const p of samples)
      expect(await Effect.runPromise(renderer.prepare(p))).toEqual(prepareProtocol(p, settings));
    // A long one needs the thread, which cannot start here: a defect (the message comes back).
    expect(await outcome(renderer, "x".repeat(INLINE_RENDER_LIMIT + 1))).toMatch(
      /^defect: a render thread could not start/,
    );
  });

  it("with 0 threads, stop the on-demand thread once idle for idleMs, and start a new one for the next long protocol", async () => {
    const changes: Array<string> = [];
    const renderer = await pool({
      threads: 0,
      script: FAULTY,
      inlineLimit: 4,
      idleMs: 400,
      onDemandThread: (change) => changes.push(change),
    });
    // No thread until a protocol needs one.
    expect(changes).toEqual([]);
    const first = await outcome(renderer, "which thread");
    expect(first).toMatch(/^thread \d+$/);
    // Within the idle time the same thread renders the next one.
    expect(await outcome(renderer, "which thread")).toBe(first);
    expect(changes).toEqual(["started"]);
    // Idle for longer: stopped.
    await eventually(() => (changes.length > 1 ? true : undefined), 10_000, "the idle thread to stop");
    expect(changes).toEqual(["started", "stopped"]);
    // A short protocol stays on the event loop and starts nothing.
    expect(await outcome(renderer, "# A")).toBe(prepareProtocol(protocol("# A"), settings).rendered.title);
    expect(changes).toEqual(["started", "stopped"]);
    // The next long one starts a thread again: a new one.
    const second = await outcome(renderer, "which thread");
    expect(second).toMatch(/^thread \d+$/);
    expect(second).not.toBe(first);
    expect(changes).toEqual(["started", "stopped", "started"]);
  });

  it("default to one per core beyond the second, at most 4", () => {
    expect([1, 2, 3, 4, 6, 16].map((cores) => defaultRenderThreads(cores))).toEqual([0, 0, 1, 2, 4, 4]);
  });
});
