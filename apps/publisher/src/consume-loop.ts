/**
 * The consume loop: pulls from the durable consumer, runs at most `concurrency` messages at
 * once through the pipeline, keeps each alive with `working()` while it runs, and applies the
 * pipeline's verdict (ack only after the record is committed, nak with a delay, term, or keep the
 * message and try it again here, which spends no delivery).
 * Stopping stops pulling first, then waits for in-flight messages up to a grace period; what
 * is still running then is interrupted (through the signal `handle` gets) and left un-acked, so
 * JetStream redelivers it to another instance. `stop` returns once the interrupted handlings have
 * ended: the caller may then close what they use (the store, the Confluence client, NATS).
 *
 * A consumer or stream that disappears (NATS restarted without its data, an operator deleting
 * it) ends the pull with an error instead of the client's default of waiting silently for
 * someone else to restore it (`abort_on_missing_resource`); the loop then has them re-created
 * and pulls again, pausing between attempts so a consumer deleted over and over costs little.
 * A message still running from before is not acknowledged afterwards: the re-created consumer
 * would take its ack for the message that now has the same stream sequence.
 *
 * Messages kept through a database outage stay here while this publisher is alone (no delivery is
 * spent). With `handOff` and a live peer (another publisher, which may still reach the database)
 * they are handed back instead (nak), and the loop pulls nothing until its database answers: the
 * peer publishes them within seconds. The tradeoff: each hand-back spends a delivery, so a
 * message on its last delivery stays here (handed back, JetStream would give up on it), and when
 * every instance lost the database they all stop pulling and resume as their database answers.
 */
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { DatabaseBack } from "./database-watch.js";
import type { Disposition, IncomingMessage } from "./PublishPipeline.js";

/** Options of {@link startConsumeLoop}. */
export interface ConsumeLoopOptions {
  readonly consumer: Consumer;
  /**
   * Re-creates the streams and the consumer after the pull found one missing and returns the
   * consumer to pull from; a rejection is logged and tried again after a pause.
   */
  readonly reopen: () => Promise<Consumer>;
  readonly concurrency: number;
  /** The ack wait the server applies; `working()` is sent three times per period. */
  readonly ackWaitMs: number;
  /**
   * Handles one message. `signal` is aborted when a stop gives up on it after the grace period:
   * the handling should end (settle) soon after; its message is then left un-acked whatever it
   * settles with.
   */
  readonly handle: (message: IncomingMessage, signal: AbortSignal) => Promise<Disposition>;
  /**
   * Resolves once the database answers again after not answering (or when `signal` is aborted):
   * ends the wait of a `Retry` kept `until: "database-answers"` early. Without it such a wait runs
   * its course.
   */
  readonly databaseBack?: DatabaseBack;
  /** Handing kept messages to a live peer during a database outage; without it they stay here. */
  readonly handOff?: HandOffOptions;
  readonly onError: (message: string, error: unknown, fields?: Record<string, unknown>) => void;
  /** What else the log should say: the consumer went missing, pulling resumed. */
  readonly onNotice: (level: "info" | "warn", message: string, fields?: Record<string, unknown>) => void;
}

/** Options of the hand-off of messages kept through a database outage (see the module comment). */
export interface HandOffOptions {
  /**
   * Whether another publisher instance is alive now (the publisher registry); a rejection counts
   * as no. Asked as soon as a message is kept for the database, then every `checkEveryMs` while
   * messages stay kept (a peer that starts later takes them too).
   */
  readonly livePeer: () => Promise<boolean>;
  /** Whether the database answers now (the store's health check); a rejection counts as no. */
  readonly databaseAnswers: () => Promise<boolean>;
  /** The consumer's `max_deliver`: a message on its last delivery is never handed back. */
  readonly maxDeliver: number;
  /** Time between two looks for a peer, and between two probes while not pulling (default 1 s). */
  readonly checkEveryMs?: number;
}

/** Time between two looks for a live peer (and two database probes while handing off), by default. */
export const HAND_OFF_CHECK_MS = 1_000;

/** The shortest time between two re-creations of the consumer. */
export const REOPEN_MIN_INTERVAL_MS = 1_000;
/** The longest pause between failed re-creation attempts. */
export const REOPEN_MAX_PAUSE_MS = 15_000;

