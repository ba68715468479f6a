import { assert, describe, it } from "@effect/vitest";
import { Clock, Effect, Exit, Fiber, FiberRef, TestClock } from "effect";
import {
  ConfluenceAuthenticationError,
  type ConfluenceError,
  ConfluenceNetworkError,
  ConfluenceNotFoundError,
  ConfluencePermissionError,
  ConfluenceRateLimitedError,
  ConfluenceServerError,
  ConfluenceTitleConflictError,
  ConfluenceValidationError,
  ConfluenceVersionConflictError,
} from "../src/ConfluenceError.js";
import {
  ConfluenceRetryNumberRef,
  type ConfluenceRetryOptions,
  type ConfluenceRetryWait,
  confluenceRetrySchedule,
  reportConfluenceWaits,
} from "../src/retry-schedule.js";

const where = { method: "GET", path: "/wiki/api/v2/pages/1" };

/** Runs a call that always fails with `error` under the schedule; returns the fiber and the attempt counter. */
const failing = (
  error: ConfluenceError,
  options: ConfluenceRetryOptions = { maxRetries: 3, retryDelayMs: 1_000 },
) =>
  Effect.gen(function* () {
    const counter = { attempts: 0 };
    const call = Effect.suspend(() => {
      counter.attempts++;
      return Effect.fail(error);
    });
    const fiber = yield* Effect.fork(Effect.retry(call, confluenceRetrySchedule(options)));
    yield* TestClock.adjust("0 millis");
    return { fiber, counter };
  });

