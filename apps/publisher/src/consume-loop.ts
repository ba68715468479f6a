/**
 * The consume loop: pulls from the durable consumer, runs at most `concurrency` messages at
 * once through the pipeline, keeps each alive with `working()` while it runs, and applies the
 * pipeline's verdict (ack only after the record is committed, nak with a delay, term, or keep the
 * message and try it again here, which spends no delivery).
 * Stopping stops pulling first, then waits for in-flight messages up to a grace period; what
 * is still running then is left un-acked, so JetStream redelivers it to another instance.
 */
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Disposition, IncomingMessage } from "./PublishPipeline.js";

/** Options of {@link startConsumeLoop}. */
export interface ConsumeLoopOptions {
  readonly consumer: Consumer;
  readonly concurrency: number;
  /** The ack wait the server applies; `working()` is sent three times per period. */
  readonly ackWaitMs: number;
  readonly handle: (message: IncomingMessage) => Promise<Disposition>;
  readonly onError: (message: string, error: unknown) => void;
}

/** A running loop. */
export interface ConsumeLoop {
  /** Messages being processed now. */
  readonly inFlight: () => number;
  /** Stops pulling and waits (up to `graceMs`) for in-flight messages. */
  readonly stop: (graceMs: number) => Promise<void>;
  /** Resolves when the loop ended (after `stop`, or when the consumer went away). */
  readonly done: Promise<void>;
}

/** The longest wait between two tries of a kept message. */
const RETRY_CAP_MS = 30_000;

/** Starts consuming. */
export const startConsumeLoop = async (options: ConsumeLoopOptions): Promise<ConsumeLoop> => {
  const inFlight = new Set<Promise<void>>();
  // Acks waiting for the server's confirmation: they no longer hold a concurrency slot (the
  // record is committed, Confluence is done), but stopping still waits for them.
  const acking = new Set<Promise<void>>();
  let stopping = false;
  const messages: ConsumerMessages = await options.consumer.consume({ max_messages: options.concurrency });

  /** Waits for `ms`, or less when the loop stops. */
  const wakers = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });

  const process = async (m: JsMsg): Promise<void> => {
    const heartbeat = setInterval(() => m.working(), Math.max(100, Math.floor(options.ackWaitMs / 3)));
    try {
      const message: IncomingMessage = {
        subject: m.subject,
        data: m.string(),
        streamSequence: m.seq,
        deliveryCount: m.info.deliveryCount,
        storedAt: Math.floor(m.info.timestampNanos / 1e6),
      };
      let disposition = await options.handle(message);
      for (let tries = 0; disposition._tag === "Retry" && !stopping; tries++) {
        await pause(Math.min(RETRY_CAP_MS, disposition.delayMs * 2 ** Math.min(tries, 16)));
        if (stopping) break;
        disposition = await options.handle(message);
      }
      clearInterval(heartbeat);
      switch (disposition._tag) {
        case "Ack": {
          const ack: Promise<void> = m
            .ackAck()
            .then(
              () => undefined,
              (e: unknown) => options.onError("ack was not confirmed", e),
            )
            .finally(() => acking.delete(ack));
          acking.add(ack);
          break;
        }
        case "Nak":
          m.nak(disposition.delayMs);
          break;
        case "Term":
          m.term();
          break;
        case "Retry":
          // Stopping: give the message back now, for another instance or the next start.
          m.nak();
          break;
      }
    } catch (e) {
      // A defect (or a simulated crash): leave the message un-acked for redelivery.
      options.onError("message handling crashed; it will be redelivered", e);
    } finally {
      clearInterval(heartbeat);
    }
  };

  const done = (async () => {
    for await (const m of messages) {
      if (stopping) {
        m.nak();
        continue;
      }
      while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      const p: Promise<void> = process(m).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  })().catch((e: unknown) => options.onError("consume loop ended", e));

  return {
    inFlight: () => inFlight.size,
    done,
    stop: async (graceMs) => {
      stopping = true;
      for (const wake of [...wakers]) wake();
      await messages.close().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]).then(() => Promise.allSettled([...acking])),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      if (timer) clearTimeout(timer);
    },
  };
};
