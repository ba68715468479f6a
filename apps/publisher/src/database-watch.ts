/**
 * Tells the messages kept through a database outage when the database answers again. A message
 * whose database work failed is tried again after a wait that doubles on each try (the consume
 * loop's, up to 30 s), so that a long outage costs little; without this, a message could sit for
 * up to that long after the database was back. Waiting for the database instead, one probe a
 * second for all of them, they are tried again within about a second of it answering.
 *
 * "Again": the watch wakes its waiters only after it has seen the database not answer and then
 * answer. A probe that passes while a message's statements still fail (a constraint, a full disk
 * that `select 1` does not notice) wakes nobody, so such a message keeps its growing wait instead
 * of being tried in a tight loop.
 */

/** Options of {@link makeDatabaseWatch}. */
export interface DatabaseWatchOptions {
  /** Whether the database answers now (the store's health check); a rejection counts as no. */
  readonly answers: () => Promise<boolean>;
  /** Time between two probes (ms). */
  readonly intervalMs?: number;
  /** Told once per outage, when the database answered again and the waiters were woken. */
  readonly onBack?: (waiters: number) => void;
}

/** Resolves once the database answers again after not answering, or when `signal` is aborted. */
export type DatabaseBack = (signal: AbortSignal) => Promise<void>;

/** A watch: its waits, and whether it probes now. */
export interface DatabaseWatch {
  readonly back: DatabaseBack;
  /** A probe loop runs (someone waits, or the loop is ending its last pause). */
  readonly probing: () => boolean;
}

/** Time between two probes when not told otherwise. */
export const DATABASE_PROBE_INTERVAL_MS = 1_000;

/**
 * A watch shared by every waiter: one probe loop runs while anyone waits (and only then), however
 * many messages wait.
 */
export const makeDatabaseWatch = (options: DatabaseWatchOptions): DatabaseWatch => {
  const intervalMs = options.intervalMs ?? DATABASE_PROBE_INTERVAL_MS;
  const waiters = new Set<() => void>();
  let probing = false;

  const answers = () => options.answers().catch(() => false);
  const sleep = () =>
    new Promise<void>((resolve) => {
      // Not what keeps the process alive: a stop ends the waits, and the loop with them.
      setTimeout(resolve, intervalMs).unref();
    });

  const probe = async () => {
    probing = true;
    let failed = false;
    try {
      while (waiters.size > 0) {
        if (!(await answers())) failed = true;
        else if (failed) {
          const woken = [...waiters];
          waiters.clear();
          options.onBack?.(woken.length);
          for (const wake of woken) wake();
          return;
        }
        if (waiters.size === 0) return;
        await sleep();
      }
    } finally {
      probing = false;
    }
  };

  const back: DatabaseBack = (signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const wake = () => {
        signal.removeEventListener("abort", leave);
        resolve();
      };
      const leave = () => {
        waiters.delete(wake);
        resolve();
      };
      waiters.add(wake);
      signal.addEventListener("abort", leave, { once: true });
      if (!probing) void probe();
    });

  return { back, probing: () => probing };
};