/** A running loop. */
export interface ConsumeLoop {
  /** Messages being processed now. */
  readonly inFlight: () => number;
  /** Callbacks waiting for a free slot (at most one: the pull's); for tests. */
  readonly slotWaiters: () => number;
  /** Whether the loop hands its kept messages to a peer and pulls nothing until its database answers. */
  readonly handingOff: () => boolean;
  /**
   * Stops pulling and waits (up to `graceMs`) for in-flight messages, then interrupts the ones
   * still running and waits for them to end.
   */
  readonly stop: (graceMs: number) => Promise<void>;
  /** Resolves when the loop ended (after `stop`, or when the NATS connection closed). */
  readonly done: Promise<void>;
}

/** The longest wait between two tries of a kept message. */
const RETRY_CAP_MS = 30_000;
/**
 * The delay of a hand-back's nak: given explicitly, as a plain nak may wait for the consumer's
 * backoff (its first step, 5 s by default) on servers that apply it to naks without a delay.
 */
const HAND_BACK_DELAY_MS = 1;

/** Starts consuming. */
export const startConsumeLoop = async (options: ConsumeLoopOptions): Promise<ConsumeLoop> => {
  /**
   * The messages being handled: their handling, with subject and stream sequence (for the log of a
   * stop that gives up on them) and what interrupts it.
   */
  const inFlight = new Map<
    Promise<void>,
    { readonly subject: string; readonly streamSequence: number; readonly interrupt: AbortController }
  >();
  // Who waits for a slot to free up (the pull, holding its next message): woken one at a time as a
  // handling ends, and all at once by a stop. A `Promise.race` over the handlings instead added a
  // reaction to each of them per wait, which a long-running one kept: with one message held for
  // minutes, every message passing by left one behind (65 MB after 200k short messages).
  const slotWaiters: Array<() => void> = [];
  const slotFreed = () => new Promise<void>((resolve) => slotWaiters.push(resolve));
  // Acks waiting for the server's confirmation: they no longer hold a concurrency slot (the
  // record is committed, Confluence is done), but stopping still waits for them.
  const acking = new Set<Promise<void>>();
  let stopping = false;
  // One message per pull, requested when the loop takes the previous one: the loop then holds at
  // most the message it waits with for a free slot, and keeps that one alive. A larger batch would
  // sit in the client's buffer with nobody calling working(): behind slow publications (minutes of
  // Retry-After) it outlived the ack wait and was delivered again while the first copy waited, so
  // a forced publication wrote its page twice.
  const open = (consumer: Consumer): Promise<ConsumerMessages> =>
    consumer.consume({ max_messages: 1, abort_on_missing_resource: true });
  let consumer: Consumer = options.consumer;
  let messages: ConsumerMessages = await open(consumer);
  // Counts re-created consumers: a message answers only the consumer that delivered it.
  let generation = 0;
  let lastReopen = Number.NEGATIVE_INFINITY;

  /**
   * Waits for `ms`, or less when the loop stops (kept messages, re-creation attempts) or `early`
   * resolves (it is told through its signal when the wait is over). `group` also holds the wake
   * while it waits, for whoever must end the waits of one kind (a hand-off: the kept messages').
   */
  const wakers = new Set<() => void>();
  const pause = (ms: number, early?: (signal: AbortSignal) => Promise<void>, group?: Set<() => void>) =>
    new Promise<void>((resolve) => {
      const over = new AbortController();
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        group?.delete(wake);
        over.abort();
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
      group?.add(wake);
      early?.(over.signal).then(wake, () => undefined);
    });

  // The hand-off. `kept`: the waits of the messages kept for the database.
  const handOff = options.handOff;
  const checkEveryMs = handOff?.checkEveryMs ?? HAND_OFF_CHECK_MS;
  const kept = new Set<() => void>();
  let handingOff = false;
  let lookingForPeer = false;
  /** Whether `m` may be handed back: not on its last delivery, which JetStream would give up on. */
  const mayHandBack = (m: JsMsg): boolean =>
    handingOff && handOff !== undefined && m.info.deliveryCount < handOff.maxDeliver;
  /** Starts a hand-off: kept messages go back, the pull ends (the loop resumes it later). */
  const startHandOff = () => {
    handingOff = true;
    options.onNotice(
      "warn",
      "the database does not answer and another publisher runs: handing the messages kept here back to it, and pulling none until the database answers",
      { kept: kept.size },
    );
    for (const wake of [...kept]) wake();
    for (const wake of slotWaiters.splice(0)) wake();
    void messages.close().catch(() => undefined);
  };
  /** While messages are kept for the database, looks for a live peer; one found starts a hand-off. */
  const lookForPeer = async () => {
    if (handOff === undefined || lookingForPeer) return;
    lookingForPeer = true;
    try {
      while (kept.size > 0 && !handingOff && !stopping) {
        if (await handOff.livePeer().catch(() => false)) {
          if (kept.size > 0 && !handingOff && !stopping) startHandOff();
          return;
        }
        await pause(checkEveryMs);
      }
    } finally {
      lookingForPeer = false;
    }
  };
  /** Resolves once the database answers (or the loop stops). */
  const databaseAnswers = async () => {
    while (!stopping && handOff !== undefined) {
      if (await handOff.databaseAnswers().catch(() => false)) return;
      await pause(checkEveryMs);
    }
  };

  /** Tells JetStream three times per ack wait that `m` is still being worked on, from now on. */
  const keepAlive = (m: JsMsg): NodeJS.Timeout => {
    const deliveredBy = generation;
    return setInterval(
      () => {
        if (deliveredBy === generation) m.working();
      },
      Math.max(100, Math.floor(options.ackWaitMs / 3)),
    );
  };

  const process = async (m: JsMsg, heartbeat: NodeJS.Timeout, signal: AbortSignal): Promise<void> => {
    const deliveredBy = generation;
    try {
      const message: IncomingMessage = {
        subject: m.subject,
        data: m.string(),
        streamSequence: m.seq,
        deliveryCount: m.info.deliveryCount,
        storedAt: Math.floor(m.info.timestampNanos / 1e6),
      };
      let disposition = await options.handle(message, signal);
      let handBack = false;
      for (let tries = 0; disposition._tag === "Retry" && !stopping; tries++) {
        const forDatabase = disposition.until === "database-answers";
        if (forDatabase && mayHandBack(m)) {
          handBack = true;
          break;
        }
        const waiting = pause(
          Math.min(RETRY_CAP_MS, disposition.delayMs * 2 ** Math.min(tries, 16)),
          forDatabase ? options.databaseBack : undefined,
          forDatabase ? kept : undefined,
        );
        if (forDatabase) void lookForPeer();
        await waiting;
        if (stopping) break;
        if (forDatabase && mayHandBack(m)) {
          handBack = true;
          break;
        }
        disposition = await options.handle(message, signal);
      }
      clearInterval(heartbeat);
      // Interrupted by a stop: whatever it came back with, the message is left for redelivery.
      if (signal.aborted) return;
      if (handBack && deliveredBy === generation) {
        // Nothing was recorded for it here (the database did not answer): the peer handles it as
        // a new delivery, taking over a lease this attempt held once that runs out.
        m.nak(HAND_BACK_DELAY_MS);
        options.onNotice(
          "info",
          "handed a message kept through the database outage back to another publisher",
          {
            subject: m.subject,
            streamSequence: m.seq,
            delivery: m.info.deliveryCount,
          },
        );
        return;
      }
      if (deliveredBy !== generation) {
        options.onNotice("warn", "not answering a message of a consumer that was since re-created", {
          subject: m.subject,
          streamSequence: m.seq,
          disposition: disposition._tag,
        });
        return;
      }
      switch (disposition._tag) {
        case "Ack": {
          const ack: Promise<void> = m
            .ackAck()
            .then(
              () => undefined,
              // Which message: it comes back after the ack wait, and its job is handled again.
              (e: unknown) =>
                options.onError(
                  "ack was not confirmed; JetStream delivers the message again after the ack wait",
                  e,
                  {
                    subject: m.subject,
                    streamSequence: m.seq,
                    delivery: m.info.deliveryCount,
                  },
                ),
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
      // Interrupted by a stop: left un-acked, as the stop's warning says.
      if (signal.aborted) return;
      // A defect (or a simulated crash): leave the message un-acked for redelivery.
      // Its last delivery too: JetStream then gives up on it, and the publishers record its job
      // as failed when they hear of it (the max-deliveries advisory).
      options.onError(
        "message handling crashed; JetStream delivers it again after the ack wait, or gives up on its last delivery",
        e,
        {
          subject: m.subject,
          streamSequence: m.seq,
          delivery: m.info.deliveryCount,
        },
      );
    } finally {
      clearInterval(heartbeat);
    }
  };

  /** Pulls until the pull ends: `undefined` when it was closed, else the error that ended it. */
  const pull = async (pulling: ConsumerMessages): Promise<unknown> => {
    try {
      for await (const m of pulling) {
        if (stopping) {
          m.nak();
          continue;
        }
        const heartbeat = keepAlive(m);
        while (inFlight.size >= options.concurrency && !stopping && !mayHandBack(m)) await slotFreed();
        if (stopping) {
          clearInterval(heartbeat);
          m.nak();
          continue;
        }
        // Taken before the hand-off closed the pull: the peer takes it.
        if (mayHandBack(m)) {
          clearInterval(heartbeat);
          m.nak(HAND_BACK_DELAY_MS);
          continue;
        }
        const interrupt = new AbortController();
        const p: Promise<void> = process(m, heartbeat, interrupt.signal).finally(() => {
          inFlight.delete(p);
          slotWaiters.shift()?.();
        });
        inFlight.set(p, { subject: m.subject, streamSequence: m.seq, interrupt });
      }
      return undefined;
    } catch (error) {
      return error ?? new Error("the pull ended");
    }
  };

  /** The next pull on a re-created consumer, or `undefined` once stopping. */
  const reopen = async (): Promise<ConsumerMessages | undefined> => {
    for (let attempt = 0; !stopping; attempt++) {
      const backoff = attempt === 0 ? 0 : Math.min(REOPEN_MAX_PAUSE_MS, 500 * 2 ** attempt);
      const wait = Math.max(backoff, lastReopen + REOPEN_MIN_INTERVAL_MS - Date.now());
      if (wait > 0) await pause(wait);
      if (stopping) return undefined;
      lastReopen = Date.now();
      try {
        const reopened = await options.reopen();
        const next = await open(reopened);
        if (!stopping) {
          consumer = reopened;
          return next;
        }
        // Never iterated: `close()` would wait for an iteration that never comes.
        next.stop();
      } catch (error) {
        options.onError("could not re-create the consumer; trying again", error);
      }
    }
    return undefined;
  };

  const done = (async () => {
    for (;;) {
      const ended = await pull(messages);
      if (stopping) return;
      // Closed by a hand-off: pulling resumes once the database answers.
      if (handingOff) {
        await databaseAnswers();
        handingOff = false;
        if (stopping) return;
        if (ended === undefined) {
          try {
            messages = await open(consumer);
            options.onNotice("info", "the database answers again; pulling again");
            continue;
          } catch (error) {
            options.onError(
              "could not pull again after the database answered; re-creating the consumer",
              error,
            );
          }
        }
      } else if (ended === undefined) {
        // Closed by `stop`, or the NATS connection closed: nothing to come back to.
        return;
      }
      // The consumer that delivered the messages still running is gone.
      generation++;
      options.onNotice("warn", "pulling stopped; re-creating the streams and the consumer", {
        reason: ended instanceof Error ? ended.message : String(ended),
      });
      const next = await reopen();
      if (next === undefined) return;
      messages = next;
      options.onNotice("info", "pulling again from the re-created consumer");
    }
  })().catch((e: unknown) => options.onError("consume loop ended", e));

  return {
    inFlight: () => inFlight.size,
    slotWaiters: () => slotWaiters.length,
    handingOff: () => handingOff,
    done,
    stop: async (graceMs) => {
      stopping = true;
      for (const wake of [...wakers]) wake();
      // The message waiting for a slot is given back now, not when a slot frees up.
      for (const wake of slotWaiters.splice(0)) wake();
      await messages.close().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight.keys()]).then(() => Promise.allSettled([...acking])),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      if (timer) clearTimeout(timer);
      // Given up on: interrupted, and left un-acked. Their records stay `publishing` until their
      // lease runs out and JetStream delivers them again (here or to another publisher). The log
      // says which. Their interruption is waited for: what they use is closed next.
      if (inFlight.size > 0) {
        const left = [...inFlight.values()];
        options.onNotice(
          "warn",
          `stopped with ${left.length} ${left.length === 1 ? "message" : "messages"} still in progress after the shutdown grace period; JetStream delivers them again after the ack wait`,
          {
            inProgress: left
              .slice(0, 20)
              .map((m) => `${m.subject} #${m.streamSequence}`)
              .join(", "),
          },
        );
        for (const m of left) m.interrupt.abort();
        await Promise.allSettled([...inFlight.keys()]);
      }
    },
  };
};
