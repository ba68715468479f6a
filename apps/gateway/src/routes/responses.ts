/**
 * OpenAPI pieces the routes share: the problem answers routes document (from the one `Problem`
 * schema, as `application/problem+json`, the type they are sent with), each with what its status
 * means and the headers sent with it, the marker of a request body a route lets clients leave out,
 * and the schemas of a route that takes no query parameters or no body (which refuse any, rather
 * than ignoring them). Descriptions and headers are documentation only: they must follow the code
 * that sends them, and `openapi` tests pin the ones clients rely on.
 */

import { NoBody, NoQuery, Problem } from "@minutes/contracts/api";
import type { FastifyRequest, preParsingHookHandler, RouteOptions } from "fastify";
import { documented, routeSchema } from "../plugins/schema-compiler.js";
import {
  genericProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemBody,
  UNAVAILABLE_RETRY_AFTER_S,
} from "../problem.js";

/** A response header as a route schema declares it (@fastify/swagger turns it into a Header Object). */
export interface HeaderDoc {
  readonly type: "string" | "integer";
  readonly description: string;
}

/** `Location` of a 202: where to poll for the result. */
export const locationHeader = (what: string): Readonly<Record<string, HeaderDoc>> => ({
  Location: { type: "string", description: what },
});

/**
 * A JSON answer of a route: its schema (from `routeSchema`), what the status means for this
 * route, the headers sent with it and an example body.
 */
export const answer = (
  schema: ReturnType<typeof routeSchema>,
  description: string,
  options: { readonly headers?: Readonly<Record<string, HeaderDoc>>; readonly example?: unknown } = {},
): ReturnType<typeof routeSchema> =>
  documented(schema, {
    "x-response-description": description,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.example !== undefined ? { examples: [options.example] } : {}),
  });

/**
 * A problem answer (`application/problem+json`, the `Problem` schema) with what its status means
 * for the route, the headers sent with it, and an example: `detail` is one the gateway sends.
 */
export const problemAnswer = (
  status: number,
  description: string,
  options: {
    readonly detail?: string;
    readonly headers?: Readonly<Record<string, HeaderDoc>>;
    readonly example?: ProblemBody;
  } = {},
) => ({
  description,
  ...(options.headers ? { headers: options.headers } : {}),
  content: {
    [PROBLEM_CONTENT_TYPE]: {
      schema: routeSchema(Problem),
      ...(options.example !== undefined
        ? { example: options.example }
        : options.detail !== undefined
          ? { example: { ...genericProblem(status), status, detail: options.detail } }
          : {}),
    },
  },
});

/**
 * The `4XX` and `5XX` answers of every route: problem details, for the statuses a route does not
 * list (a URL whose percent-escapes do not decode, a path segment too long, a server error).
 */
export const problemResponses = {
  "4xx": problemAnswer(
    400,
    "Another client error, as problem details: for example a URL the gateway cannot decode (400). `detail` says what to change.",
    { detail: "the URL is not valid: a percent-escape (%XX) in its path does not decode" },
  ),
  "5xx": problemAnswer(
    500,
    "A server error, as problem details; an unexpected one says only `the request could not be completed (request id …)`, the id to find it in the gateway's log.",
    { detail: "the request could not be completed (request id 3f0c2a1e-7d4b-4c55-9a7e-1b2c3d4e5f60)" },
  ),
} as const;

/** 400 of a route whose only input is its query string or path: what was refused. */
export const invalidInput = (what: string) =>
  problemAnswer(400, `Invalid request: ${what}. \`errors\` lists each issue (\`path\`, \`message\`).`, {
    example: {
      ...genericProblem(400),
      status: 400,
      detail:
        'the query string does not match its schema (query.limt: unknown parameter; did you mean "limit"?)',
      instance: "/api/publications",
      errors: [{ path: "query.limt", message: 'unknown parameter; did you mean "limit"?' }],
    },
  });

/**
 * 413 and 415 of a route that reads a JSON body (the body of a POST or DELETE is parsed whether
 * the route takes one or not): `tooLarge` says what the size limits are for the route.
 */
