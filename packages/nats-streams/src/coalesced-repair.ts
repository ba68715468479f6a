/**
 * One repair at a time for many callers that found something missing at once (a burst of failed
 * publishes after NATS lost its data): they share the running attempt, and a caller right after
 * one gets its result without a round trip. The tradeoff: a repair needed again within the
 * interval waits for the next caller after it.
 */

/**
 * Wraps `attempt` (re-create what is missing) for callers that found something missing. Callers
 * at the same moment share one attempt, and an attempt starts at most once per `minIntervalMs`: a
 * caller inside that interval gets the last attempt's result. The result resolves whether the
 * attempt succeeded and never rejects; a failure goes to `failed` (for the log).
 *
 * @example
 * const repair = coalescedRepair(() => createMissingStreams(jsm, nats, log), (e) => log(e));
 * if (!(await repair())) throw error; // else try the operation once more
 */
export const coalescedRepair = (
  attempt: () => Promise<void>,
  failed: (error: unknown) => void,
  minIntervalMs = 1_000,
): (() => Promise<boolean>) => {
  let running: Promise<boolean> | undefined;
  let startedAt = Number.NEGATIVE_INFINITY;
  let last = false;
  return () => {
    if (running !== undefined) return running;
    if (Date.now() - startedAt < minIntervalMs) return Promise.resolve(last);
    startedAt = Date.now();
    running = (async () => {
      try {
        await attempt();
        last = true;
      } catch (error) {
        failed(error);
        last = false;
      } finally {
        running = undefined;
      }
      return last;
    })();
    return running;
  };
};

/** What a repair tells the log: each thing it created, and why an attempt failed. */
export interface RepairListener {
  readonly created: (what: string) => void;
  readonly failed: (error: unknown) => void;
}
