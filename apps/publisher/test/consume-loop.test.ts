// The consume loop's own bookkeeping, on a consumer of the test's making: what the loop keeps per
// message must not grow with the messages that pass while one stays in flight. (NATS itself is
// exercised by the integration tests; here the point is the loop's promises, counted exactly.)
import { createHook } from "node:async_hooks";
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { describe, expect, it } from "vitest";
import { startConsumeLoop } from "../src/consume-loop.js";
import type { Disposition } from "../src/PublishPipeline.js";

describe("the consume loop", () => {
  it("adds no reaction per passing message to a message held in flight", async () => {
    const short = 500;
    let acked = 0;
    let allAcked: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allAcked = resolve;
    });
    const messages = [fakeMessage(1, () => undefined)];
    for (let seq = 2; seq <= short + 1; seq++)
      messages.push(
        fakeMessage(seq, () => {
          if (++acked === short) allAcked();
        }),
      );
    let release: () => void = () => undefined;
    const held = new Promise<Disposition>((resolve) => {
      release = () => resolve({ _tag: "Ack" });
    });

    // Every promise a `.then` (an `await`, a `Promise.race`) attaches to another is created with that
    // one as its trigger: the count per trigger is the number of reactions a promise collects.
    const reactions = new Map<number, number>();
    const hook = createHook({
      init: (_id, type, trigger) => {
        if (type === "PROMISE") reactions.set(trigger, (reactions.get(trigger) ?? 0) + 1);
      },
    });
    const loop = await startConsumeLoop({
      consumer: fakeConsumer(messages),
      reopen: () => Promise.reject(new Error("not in this test")),
      // Two slots: the held message takes one, the short ones pass through the other, each taken
      // while the one before still runs, so the pull waits for a slot every time.
      concurrency: 2,
      ackWaitMs: 60_000,
      handle: (message) =>
        message.streamSequence === 1
          ? held
          : new Promise((resolve) => setImmediate(() => resolve({ _tag: "Ack" }))),
      onError: (message, error) => {
        throw new Error(`${message}: ${String(error)}`);
      },
      onNotice: () => undefined,
    });
    hook.enable();
    try {
      await done;
    } finally {
      hook.disable();
    }
    // The held message (and the last short one, finishing after its ack).
    expect(loop.inFlight()).toBeGreaterThanOrEqual(1);
    // A race over the in-flight handlings left one per passing message on the held one (500).
    expect(Math.max(...reactions.values())).toBeLessThan(10);
    expect(loop.slotWaiters()).toBeLessThanOrEqual(1);
    release();
    await loop.stop(5_000);
    expect(loop.inFlight()).toBe(0);
    expect(loop.slotWaiters()).toBe(0);
  });

  it("tries a message kept through a database outage again as soon as the database answers, not after its wait", async () => {
    let acked: () => void = () => undefined;
    const ack = new Promise<void>((resolve) => {
      acked = resolve;
    });
    const tries: Array<number> = [];
    let databaseIsBack: () => void = () => undefined;
    const back = new Promise<void>((resolve) => {
      databaseIsBack = resolve;
    });
    let watched = 0;
    const loop = await startConsumeLoop({
      consumer: fakeConsumer([fakeMessage(1, () => acked())]),
      reopen: () => Promise.reject(new Error("not in this test")),
      concurrency: 1,
      ackWaitMs: 60_000,
      // A wait far longer than the test's deadline: only the database coming back ends it in time.
      handle: async () => {
        tries.push(Date.now());
        return tries.length === 1
          ? { _tag: "Retry", delayMs: 600_000, until: "database-answers" }
          : { _tag: "Ack" };
      },
      databaseBack: (signal) => {
        watched++;
        return Promise.race([
          back,
          new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())),
        ]);
      },
      onError: (message, error) => {
        throw new Error(`${message}: ${String(error)}`);
      },
      onNotice: () => undefined,
    });
    await until(() => watched === 1);
    expect(tries).toHaveLength(1);
    databaseIsBack();
    await ack;
    expect(tries).toHaveLength(2);
    await loop.stop(5_000);
  });

  it("lets an ordinary kept message wait its time, without asking about the database", async () => {
    let watched = 0;
    let tried: () => void = () => undefined;
    const triedTwice = new Promise<void>((resolve) => {
      tried = resolve;
    });
    let tries = 0;
    const loop = await startConsumeLoop({
      consumer: fakeConsumer([fakeMessage(1, () => undefined)]),
      reopen: () => Promise.reject(new Error("not in this test")),
      concurrency: 1,
      ackWaitMs: 60_000,
      handle: async () => {
        if (++tries === 2) tried();
        return tries === 1 ? { _tag: "Retry", delayMs: 20 } : { _tag: "Ack" };
      },
      databaseBack: async () => {
        watched++;
      },
      onError: (message, error) => {
        throw new Error(`${message}: ${String(error)}`);
      },
      onNotice: () => undefined,
    });
    await triedTwice;
    expect(watched).toBe(0);
    await loop.stop(5_000);
  });
});

describe("an ack the server does not confirm", () => {
  it("is logged naming the message, which JetStream delivers again", async () => {
    const errors: Array<{ message: string; fields: Record<string, unknown> | undefined }> = [];
    const message = {
      ...fakeMessage(7, () => undefined),
      ackAck: () => Promise.reject(new Error("TIMEOUT")),
    } as unknown as JsMsg;
    const loop = await startConsumeLoop({
      consumer: fakeConsumer([message]),
      reopen: () => Promise.reject(new Error("not in this test")),
      concurrency: 1,
      ackWaitMs: 60_000,
      handle: async () => ({ _tag: "Ack" }),
      onError: (text, _error, fields) => {
        errors.push({ message: text, fields });
      },
      onNotice: () => undefined,
    });
    await until(() => errors.length > 0);
    await loop.stop(5_000);
    expect(errors[0]?.message).toContain("ack was not confirmed");
    expect(errors[0]?.fields).toMatchObject({ subject: "test.protocol.7", streamSequence: 7, delivery: 1 });
  });
});

// internal

/** Polls until `check` holds, at most `ms`. */
const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** A message as the loop uses it; `onAck` is called when it is acknowledged. */
const fakeMessage = (seq: number, onAck: () => void): JsMsg =>
  ({
    subject: `test.protocol.${seq}`,
    seq,
    info: { deliveryCount: 1, timestampNanos: Date.now() * 1e6 },
    string: () => "{}",
    working: () => undefined,
    ackAck: async () => {
      onAck();
      return true;
    },
    nak: () => undefined,
    term: () => undefined,
  }) as unknown as JsMsg;

/** A consumer delivering `messages` at once, then nothing until the pull is closed. */
const fakeConsumer = (messages: ReadonlyArray<JsMsg>): Consumer => {
  const consume = async (): Promise<ConsumerMessages> => {
    let closed: () => void = () => undefined;
    const whenClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const pull = async function* () {
      yield* messages;
      await whenClosed;
    };
    return Object.assign(pull(), {
      close: async () => {
        closed();
      },
      stop: () => closed(),
    }) as unknown as ConsumerMessages;
  };
  return { consume } as unknown as Consumer;
};
