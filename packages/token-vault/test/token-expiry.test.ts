import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { tokenExpiredNote, tokenExpiryNotice, tokenExpiryState, tokenRotationAdvice } from "../src/index.js";
import { parseExpiryOption } from "../src/token-expiry.js";

const DAY = 86_400_000;
const now = Date.parse("2026-11-27T10:00:00Z");
const origin = {
  source: "vault",
  url: "https://acme.atlassian.net/wiki",
  username: "bot@acme.example",
  vaultConfigured: true,
} as const;

describe("tokenExpiryState", () => {
  it("calls a token expired from its expiry on, expiring soon with less than the warning's days left, else valid", () => {
    expect(tokenExpiryState(null, now, 14)).toEqual({ _tag: "Unknown" });
    expect(tokenExpiryState(new Date(now), now, 14)._tag).toBe("Expired");
    expect(tokenExpiryState(new Date(now - 1), now, 14)._tag).toBe("Expired");
    expect(tokenExpiryState(new Date(now + 1), now, 14)).toMatchObject({ _tag: "ExpiresSoon", days: 0 });
    expect(tokenExpiryState(new Date(now + 14 * DAY - 1), now, 14)).toMatchObject({
      _tag: "ExpiresSoon",
      days: 14,
    });
    expect(tokenExpiryState(new Date(now + 14 * DAY), now, 14)).toMatchObject({ _tag: "Valid", days: 14 });
    // 0 days: only an expired token is reported.
    expect(tokenExpiryState(new Date(now + 1), now, 0)._tag).toBe("Valid");
  });

  it("counts calendar days (UTC) to the expiry's date, as the date shown", () => {
    const endOfDay = new Date("2026-12-05T23:59:59Z");
    expect(tokenExpiryState(endOfDay, now, 14)).toMatchObject({ _tag: "ExpiresSoon", days: 8 });
    expect(tokenExpiryState(endOfDay, Date.parse("2026-12-05T23:00:00Z"), 14)).toMatchObject({ days: 0 });
  });
});

describe("tokenExpiryNotice", () => {
  it("says when the token expired or expires, and how to replace it, naming the vault command for the site and user", () => {
    expect(tokenExpiryNotice({ ...origin, expiresAt: new Date("2026-11-20T23:59:59Z") }, now, 14)).toBe(
      "the Confluence token expired on 2026-11-20: publishing fails until it is replaced; store the new one with `./minutes vault add --url https://acme.atlassian.net/wiki --username bot@acme.example --expires YYYY-MM-DD` (used without a restart)",
    );
    expect(tokenExpiryNotice({ ...origin, expiresAt: new Date("2026-12-05T23:59:59Z") }, now, 14)).toBe(
      "the Confluence token expires on 2026-12-05, in 8 days: replace it before then; store the new one with `./minutes vault add --url https://acme.atlassian.net/wiki --username bot@acme.example --expires YYYY-MM-DD` (used without a restart)",
    );
    expect(tokenExpiryNotice({ ...origin, expiresAt: new Date("2026-11-28T08:00:00Z") }, now, 14)).toMatch(
      /^the Confluence token expires on 2026-11-28, tomorrow: /,
    );
    expect(
      tokenExpiryNotice({ ...origin, expiresAt: new Date("2027-06-01T00:00:00Z") }, now, 14),
    ).toBeUndefined();
    expect(tokenExpiryNotice({ ...origin, expiresAt: null }, now, 14)).toBeUndefined();
  });

  it("names the settings and the restart for a configured token when the vault is not read", () => {
    expect(tokenRotationAdvice({ ...origin, source: "config", vaultConfigured: false })).toBe(
      "put the new one in confluence.api_token (MINUTES_CONFLUENCE__API_TOKEN) and its expiry in confluence.token_expires_at (MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT), then restart the gateway and the publishers",
    );
    // With the vault read, an entry there replaces the configured token without a restart.
    expect(tokenRotationAdvice({ ...origin, source: "config", vaultConfigured: true })).toContain(
      "`./minutes vault add --url https://acme.atlassian.net/wiki --username bot@acme.example --expires YYYY-MM-DD`",
    );
  });
});

describe("tokenExpiredNote", () => {
  it("explains a refused token by its expiry only once it has expired", () => {
    expect(tokenExpiredNote({ ...origin, expiresAt: new Date("2026-11-20T23:59:59Z") }, now)).toBe(
      "the Confluence token expired on 2026-11-20; store the new one with `./minutes vault add --url https://acme.atlassian.net/wiki --username bot@acme.example --expires YYYY-MM-DD` (used without a restart) and retry the publication",
    );
    expect(tokenExpiredNote({ ...origin, expiresAt: new Date(now + 1) }, now)).toBeUndefined();
    expect(tokenExpiredNote({ ...origin, expiresAt: null }, now)).toBeUndefined();
  });
});

describe("parseExpiryOption", () => {
  const parse = (text: string) => parseExpiryOption("--expires", text, now);

  it("reads a date as the end of that day (UTC), a date-time with a zone, and a number of days from now", () => {
    expect(parse("2026-12-05")).toEqual(Either.right(new Date("2026-12-05T23:59:59Z")));
    expect(parse("2026-12-05T17:30:00+01:00")).toEqual(Either.right(new Date("2026-12-05T16:30:00Z")));
    expect(parse("90d")).toEqual(Either.right(new Date(now + 90 * DAY)));
    // The day itself is still to come: the token works until its end.
    expect(parse("2026-11-27")).toEqual(Either.right(new Date("2026-11-27T23:59:59Z")));
  });

  it("refuses other forms naming the option and every accepted form, and an expiry in the past", () => {
    const forms =
      "--expires: expected a date YYYY-MM-DD that exists (the token expires at the end of that day, UTC), an ISO date-time with a time zone such as 2026-12-05T17:00:00Z, or a number of days from now such as 90d (the value given is not shown: it may be a secret)";
    for (const bad of ["next week", "2026-02-30", "2026-12-05T17:00:00", "0d", "-5d", "3 months"])
      expect(parse(bad), bad).toEqual(Either.left(forms));
    expect(parse("2026-11-26")).toEqual(
      Either.left(
        "--expires: 2026-11-26 is in the past (2026-11-26T23:59:59.000Z); give when the token expires, which is still to come (a token that has already expired cannot be used: make a new one)",
      ),
    );
    const past = parseExpiryOption("--at", "2026-11-27T09:59:59Z", now);
    expect(Either.isLeft(past) && past.left).toMatch(/^--at: 2026-11-27T09:59:59Z is in the past/);
  });

  it("does not print back a value that is not a date, which may be a token given to the wrong option", () => {
    const token = "ATATT3xFfGF0";
    const refused = parse(token);
    expect(Either.isLeft(refused) && refused.left).toMatch(/^--expires: expected a date/);
    expect(JSON.stringify(refused)).not.toContain(token);
  });
});
