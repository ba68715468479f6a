/**
 * OpenAPI pieces the routes share: the problem answers every route documents (from the one
 * `Problem` schema, as `application/problem+json`, the type they are sent with), the marker
 * of a request body a route lets clients leave out, and the schemas of a route that takes no
 * query parameters or no body (which refuse any, rather than ignoring them).
 */

import { NoBody, NoQuery, Problem } from "@minutes/contracts/api";
import type { FastifyRequest } from "fastify";
import { routeSchema } from "../plugins/schema-compiler.js";
import { PROBLEM_CONTENT_TYPE } from "../problem.js";

const problem = {
  description: "Problem details (RFC 9457)",
  content: { [PROBLEM_CONTENT_TYPE]: { schema: routeSchema(Problem) } },
};

/** `4xx` and `5xx` answers are problem details. */
export const problemResponses = { "4xx": problem, "5xx": problem } as const;

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
