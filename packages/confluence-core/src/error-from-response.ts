// The one place where HTTP answers and transport failures become ConfluenceError values.
// Confluence reuses statuses for different causes (400 for a title clash and for bad XML, 403 and
// 404 for bad Cloud credentials, 409 for a stale version and for a transient DB lock), so the
// decision reads Confluence's own message, matching substrings only (REST-API.md §7).
import {
  ConfluenceAuthenticationError,
  type ConfluenceError,
  type ConfluenceHint,
  type ConfluenceLocale,
  ConfluenceNetworkError,
  type ConfluenceNetworkReason,
  ConfluenceNotFoundError,
  ConfluencePermissionError,
  ConfluenceRateLimitedError,
  ConfluenceServerError,
  ConfluenceTitleConflictError,
  ConfluenceValidationError,
  ConfluenceVersionConflictError,
} from "./ConfluenceError.js";
import { MAX_REQUESTED_RETRY_AFTER_MS, parseRetryAfter } from "./retry-after.js";
import type { ConfluenceDeployment } from "./types.js";

/** A non-2xx HTTP answer, as the transport saw it. */
export interface HttpFailure {
  readonly method: string;
  /** Request path without the query string. */
  readonly path: string;
  readonly status: number;
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>;
  readonly body: string;
  /** Which REST API answered: v1 (`/rest/api`) or v2 (`/api/v2`). */
  readonly api: "v1" | "v2";
  readonly deployment: ConfluenceDeployment;
  /** Whether `deployment` was detected from the base URL rather than configured (default: configured). */
  readonly deploymentDetected?: boolean;
  /** Whether the request went through the api.atlassian.com gateway. */
  readonly viaGateway: boolean;
  /**
   * How the request signed in (default `bearer`): Basic on Data Center is a user name and password,
   * whose refusal the hint describes as such rather than as a personal access token's.
   */
  readonly authType?: "basic" | "bearer";
  readonly nowMs: number;
  readonly maxRetryAfterMs: number;
  readonly locale: ConfluenceLocale;
  /** Strings to blank out of Confluence's message (the token, the encoded Authorization value). */
  readonly secrets: ReadonlyArray<string>;
}

/**
 * Maps an HTTP status plus Confluence's body to the error a caller handles:
 * 401 → authentication (with a hint for scope mismatch or a scoped token sent to the site);
 * 403 → permission, except Cloud's "not permitted to use Confluence" and Seraph CAPTCHA → authentication;
 * 404/410 → not found (410: endpoint removed; a non-JSON 404 comes from outside Confluence: check the
 * base URL); 413 → validation with hint `too-large` (the page is over Confluence's size limit);
 * 400/other 4xx → validation, or title conflict when the message says the title exists; 409 → version conflict, or server error for a transient lock; 429 → rate limited with
 * `Retry-After` clamped (`retryAfterMs`) and as asked (`requestedRetryAfterMs`); 5xx → server error.
 */
