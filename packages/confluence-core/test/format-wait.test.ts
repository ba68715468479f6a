// How a wait reads in messages: one bounded whole number with a unit, whatever Confluence sent.
import { assert, describe, it } from "@effect/vitest";
import { errorFromResponse, type HttpFailure } from "../src/error-from-response.js";
import { formatWait } from "../src/retry-after.js";

const NOW = Date.parse("2026-11-26T12:00:00Z");

const rateLimited = (retryAfter: string): HttpFailure => ({
  method: "POST",
  path: "/wiki/api/v2/pages",
  status: 429,
  headers: { "retry-after": retryAfter },
  body: "",
  api: "v2",
  deployment: "cloud",
  viaGateway: false,
  nowMs: NOW,
  maxRetryAfterMs: 300_000,
  locale: "en",
  secrets: [],
});

describe("formatWait", () => {
  it("names a wait in seconds, minutes, hours or days, rounded up to a whole number", () => {
    assert.strictEqual(formatWait(10_000), "10 s");
    assert.strictEqual(formatWait(1_500), "2 s");
    assert.strictEqual(formatWait(119_000), "119 s");
    assert.strictEqual(formatWait(300_000), "5 min");
    assert.strictEqual(formatWait(3_600_000), "60 min");
    assert.strictEqual(formatWait(3_601_000), "61 min");
    assert.strictEqual(formatWait(7_200_000), "2 h");
    assert.strictEqual(formatWait(86_400_000), "24 h");
    assert.strictEqual(formatWait(172_800_000), "2 d");
    assert.strictEqual(formatWait(365 * 86_400_000), "365 d");
  });

  it("says no more than a year, however long the wait", () => {
    for (const ms of [365 * 86_400_000 + 1, 9.223372036854776e21, Number.MAX_VALUE, Number.POSITIVE_INFINITY])
      assert.strictEqual(formatWait(ms), "more than 365 d");
  });

  it("reads a wait that is over or not a number as none", () => {
    assert.strictEqual(formatWait(0), "0 s");
    assert.strictEqual(formatWait(-5_000), "0 s");
    assert.strictEqual(formatWait(Number.NaN), "0 s");
  });
});

describe("the wait a Confluence error reports as asked", () => {
  it("is a whole number of milliseconds for absurd Retry-After values, still longer than the client waits", () => {
    for (const value of [
      "9223372036854775807",
      "9".repeat(400),
      "Fri, 31 Dec 9999 23:59:59 GMT",
      "Sat, 13 Sep 275760 00:00:00 GMT",
    ]) {
      const e = errorFromResponse(rateLimited(value));
      if (e._tag !== "ConfluenceRateLimitedError") return assert.fail(e._tag);
      assert.isTrue(Number.isSafeInteger(e.requestedRetryAfterMs), `${value}: ${e.requestedRetryAfterMs}`);
      assert.isAbove(e.requestedRetryAfterMs ?? 0, 365 * 86_400_000, value);
      assert.strictEqual(e.retryAfterMs, 300_000);
      assert.notMatch(JSON.stringify(e), /e\+|\d{16}/, value);
    }
  });
});
