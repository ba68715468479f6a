/**
 * Where protocols are rendered. Converting a protocol is the one CPU-heavy step of a publication:
 * micromark allocates about 1.5 KB per byte of Markdown, and on the event loop every other message
 * in flight waits behind it (its Confluence responses, its lease renewals, the consumer's acks and
 * heartbeats). `publisher.render_threads` worker threads render instead, while the event loop
 * keeps talking to Confluence, NATS and the database; 0 renders on the event loop.
 *
 * A thread gets plain settings without secrets (`renderSettingsOf`); each protocol goes to the
 * first idle thread, in arrival order. A thread that dies (out of memory on a huge protocol) fails
 * only the protocol it was rendering, as a defect like an exception from inline rendering: the
 * message is redelivered. A new thread takes its place.
 *
 * Some valid Markdown takes the converter time that grows with the square of its length (minutes
 * for tens of KB). Synchronous code cannot be interrupted, so a deadline (`timeoutMs`) terminates
 * the thread that overran it, fails that protocol with `RenderTimeoutError` and starts a new
 * thread. With 0 threads only protocols short enough to be fast whatever they hold render on the
 * event loop; longer ones go to a thread started on demand (`INLINE_RENDER_LIMIT`).
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { detectDeployment } from "@minutes/confluence-core";
import type { MinutesConfig } from "@minutes/contracts";
import { Effect, type Scope } from "effect";
import { RenderTimeoutError } from "./errors.js";
import {
  type PreparableProtocol,
  type PreparedProtocol,
  prepareProtocol,
  type RenderSettings,
} from "./render.js";

/** Renders protocols (on the event loop or on render threads). */
export interface Renderer {
  /**
   * The protocol's route and page. Fails with `RenderTimeoutError` when rendering overran the
   * deadline and was stopped; anything else is a defect, as on the event loop.
   */
  readonly prepare: (protocol: PreparableProtocol) => Effect.Effect<PreparedProtocol, RenderTimeoutError>;
}

/** What a render thread starts with. */
export interface RenderThreadData {
  readonly settings: RenderSettings;
  readonly template: string | undefined;
}

/** A render thread's message: ready after start, then one answer per protocol. */
export type RenderThreadReply =
  | { readonly ready: true }
  | { readonly id: number; readonly prepared: PreparedProtocol }
  | { readonly id: number; readonly error: { readonly message: string; readonly stack?: string } };

/** The render settings of a configuration: no secrets, the deployment decided as the client decides it. */
export const renderSettingsOf = (confluence: MinutesConfig["confluence"]): RenderSettings => ({
  routing_rules: confluence.routing_rules,
  space_key: confluence.space_key,
  parent_page_id: confluence.parent_page_id,
  advanced_settings: confluence.advanced_settings,
  page_title_format: confluence.page_title_format,
  include_metadata: confluence.include_metadata,
  allow_safe_html: confluence.allow_safe_html,
  deployment: confluence.deployment ?? detectDeployment(confluence.base_url),
});

/**
 * Render threads when `publisher.render_threads` is not set: one per core beyond the second, at
 * most 4. On two cores a thread shares them with the event loop and NATS: measured there, it gave
 * about 15 % more protocols per second for about 40 MB more memory, so small machines keep
 * rendering on the event loop unless told otherwise; past 4 threads the event loop is the limit.
 */
export const defaultRenderThreads = (cores: number = availableParallelism()): number =>
  Math.max(0, Math.min(4, cores - 2));

/**
 * Longest protocol (in UTF-16 code units, what `String.length` counts) that renders on the event
 * loop with 0 render threads; a longer one renders on a thread started on demand, under the
 * deadline. The converter's worst inputs below this take a few tenths of a second: measured on the
 * 2-core benchmark VM, 4 KB of alternating `*_` took 0.25–0.35 s of CPU and 4 KB of `a\n=\n` 0.2–0.4 s
 * (8 KB: 0.8 s and 0.9–1.2 s, 16 KB: 3–4 s; it grows with the square). Ordinary protocols (the
 * benchmark's are 1–2 KB and take a few ms) stay on the event loop without a thread hop or a second
 * V8 heap; longer ones pay about a millisecond for the hop, plus about 0.1 s to start the thread
 * when none is running.
 */