export const bodyProblems = (
  tooLarge = "Payload too large: the body is over `gateway.body_limit_bytes` (default 1 MiB). The detail names the limit; retrying the same body will not help.",
) => ({
  413: problemAnswer(413, tooLarge, {
    detail: "the request body is larger than the 1048576 bytes this route accepts",
  }),
  415: problemAnswer(
    415,
    "Unsupported media type: a body must be `application/json` in UTF-8 (no charset, or `charset=utf-8`), uncompressed (a `Content-Encoding` such as gzip is refused, with `Accept-Encoding: identity`). The detail names the type, charset or encoding that was sent.",
    { detail: 'send the body as application/json (got "text/plain")' },
  ),
});

/** The `Retry-After` every 503 of the API sends (see `unavailable`). */
export const UNAVAILABLE_HEADERS = {
  "Retry-After": {
    type: "integer",
    description: `Seconds to wait before trying again (${UNAVAILABLE_RETRY_AFTER_S}).`,
  },
} as const;

/** 503 of a route: which dependency was down; nothing was stored, so retrying later is safe. */
export const unavailableAnswer = (what: string, detail: string) =>
  problemAnswer(
    503,
    `Service unavailable: ${what}. Nothing was changed; retry after \`Retry-After\` seconds.`,
    {
      detail,
      headers: UNAVAILABLE_HEADERS,
    },
  );

/** The detail of a 503 for the publication database. */
export const DATABASE_DOWN = "the publication database is unavailable; try again later";
/** The detail of a 503 for JetStream not storing a message. */
export const EVENT_STREAM_DOWN =
  "the event stream (NATS JetStream) did not store the message, so the request was not accepted; retry later";

/** `onRoute` of a scope requiring an API key: documents its 401 (sent by `requireApiKey`). */
export const documentUnauthorized = (route: RouteOptions): void => {
  route.schema = { ...route.schema, response: { ...responsesOf(route), 401: UNAUTHORIZED } };
};

/** Route options of an operators' route: with admin keys configured, only they may call it. */
export const adminOnly = { config: { admin: true } } as const;

declare module "fastify" {
  interface FastifyContextConfig {
    /** An operators' route (`adminOnly`): `requireAdminKey` guards it. */
    readonly admin?: boolean;
  }
}

/** `onRoute` of the API scope: an operators' route gets the admin key check, and its 403 documented. */
export const guardAdminRoutes =
  (requireAdminKey: preParsingHookHandler) =>
  (route: RouteOptions): void => {
    if (route.config?.admin !== true) return;
    const existing = route.preParsing;
    // First among the route's own hooks: only an operator learns anything more about the request.
    route.preParsing = [
      requireAdminKey,
      ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
    ];
    route.schema = { ...route.schema, response: { ...responsesOf(route), 403: ADMIN_ONLY } };
  };

/** `onRoute` of the rate-limited scope: documents its 429 (sent by `@fastify/rate-limit`). */
export const documentRateLimited = (route: RouteOptions): void => {
  route.schema = { ...route.schema, response: { ...responsesOf(route), 429: RATE_LIMITED } };
};

/**
 * `onRoute` of the health, status and metrics scopes: a request there that sends a key that is not
 * valid counts against its client address's rate limit (the one `/api` applies to such keys).
 */
export const documentKeyGuessLimited = (route: RouteOptions): void => {
  route.schema = { ...route.schema, response: { ...responsesOf(route), 429: KEY_GUESS_LIMITED } };
};

/** Route-schema key of a route that takes no body as `{}`. */
export const OPTIONAL_BODY = "x-body-optional";

/** Spread into the schema of a route that takes no body as `{}`. */
export const bodyOptional = { [OPTIONAL_BODY]: true } as const;

/** Spread into the schema of a route without query parameters: any parameter is refused. */
export const noQuery = { querystring: routeSchema(NoQuery) } as const;

/**
 * Spread into the schema of a route that takes no body: no body or `{}`, and any field is refused
 * (a `{"force":true}` sent to a route that reads `?force=true` must not pass as if understood).
 * The route's `preValidation` is `absentBodyAsEmpty`.
 */