export const errorFromResponse = (f: HttpFailure): ConfluenceError => {
  // Scrub the whole text first, then bound it: a cut made before scrubbing could split a secret
  // into a prefix that no longer matches and would leak all but its last characters.
  const scrubbed = scrub(extractMessage(f.body), f.secrets);
  const message = scrubbed === undefined ? undefined : bound(scrubbed);
  const base = {
    method: f.method,
    path: f.path,
    status: f.status,
    locale: f.locale,
    ...(message === undefined ? {} : { confluenceMessage: message }),
  };
  const text = message ?? "";
  const withHint = (hint: ConfluenceHint | undefined) => (hint === undefined ? base : { ...base, hint });

  if (f.status === 401) {
    if (/scope does not match/i.test(text))
      return new ConfluenceAuthenticationError(withHint("scope-mismatch"));
    if (f.deployment === "cloud" && !f.viaGateway && !looksLikeJson(f.body))
      return new ConfluenceAuthenticationError(withHint("scoped-token-needs-gateway"));
    // Data Center refuses a wrong user name or password with a 401 (a wrong PAT is anonymous
    // instead), so a 401 with Basic there is the password, whether or not the deployment was guessed.
    return new ConfluenceAuthenticationError(
      withHint(
        f.deployment === "cloud"
          ? "cloud-credentials"
          : f.authType === "basic"
            ? "datacenter-basic-credentials"
            : f.deploymentDetected
              ? "datacenter-detected"
              : undefined,
      ),
    );
  }
  if (f.status === 403) {
    if (/not permitted to use confluence|caller cannot access confluence/i.test(text))
      return new ConfluenceAuthenticationError(
        withHint(
          f.deployment === "cloud" ? "cloud-credentials" : anonymousHint(f.deploymentDetected, f.authType),
        ),
      );
    const seraph = `${header(f.headers, "x-seraph-loginreason") ?? ""} ${header(f.headers, "x-authentication-denied-reason") ?? ""}`;
    if (/CAPTCHA/i.test(seraph)) return new ConfluenceAuthenticationError(withHint("datacenter-captcha"));
    if (/AUTHENTICATION_DENIED|AUTHENTICATED_FAILED/i.test(seraph))
      return new ConfluenceAuthenticationError(base);
    // A 403 names no cause a client could act on (REST-API.md §7.2: a missing space on a v1
    // create, no permission in the space, a page restriction): say what to check.
    return new ConfluencePermissionError(withHint("no-permission"));
  }
  if (f.status === 404) {
    // Confluence's REST 404s are JSON (v1 envelope, v2 errors); an HTML or plain one comes from
    // Tomcat or a proxy in front, i.e. a path outside Confluence (REST-API.md §1, §7.1).
    if (text !== "" && !looksLikeJson(f.body)) return new ConfluenceNotFoundError(withHint("check-base-url"));
    const bare =
      f.api === "v2" && f.deployment === "cloud" && (text === "" || /^not found$/i.test(text.trim()));
    return new ConfluenceNotFoundError(withHint(bare ? "cloud-v2-not-found-may-be-credentials" : undefined));
  }
  if (f.status === 410) return new ConfluenceNotFoundError(withHint("endpoint-removed"));
  if (f.status === 409) {
    if (TRANSIENT.test(text)) return new ConfluenceServerError(base);
    const current = /current version(?: is)?:?\s*\[?(\d+)/i.exec(text)?.[1];
    return new ConfluenceVersionConflictError(
      current === undefined ? base : { ...base, currentVersion: Number(current) },
    );
  }
  if (f.status === 429) return new ConfluenceRateLimitedError({ ...base, ...retryAfterOf(f) });
  if (f.status >= 500) return new ConfluenceServerError({ ...base, ...retryAfterOf(f) });
  // Not invalid but too large: say so and what to do (REST-API.md §7, §9: 5 MB on Cloud).
  if (f.status === 413) return new ConfluenceValidationError(withHint("too-large"));
  if (f.status >= 400) {
    if (TITLE_EXISTS.test(text)) {
      const m = /with the title (.+) in the space with key (\S+?)\.?$/i.exec(text);
      return new ConfluenceTitleConflictError(
        m?.[1] && m[2] ? { ...base, title: m[1], spaceKey: m[2] } : base,
      );
    }
    return new ConfluenceValidationError(base);
  }
  // 1xx/3xx: a redirect usually means an SSO login page or a wrong base URL, never a retryable state.
  const location = header(f.headers, "location");
  return new ConfluenceValidationError({
    ...base,
    hint: "unexpected-response",
    confluenceMessage:
      scrub(
        `unexpected HTTP ${f.status}${location ? ` redirect to ${describeLocation(location, f.secrets)}` : ""}`,
        f.secrets,
      ) ?? "",
  });
};

/**
 * The hint for Data Center's anonymous answer to a refused token. When the deployment was only
 * detected, the same answer comes from a Cloud site on a custom domain that got the token as
 * Bearer, so the hint also names `confluence.deployment`. With Basic (user name and password) the
 * hint speaks of the password, not of a personal access token; a guessed deployment then only
 * names `confluence.deployment`.
 */
export const anonymousHint = (
  deploymentDetected: boolean | undefined,
  authType: "basic" | "bearer" = "bearer",
): ConfluenceHint =>
  authType === "basic"
    ? deploymentDetected === true
      ? "datacenter-detected"
      : "datacenter-basic-credentials"
    : deploymentDetected === true
      ? "datacenter-anonymous-or-cloud"
      : "datacenter-anonymous";

/** What a transport failure looked like: the thrown value and whether the client's own timeout fired. */
export interface TransportFailure {
  readonly method: string;
  readonly path: string;
  readonly cause: unknown;
  readonly locale: ConfluenceLocale;
}

/** Maps a transport failure (undici / Node error codes) to a {@link ConfluenceNetworkError} with a `reason`. */
export const errorFromTransport = (f: TransportFailure): ConfluenceNetworkError => {
  const proxyStatus = proxyRefusal(f.cause);
  if (proxyStatus !== undefined)
    return new ConfluenceNetworkError({
      method: f.method,
      path: f.path,
      reason: "proxy",
      locale: f.locale,
      code: `PROXY_${proxyStatus}`,
    });
  const code = errorCode(f.cause);
  return new ConfluenceNetworkError({
    method: f.method,
    path: f.path,
    reason: networkReason(code, f.cause),
    locale: f.locale,
    ...(code === undefined ? {} : { code }),
  });
};

/**
 * Whether a failed request may have reached Confluence and been applied (so a create must be
 * checked by lookup before it is sent again): anything but DNS, refused connections, connect
 * timeouts and 429s.
 */
export const mayHaveLanded = (e: ConfluenceError): boolean => {
  if (e._tag === "ConfluenceNetworkError")
    return !(
      e.reason === "dns" ||
      e.reason === "connect" ||
      e.reason === "proxy" ||
      e.code === "UND_ERR_CONNECT_TIMEOUT"
    );
  return e._tag === "ConfluenceServerError";
};

/**
 * Removes secrets from a text, longest first (the encoded header contains the token). Each secret is
 * also looked for URL-encoded (either hex case) and, for base64 values, without its `=` padding.
 */
export const scrub = (text: string | undefined, secrets: ReadonlyArray<string>): string | undefined => {
  if (text === undefined) return undefined;
  const variants = new Set<string>();
  for (const s of secrets) {
    for (const v of [s, s.replace(/=+$/, "")]) {
      variants.add(v);
      const encoded = encodeURIComponent(v);
      variants.add(encoded);
      variants.add(encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
    }
  }
  let out = text;
  for (const s of [...variants].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length))
    out = out.split(s).join("[redacted]");
  return out;
};

// internal

const TITLE_EXISTS =
  /title already exists|page already exists with the (same )?title|folder exists with the same title|already exists with the same TITLE/i;
const TRANSIENT = /OptimisticLockException|Transaction rolled back|UnexpectedRollbackException/i;
const MAX_MESSAGE = 500;

const header = (headers: HttpFailure["headers"], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : (v as string | undefined);
};

/**
 * A `Retry-After` as the wait honoured in process (clamped to `maxRetryAfterMs`) and as asked (not
 * clamped to that, so that what is reported and when the caller tries again are what the server
 * said; bounded at ten years, a whole number, however absurd the header); nothing when absent or
 * unparsable.
 */
const retryAfterOf = (
  f: HttpFailure,
): { readonly retryAfterMs: number; readonly requestedRetryAfterMs: number } | Record<string, never> => {
  const value = header(f.headers, "retry-after");
  const requestedRetryAfterMs = parseRetryAfter(value, f.nowMs, MAX_REQUESTED_RETRY_AFTER_MS);
  if (requestedRetryAfterMs === undefined) return {};
  return {
    retryAfterMs: Math.min(requestedRetryAfterMs, Math.max(0, f.maxRetryAfterMs)),
    requestedRetryAfterMs,
  };
};

const looksLikeJson = (body: string): boolean => /^\s*[{[]/.test(body);

/**
 * Confluence's human text: v1 `message`, v2 `errors[0].title` (+ detail), else a plain-text excerpt,
 * with HTML entities decoded. Not bounded: the caller scrubs the full text, then bounds it.
 */
const extractMessage = (body: string): string | undefined => {
  if (body.trim() === "") return undefined;
  if (looksLikeJson(body)) {
    try {
      const json: unknown = JSON.parse(body);
      const found = messageOf(json);
      if (found !== undefined) return decodeEntities(found);
    } catch {
      // not JSON after all: fall through to the excerpt
    }
  }
  const plain = body.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " ");
  const text = decodeEntities(plain).replace(/\s+/g, " ").trim();
  return text === "" ? undefined : text;
};

const messageOf = (json: unknown): string | undefined => {
  if (typeof json !== "object" || json === null) return undefined;
  const o = json as Record<string, unknown>;
  if (Array.isArray(o.errors) && o.errors.length > 0) {
    const first = o.errors[0] as Record<string, unknown> | undefined;
    const title = typeof first?.title === "string" ? first.title : undefined;
    const detail = typeof first?.detail === "string" ? first.detail : undefined;
    const code = typeof first?.code === "string" ? first.code : undefined;
    const parts = [title, detail].filter((x): x is string => x !== undefined && x !== "");
    if (parts.length > 0) return parts.join(": ");
    if (code !== undefined) return code;
  }
  if (typeof o.message === "string" && o.message !== "") return o.message;
  if (typeof o.title === "string" && o.title !== "") return o.title;
  if (typeof o.reason === "string" && o.reason !== "") return o.reason;
  return undefined;
};

const bound = (s: string): string => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s);

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
};

