/**
 * Messages JetStream gave up on. A message whose last delivery ended without an answer (its
 * publisher died handling it, or ran past the ack wait) is not delivered again; JetStream says so
 * in a max-deliveries advisory, which the gave-up stream (`<stream>_GAVE_UP`, see `ensureGaveUp`)
 * keeps until one publisher has recorded the job as failed. The event is then not dropped without a
 * word, also when no publisher could record it at that moment (the database down, no publisher
 * running, a publisher stopping).
 */
import { gaveUpStreamName, type MinutesConfig } from "@minutes/contracts";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Logger as Pino } from "pino";
import { type ConsumeLoop, startConsumeLoop } from "./consume-loop.js";
import type { DatabaseBack } from "./database-watch.js";
import { ensureGaveUp, GAVE_UP_ACK_WAIT_MS, gaveUpConsumerName, parseMaxDeliveries } from "./nats.js";
import type { Disposition, IncomingMessage } from "./PublishPipeline.js";

/** Options of {@link startGaveUpLoop}. */
export interface GaveUpLoopOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly nats: MinutesConfig["nats"];
  readonly log: Pino;
  /**
   * Records the job of the message JetStream gave up on (the pipeline's `giveUp`); `signal` is
   * aborted when a stop interrupts it.
   */
  readonly giveUp: (message: IncomingMessage, signal: AbortSignal) => Promise<Disposition>;
  /** Ends the wait of a record kept through a database outage once the database answers again. */
  readonly databaseBack?: DatabaseBack;
}

/** How long to wait before reading the gave-up message again when NATS did not answer. */
const READ_AGAIN_MS = 1_000;

/** Creates the gave-up stream and its consumer where missing, and consumes the advisories. */
export const startGaveUpLoop = async (options: GaveUpLoopOptions): Promise<ConsumeLoop> => {
  const { js, jsm, nats, log } = options;
  const stream = gaveUpStreamName(nats.stream);
  const consumer = gaveUpConsumerName(nats);

  const open = async () => {
    for (const what of await ensureGaveUp(jsm, nats))
      log.info({ created: what }, "created the gave-up stream's part");
    return js.consumers.get(stream, consumer);
  };

  const record = async (advisory: IncomingMessage, signal: AbortSignal): Promise<Disposition> => {
    const parsed = parseMaxDeliveries(advisory.data);
    if (parsed === undefined) {
      log.error({ subject: advisory.subject }, "not a max-deliveries advisory; left out");
      return { _tag: "Ack" };
    }
    // `null`: no such message (it aged out, or was deleted).
    const stored = await jsm.streams.getMessage(nats.stream, { seq: parsed.streamSequence });
    if (stored === null) {
      log.error(
        { streamSequence: parsed.streamSequence, deliveries: parsed.deliveries },
        "JetStream gave up on a message that is no longer in the stream; nothing to record",
      );
      return { _tag: "Ack" };
    }
    // A later message of the same job (its subject) is delivered in its turn, or was: the job's
    // page follows that one, and this one's failure would only say something untrue for a moment.
    const last = await jsm.streams.getMessage(nats.stream, { last_by_subj: stored.subject });
    if (last !== null && last.seq > stored.seq) {
      log.info(
        {
          subject: stored.subject,
          streamSequence: stored.seq,
          deliveries: parsed.deliveries,
          laterSequence: last.seq,
        },
        "JetStream gave up on a message whose job has a later message; that one decides",
      );
      return { _tag: "Ack" };
    }
    return options.giveUp(
      {
        subject: stored.subject,
        data: stored.string(),
        streamSequence: stored.seq,
        deliveryCount: parsed.deliveries,
        storedAt: stored.time.getTime(),
      },
      signal,
    );
  };

  return startConsumeLoop({
    consumer: await open(),
    reopen: open,
    concurrency: 1,
    ackWaitMs: GAVE_UP_ACK_WAIT_MS,
    ...(options.databaseBack !== undefined ? { databaseBack: options.databaseBack } : {}),
    handle: (advisory, signal) =>
      record(advisory, signal).catch((e: unknown) => {
        log.warn(
          { err: String(e), streamSequence: advisory.streamSequence },
          "could not read the message JetStream gave up on; trying again",
        );
        return { _tag: "Retry", delayMs: READ_AGAIN_MS } as Disposition;
      }),
    onError: (message, error, fields) => log.error({ ...fields, err: String(error) }, message),
    onNotice: (level, message, fields) => log[level]({ ...fields, stream, consumer }, message),
  });
};
