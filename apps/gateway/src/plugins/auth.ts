/**
 * Bearer API keys. Keys are compared as sha256 digests with `timingSafeEqual`, against every
 * configured key, so neither the key length nor which key matched shows in the timing. With no
 * keys configured, protected routes refuse everything (fail closed) and say why.
 *
 * A request's key is judged once: the rate limiter (which needs to know whether the key is valid
 * to pick its bucket) and the key check that follows it share that verdict, so a request costs
 * one digest instead of three.
 */
import { hash, timingSafeEqual } from "node:crypto";
import { Redacted } from "effect";
import type { FastifyRequest, preParsingHookHandler } from "fastify";
import { HttpProblem } from "../problem.js";

const digest = (text: string): Buffer => hash("sha256", text, "buffer");

/** The bearer token of a request, if it sent one. */
export const bearerToken = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
};

/** The configured keys that count (an empty key never matches). */
const usableKeys = (keys: ReadonlyArray<Redacted.Redacted<string>>): ReadonlyArray<string> =>
  keys.map((k) => Redacted.value(k)).filter((k) => k !== "");

/**
 * The index of the key whose digest `presented` is, or -1. Every key is compared, whatever
 * matched, so the time does not depend on which key (if any) it was.
 */
const matchingKey = (presented: Buffer, digests: ReadonlyArray<Buffer>): number => {
  let match = -1;
  for (let i = 0; i < digests.length; i++) {
    if (timingSafeEqual(presented, digests[i]!) && match === -1) match = i;
  }
  return match;
};

/** What a request's `Authorization` header proved. */
type KeyVerdict =
  | { readonly valid: true; readonly callerKey: string; readonly admin: boolean }
  | { readonly valid: false; readonly detail: string };

/** The rate-limit key and the key check of one set of API keys, sharing one verdict per request. */
export interface ApiKeys {
  /**
   * The rate-limit key: a short hash of a *valid* API key, else the client IP, so rotating
   * made-up keys does not escape the limit.
   */
  readonly callerKey: (request: FastifyRequest) => string;
  /** A hook requiring a valid bearer key (used as `preParsing`: after rate limiting, before the body is read). */
  readonly requireApiKey: preParsingHookHandler;
  /** Whether the request carries a valid API key (for routes open to all that show more to clients). */
  readonly hasValidKey: (request: FastifyRequest) => boolean;
  /**
   * A hook for operators' routes (after `requireApiKey`): once admin keys are configured, a 403
   * for any other key. Without admin keys every valid key passes.
   */
  readonly requireAdminKey: preParsingHookHandler;
}

/**
 * Judges requests against `keys` and the operators' `adminKeys` (also valid everywhere); see
 * `ApiKeys`.
 */
export const makeApiKeys = (
  keys: ReadonlyArray<Redacted.Redacted<string>>,
  adminKeys: ReadonlyArray<Redacted.Redacted<string>> = [],
): ApiKeys => {
  // Admin keys first: a key in both lists is an admin key.
  const admins = usableKeys(adminKeys);
  const usable = [...admins, ...usableKeys(keys)];
  const digests = usable.map(digest);
  // Computed once here rather than from the presented key on every request.
  const callerKeys = digests.map((d) => `key:${d.toString("hex").slice(0, 32)}`);
  const judge = (request: FastifyRequest): KeyVerdict => {
    if (usable.length === 0)
      return {
        valid: false,
        detail:
          "no API keys are configured (gateway.api_keys, gateway.admin_api_keys); every request is refused",
      };
    const token = bearerToken(request);
    if (token === undefined)
      return { valid: false, detail: "send an API key as 'Authorization: Bearer <key>'" };
    const match = matchingKey(digest(token), digests);
    return match === -1
      ? { valid: false, detail: "the API key is not valid" }
      : { valid: true, callerKey: callerKeys[match]!, admin: match < admins.length };
  };
  const verdicts = new WeakMap<FastifyRequest, KeyVerdict>();
  const verdictOf = (request: FastifyRequest): KeyVerdict => {
    let verdict = verdicts.get(request);
    if (verdict === undefined) {
      verdict = judge(request);
      verdicts.set(request, verdict);
    }
    return verdict;
  };
  return {
    callerKey: (request) => {
      const verdict = verdictOf(request);
      return verdict.valid ? verdict.callerKey : `ip:${request.ip}`;
    },
    hasValidKey: (request) => verdictOf(request).valid,
    requireApiKey: (request, _reply, payload, done) => {
      const verdict = verdictOf(request);
      if (verdict.valid) done(null, payload);
      else done(unauthorized(verdict.detail));
    },
    requireAdminKey: (request, _reply, payload, done) => {
      const verdict = verdictOf(request);
      if (!verdict.valid) done(unauthorized(verdict.detail));
      else if (admins.length === 0 || verdict.admin) done(null, payload);
      else
        done(
          new HttpProblem({
            status: 403,
            slug: "admin-key-required",
            detail:
              "this operation is for operators: send one of the operators' keys (gateway.admin_api_keys); the key sent may send and read protocols and publications",
          }),
        );
    },
  };
};

const unauthorized = (detail: string) =>
  new HttpProblem({
    status: 401,
    detail,
    headers: { "www-authenticate": 'Bearer realm="minutes"' },
  });
