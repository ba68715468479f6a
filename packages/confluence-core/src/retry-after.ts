// Parses `Retry-After`, which Confluence sends as delta-seconds or as an HTTP date, and which Cloud
// has been seen sending as 9223372036854775807 (Long.MAX_VALUE) with `X-RateLimit-Limit: 0`.
// Clients that slept on it hung forever, so the result is always clamped to a cap; and a wait is
// described in one bounded whole number of a unit a person reads (`formatWait`), never in the
// 19 digits (or exponent notation) such a header would give.

/** Default cap on a server-requested wait: five minutes. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 5 * 60 * 1000;

/**
 * Turns a `Retry-After` header value into milliseconds to wait, or `undefined` when it is absent or
 * unparsable.
 *
 * - `"120"` → 120000; fractional seconds (`"1.5"`) are accepted, negative values give 0.
 * - `"Wed, 21 Oct 2026 07:28:00 GMT"` → the time from `nowMs` until then (0 if in the past).
 * - Anything above `capMs` (e.g. `"9223372036854775807"`) → `capMs`.
 */
export const parseRetryAfter = (
  value: string | undefined,
  nowMs: number,
  capMs: number = DEFAULT_MAX_RETRY_AFTER_MS,
): number | undefined => {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^[+-]?\d+(\.\d+)?$/.test(text)) {
    const seconds = Number(text);
    if (!Number.isFinite(seconds)) return capMs;
    return clamp(Math.ceil(seconds * 1000), capMs);
  }
  // An HTTP date must name a weekday or month; Date.parse alone accepts too much (e.g. "5 apples").
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return clamp(at - nowMs, capMs);
};

/**
 * The longest wait {@link formatWait} names: a year. Anything longer (Cloud's 9223372036854775807
 * seconds, a date centuries ahead) reads "more than 365 d": the number would mean nothing more.
 */
const LONGEST_NAMED_WAIT_MS = 365 * 86_400_000;

/**
 * A wait as a person reads it: one whole number, rounded up, in the largest unit that keeps it
 * precise enough — seconds below 2 minutes, minutes below 2 hours, hours below 2 days, then days;
 * above a year, `"more than 365 d"`. Never a fraction or exponent notation, whatever the input
 * (a negative or non-finite wait reads `"0 s"` or `"more than 365 d"`).
 *
 * @example
 * formatWait(1_500)          // "2 s"
 * formatWait(3_600_000)      // "60 min"
 * formatWait(9.2e21)         // "more than 365 d"
 */
export const formatWait = (ms: number): string => {
  if (Number.isNaN(ms) || ms <= 0) return "0 s";
  if (ms > LONGEST_NAMED_WAIT_MS) return `more than ${LONGEST_NAMED_WAIT_MS / 86_400_000} d`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 120 * 60) return `${Math.ceil(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.ceil(seconds / 3600)} h`;
  return `${Math.ceil(seconds / 86_400)} d`;
};

/**
 * The longest wait a client reports as asked (`requestedRetryAfterMs`): ten years, a whole
 * number of milliseconds. A longer `Retry-After` is as good as "never" and would otherwise be
 * a float past 2^53 (9223372036854775807 s is 9.2e21 ms) wherever the error is shown or stored.
 */
export const MAX_REQUESTED_RETRY_AFTER_MS = 10 * 365 * 86_400_000;

// internal

const clamp = (ms: number, capMs: number): number => Math.min(Math.max(0, ms), Math.max(0, capMs));
