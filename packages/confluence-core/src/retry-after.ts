// Parses `Retry-After`, which Confluence sends as delta-seconds or as an HTTP date, and which Cloud
// has been seen sending as 9223372036854775807 (Long.MAX_VALUE) with `X-RateLimit-Limit: 0`.
// Clients that slept on it hung forever, so the result is always clamped to a cap.

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

// internal

const clamp = (ms: number, capMs: number): number => Math.min(Math.max(0, ms), Math.max(0, capMs));
