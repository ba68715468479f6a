import { assert, describe, it } from "@effect/vitest";
import { Effect, FiberRef, type LogLevel } from "effect";
import { pino } from "pino";
import { logDebugLazily, pinoLoggerLayer } from "../src/logger.js";

/** A pino logger at `level` whose lines land in `lines`, parsed. */
const capture = (level: string) => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, layer: pinoLoggerLayer(log) };
};

describe("pinoLoggerLayer", () => {
  it.effect("passes Effect's debug lines to pino when logging.level is debug", () =>
    Effect.gen(function* () {
      const { lines, layer } = capture("debug");
      yield* Effect.logDebug("a detail").pipe(Effect.annotateLogs({ jobId: "job-1" }), Effect.provide(layer));
      assert.deepStrictEqual(
        lines.map((l) => [l.level, l.msg, l.jobId]),
        [[20, "a detail", "job-1"]],
      );
    }),
  );

  it.effect(
    "sets Effect's minimum log level to pino's, so lower lines are dropped before any logger runs",
    () =>
      Effect.gen(function* () {
        const levels: Array<LogLevel.LogLevel> = [];
        for (const level of ["trace", "debug", "info", "warn", "error", "fatal", "silent"]) {
          const { layer } = capture(level);
          levels.push(yield* FiberRef.get(FiberRef.currentMinimumLogLevel).pipe(Effect.provide(layer)));
        }
        assert.deepStrictEqual(
          levels.map((l) => l.label),
          ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"],
        );
        const { lines, layer } = capture("warn");
        yield* Effect.all([Effect.logInfo("routine"), Effect.logWarning("odd")]).pipe(Effect.provide(layer));
        assert.deepStrictEqual(
          lines.map((l) => l.msg),
          ["odd"],
        );
      }),
  );
});

describe("logDebugLazily", () => {
  it.effect("builds its fields only when debug logging is on", () =>
    Effect.gen(function* () {
      let built = 0;
      const fields = () => {
        built++;
        return { pageId: "42", lookup: "own" };
      };
      const atInfo = capture("info");
      yield* logDebugLazily("page lookup", fields).pipe(Effect.provide(atInfo.layer));
      assert.strictEqual(built, 0);
      assert.deepStrictEqual(atInfo.lines, []);

      const atDebug = capture("debug");
      yield* logDebugLazily("page lookup", fields).pipe(Effect.provide(atDebug.layer));
      assert.strictEqual(built, 1);
      assert.deepStrictEqual(
        atDebug.lines.map((l) => [l.msg, l.pageId, l.lookup]),
        [["page lookup", "42", "own"]],
      );
    }),
  );
});