export const INLINE_RENDER_LIMIT = 4096;

/**
 * How long the on-demand thread of 0 render threads outlives its last protocol: long enough that
 * a run of long protocols starts it once, short enough that its memory (a second V8 heap, which a
 * long protocol has grown) goes back soon after.
 */
export const ON_DEMAND_IDLE_MS = 30_000;

/** Renders on the caller's thread (no deadline: it cannot be interrupted). */
export const inlineRenderer = (settings: RenderSettings, template?: string): Renderer => ({
  prepare: (protocol) => Effect.sync(() => prepareProtocol(protocol, settings, template)),
});

/** Options of {@link makeRenderPool}. */
export interface RenderPoolOptions {
  readonly threads: number;
  readonly settings: RenderSettings;
  readonly template?: string | undefined;
  /**
   * How long a thread may take over one protocol (from when it gets it, not from when it was
   * queued): then the thread is terminated and replaced, and the protocol fails with
   * `RenderTimeoutError`. Undefined: no deadline.
   */
  readonly timeoutMs?: number | undefined;
  /** Told when a thread dies or overran the deadline and is replaced (for the log). */
  readonly onThreadExit?: (detail: ThreadExit) => void;
  /** Tests: the thread's script instead of render-thread.js (same messages). */
  readonly script?: URL;
  /** Tests: {@link INLINE_RENDER_LIMIT} instead. */
  readonly inlineLimit?: number;
  /**
   * With 0 threads: how long the on-demand thread outlives its last protocol before it is stopped
   * (ms); default {@link ON_DEMAND_IDLE_MS}.
   */
  readonly idleMs?: number;
  /**
   * With 0 threads: told when the on-demand thread has started (ready for its first protocol) and
   * when it has been stopped, idle for `idleMs` or because the pool closed (for tests, or a log line).
   */
  readonly onDemandThread?: (change: "started" | "stopped") => void;
}

/** Why a render thread went away. */
export interface ThreadExit {
  readonly exitCode: number;
  /** It died while rendering a protocol (which failed as a defect). */
  readonly rendering: boolean;
  /** It was terminated because a protocol overran the deadline (which failed with `RenderTimeoutError`). */
  readonly timedOut: boolean;
  /** The job of the protocol it was rendering or overran the deadline with (for the log line). */
  readonly jobId?: string;
}

/**
 * A pool of `threads` render threads, stopped when the scope closes. Fails when a thread cannot
 * start (its error says why), so a broken installation stops the publisher at start, not at its
 * first protocol. With 0 threads, protocols up to {@link INLINE_RENDER_LIMIT} render on the event
 * loop, and longer ones on one thread started when needed and stopped when idle (a thread that
 * cannot start then fails that protocol as a defect: it is redelivered).
 */
export const makeRenderPool = (options: RenderPoolOptions): Effect.Effect<Renderer, Error, Scope.Scope> =>
  options.threads <= 0
    ? Effect.acquireRelease(
        Effect.sync(() => onDemandRenderer(options)),
        (renderer) => Effect.promise(() => renderer.close()),
      ).pipe(Effect.map((renderer) => ({ prepare: renderer.prepare })))
    : Effect.acquireRelease(
        Effect.tryPromise({
          try: () => startPool(options),
          catch: (error) => (error instanceof Error ? error : new Error(String(error))),
        }),
        (pool) => Effect.promise(() => pool.close()),
      ).pipe(Effect.map((pool) => ({ prepare: pool.prepare })));

// internal

type TaskResult =
  | { readonly prepared: PreparedProtocol }
  | { readonly error: Error }
  | { readonly timedOut: true };

interface Task {
  readonly id: number;
  readonly protocol: PreparableProtocol;
  readonly done: (result: TaskResult) => void;
}

interface Thread {
  readonly worker: Worker;
  task: Task | undefined;
  /** The running task's deadline. */
  deadline: ReturnType<typeof setTimeout> | undefined;
  /** Terminated for overrunning the deadline: it takes no more work, its late answer is dropped. */
  timedOut: boolean;
  /** The job whose protocol overran the deadline. */
  timedOutJobId?: string;
}

/** A started pool. */
interface Pool {
  readonly prepare: Renderer["prepare"];
  readonly close: () => Promise<void>;
}

