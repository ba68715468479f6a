/**
 * Structured JSON logs through pino, for Effect's logger: annotations (job id, publication id,
 * attempt, …) become fields. Effect's minimum log level follows pino's (`logging.level`), so a
 * debug line below it is dropped before anything is formatted, and `logDebugLazily` does not even
 * build its fields. Nothing here knows about tokens: they are `Redacted` everywhere, so they print
 * as `<redacted>` even if an annotation carried one.
 */
import { Cause, Effect, HashMap, Layer, Logger, LogLevel } from "effect";
import { type Logger as Pino, pino } from "pino";

/** A pino logger for the publisher (`level` from `logging.level`). */
export const makePino = (level: string, destination?: NodeJS.WritableStream): Pino =>
  pino(
    { name: "minutes-publisher", level, base: { service: "publisher" } },
    destination as Parameters<typeof pino>[1],
  );

/**
 * Replaces Effect's default logger with pino, and sets Effect's minimum log level to pino's
 * (Effect's own default is Info: without this, `logging.level: "debug"` would show no debug line).
 */
export const pinoLoggerLayer = (log: Pino): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message, annotations, cause }) => {
        const fields: Record<string, unknown> = {};
        for (const [k, v] of HashMap.toEntries(annotations)) fields[k] = v;
        if (!Cause.isEmpty(cause)) fields.cause = Cause.pretty(cause);
        const text = Array.isArray(message) ? message.map(String).join(" ") : String(message);
        const level = pinoLevel(logLevel);
        log[level](fields, text);
      }),
    ),
    Logger.minimumLogLevel(effectLevel(log.level)),
  );

/**
 * Logs `message` at debug with the fields `fields()` returns, calling it only when debug logging
 * is on: a decision line on the hot path costs one FiberRef read at info, not an object.
 */
export const logDebugLazily = (
  message: string,
  fields: () => Readonly<Record<string, unknown>>,
): Effect.Effect<void> =>
  Effect.asVoid(
    Effect.whenLogLevel(
      Effect.suspend(() => Effect.annotateLogs(Effect.logDebug(message), fields())),
      LogLevel.Debug,
    ),
  );

// internal

/** Effect's level for a pino level name (`silent`: nothing; an unknown custom level: Info). */
const effectLevel = (level: string): LogLevel.LogLevel => {
  switch (level) {
    case "trace":
      return LogLevel.Trace;
    case "debug":
      return LogLevel.Debug;
    case "warn":
      return LogLevel.Warning;
    case "error":
      return LogLevel.Error;
    case "fatal":
      return LogLevel.Fatal;
    case "silent":
      return LogLevel.None;
    default:
      return LogLevel.Info;
  }
};

const pinoLevel = (level: LogLevel.LogLevel): "trace" | "debug" | "info" | "warn" | "error" | "fatal" => {
  if (LogLevel.greaterThanEqual(level, LogLevel.Fatal)) return "fatal";
  if (LogLevel.greaterThanEqual(level, LogLevel.Error)) return "error";
  if (LogLevel.greaterThanEqual(level, LogLevel.Warning)) return "warn";
  if (LogLevel.greaterThanEqual(level, LogLevel.Info)) return "info";
  if (LogLevel.greaterThanEqual(level, LogLevel.Debug)) return "debug";
  return "trace";
};
