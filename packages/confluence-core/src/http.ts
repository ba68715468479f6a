// The transport under ConfluenceClient: one pooled undici dispatcher per client (keep-alive, a
// connection limit, optional proxy and extra CAs), closed with the client's scope. It sends one
// request, maps failures through error-from-response, and decodes JSON with a Schema. It never
// retries: retry policy belongs to each operation, because only the operation knows whether a
// repeat is safe (a create is not). Every request is timed into the caller's ConfluenceCallStats
// and, with debug logging on, logged (method, path without the query, status, duration, retry);
// below debug that costs two clock reads and a few FiberRef reads: no log line is built.
import { performance } from "node:perf_hooks";
import { rootCertificates } from "node:tls";
import {
  Cause,
  Effect,
  type Exit,
  FiberRef,
  LogLevel,
  Option,
  ParseResult,
  Redacted,
  Schema,
  type Scope,
} from "effect";
import { Agent, Dispatcher, EnvHttpProxyAgent, request } from "undici";
import type { ResolvedConfig, ResolvedProxy } from "./ConfluenceClientConfig.js";
import {
  ConfluenceAuthenticationError,
  type ConfluenceError,
  ConfluenceServerError,
} from "./ConfluenceError.js";
import { errorFromResponse, errorFromTransport, scrub } from "./error-from-response.js";
import { ConfluenceCallStatsRef, ConfluenceRetryNumberRef } from "./retry-schedule.js";

/** How long working credentials, confirmed after a bare Cloud v2 404, are not asked about again. */
const CREDENTIALS_CONFIRMED_MS = 10_000;

/** Which REST API a request addresses; decides the root (`/rest/api` or `/api/v2`) and error parsing. */
export type Api = "v1" | "v2";

/** Query parameters; arrays repeat the parameter (`status=current&status=archived`). */
export type Query = Readonly<Record<string, string | number | boolean | ReadonlyArray<string> | undefined>>;

/** One request: a path under the API root, or an absolute `url` (a pagination `next` link). */
export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly api: Api;
  readonly path: string;
  readonly query?: Query;
  readonly body?: unknown;
  readonly url?: string;
}

/** A 2xx response. */
export interface HttpResponse {
  readonly status: number;
  readonly text: string;
}

/** The transport a client uses. */
export interface Http {
  readonly config: ResolvedConfig;
  readonly send: (req: HttpRequest) => Effect.Effect<HttpResponse, ConfluenceError>;
  readonly json: <A, I>(req: HttpRequest, schema: Schema.Schema<A, I>) => Effect.Effect<A, ConfluenceError>;
  /** Absolute URL of a path under an API root. */
  readonly urlOf: (api: Api, path: string, query?: Query) => string;
  /** Resolves a `_links.next` value (context- or site-relative, or absolute) against the API root. */
  readonly resolveNext: (api: Api, next: string) => string;
}

