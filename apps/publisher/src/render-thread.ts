/**
 * A render thread (see render-pool.ts): prepares the protocols the pool sends, one at a time, and
 * answers each with its route and page or with the error rendering threw. It loads the converter's
 * light entry only, so a thread starts in about a tenth of a second with a few MB of heap.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type PreparableProtocol, prepareProtocol } from "./render.js";
import type { RenderThreadData, RenderThreadReply } from "./render-pool.js";

const port = parentPort;
if (port === null) throw new Error("render-thread.js runs as a worker thread of the publisher");
const { settings, template } = workerData as RenderThreadData;

port.on("message", (task: { readonly id: number; readonly protocol: PreparableProtocol }) => {
  let reply: RenderThreadReply;
  try {
    reply = { id: task.id, prepared: prepareProtocol(task.protocol, settings, template) };
  } catch (error) {
    reply = {
      id: task.id,
      error: {
        message: error instanceof Error ? error.message : String(error),
        ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
      },
    };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies RenderThreadReply);