/**
 * The renderer of 0 render threads: short protocols on the caller's thread, longer ones on a pool
 * of one thread, started by the first of them and closed `idleMs` after the last one finished.
 */
const onDemandRenderer = (options: RenderPoolOptions): Pool => {
  const inline = inlineRenderer(options.settings, options.template);
  const limit = options.inlineLimit ?? INLINE_RENDER_LIMIT;
  const idleMs = options.idleMs ?? ON_DEMAND_IDLE_MS;
  let pool: Promise<Pool> | undefined;
  let busy = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const stopPool = async () => {
    const started = pool;
    pool = undefined;
    await started?.then(
      async (p) => {
        await p.close();
        options.onDemandThread?.("stopped");
      },
      () => undefined,
    );
  };

  const onThread = (protocol: PreparableProtocol) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        busy++;
        clearTimeout(idle);
        if (pool === undefined) {
          const starting = startPool({ ...options, threads: 1 });
          // A thread that could not start is tried again by the next protocol.
          starting.then(
            () => options.onDemandThread?.("started"),
            () => {
              if (pool === starting) pool = undefined;
            },
          );
          pool = starting;
        }
        return pool;
      }),
      (starting) =>
        Effect.tryPromise({
          try: () => starting,
          catch: (error) => (error instanceof Error ? error : new Error(String(error))),
        }).pipe(
          Effect.orDie,
          Effect.flatMap((p) => p.prepare(protocol)),
        ),
      () =>
        Effect.sync(() => {
          busy--;
          if (busy > 0 || closed) return;
          idle = setTimeout(() => {
            if (busy === 0) stopPool().catch(() => undefined);
          }, idleMs);
          // The idle thread alone does not keep the process alive (it is terminated below anyway).
          idle.unref();
        }),
    );

  return {
    prepare: (protocol) =>
      closed
        ? Effect.die(new Error("the render threads have stopped"))
        : protocol.markdown.length <= limit
          ? inline.prepare(protocol)
          : onThread(protocol),
    close: async () => {
      closed = true;
      clearTimeout(idle);
      await stopPool();
    },
  };
};

/** How a thread starts: the script (a file, or code to evaluate) and its Node flags. */
interface ThreadScript {
  readonly script: URL | string;
  readonly eval: boolean;
  readonly execArgv: ReadonlyArray<string>;
}

/**
 * The compiled thread script; or, running from the sources (tests), the TypeScript one loaded
 * through tsx, with the workspace packages resolved to their sources as in the calling process.
 */
const threadScript = (): ThreadScript => {
  if (!import.meta.url.endsWith(".ts"))
    return { script: new URL("./render-thread.js", import.meta.url), eval: false, execArgv: [] };
  // tsx's ESM API (its CommonJS one registers its hooks from the wrong directory).
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve("tsx/esm/api")
      .replace(/\.cjs$/, ".mjs"),
  );
  const entry = new URL("./render-thread.ts", import.meta.url).href;
  return {
    script: `import(${JSON.stringify(tsx.href)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}));`,
    eval: true,
    execArgv: ["--conditions=@minutes/source"],
  };
};