/** Builds the transport; the dispatcher is closed when the scope closes. */
export const makeHttp = (
  config: ResolvedConfig,
  extraCa: ReadonlyArray<string>,
): Effect.Effect<Http, never, Scope.Scope> =>
  Effect.gen(function* () {
    const dispatcher = yield* Effect.acquireRelease(
      Effect.sync(() => makeDispatcher(config, extraCa)),
      (d) => Effect.promise(() => d.close()),
    );
    const token = Redacted.value(config.auth.token).trim();
    const authorization =
      config.auth.type === "basic"
        ? `Basic ${Buffer.from(`${config.auth.email.trim()}:${token}`, "utf8").toString("base64")}`
        : `Bearer ${token}`;
    // Everything that could echo the credential back: raw, URL-encoded, the header and its base64 part.
    const secrets = [
      token,
      encodeURIComponent(token),
      authorization,
      authorization.slice(authorization.indexOf(" ") + 1),
    ];
    const roots: Record<Api, string> = { v1: `${config.apiBase}/rest/api`, v2: `${config.apiBase}/api/v2` };

    const rootPaths: Record<Api, string> = {
      v1: new URL(roots.v1).pathname,
      v2: new URL(roots.v2).pathname,
    };
    const urlOf = (api: Api, path: string, query?: Query): string => {
      const url = new URL(roots[api] + path);
      // URL parsing resolves dot segments ("..", ".", "%2e%2e"): a value that became one whole
      // segment (encodeURIComponent keeps dots) would send the request elsewhere, a label's
      // DELETE to its page. Every caller encodes what it puts into a path, so any change is a bug.
      if (url.pathname !== rootPaths[api] + path) throw new UnsafeRequestPathError(path, url.pathname, api);
      for (const [k, v] of Object.entries(query ?? {})) {
        if (v === undefined) continue;
        if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, String(item));
        else url.searchParams.set(k, String(v));
      }
      return url.href;
    };

    const resolveNext = (api: Api, next: string): string => {
      const pathAndQuery = /^https?:\/\//i.test(next)
        ? (() => {
            const u = new URL(next);
            return u.pathname + u.search;
          })()
        : next;
      const marker = api === "v1" ? "/rest/api/" : "/api/v2/";
      const at = pathAndQuery.indexOf(marker);
      return at >= 0
        ? config.apiBase + pathAndQuery.slice(at)
        : `${roots[api]}${pathAndQuery.startsWith("/") ? "" : "/"}${pathAndQuery}`;
    };

    // Suspended: a path urlOf refuses fails the effect as a defect, whoever built the effect.
    const send = (req: HttpRequest): Effect.Effect<HttpResponse, ConfluenceError> =>
      Effect.suspend(() => sendNow(req));
    const sendNow = (req: HttpRequest): Effect.Effect<HttpResponse, ConfluenceError> => {
      const url = req.url ?? urlOf(req.api, req.path, req.query);
      const path = new URL(url).pathname;
      const headers: Record<string, string> = {
        authorization,
        accept: "application/json",
        "user-agent": "minutes-confluence-core",
      };
      let body: string | null = null;
      if (req.body !== undefined) {
        body = JSON.stringify(req.body);
        headers["content-type"] = "application/json; charset=utf-8";
      }
      // The whole exchange has `timeoutMs`: a timer aborts it (a fiber racing a sleep per request
      // costs more than the request's own work against a fast Confluence). Interrupting the effect
      // aborts it too.
      const exchange = Effect.tryPromise({
        try: async (signal) => {
          let timedOut = false;
          const deadline = new AbortController();
          const interrupted = () => deadline.abort(signal.reason);
          signal.addEventListener("abort", interrupted, { once: true });
          const timer = setTimeout(() => {
            timedOut = true;
            deadline.abort();
          }, config.timeoutMs);
          try {
            const res = await request(url, {
              dispatcher,
              method: req.method,
              headers,
              body,
              signal: deadline.signal,
              headersTimeout: config.timeoutMs,
              bodyTimeout: config.timeoutMs,
            });
            const text = await res.body.text();
            return { status: res.statusCode, headers: res.headers, text };
          } catch (error) {
            throw timedOut ? Object.assign(new Error("no answer in time"), { name: "TimeoutError" }) : error;
          } finally {
            clearTimeout(timer);
            signal.removeEventListener("abort", interrupted);
          }
        },
        catch: (cause) => errorFromTransport({ method: req.method, path, cause, locale: config.locale }),
      });
      // Which retry this is was left by the retry schedule; cleared so the next call starts at 0.
      const attempt = Effect.flatMap(FiberRef.getAndSet(ConfluenceRetryNumberRef, 0), (retry) => {
        const started = performance.now();
        return Effect.onExit(exchange, (exit) =>
          observeRequest(exit, performance.now() - started, retry, req.method, url, secrets),
        );
      });
      return Effect.flatMap(attempt, (res) => {
        if (res.status >= 200 && res.status < 300) {
          const warn =
            res.headers.deprecation !== undefined
              ? Effect.logWarning("Confluence marks this endpoint as deprecated").pipe(
                  Effect.annotateLogs({
                    method: req.method,
                    path,
                    deprecation: String(res.headers.deprecation),
                  }),
                )
              : Effect.void;
          return Effect.as(warn, { status: res.status, text: res.text });
        }
        const error = errorFromResponse({
          method: req.method,
          path,
          status: res.status,
          headers: res.headers,
          body: res.text,
          api: req.api,
          deployment: config.deployment,
          deploymentDetected: config.deploymentDetected,
          viaGateway: config.viaGateway,
          authType: config.auth.type,
          nowMs: Date.now(),
          maxRetryAfterMs: config.maxRetryAfterMs,
          locale: config.locale,
          secrets,
        });
        return error._tag === "ConfluenceNotFoundError" &&
          error.hint === "cloud-v2-not-found-may-be-credentials"
          ? Effect.flatMap(credentialsRefused(), (refused) =>
              Effect.fail(
                refused
                  ? new ConfluenceAuthenticationError({
                      method: req.method,
                      path,
                      status: res.status,
                      confluenceMessage: `${refused}, so this 404 means the credentials, not a missing resource`,
                      hint: "cloud-credentials",
                      locale: config.locale,
                    })
                  : error,
              ),
            )
          : Effect.fail(error);
      });
    };

    /**
     * Cloud's v2 answers wrong or revoked credentials with the same bare 404 as a missing resource
     * (REST-API.md): asked on such a 404, `GET /rest/api/user/current` tells them apart. Resolves
     * what it saw when the credentials are refused (a 401, or the anonymous user), else `undefined`
     * (a missing resource, or no clear answer). A confirmation is kept for a while: with working
     * credentials, a burst of real 404s costs one question.
     */
    let credentialsConfirmedAt = Number.NEGATIVE_INFINITY;
    const credentialsRefused = (): Effect.Effect<string | undefined> => {
      if (performance.now() - credentialsConfirmedAt < CREDENTIALS_CONFIRMED_MS)
        return Effect.succeed(undefined);
      return send({ method: "GET", api: "v1", path: "/user/current" }).pipe(
        Effect.map((res): string | undefined => {
          let user: { type?: unknown } | undefined;
          try {
            user = JSON.parse(res.text) as { type?: unknown };
          } catch {
            user = undefined;
          }
          if (user?.type === "anonymous") return "GET /rest/api/user/current answers as the anonymous user";
          credentialsConfirmedAt = performance.now();
          return undefined;
        }),
        Effect.catchAll((e) =>
          Effect.succeed(
            e._tag === "ConfluenceAuthenticationError"
              ? `GET /rest/api/user/current answers ${e.status ?? 401}`
              : undefined,
          ),
        ),
      );
    };

    const json = <A, I>(req: HttpRequest, schema: Schema.Schema<A, I>): Effect.Effect<A, ConfluenceError> =>
      Effect.flatMap(send(req), (res) => {
        const path = new URL(req.url ?? urlOf(req.api, req.path)).pathname;
        const base = { method: req.method, path, status: res.status, locale: config.locale };
        if (res.text.trim() === "") {
          // Data Center's Seraph answers a rejected login with 2xx and no body (confluencebuilder saw it).
          return Effect.fail(
            config.deployment === "datacenter"
              ? new ConfluenceAuthenticationError({ ...base, hint: "datacenter-session-lost" })
              : new ConfluenceServerError({
                  ...base,
                  hint: "unexpected-response",
                  confluenceMessage: "empty body",
                }),
          );
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(res.text);
        } catch {
          return Effect.fail(
            new ConfluenceServerError({
              ...base,
              hint: "unexpected-response",
              confluenceMessage: "body is not JSON",
            }),
          );
        }
        return Schema.decodeUnknown(schema)(parsed).pipe(
          Effect.mapError(
            (e) =>
              new ConfluenceServerError({
                ...base,
                hint: "unexpected-response",
                confluenceMessage:
                  scrub(ParseResult.TreeFormatter.formatErrorSync(e), secrets)?.slice(0, 500) ?? "",
              }),
          ),
        );
      });

    return { config, send, json, urlOf, resolveNext };
  });

