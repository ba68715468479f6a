// What the request log shows of a URL: the path and the query, with the values of parameters whose
// names look like credentials replaced. Such a request is refused (keys go in Authorization), but
// the "incoming request" line is written before that, and the log must not keep the key. A name
// looks like a credential when one of its words (split at `_`, `-`, `.` and camelCase, any case)
// is a credential word (`X-Api-Token`, `oauth_signature`, `AuthCode`, `sessionId`), or `key` alone
// or after a word that makes it one (`key`, `api_key`, `x-api-key`, `secretKey`), or when its
// letters run together hold an unmistakable one whatever the separators (`passWord`, `ACCESSTOKEN`,
// `privatekey`); `spaceKey`, the API's own filter, and words that merely contain a short one
// (`author`, `design`, `monkey`) are kept. The request's headers are never logged (see `serializeRequest`).
import type { FastifyRequest } from "fastify";

const CREDENTIAL_WORDS = new Set([
  "token",
  "secret",
  "password",
  "passwd",
  "pwd",
  "auth",
  "authorization",
  "signature",
  "sig",
  "credential",
  "credentials",
  "apikey",
  "accesskey",
  "bearer",
  "jwt",
  "pass",
  "passphrase",
  "session",
  "sid",
  "cookie",
]);
/**
 * Credentials spelt out in full: found in a name's letters with every separator and case removed,
 * so `passWord` (camelCase would split it in two), `ACCESSTOKEN` or `private.Key` cannot slip by.
 * Each is long or specific enough that no ordinary parameter name holds it.
 */
const CREDENTIAL_RUNS = [
  "password",
  "passwd",
  "passphrase",
  "token",
  "secret",
  "credential",
  "authorization",
  "apikey",
  "accesskey",
  "privatekey",
  "secretkey",
  "sessionid",
  "sessionkey",
];
/** Words before `key` that make it a credential (`api_key`, `access-key`, `privateKey`). */
const KEY_KINDS = new Set([
  "api",
  "access",
  "private",
  "secret",
  "client",
  "signing",
  "session",
  "auth",
  "master",
]);

/** Whether a query parameter's name looks like a credential's. */
const looksSecret = (name: string): boolean => {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");
  const letters = words.join("");
  return (
    words.some(
      (word, i) =>
        CREDENTIAL_WORDS.has(word) ||
        (word === "key" && (words.length === 1 || KEY_KINDS.has(words[i - 1] ?? ""))),
    ) || CREDENTIAL_RUNS.some((run) => letters.includes(run))
  );
};

/** `url` with the value of every sensitive-looking query parameter replaced by `[redacted]`. */
export const redactUrl = (url: string): string => {
  const q = url.indexOf("?");
  if (q === -1) return url;
  const query = url
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return looksSecret(decodeName(name)) ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return `${url.slice(0, q)}?${query}`;
};

/**
 * pino's `req` serializer: Fastify's fields, with the URL through {@link redactUrl}. No headers:
 * `Authorization`, `Cookie`, `X-Api-Key` and the like never reach the log this way.
 */
export const serializeRequest = (req: FastifyRequest) => ({
  method: req.method,
  url: redactUrl(req.url),
  version: req.headers?.["accept-version"],
  host: req.host,
  remoteAddress: req.ip,
  remotePort: req.socket?.remotePort,
});

// internal

const decodeName = (name: string): string => {
  try {
    return decodeURIComponent(name.replace(/\+/g, " ")).trim();
  } catch {
    return name;
  }
};