const startPool = async (options: RenderPoolOptions): Promise<Pool> => {
  const start: ThreadScript =
    options.script !== undefined ? { script: options.script, eval: false, execArgv: [] } : threadScript();
  const data: RenderThreadData = { settings: options.settings, template: options.template };
  const threads = new Set<Thread>();
  const queue: Array<Task> = [];
  let nextId = 0;
  let closing = false;

  const dispatch = () => {
    for (const thread of threads) {
      if (queue.length === 0) return;
      if (thread.task !== undefined) continue;
      const task = queue.shift() as Task;
      thread.task = task;
      if (options.timeoutMs !== undefined)
        thread.deadline = setTimeout(() => overran(thread), options.timeoutMs);
      thread.worker.postMessage({ id: task.id, protocol: task.protocol });
    }
  };

  /**
   * The thread's protocol overran the deadline: it fails, and the thread, which cannot be told to
   * stop mid-conversion, is terminated ("exit" then starts its replacement). The queue goes on
   * on the other threads meanwhile.
   */
  const overran = (thread: Thread) => {
    const task = thread.task;
    if (task === undefined) return;
    thread.task = undefined;
    thread.timedOut = true;
    thread.timedOutJobId = task.protocol.jobId;
    threads.delete(thread);
    task.done({ timedOut: true });
    thread.worker.terminate().catch(() => undefined);
  };

  /** Starts a thread; resolves once it has loaded the converter and said it is ready. */
  const spawn = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(start.script, {
        eval: start.eval,
        workerData: data,
        execArgv: [...start.execArgv],
        // No stdin; its output, if any, goes where the publisher's goes.
        stdin: false,
      });
      const thread: Thread = { worker, task: undefined, deadline: undefined, timedOut: false };
      let ready = false;
      worker.on("message", (reply: RenderThreadReply) => {
        if ("ready" in reply) {
          ready = true;
          threads.add(thread);
          resolve();
          dispatch();
          return;
        }
        clearTimeout(thread.deadline);
        // An answer that came after the deadline: its protocol has failed already.
        if (thread.timedOut) return;
        const task = thread.task;
        thread.task = undefined;
        if (task !== undefined && task.id === reply.id) {
          task.done(
            "prepared" in reply
              ? { prepared: reply.prepared }
              : { error: Object.assign(new Error(reply.error.message), { stack: reply.error.stack }) },
          );
        }
        dispatch();
      });
      // An uncaught error ends the thread; "exit" follows and does the rest.
      let failure: Error | undefined;
      worker.on("error", (error) => {
        failure = error;
      });
      worker.on("exit", (exitCode) => {
        clearTimeout(thread.deadline);
        threads.delete(thread);
        if (!ready) {
          reject(
            new Error(
              `a render thread could not start: ${failure?.message ?? `it exited with code ${exitCode}`}`,
            ),
          );
          return;
        }
        const task = thread.task;
        thread.task = undefined;
        task?.done({
          error: new Error(
            `the render thread stopped while rendering (${failure?.message ?? `exit code ${exitCode}`})`,
          ),
        });
        if (closing) return;
        const jobId = task?.protocol.jobId ?? thread.timedOutJobId;
        options.onThreadExit?.({
          exitCode,
          rendering: task !== undefined,
          timedOut: thread.timedOut,
          ...(jobId !== undefined ? { jobId } : {}),
        });
        spawn().then(dispatch, (error: unknown) => {
          // Started once, it failing to start again means the machine is out of something: the
          // queued protocols fail (and are redelivered) rather than wait for a thread forever.
          if (threads.size === 0) for (const t of queue.splice(0)) t.done({ error: error as Error });
        });
      });
    });

  try {
    await Promise.all(Array.from({ length: options.threads }, spawn));
  } catch (error) {
    closing = true;
    await Promise.all([...threads].map((t) => t.worker.terminate()));
    throw error;
  }

  const prepare = (protocol: PreparableProtocol): Effect.Effect<PreparedProtocol, RenderTimeoutError> =>
    Effect.async<PreparedProtocol, RenderTimeoutError>((resume) => {
      if (closing) {
        resume(Effect.die(new Error("the render threads have stopped")));
        return;
      }
      const task: Task = {
        id: nextId++,
        protocol: {
          jobId: protocol.jobId,
          markdown: protocol.markdown,
          filename: protocol.filename,
          occurredAt: protocol.occurredAt,
          metadata: protocol.metadata,
        },
        done: (result) =>
          resume(
            "prepared" in result
              ? Effect.succeed(result.prepared)
              : "timedOut" in result
                ? Effect.fail(
                    new RenderTimeoutError({
                      seconds: (options.timeoutMs ?? 0) / 1000,
                      bytes: Buffer.byteLength(protocol.markdown),
                    }),
                  )
                : Effect.die(result.error),
          ),
      };
      queue.push(task);
      dispatch();
      // Interrupted while waiting: it leaves the queue (a thread already rendering it finishes, or
      // overruns the deadline and is replaced).
      return Effect.sync(() => {
        const at = queue.indexOf(task);
        if (at !== -1) queue.splice(at, 1);
      });
    });

  const close = async () => {
    closing = true;
    for (const task of queue.splice(0)) task.done({ error: new Error("the render threads have stopped") });
    await Promise.all([...threads].map((t) => t.worker.terminate()));
  };

  return { prepare, close };
};