/** Decodes numeric (decimal, hex) and the common named entities, so an echoed secret is recognisable. */
const decodeEntities = (s: string): string =>
  s.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));/g, (all, dec, hex, name) => {
    if (name !== undefined) return NAMED_ENTITIES[String(name).toLowerCase()] ?? all;
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex, 16);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });

const ABSOLUTE = /^\s*(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * A redirect target safe to report: scheme, host and port, then the path decoded and scrubbed;
 * never the user name, password, query or fragment.
 */
const describeLocation = (location: string, secrets: ReadonlyArray<string>): string => {
  let url: URL;
  try {
    url = new URL(location.trim(), "https://relative.invalid");
  } catch {
    return "a location that is not a URL";
  }
  // Only http(s) paths are structured; elsewhere ("foo:user:pw@host") the "path" can be anything.
  if (url.protocol !== "https:" && url.protocol !== "http:") return `a ${url.protocol} location`;
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // keep the encoded path; scrub still looks for the encoded secrets
  }
  const origin = ABSOLUTE.test(location) ? `${url.protocol}//${url.host}` : "";
  return `${origin}${bound(scrub(path, secrets) ?? "")}`;
};

const errorCode = (cause: unknown): string | undefined => {
  let current: unknown = cause;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const c = current as { code?: unknown; cause?: unknown };
    if (typeof c.code === "string" && c.code !== "UND_ERR_ABORTED" && c.code !== "ABORT_ERR") return c.code;
    current = c.cause;
  }
  return undefined;
};

