// Configuration of the client and its resolution into REST roots. This is where the classic
// mix-ups are caught before any request: Bearer against a Cloud site, a scoped token without the
// gateway, a username instead of an e-mail on Cloud, credentials in the URL, plain http to a
// remote host. The app's config module reads the environment; this module never does.
import { Redacted } from "effect";
import { ConfluenceConfigError, type ConfluenceLocale } from "./ConfluenceError.js";
import { DEFAULT_MAX_RETRY_AFTER_MS } from "./retry-after.js";
import type { ConfluenceDeployment } from "./types.js";

/**
 * Credentials. Cloud: `basic` with the Atlassian account e-mail and an API token (classic or scoped).
 * Data Center: `bearer` with a personal access token (or `basic` with username and password).
 * Cloud `bearer` is an OAuth 2.0 access token and only works through the gateway (`cloudId`).
 */
export type ConfluenceAuth =
  | { readonly type: "basic"; readonly email: string; readonly token: Redacted.Redacted<string> }
  | { readonly type: "bearer"; readonly token: Redacted.Redacted<string> };

/**
 * Proxy settings, as the app read them from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`. A proxy URL
 * may carry `user:password@` (URL-encoded): the client sends them as `Proxy-Authorization: Basic`
 * to that proxy only, and never shows them (see {@link proxyUrlForDisplay}).
 */
export interface ConfluenceProxyConfig {
  /** Proxy for https targets, e.g. `http://user:pw@proxy:3128`; `httpProxy` when absent. */
  readonly httpsProxy?: string;
  /** Proxy for http targets (and https ones when `httpsProxy` is absent). */
  readonly httpProxy?: string;
  /** Comma- or space-separated hosts (with optional ports) that bypass the proxy; `*` for all. */
  readonly noProxy?: string;
}

/** Everything `makeConfluenceClient` needs. Only `baseUrl` and `auth` are required. */
export interface ConfluenceClientConfig {
  /**
   * The site base used for human links: `https://SITE.atlassian.net/wiki` (Cloud; `/wiki` is added
   * when missing) or `https://HOST[/context]` (Data Center). An `https://api.atlassian.com/ex/confluence/{cloudId}`
   * gateway URL is accepted too; human links then come from the responses' `_links.base`.
   * `http:` is allowed only for localhost.
   */
  readonly baseUrl: string;
  /** Detected from `baseUrl` when absent: `*.atlassian.net`, `*.jira.com` and the gateway are Cloud. */
  readonly deployment?: ConfluenceDeployment;
  readonly auth: ConfluenceAuth;
  /** Cloud id, required for scoped tokens and OAuth bearer tokens (requests then go through the gateway). */
  readonly cloudId?: string;
  /** The Cloud token is a scoped API token: send requests to `{gatewayUrl}/ex/confluence/{cloudId}/wiki`. */
  readonly scopedToken?: boolean;
  /** Gateway origin; default `https://api.atlassian.com` (tests point it at the sandbox). */
  readonly gatewayUrl?: string;
  /** Per-request timeout covering connect, headers and body; default 30000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt for retryable failures; default 3 (`max_retries`). */
  readonly maxRetries?: number;
  /** Base delay of the exponential backoff; default 1000 (`retry_delay` = 1.0 s). */
  readonly retryDelayMs?: number;
  /** Cap on a server-requested `Retry-After` wait; default 300000 (5 minutes). */
  readonly maxRetryAfterMs?: number;
  /** Keep-alive pool size per origin; default 10. */
  readonly maxConnections?: number;
  /** How long an idle pooled connection is kept; default 30000. */
  readonly keepAliveTimeoutMs?: number;
  readonly proxy?: ConfluenceProxyConfig;
  /** Extra CA certificates (PEM), trusted in addition to Node's root store. */
  readonly ca?: string | ReadonlyArray<string>;
  /** Path of a PEM file with extra CA certificates (read once when the client is made). */
  readonly caFile?: string;
  /** Language of error messages; default `en`. */
  readonly locale?: ConfluenceLocale;
  /**
   * Page size of list calls (CQL search, children, labels); default per API (50–250). Lower it for a
   * server that caps `limit`; every list is followed to its end regardless.
   */
  readonly pageSize?: number;
}

/**
 * Which deployment a URL points at: `cloud` for `*.atlassian.net`, `*.jira.com` and
 * `api.atlassian.com/ex/confluence/...`; `datacenter` for anything else (including the sandbox,
 * whose mode must therefore be given explicitly).
 */
export const detectDeployment = (baseUrl: string): ConfluenceDeployment => {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return "datacenter";
  }
  const host = url.hostname.toLowerCase();
  if (host.endsWith(".atlassian.net") || host.endsWith(".jira.com")) return "cloud";
  if (host === "api.atlassian.com" && url.pathname.startsWith("/ex/confluence/")) return "cloud";
  return "datacenter";
};

