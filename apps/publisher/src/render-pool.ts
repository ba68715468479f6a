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
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { detectDeployment } from "@minutes/confluence-core";
import type { MinutesConfig } from "@minutes/contracts";
import { Effect, type Scope } from "effect";
import {
  type PreparableProtocol,
  type PreparedProtocol,
  prepareProtocol,
  type RenderSettings,
} from "./render.js";

/** Renders protocols (on the event loop or on render threads). */
export interface Renderer {
  /** The protocol's route and page. Fails only with a defect, as rendering on the event loop would. */
  readonly prepare: (protocol: PreparableProtocol) => Effect.Effect<PreparedProtocol>;
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

/** Renders on the caller's thread. */
export const inlineRenderer = (settings: RenderSettings, template?: string): Renderer => ({
  prepare: (protocol) => Effect.sync(() => prepareProtocol(protocol, settings, template)),
});

/** Options of {@link makeRenderPool}. */
export interface RenderPoolOptions {
  readonly threads: number;
  readonly settings: RenderSettings;
  readonly template?: string | undefined;
  /** Told when a thread dies and is replaced (for the log). */
  readonly onThreadExit?: (detail: { readonly exitCode: number; readonly rendering: boolean }) => void;
  /** Tests: the thread's script instead of render-thread.js (same messages). */
  readonly script?: URL;
}

/**
 * A pool of `threads` render threads, stopped when the scope closes; with 0 threads, the inline
 * renderer. Fails when a thread cannot start (its error says why), so a broken installation stops
 * the publisher at start, not at its first protocol.
 */
export const makeRenderPool = (options: RenderPoolOptions): Effect.Effect<Renderer, Error, Scope.Scope> =>
  options.threads <= 0
    ? Effect.succeed(inlineRenderer(options.settings, options.template))
    : Effect.acquireRelease(
        Effect.tryPromise({
          try: () => startPool(options),
          catch: (error) => (error instanceof Error ? error : new Error(String(error))),
        }),
        (pool) => Effect.promise(() => pool.close()),
      ).pipe(Effect.map((pool) => ({ prepare: pool.prepare })));

// internal

interface Task {
  readonly id: number;
  readonly protocol: PreparableProtocol;
  readonly done: (result: { readonly prepared: PreparedProtocol } | { readonly error: Error }) => void;
}

interface Thread {
  readonly worker: Worker;
  task: Task | undefined;
}

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

const startPool = async (options: RenderPoolOptions) => {
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
      thread.worker.postMessage({ id: task.id, protocol: task.protocol });
    }
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
      const thread: Thread = { worker, task: undefined };
      let ready = false;
      worker.on("message", (reply: RenderThreadReply) => {
        if ("ready" in reply) {
          ready = true;
          threads.add(thread);
          resolve();
          dispatch();
          return;
        }
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
        options.onThreadExit?.({ exitCode, rendering: task !== undefined });
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

  const prepare = (protocol: PreparableProtocol): Effect.Effect<PreparedProtocol> =>
    Effect.async<PreparedProtocol>((resume) => {
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
          resume("prepared" in result ? Effect.succeed(result.prepared) : Effect.die(result.error)),
      };
      queue.push(task);
      dispatch();
      // Interrupted while waiting: it leaves the queue (a thread already rendering it finishes).
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
