// When a Confluence token expires, as people write and read it: the CLI's `--expires` forms, how
// an expiry stands at a moment (expired, within the warning window, further away), and the
// sentences the gateway's status and the publishers' logs say it with. Confluence has no API that
// tells a token's expiry, so it is only ever what the operator recorded: it can be wrong or absent.
import { tokenExpiryFromText } from "@minutes/contracts";
import { Either } from "effect";

/** Days before its expiry from which a token counts as expiring soon, unless configured otherwise. */
export const DEFAULT_TOKEN_EXPIRY_WARNING_DAYS = 14;

/**
 * How a token's expiry stands at a moment. `days` is the number of calendar days (UTC) from that
 * moment's date to the expiry's date: 0 today, 1 tomorrow.
 */
export type TokenExpiryState =
  | { readonly _tag: "Unknown" }
  | { readonly _tag: "Valid"; readonly expiresAt: Date; readonly days: number }
  | { readonly _tag: "ExpiresSoon"; readonly expiresAt: Date; readonly days: number }
  | { readonly _tag: "Expired"; readonly expiresAt: Date };

/**
 * Judges an expiry at `now` (ms since the epoch): `Expired` from the instant itself on,
 * `ExpiresSoon` when less than `warningDays` × 24 h remain (so the same as the alert
 * `expiry - time() < warningDays * 86400`; 0 days: never), else `Valid`; `Unknown` for null.
 */
export const tokenExpiryState = (
  expiresAt: Date | null,
  now: number,
  warningDays: number,
): TokenExpiryState => {
  if (expiresAt === null) return { _tag: "Unknown" };
  const left = expiresAt.getTime() - now;
  if (left <= 0) return { _tag: "Expired", expiresAt };
  const days = calendarDaysBetween(now, expiresAt.getTime());
  return left < warningDays * DAY_MS
    ? { _tag: "ExpiresSoon", expiresAt, days }
    : { _tag: "Valid", expiresAt, days };
};

/** The token in use and where it came from, for {@link tokenRotationAdvice} and {@link tokenExpiryNotice}. */
export interface TokenOrigin {
  readonly source: "vault" | "config";
  /** `confluence.base_url` and `confluence.username`: the vault entry's key. */
  readonly url: string;
  readonly username: string;
  /**
   * Whether the services read the vault (`vault.password` is set): a token stored there then
   * replaces a configured one without a restart.
   */
  readonly vaultConfigured: boolean;
}

/**
 * How to replace the token, as the end of a sentence: the `minutes vault add` command for the
 * site and user when the services read the vault, else the settings to change and the restart.
 * Names no secret.
 */
export const tokenRotationAdvice = (origin: TokenOrigin): string =>
  origin.source === "vault" || origin.vaultConfigured
    ? `store the new one with \`./minutes vault add --url ${origin.url} --username ${origin.username} --expires YYYY-MM-DD\` (used without a restart)`
    : "put the new one in confluence.api_token (MINUTES_CONFLUENCE__API_TOKEN) and its expiry in confluence.token_expires_at (MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT), then restart the gateway and the publishers";

/**
 * The sentence that says the token in use has expired or expires within `warningDays`, and how to
 * replace it; `undefined` while its expiry is further away or unknown. For example
 * `the Confluence token expires on 2026-12-05, in 8 days: replace it before then; store the new
 * one with \`./minutes vault add …\` (used without a restart)`.
 */
export const tokenExpiryNotice = (
  token: TokenOrigin & { readonly expiresAt: Date | null },
  now: number,
  warningDays: number,
): string | undefined => {
  const state = tokenExpiryState(token.expiresAt, now, warningDays);
  switch (state._tag) {
    case "Expired":
      return `the Confluence token expired on ${dayOf(state.expiresAt)}: publishing fails until it is replaced; ${tokenRotationAdvice(token)}`;
    case "ExpiresSoon":
      return `the Confluence token expires on ${dayOf(state.expiresAt)}, ${inDays(state.days)}: replace it before then; ${tokenRotationAdvice(token)}`;
    default:
      return undefined;
  }
};

/**
 * What to add to an authentication failure when the token Confluence refused is known to have
 * expired: `the Confluence token expired on 2026-11-20; store the new one with \`./minutes vault
 * add …\` (used without a restart) and retry the publication`. `undefined` while it has not
 * expired by its record (the refusal then has another cause).
 */
export const tokenExpiredNote = (
  token: TokenOrigin & { readonly expiresAt: Date | null },
  now: number,
): string | undefined => {
  const state = tokenExpiryState(token.expiresAt, now, 0);
  return state._tag === "Expired"
    ? `the Confluence token expired on ${dayOf(state.expiresAt)}; ${tokenRotationAdvice(token)} and retry the publication`
    : undefined;
};

/** `2026-12-05`: the UTC day of an instant, as expiries are shown. */
export const dayOf = (instant: Date): string => instant.toISOString().slice(0, 10);

/** `today`, `tomorrow`, `in 8 days`. */
export const inDays = (days: number): string =>
  days <= 0 ? "today" : days === 1 ? "tomorrow" : `in ${days} days`;

/**
 * Reads the CLI's `--expires`/`--at` value: a date `YYYY-MM-DD` (the end of that day, UTC), an ISO
 * date-time with a time zone, or a number of days from `now` such as `90d`. An instant not after
 * `now` is refused: a token is recorded when it is made or replaced, so a past expiry is a typo.
 * The message names `option` and the accepted forms; a value that is none of them is not printed
 * back (it may be a token given to the wrong option), one that is a date is.
 */
export const parseExpiryOption = (option: string, text: string, now: number): Either.Either<Date, string> => {
  const value = text.trim();
  const days = /^([1-9][0-9]{0,4})d$/.exec(value);
  const instant =
    days?.[1] !== undefined ? new Date(now + Number(days[1]) * DAY_MS) : tokenExpiryFromText(value);
  if (instant === undefined) {
    return Either.left(
      `${option}: expected a date YYYY-MM-DD that exists (the token expires at the end of that day, UTC), an ISO date-time with a time zone such as 2026-12-05T17:00:00Z, or a number of days from now such as 90d (the value given is not shown: it may be a secret)`,
    );
  }
  if (instant.getTime() <= now) {
    return Either.left(
      `${option}: ${value} is in the past (${instant.toISOString()}); give when the token expires, which is still to come (a token that has already expired cannot be used: make a new one)`,
    );
  }
  return Either.right(instant);
};

// internal

const DAY_MS = 86_400_000;

const calendarDaysBetween = (from: number, to: number): number => {
  const day = (ms: number) => {
    const d = new Date(ms);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  };
  return Math.round((day(to) - day(from)) / DAY_MS);
};