/** The configuration after validation and defaults, with the REST roots worked out. */
export interface ResolvedConfig {
  readonly deployment: ConfluenceDeployment;
  /**
   * The deployment was detected from `baseUrl`, not configured. Only Cloud hosts are recognised,
   * so a detected `datacenter` is a guess (a Cloud site on a custom domain looks the same): the
   * credential errors then say so and name the setting.
   */
  readonly deploymentDetected: boolean;
  /** Base of human links (`.../wiki` on Cloud), or undefined when only a gateway URL was given. */
  readonly siteUrl: string | undefined;
  /** Root that `/rest/api` and `/api/v2` hang off: the site base, or `{gateway}/ex/confluence/{cloudId}/wiki`. */
  readonly apiBase: string;
  readonly viaGateway: boolean;
  readonly auth: ConfluenceAuth;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly maxConnections: number;
  readonly keepAliveTimeoutMs: number;
  readonly proxy: ResolvedProxyConfig | undefined;
  readonly locale: ConfluenceLocale;
  readonly pageSize: number | undefined;
}

/** One proxy after validation: its URL without user info, and the credentials as a header value. */
export interface ResolvedProxy {
  /** `scheme://host:port/`, never with user info (safe to show). */
  readonly uri: string;
  /** `Basic base64(user:password)` when the URL carried user info. */
  readonly token: Redacted.Redacted<string> | undefined;
}

/** The proxy settings after validation; absent proxies are undefined. */
export interface ResolvedProxyConfig {
  readonly httpsProxy: ResolvedProxy | undefined;
  readonly httpProxy: ResolvedProxy | undefined;
  readonly noProxy: string;
}

/**
 * Why a proxy URL cannot be used, or undefined when it can: it must be an absolute `http:` or
 * `https:` URL without query or fragment; `user:password@` is allowed. The reason never repeats
 * the URL (it may hold a password), so it can be printed next to the setting's name.
 */
export const proxyUrlProblem = (text: string): string | undefined => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "not a valid absolute URL (expected http://[user:password@]host:port)";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return "must be an http:// or https:// URL (expected http://[user:password@]host:port)";
  if (url.search !== "" || url.hash !== "") return "must not contain a query string or fragment";
  if (url.password !== "" && url.username === "") return "has a password but no user name";
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    return "the user name or password is not validly URL-encoded";
  }
  return undefined;
};

/**
 * A proxy URL as it may be shown in logs and messages: without `user:password@` (and, as
 * `proxyUrlProblem` refuses them anyway, without query or fragment). Text that is not an http(s)
 * URL is replaced by a placeholder, since it may still hold the credentials.
 */
export const proxyUrlForDisplay = (text: string): string => {
  try {
    const url = new URL(text);
    // `user:pw@host` parses with the scheme `user:`: only http(s) URLs are shown at all.
    if (url.protocol === "http:" || url.protocol === "https:") return `${url.protocol}//${url.host}`;
  } catch {}
  return "(not an http(s) URL)";
};

/**
 * Validates a configuration and resolves its REST roots, or explains what is wrong in a
 * {@link ConfluenceConfigError} (whose text never includes the token).
 */
