// The one retry policy for Confluence calls, built from the `max_retries` / `retry_delay` settings.
// Exponential with jitter for network and 5xx failures, the server's own Retry-After for 429 and
// 503 (none when it asks for more than the client waits), and no retry at all for anything a
// retry cannot fix (4xx). Version conflicts are not retried here: they need a re-read first,
// which `ConfluenceClient.updatePage` does.
import { Duration, Effect, FiberRef, Schedule } from "effect";
import { asksLongerThanClientWaits, type ConfluenceError, isRetryable } from "./ConfluenceError.js";

/**
 * What the Confluence calls made while a counter was set cost: how many were retried (and how many
 * of those after a 429), how many HTTP requests were sent (every attempt, retries included) and
 * how long their answers took, summed.
 */
export interface ConfluenceCallStats {
  retries: number;
  rateLimited: number;
  /** HTTP requests sent; each retry is one more. */
  requests: number;
  /**
   * Milliseconds spent waiting for those requests (failed ones included), summed: concurrent
   * requests each count in full, and the waits between retries do not count at all.
   */
  requestMs: number;
}

/**
 * The counter the retry schedule adds to; unset (nothing counted) unless a caller sets one for
 * its work with {@link countConfluenceRetries}. Fibers forked by that work share the counter.
 */
export const ConfluenceCallStatsRef: FiberRef.FiberRef<ConfluenceCallStats | undefined> = FiberRef.unsafeMake<
  ConfluenceCallStats | undefined
>(undefined);

/** Runs `effect` counting the retries, requests and request time of every Confluence call it makes into `stats`. */
export const countConfluenceRetries = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  stats: ConfluenceCallStats,
): Effect.Effect<A, E, R> => Effect.locally(effect, ConfluenceCallStatsRef, stats);

/** A retry the schedule is about to wait for: how long, why, and which retry of how many it is. */
export interface ConfluenceRetryWait {
  readonly waitMs: number;
  readonly error: ConfluenceError;
  /** 1 for the first retry. */
  readonly retry: number;
  readonly maxRetries: number;
}

/**
 * Told of every wait before a retry while set (see {@link reportConfluenceWaits}); unset by
 * default. A caller uses it to say why a call takes long, for example that Confluence asked for
 * minutes of patience with a 429.
 */
export const ConfluenceWaitReporterRef: FiberRef.FiberRef<
  ((wait: ConfluenceRetryWait) => Effect.Effect<void>) | undefined
> = FiberRef.unsafeMake<((wait: ConfluenceRetryWait) => Effect.Effect<void>) | undefined>(undefined);

/** Runs `effect` telling `report` of every wait before a Confluence retry it makes. */
export const reportConfluenceWaits = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  report: (wait: ConfluenceRetryWait) => Effect.Effect<void>,
): Effect.Effect<A, E, R> => Effect.locally(effect, ConfluenceWaitReporterRef, report);

/**
 * Which retry of its call the next request is (0: a first attempt), for the request's debug log
 * line. The schedule sets it before it waits; the transport reads and clears it when it sends.
 * Internal: not exported from the package.
 */
export const ConfluenceRetryNumberRef: FiberRef.FiberRef<number> = FiberRef.unsafeMake(0);

/** Settings of {@link confluenceRetrySchedule}. */
export interface ConfluenceRetryOptions {
  /** Retries after the first attempt (so `maxRetries: 3` means at most 4 attempts). */
  readonly maxRetries: number;
  /** First backoff delay; doubled each retry and jittered ×0.8–1.2. */
  readonly retryDelayMs: number;
  /** Cap of one exponential delay; default 30000. A server-requested wait is capped where it is parsed. */
  readonly maxDelayMs?: number;
}

/**
 * The retry schedule for a failed Confluence call: at most `maxRetries` retries, only while the
 * error {@link isRetryable}; waits `retryAfterMs` when the server said how long (429, 503), else
 * `retryDelayMs · 2^n` jittered, capped at `maxDelayMs`. Not when the server asked for longer than
 * the client waits (`requestedRetryAfterMs` above the clamped `retryAfterMs`): retrying after the
 * clamped wait would go against its request, so the error goes to the caller, which tries again
 * once `requestedRetryAfterMs` is over.
 *
 * @example
 * effect.pipe(Effect.retry(confluenceRetrySchedule({ maxRetries: 3, retryDelayMs: 1000 })))
 */
export const confluenceRetrySchedule = (
  options: ConfluenceRetryOptions,
): Schedule.Schedule<[[Duration.Duration, number], ConfluenceError], ConfluenceError> => {
  const cap = Duration.millis(options.maxDelayMs ?? 30_000);
  const backoff = Schedule.exponential(Duration.millis(options.retryDelayMs), 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, cap)),
  );
  return backoff.pipe(
    Schedule.intersect(Schedule.recurs(options.maxRetries)),
    Schedule.intersect(Schedule.identity<ConfluenceError>()),
    // A server that asked for a longer wait than the client honours (`Retry-After` above
    // `maxRetryAfterMs`) is not tried again early: the caller gets the error and its asked wait.
    Schedule.whileInput((e: ConfluenceError) => isRetryable(e) && !asksLongerThanClientWaits(e)),
    // Reached only when the call is retried: the place to count it.
    Schedule.modifyDelayEffect(([[, retry], error], delay) =>
      Effect.flatMap(FiberRef.get(ConfluenceCallStatsRef), (stats) => {
        if (stats !== undefined) {
          stats.retries += 1;
          if (error._tag === "ConfluenceRateLimitedError") stats.rateLimited += 1;
        }
        const serverWait = retryAfterOf(error);
        const wait = serverWait === undefined ? delay : Duration.millis(serverWait);
        // The next request of this call says which retry it is (its debug line).
        const reporter = Effect.zipRight(
          FiberRef.set(ConfluenceRetryNumberRef, retry + 1),
          FiberRef.get(ConfluenceWaitReporterRef),
        );
        return Effect.flatMap(reporter, (report) =>
          report === undefined
            ? Effect.succeed(wait)
            : Effect.as(
                report({
                  waitMs: Duration.toMillis(wait),
                  error,
                  retry: retry + 1,
                  maxRetries: options.maxRetries,
                }),
                wait,
              ),
        );
      }),
    ),
  );
};

// internal

const retryAfterOf = (e: ConfluenceError): number | undefined =>
  e._tag === "ConfluenceRateLimitedError" || e._tag === "ConfluenceServerError" ? e.retryAfterMs : undefined;
