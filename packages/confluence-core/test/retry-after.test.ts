import { describe, expect, it } from "@effect/vitest";
import { DEFAULT_MAX_RETRY_AFTER_MS, parseRetryAfter } from "../src/retry-after.js";

const NOW = Date.parse("2026-11-26T12:00:00Z");

describe("parseRetryAfter", () => {
  it("reads delta-seconds as milliseconds", () => {
    expect(parseRetryAfter("2", NOW)).toBe(2_000);
    expect(parseRetryAfter(" 0 ", NOW)).toBe(0);
    expect(parseRetryAfter("1.5", NOW)).toBe(1_500);
  });

  it("reads an HTTP date as the time left until then", () => {
    expect(parseRetryAfter("Thu, 26 Nov 2026 12:00:30 GMT", NOW)).toBe(30_000);
  });

  it("treats a date in the past and negative seconds as no wait", () => {
    expect(parseRetryAfter("Thu, 26 Nov 2026 11:00:00 GMT", NOW)).toBe(0);
    expect(parseRetryAfter("-5", NOW)).toBe(0);
  });

  it("clamps Long.MAX_VALUE seconds, as Cloud has sent, to the cap", () => {
    expect(parseRetryAfter("9223372036854775807", NOW)).toBe(DEFAULT_MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter("9223372036854775807", NOW, 60_000)).toBe(60_000);
    expect(parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", NOW, 10_000)).toBe(10_000);
  });

  it("caps the default at five minutes", () => {
    expect(DEFAULT_MAX_RETRY_AFTER_MS).toBe(300_000);
    expect(parseRetryAfter("3600", NOW)).toBe(300_000);
  });

  it("returns undefined for an absent or unparsable value", () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter("", NOW)).toBeUndefined();
    expect(parseRetryAfter("soon", NOW)).toBeUndefined();
    expect(parseRetryAfter("5 apples", NOW)).toBeUndefined();
  });
});