export const resolveConfig = (config: ConfluenceClientConfig): ResolvedConfig | ConfluenceConfigError => {
  const locale = config.locale ?? "en";
  const fail = (field: string, reason: string) => new ConfluenceConfigError({ field, reason, locale });

  const base = parseHttpUrl(config.baseUrl);
  if (typeof base === "string") return fail("baseUrl", base);
  const deployment = config.deployment ?? detectDeployment(config.baseUrl);
  const baseIsGateway =
    base.hostname.toLowerCase() === "api.atlassian.com" || /\/ex\/confluence\/[^/]+/.test(base.pathname);

  const token = Redacted.value(config.auth.token);
  if (token.trim() === "") return fail("auth.token", "the token is empty");
  if (/^(bearer|basic)\s/i.test(token.trim()))
    return fail("auth.token", "give the raw token, without a 'Bearer ' or 'Basic ' prefix");
  if (config.auth.type === "basic" && config.auth.email.trim() === "")
    return fail(
      "auth.email",
      "Basic auth needs a user: the Atlassian account e-mail (Cloud) or the user name (Data Center)",
    );

  const numbers = {
    timeoutMs: config.timeoutMs ?? 30_000,
    maxRetries: config.maxRetries ?? 3,
    retryDelayMs: config.retryDelayMs ?? 1_000,
    maxRetryAfterMs: config.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
    maxConnections: config.maxConnections ?? 10,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs ?? 30_000,
  };
  for (const [field, value] of Object.entries(numbers)) {
    const positive = field === "timeoutMs" || field === "maxConnections" || field === "keepAliveTimeoutMs";
    if (!Number.isFinite(value) || value < 0 || (positive && value === 0) || !Number.isInteger(value))
      return fail(field, `must be a ${positive ? "positive" : "non-negative"} integer`);
  }
  for (const field of ["httpsProxy", "httpProxy"] as const) {
    const value = config.proxy?.[field];
    const problem = value ? proxyUrlProblem(value) : undefined;
    if (problem !== undefined) return fail(`proxy.${field}`, problem);
  }
  if (
    config.pageSize !== undefined &&
    (!Number.isInteger(config.pageSize) || config.pageSize < 1 || config.pageSize > 250)
  )
    return fail("pageSize", "must be an integer from 1 to 250");
  const proxy = resolveProxy(config.proxy);
  const common = {
    auth: config.auth,
    ...numbers,
    proxy,
    locale,
    pageSize: config.pageSize,
    deploymentDetected: config.deployment === undefined,
  };

  if (deployment === "datacenter") {
    if (config.cloudId !== undefined || config.scopedToken === true)
      return fail(
        "cloudId",
        "cloudId and scopedToken apply to Confluence Cloud only; set deployment: 'cloud'",
      );
    const siteUrl = stripSlash(base.href);
    return { deployment, siteUrl, apiBase: siteUrl, viaGateway: false, ...common };
  }

  // Cloud
  if (config.auth.type === "basic" && !config.auth.email.includes("@"))
    return fail(
      "auth.email",
      "Confluence Cloud Basic auth needs the Atlassian account e-mail, not a user name",
    );
  const needsGateway = config.scopedToken === true || config.auth.type === "bearer";
  if (baseIsGateway) {
    const apiBase = withWiki(stripSlash(base.href));
    return { deployment, siteUrl: undefined, apiBase, viaGateway: true, ...common };
  }
  const siteUrl = withWiki(stripSlash(base.href));
  if (!needsGateway) return { deployment, siteUrl, apiBase: siteUrl, viaGateway: false, ...common };
  if (config.cloudId === undefined || !/^[A-Za-z0-9-]+$/.test(config.cloudId))
    return fail(
      "cloudId",
      config.auth.type === "bearer"
        ? "Cloud accepts Bearer (OAuth 2.0) tokens only through the api.atlassian.com gateway: set cloudId (an API token is used with type 'basic' and the account e-mail)"
        : "a scoped API token only works through the api.atlassian.com gateway: set cloudId (GET https://SITE.atlassian.net/_edge/tenant_info shows it)",
    );
  const gateway = parseHttpUrl(config.gatewayUrl ?? "https://api.atlassian.com");
  if (typeof gateway === "string") return fail("gatewayUrl", gateway);
  const apiBase = `${stripSlash(gateway.origin)}/ex/confluence/${config.cloudId}/wiki`;
  return { deployment, siteUrl, apiBase, viaGateway: true, ...common };
};

// internal

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

const parseHttpUrl = (text: string): URL | string => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "not a valid absolute URL";
  }
  if (url.username !== "" || url.password !== "")
    return "must not contain credentials (they would end up in logs); use auth instead";
  if (url.search !== "" || url.hash !== "") return "must not contain a query string or fragment";
  if (url.protocol === "https:") return url;
  if (
    url.protocol === "http:" &&
    (LOCAL_HOSTS.has(url.hostname.toLowerCase()) || url.hostname.startsWith("127."))
  )
    return url;
  return url.protocol === "http:"
    ? "must use https (http is allowed for localhost only)"
    : "must be an http(s) URL";
};

const resolveProxy = (proxy: ConfluenceProxyConfig | undefined): ResolvedProxyConfig | undefined => {
  // Only a non-empty value counts: HTTPS_PROXY= (set but empty) means no proxy, as in curl.
  if (proxy === undefined || (!proxy.httpsProxy && !proxy.httpProxy)) return undefined;
  return {
    httpsProxy: proxy.httpsProxy ? resolveOneProxy(proxy.httpsProxy) : undefined,
    httpProxy: proxy.httpProxy ? resolveOneProxy(proxy.httpProxy) : undefined,
    noProxy: proxy.noProxy ?? "",
  };
};

/** Splits a validated proxy URL into a URL without user info and a `Basic` credential. */
const resolveOneProxy = (text: string): ResolvedProxy => {
  const url = new URL(text);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  return {
    uri: url.href,
    token:
      user === ""
        ? undefined
        : Redacted.make(`Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`),
  };
};

const stripSlash = (s: string): string => s.replace(/\/+$/, "");

const withWiki = (s: string): string => (/\/wiki$/.test(s) ? s : `${s}/wiki`);