describe("confluenceRetrySchedule", () => {
  it.effect("waits 0.8–1.2 × retryDelay before the first retry of a network error", () =>
    Effect.gen(function* () {
      const { counter } = yield* failing(new ConfluenceNetworkError({ ...where, reason: "reset" }));
      assert.strictEqual(counter.attempts, 1);
      yield* TestClock.adjust("799 millis");
      assert.strictEqual(counter.attempts, 1);
      yield* TestClock.adjust("402 millis");
      assert.strictEqual(counter.attempts, 2);
    }),
  );

  it.effect(
    "doubles the jittered delay each retry and stops after maxRetries retries with the last error",
    () =>
      Effect.gen(function* () {
        const error = new ConfluenceServerError({ ...where, status: 503 });
        const times: Array<number> = [];
        const call = Effect.flatMap(Clock.currentTimeMillis, (now) => {
          times.push(now);
          return Effect.fail(error);
        });
        const fiber = yield* Effect.fork(
          Effect.retry(call, confluenceRetrySchedule({ maxRetries: 3, retryDelayMs: 1_000 })),
        );
        yield* TestClock.adjust("1 minute");
        assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail(error));
        assert.lengthOf(times, 4);
        const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
        gaps.forEach((gap, i) => {
          const expected = 1_000 * 2 ** i;
          assert.isAtLeast(gap, expected * 0.8, `gap ${i}`);
          assert.isAtMost(gap, expected * 1.2, `gap ${i}`);
        });
      }),
  );

  it.effect("waits exactly the server's Retry-After for a 429 instead of the backoff", () =>
    Effect.gen(function* () {
      const { counter } = yield* failing(
        new ConfluenceRateLimitedError({ ...where, status: 429, retryAfterMs: 5_000 }),
      );
      yield* TestClock.adjust("4999 millis");
      assert.strictEqual(counter.attempts, 1);
      yield* TestClock.adjust("1 millis");
      assert.strictEqual(counter.attempts, 2);
      yield* TestClock.adjust("5 seconds");
      assert.strictEqual(counter.attempts, 3);
    }),
  );

  it.effect("does not retry when the server asked for a longer wait than was honoured", () =>
    Effect.gen(function* () {
      const error = new ConfluenceRateLimitedError({
        ...where,
        status: 429,
        retryAfterMs: 300_000,
        requestedRetryAfterMs: 3_600_000,
      });
      const { fiber, counter } = yield* failing(error);
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail(error));
      assert.strictEqual(counter.attempts, 1);
    }),
  );

  it.effect("tells a wait reporter, before each wait, how long, why and which retry of how many", () =>
    Effect.gen(function* () {
      const error = new ConfluenceRateLimitedError({ ...where, status: 429, retryAfterMs: 300_000 });
      const waits: Array<ConfluenceRetryWait> = [];
      const call = Effect.fail(error);
      const fiber = yield* Effect.fork(
        reportConfluenceWaits(
          Effect.retry(call, confluenceRetrySchedule({ maxRetries: 2, retryDelayMs: 1_000 })),
          (wait) => Effect.sync(() => waits.push(wait)),
        ),
      );
      yield* TestClock.adjust("0 millis");
      // Told before the first five-minute wait, not after it.
      assert.deepStrictEqual(waits, [{ waitMs: 300_000, error, retry: 1, maxRetries: 2 }]);
      yield* TestClock.adjust("10 minutes");
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail(error));
      assert.deepStrictEqual(
        waits.map((w) => w.retry),
        [1, 2],
      );
    }),
  );

  it.effect("tells each attempt which retry of its call it is, and the next call starts at 0 again", () =>
    Effect.gen(function* () {
      const error = new ConfluenceServerError({ ...where, status: 503 });
      const seen: Array<number> = [];
      // What the transport does: read the number when it sends, and clear it.
      const call = Effect.flatMap(FiberRef.getAndSet(ConfluenceRetryNumberRef, 0), (retry) => {
        seen.push(retry);
        return Effect.fail(error);
      });
      const schedule = confluenceRetrySchedule({ maxRetries: 2, retryDelayMs: 10 });
      const fiber = yield* Effect.fork(
        Effect.zipRight(Effect.ignore(Effect.retry(call, schedule)), Effect.ignore(call)),
      );
      yield* TestClock.adjust("1 second");
      yield* Fiber.join(fiber);
      assert.deepStrictEqual(seen, [0, 1, 2, 0]);
    }),
  );

  it.effect("falls back to the backoff for a 429 without Retry-After", () =>
    Effect.gen(function* () {
      const { counter } = yield* failing(new ConfluenceRateLimitedError({ ...where, status: 429 }));
      yield* TestClock.adjust("1201 millis");
      assert.strictEqual(counter.attempts, 2);
    }),
  );

  it.effect("honours a 503's Retry-After", () =>
    Effect.gen(function* () {
      const { counter } = yield* failing(
        new ConfluenceServerError({ ...where, status: 503, retryAfterMs: 100 }),
      );
      yield* TestClock.adjust("100 millis");
      assert.strictEqual(counter.attempts, 2);
    }),
  );

  it.effect("caps one exponential delay at maxDelayMs", () =>
    Effect.gen(function* () {
      const { counter } = yield* failing(new ConfluenceNetworkError({ ...where, reason: "timeout" }), {
        maxRetries: 10,
        retryDelayMs: 1_000,
        maxDelayMs: 1_500,
      });
      for (let i = 2; i <= 6; i++) {
        yield* TestClock.adjust("1500 millis");
        assert.strictEqual(counter.attempts, i);
      }
    }),
  );

  it.effect("never retries validation, auth, permission, not-found, title or version conflicts", () =>
    Effect.gen(function* () {
      const permanent: ReadonlyArray<ConfluenceError> = [
        new ConfluenceValidationError({ ...where, status: 400 }),
        new ConfluenceAuthenticationError({ ...where, status: 401 }),
        new ConfluencePermissionError({ ...where, status: 403 }),
        new ConfluenceNotFoundError({ ...where, status: 404 }),
        new ConfluenceTitleConflictError({ ...where, status: 400 }),
        new ConfluenceVersionConflictError({ ...where, status: 409 }),
      ];
      for (const error of permanent) {
        const { fiber, counter } = yield* failing(error);
        yield* TestClock.adjust("1 minute");
        assert.strictEqual(counter.attempts, 1, error._tag);
        assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail(error));
      }
    }),
  );

  it.effect("does not retry at all with maxRetries 0", () =>
    Effect.gen(function* () {
      const { counter } = yield* failing(new ConfluenceServerError({ ...where, status: 500 }), {
        maxRetries: 0,
        retryDelayMs: 1_000,
      });
      yield* TestClock.adjust("1 minute");
      assert.strictEqual(counter.attempts, 1);
    }),
  );
});