// internal

/**
 * A request path that URL parsing would change (a dot segment): a bug in the caller, never sent.
 * Names the path as built and as it would have gone out; paths hold ids and names, no secrets.
 */
class UnsafeRequestPathError extends Error {
  override readonly name = "UnsafeRequestPathError";
  constructor(path: string, resolved: string, api: Api) {
    super(
      `refusing to send a request to ${api} path ${JSON.stringify(path)}: it resolves to ${JSON.stringify(resolved)} (a dot segment in the path)`,
    );
  }
}

/**
 * Adds one request's time to the caller's stats and, only when debug logging is on, logs it:
 * method, path (scrubbed of secrets) and the names of its query parameters (their values can hold
 * a title or CQL; a `next` link's cursor), status or network failure, duration and which retry of
 * its call it was. Never a header, a body or a token.
 */
const observeRequest = (
  exit: Exit.Exit<{ readonly status: number }, ConfluenceError>,
  ms: number,
  retry: number,
  method: string,
  url: string,
  secrets: ReadonlyArray<string>,
): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(ConfluenceCallStatsRef), (stats) => {
    if (stats !== undefined) {
      stats.requests += 1;
      stats.requestMs += ms;
    }
    return Effect.asVoid(
      Effect.whenLogLevel(
        Effect.suspend(() => {
          const u = new URL(url);
          const query = [...new Set(u.searchParams.keys())].join(",");
          const outcome =
            exit._tag === "Success"
              ? { status: exit.value.status }
              : Cause.failureOption(exit.cause).pipe(
                  Option.match({
                    onNone: () => ({ error: Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "defect" }),
                    onSome: (e) => ({
                      error: e._tag,
                      ...(e._tag === "ConfluenceNetworkError" ? { reason: e.reason } : {}),
                    }),
                  }),
                );
          return Effect.logDebug("Confluence request").pipe(
            Effect.annotateLogs({
              method,
              path: scrub(u.pathname, secrets) ?? "",
              ...(query === "" ? {} : { query: scrub(query, secrets) ?? "" }),
              ...outcome,
              durationMs: Math.round(ms * 10) / 10,
              retry,
            }),
          );
        }),
        LogLevel.Debug,
      ),
    );
  });