export const noBody = { body: routeSchema(NoBody), ...bodyOptional } as const;

/** `preValidation` of a route whose body may be left out: no body is validated as `{}`. */
export const absentBodyAsEmpty = async (request: FastifyRequest): Promise<void> => {
  request.body ??= {};
};

/**
 * Route-schema key of a request body Fastify does not validate (a stream its own parser reads,
 * such as the import's NDJSON): the OpenAPI `requestBody` to document, which
 * `documentRequestBodies` puts in place (a `body` schema would be validated against the stream).
 */
export const DOCUMENTED_BODY = "x-documented-body";

/**
 * For @fastify/swagger's `transformObject`: an operation carrying `DOCUMENTED_BODY` (copied there
 * as an `x-` extension) gets it as its `requestBody` instead of the marker.
 */
export const documentRequestBodies = <D extends { readonly paths?: unknown }>(document: D): D => {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item ?? {}) as Array<unknown>) {
      if (typeof operation !== "object" || operation === null || !(DOCUMENTED_BODY in operation)) continue;
      const marked = operation as { [DOCUMENTED_BODY]?: unknown; requestBody?: unknown };
      marked.requestBody = marked[DOCUMENTED_BODY];
      delete marked[DOCUMENTED_BODY];
    }
  }
  return document;
};

/**
 * For @fastify/swagger's `transformObject`: it documents every request body as required, so an
 * operation carrying `OPTIONAL_BODY` (copied there as an `x-` extension) gets `required: false`
 * instead of the marker.
 */
export const markOptionalBodies = <D extends { readonly paths?: unknown }>(document: D): D => {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item ?? {}) as Array<unknown>) {
      if (typeof operation !== "object" || operation === null || !(OPTIONAL_BODY in operation)) continue;
      const marked = operation as { [OPTIONAL_BODY]?: unknown; requestBody?: { required?: boolean } };
      delete marked[OPTIONAL_BODY];
      if (marked.requestBody !== undefined) marked.requestBody.required = false;
    }
  }
  return document;
};

// internal

const responsesOf = (route: RouteOptions): Record<string, unknown> =>
  (route.schema?.response as Record<string, unknown> | undefined) ?? {};

const ADMIN_ONLY = problemAnswer(
  403,
  "Forbidden: an operators' route, and the key is not one of `gateway.admin_api_keys` (once any are configured, only those keys may import, export, clean up, delete, replay and run the archive).",
  {
    detail:
      "this operation is for operators: send one of the operators' keys (gateway.admin_api_keys); the key sent may send and read protocols and publications",
  },
);

const UNAUTHORIZED = problemAnswer(
  401,
  "Unauthorized: no `Authorization: Bearer <key>`, a key that is not one of `gateway.api_keys` or `gateway.admin_api_keys`, or no keys configured (every request is refused).",
  {
    detail: "the API key is not valid",
    headers: {
      "WWW-Authenticate": { type: "string", description: 'Always `Bearer realm="minutes"`.' },
    },
  },
);

const KEY_GUESS_LIMITED = problemAnswer(
  429,
  "Too many requests: the request sent an API key that is not valid, and this client address is over `gateway.rate_limit_per_minute` for such requests (counted together with `/api` requests with keys that are not valid), so keys cannot be tried here faster than there. Requests with no key or a valid key are not limited here. Retry after `Retry-After` seconds.",
  {
    detail: "rate limit of 600 requests per minute exceeded; retry in 42 s",
    headers: {
      "Retry-After": {
        type: "integer",
        description: "Seconds until the rate limit's window lets this client address in again.",
      },
    },
  },
);

const RATE_LIMITED = problemAnswer(
  429,
  "Too many requests: over `gateway.rate_limit_per_minute` for this API key (for this client address when the key is not valid). Nothing was done; retry after `Retry-After` seconds.",
  {
    detail: "rate limit of 600 requests per minute exceeded; retry in 42 s",
    headers: {
      "Retry-After": {
        type: "integer",
        description: "Seconds until the rate limit's window lets this caller in again.",
      },
    },
  },
);
