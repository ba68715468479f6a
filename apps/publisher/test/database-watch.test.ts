// The watch that ends the waits of messages kept through a database outage: they are tried again
// once the database answers after not answering, not when a probe merely passes.
import { describe, expect, it } from "vitest";
import { makeDatabaseWatch } from "../src/database-watch.js";

/** A database whose answers the test sets; counts the probes and the most running at once. */
const database = (answers: boolean) => {
  const state = { answers, probes: 0, running: 0, mostRunning: 0 };
  return {
    state,
    answers: async () => {
      state.probes++;
      state.mostRunning = Math.max(state.mostRunning, ++state.running);
      await new Promise((r) => setImmediate(r));
      state.running--;
      return state.answers;
    },
  };
};

/** Polls until `check` holds, at most `ms`. */
const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe("the database watch", () => {
  it("wakes every waiter once the database answers after an outage, with one probe loop for all", async () => {
    const db = database(false);
    const backs: Array<number> = [];
    const watch = makeDatabaseWatch({ answers: db.answers, intervalMs: 5, onBack: (n) => backs.push(n) });
    let woken = 0;
    const waits = Array.from({ length: 5 }, () =>
      watch.back(new AbortController().signal).then(() => {
        woken++;
      }),
    );
    await until(() => db.state.probes >= 5);
    expect(woken).toBe(0);
    // One probe at a time, however many wait.
    expect(db.state.mostRunning).toBe(1);

    db.state.answers = true;
    await Promise.all(waits);
    expect(backs).toEqual([5]);
    // Nobody waits any more: the probes stop.
    await until(() => !watch.probing());
  });

  it("wakes nobody while the probe passes and the message's statements still fail", async () => {
    const db = database(true);
    const watch = makeDatabaseWatch({ answers: db.answers, intervalMs: 2 });
    const over = new AbortController();
    let woken = false;
    const wait = watch.back(over.signal).then(() => {
      woken = true;
    });
    await until(() => db.state.probes >= 5);
    expect(woken).toBe(false);
    // The wait ran its course: the waiter leaves, and the probes stop.
    over.abort();
    await wait;
    await until(() => !watch.probing());
  });

  it("counts a probe that fails with an error as no answer", async () => {
    let calls = 0;
    const watch = makeDatabaseWatch({
      answers: async () => {
        calls++;
        if (calls < 3) throw new Error("connection refused");
        return true;
      },
      intervalMs: 2,
    });
    await watch.back(new AbortController().signal);
    expect(calls).toBe(3);
  });
});