const makeDispatcher = (config: ResolvedConfig, extraCa: ReadonlyArray<string>): Dispatcher => {
  const ca = extraCa.length > 0 ? [...rootCertificates, ...extraCa] : undefined;
  const common = {
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connections: config.maxConnections,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    connect: { timeout: config.timeoutMs, ...(ca ? { ca } : {}) },
  };
  const proxy = config.proxy;
  if (proxy === undefined) return new Agent(common);
  // One EnvHttpProxyAgent per target scheme, each knowing only its own proxy: its `token` goes to
  // every proxy it has, and HTTP_PROXY and HTTPS_PROXY may be different proxies with different
  // users. The URIs carry no user info (undici would turn it into the same header, but keeps the
  // URI around where an error or a debugger could show it). Empty strings, not undefined:
  // EnvHttpProxyAgent falls back to process.env for undefined values, and the app's config module
  // is the only reader of the environment.
  const tls = ca ? { requestTls: { ca }, proxyTls: { ca } } : {};
  const via = (target: ResolvedProxy | undefined): Dispatcher =>
    target === undefined
      ? new Agent(common)
      : new EnvHttpProxyAgent({
          ...common,
          ...tls,
          httpProxy: target.uri,
          httpsProxy: target.uri,
          noProxy: proxy.noProxy,
          ...(target.token === undefined ? {} : { token: Redacted.value(target.token) }),
        });
  // Like curl and undici: without HTTPS_PROXY, https targets use HTTP_PROXY too.
  const https = via(proxy.httpsProxy ?? proxy.httpProxy);
  const http = proxy.httpProxy === undefined ? new Agent(common) : via(proxy.httpProxy);
  return new BySchemeDispatcher(https, http);
};

/** Sends https targets to one dispatcher and everything else to another; closes both. */
class BySchemeDispatcher extends Dispatcher {
  constructor(
    private readonly https: Dispatcher,
    private readonly http: Dispatcher,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = options.origin === undefined ? "" : String(options.origin);
    return (origin.startsWith("https:") ? this.https : this.http).dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = Promise.all([this.https.close(), this.http.close()]).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === "function" ? null : (a ?? null);
    const callback = typeof a === "function" ? a : b;
    const done = Promise.all([this.https.destroy(err), this.http.destroy(err)]).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }
}