/**
 * The status of a proxy that refused a CONNECT: undici fails with an aborted-request error whose
 * message alone carries it ("Proxy response (407) !== 200 when HTTP Tunneling").
 */
const proxyRefusal = (cause: unknown): number | undefined => {
  let current = cause;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const c = current as { message?: unknown; cause?: unknown };
    const m = typeof c.message === "string" ? /^Proxy response \((\d{3})\) !== 200/.exec(c.message) : null;
    if (m?.[1] !== undefined) return Number(m[1]);
    current = c.cause;
  }
  return undefined;
};

const networkReason = (code: string | undefined, cause: unknown): ConfluenceNetworkReason => {
  if (code === undefined) {
    const name = typeof cause === "object" && cause !== null ? (cause as { name?: unknown }).name : undefined;
    return name === "AbortError" || name === "TimeoutError" ? "timeout" : "other";
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME" || code === "EAI_FAIL")
    return "dns";
  if (
    code === "ECONNREFUSED" ||
    code === "EHOSTUNREACH" ||
    code === "ENETUNREACH" ||
    code === "EADDRNOTAVAIL"
  )
    return "connect";
  if (
    code === "UND_ERR_CONNECT_TIMEOUT" ||
    code === "UND_ERR_HEADERS_TIMEOUT" ||
    code === "UND_ERR_BODY_TIMEOUT" ||
    code === "ETIMEDOUT"
  )
    return "timeout";
  if (
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    code === "UND_ERR_SOCKET" ||
    code === "UND_ERR_CLOSED" ||
    code === "ECONNABORTED"
  )
    return "reset";
  if (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    code.includes("CERT") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UND_ERR_PRX_TLS"
  )
    return "tls";
  return "other";
};
