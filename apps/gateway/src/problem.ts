/**
 * RFC 9457 problem details: the one error shape the gateway answers with. Handlers throw an
 * `HttpProblem` (it carries `statusCode`, so Fastify and the error handler agree on the status);
 * the error handler renders it and hides the detail of anything 5xx it did not build itself.
 */

/** One schema issue of a 400 answer. */
export interface ProblemIssue {
  readonly path: string;
  readonly message: string;
}

/** The JSON body of an `application/problem+json` answer. */
export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: ReadonlyArray<ProblemIssue>;
}

/** Media type of problem answers. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

const TITLES: Readonly<Record<number, readonly [slug: string, title: string]>> = {
  400: ["invalid-request", "Invalid request"],
  401: ["unauthorized", "Unauthorized"],
  403: ["forbidden", "Forbidden"],
  404: ["not-found", "Not found"],
  405: ["method-not-allowed", "Method not allowed"],
  406: ["not-acceptable", "Not acceptable"],
  408: ["request-timeout", "Request timeout"],
  409: ["conflict", "Conflict"],
  413: ["payload-too-large", "Payload too large"],
  414: ["uri-too-long", "URI too long"],
  415: ["unsupported-media-type", "Unsupported media type"],
  422: ["unprocessable-content", "Unprocessable content"],
  429: ["rate-limited", "Too many requests"],
  431: ["request-header-fields-too-large", "Request header fields too large"],
  500: ["internal-error", "Internal server error"],
  502: ["bad-gateway", "Bad gateway"],
  503: ["service-unavailable", "Service unavailable"],
  504: ["timeout", "Gateway timeout"],
};

/** The problem `type` URI of a slug. */
export const problemType = (slug: string): string => `urn:minutes:problem:${slug}`;

/** Title and type for a status without a more specific problem. */
export const genericProblem = (status: number): { readonly type: string; readonly title: string } => {
  const known = TITLES[status];
  if (known) return { type: problemType(known[0]), title: known[1] };
  return { type: "about:blank", title: status >= 500 ? "Server error" : "Request error" };
};

/**
 * An error that is answered as a problem; `detail` is shown even on 5xx (write it for clients), and
 * so are `extensions`: members of the body besides the standard ones (RFC 9457 §3.2), which they
 * never replace.
 */
export class HttpProblem extends Error {
  readonly statusCode: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: ReadonlyArray<ProblemIssue> | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(options: {
    readonly status: number;
    readonly detail: string;
    readonly slug?: string;
    readonly title?: string;
    readonly errors?: ReadonlyArray<ProblemIssue>;
    readonly headers?: Readonly<Record<string, string>>;
    readonly extensions?: Readonly<Record<string, unknown>>;
  }) {
    super(options.detail);
    this.name = "HttpProblem";
    const generic = genericProblem(options.status);
    this.statusCode = options.status;
    this.type = options.slug ? problemType(options.slug) : generic.type;
    this.title = options.title ?? generic.title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/** 404 for a missing resource. */
export const notFound = (detail: string): HttpProblem => new HttpProblem({ status: 404, detail });
/** 409 for a request that conflicts with the resource's state. */
export const conflict = (detail: string, slug = "conflict"): HttpProblem =>
  new HttpProblem({ status: 409, detail, slug });
/**
 * Seconds a client is asked to wait after a 503 (`Retry-After`): about how long NATS's client takes
 * to reconnect, or a busy SQLite file to be free again, so a client that honours it neither
 * hammers a dependency that is down nor waits long after it is back.
 */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

/**
 * 503 for something temporary (a dependency down or not answering); the request was not accepted,
 * and `Retry-After` says when to try again. Every temporary 503 of the gateway is built here (or
 * sends {@link UNAVAILABLE_RETRY_AFTER_S} itself, like the degraded `/status/confluence`).
 */
export const unavailable = (detail: string, slug = "service-unavailable"): HttpProblem =>
  new HttpProblem({
    status: 503,
    detail,
    slug,
    headers: { "retry-after": String(UNAVAILABLE_RETRY_AFTER_S) },
  });
/**
 * 503 for a part that is not configured: only an operator changing the configuration helps, so
 * there is no `Retry-After`, and `detail` must say which settings to change.
 */
export const misconfigured = (detail: string, slug: string): HttpProblem =>
  new HttpProblem({ status: 503, detail, slug });
/** 400 with schema issues. */
export const invalid = (detail: string, errors: ReadonlyArray<ProblemIssue>): HttpProblem =>
  new HttpProblem({ status: 400, detail, slug: "invalid-request", errors });
