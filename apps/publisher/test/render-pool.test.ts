// Render threads are real worker threads here: the pool against its own thread script (loaded
// from the sources through tsx, as under vitest) and against a thread that misbehaves on request.
import { readdirSync, readFileSync } from "node:fs";
import { loadConfig } from "@minutes/contracts";
import { Cause, Effect, Either, Exit, Option, Scope } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type PreparableProtocol, prepareProtocol } from "../src/render.js";
import { defaultRenderThreads, makeRenderPool, type Renderer, renderSettingsOf } from "../src/render-pool.js";

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

/** The defect a render failed with (its message), or the title it rendered. */
const outcome = async (renderer: Renderer, markdown: string): Promise<string> => {
  const exit = await Effect.runPromiseExit(renderer.prepare(protocol(markdown)));
  if (Exit.isSuccess(exit)) return exit.value.rendered.title;
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
    expect(exits).toEqual([{ exitCode: 7, rendering: true }]);
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

  it("default to one per core beyond the second, at most 4", () => {
    expect([1, 2, 3, 4, 6, 16].map((cores) => defaultRenderThreads(cores))).toEqual([0, 0, 1, 2, 4, 4]);
  });
});
