/**
 * Structured JSON logs through pino, for Effect's logger: annotations (job id, publication id,
 * attempt, …) become fields. Nothing here knows about tokens: they are `Redacted` everywhere, so
 * they print as `<redacted>` even if an annotation carried one.
 */
import { Cause, HashMap, type Layer, Logger, LogLevel } from "effect";
import { type Logger as Pino, pino } from "pino";

/** A pino logger for the publisher (`level` from `logging.level`). */
export const makePino = (level: string, destination?: NodeJS.WritableStream): Pino =>
  pino(
    { name: "minutes-publisher", level, base: { service: "publisher" } },
    destination as Parameters<typeof pino>[1],
  );

/** Replaces Effect's default logger with pino. */
export const pinoLoggerLayer = (log: Pino): Layer.Layer<never> =>
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
  );

// internal

const pinoLevel = (level: LogLevel.LogLevel): "trace" | "debug" | "info" | "warn" | "error" | "fatal" => {
  if (LogLevel.greaterThanEqual(level, LogLevel.Fatal)) return "fatal";
  if (LogLevel.greaterThanEqual(level, LogLevel.Error)) return "error";
  if (LogLevel.greaterThanEqual(level, LogLevel.Warning)) return "warn";
  if (LogLevel.greaterThanEqual(level, LogLevel.Info)) return "info";
  if (LogLevel.greaterThanEqual(level, LogLevel.Debug)) return "debug";
  return "trace";
};
