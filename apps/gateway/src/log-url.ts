// What the request log shows of a URL: the path and the query, with the values of parameters whose
// names look like credentials replaced. Such a request is refused (keys go in Authorization), but
// the "incoming request" line is written before that, and the log must not keep the key. A name
// looks like a credential when it contains one of the words below anywhere, whatever its case
// (`api_key`, `X-Api-Token`, `oauth_signature`): redacting a harmless value costs less than
// keeping a secret. The request's headers are never logged (see `serializeRequest`).
import type { FastifyRequest } from "fastify";

const SENSITIVE = /token|key|secret|password|passwd|pwd|auth|signature|sig|credential/i;

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
      return SENSITIVE.test(decodeName(name)) ? `${name}=[redacted]` : pair;
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
