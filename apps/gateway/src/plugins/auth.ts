/**
 * Bearer API keys. Keys are compared as sha256 digests with `timingSafeEqual`, against every
 * configured key, so neither the key length nor which key matched shows in the timing. With no
 * keys configured, protected routes refuse everything (fail closed) and say why.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { Redacted } from "effect";
import type { FastifyRequest, preParsingHookHandler } from "fastify";
import { HttpProblem } from "../problem.js";

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** The bearer token of a request, if it sent one. */
export const bearerToken = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  if (typeof header !== "string") return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
};

/**
 * The rate-limit key: a short hash of a *valid* API key, else the client IP, so rotating made-up
 * keys does not escape the limit.
 */
export const makeCallerKey = (keys: ReadonlyArray<Redacted.Redacted<string>>) => {
  const check = makeKeyCheck(keys);
  return (request: FastifyRequest): string => {
    const token = bearerToken(request);
    return token !== undefined && check(token)
      ? `key:${digest(token).toString("hex").slice(0, 32)}`
      : `ip:${request.ip}`;
  };
};

/** Whether `token` is one of `keys`, in time independent of which key (if any) matches. */
export const makeKeyCheck = (keys: ReadonlyArray<Redacted.Redacted<string>>) => {
  const digests = keys
    .map((k) => digest(Redacted.value(k)))
    .filter((_, i) => Redacted.value(keys[i]!) !== "");
  return (token: string): boolean => {
    const presented = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(presented, d) || ok;
    return ok;
  };
};

const unauthorized = (detail: string) =>
  new HttpProblem({
    status: 401,
    detail,
    headers: { "www-authenticate": 'Bearer realm="minutes"' },
  });

/** A hook requiring a valid bearer key (used as `preParsing`: after rate limiting, before the body is read). */
export const requireApiKey = (keys: ReadonlyArray<Redacted.Redacted<string>>): preParsingHookHandler => {
  const check = makeKeyCheck(keys);
  const none = keys.every((k) => Redacted.value(k) === "");
  return async (request, _reply, payload) => {
    if (none) throw unauthorized("no API keys are configured (gateway.api_keys); every request is refused");
    const token = bearerToken(request);
    if (token === undefined) throw unauthorized("send an API key as 'Authorization: Bearer <key>'");
    if (!check(token)) throw unauthorized("the API key is not valid");
    return payload;
  };
};
