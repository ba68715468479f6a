/**
 * The one error handler: every failure leaves as `application/problem+json` (RFC 9457). 4xx keep
 * their message (they describe the request); any 5xx that is not an `HttpProblem` written for
 * clients is logged with its stack and answered with a generic text plus the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import {
  genericProblem,
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemBody,
  UNAVAILABLE_RETRY_AFTER_S,
} from "../problem.js";
import { SchemaValidationError } from "./schema-compiler.js";

/** Sends a problem answer (bypassing the route's serializer). */
export const sendProblem = (reply: FastifyReply, body: ProblemBody): FastifyReply =>
  reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * Follows the limit in this route's 413: which setting raises it, or how else to send that
     * much. Only where the fix is not obvious from the limit alone (`/api/import`'s backups).
     */
    readonly bodyLimitHint?: string;
  }
}

/** The only media type request bodies may have (`/api/import` checks its NDJSON itself, earlier). */
const ACCEPTED_MEDIA_TYPE = "application/json";

/** Fastify's errors whose own message says less than the request needs to be fixed. */
const frameworkDetail = (error: FastifyError | Error, request: FastifyRequest): string | undefined => {
  switch ((error as { code?: unknown }).code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE": {
      const hint = request.routeOptions.config.bodyLimitHint;
      return `the request body is larger than the ${request.routeOptions.bodyLimit} bytes this route accepts${hint === undefined ? "" : `: ${hint}`}`;
    }
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE": {
      const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
      return `send the body as ${ACCEPTED_MEDIA_TYPE} (got ${type ? JSON.stringify(type) : "no content type"})`;
    }
    case "FST_ERR_BAD_URL":
      return "the URL is not valid: a percent-escape (%XX) in its path does not decode";
    case "FST_ERR_MAX_PARAM_LENGTH":
      return "a path segment of the URL is too long";
    default:
      return undefined;
  }
};

/**
 * Fastify's `frameworkErrors`: what it answers before any route or error handler runs (a URL whose
 * percent-escapes do not decode, a path segment over `maxParamLength`), as problems too.
 */
export const frameworkErrorProblem = (
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply => {
  const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 400;
  if (status >= 500) request.log.error({ err: error }, "request failed before routing");
  reply.header("x-request-id", request.id);
  return sendProblem(reply, {
    ...genericProblem(status),
    status,
    detail:
      status >= 500
        ? `the request could not be completed (request id ${request.id})`
        : (frameworkDetail(error, request) ?? error.message),
    instance: request.url.split("?")[0] ?? request.url,
  });
};

/** The not-found handler: a 404 problem naming the method and path (never the query string). */
export const notFoundProblem = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
  sendProblem(reply, {
    ...genericProblem(404),
    status: 404,
    detail: `no route for ${request.method} ${request.url.split("?")[0]}`,
    instance: request.url.split("?")[0] ?? request.url,
  });

/** Installs the error and not-found handlers. */
export const problemsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
      const instance = request.url.split("?")[0] ?? request.url;
      if (error instanceof HttpProblem) {
        if (error.statusCode >= 500)
          request.log.warn({ status: error.statusCode, detail: error.detail }, "problem");
        for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
        return sendProblem(reply, {
          ...error.extensions,
          type: error.type,
          title: error.title,
          status: error.statusCode,
          detail: error.detail,
          instance,
          ...(error.errors ? { errors: error.errors } : {}),
        });
      }
      if (error instanceof SchemaValidationError) {
        return sendProblem(reply, {
          ...genericProblem(400),
          status: 400,
          detail: error.message,
          instance,
          errors: error.issues,
        });
      }
      const raw = (error as { statusCode?: unknown }).statusCode;
      const status = typeof raw === "number" && raw >= 400 && raw < 600 ? raw : 500;
      if (status >= 500) {
        request.log.error({ err: error }, "request failed");
        // A 503 nobody here wrote (a library's) is taken as temporary, like those of `unavailable`.
        if (status === 503) reply.header("retry-after", String(UNAVAILABLE_RETRY_AFTER_S));
        return sendProblem(reply, {
          ...genericProblem(status),
          status,
          detail: `the request could not be completed (request id ${request.id})`,
          instance,
        });
      }
      const validation = (
        error as { validation?: ReadonlyArray<{ instancePath?: string; message?: string }> }
      ).validation;
      return sendProblem(reply, {
        ...genericProblem(status),
        status,
        detail: frameworkDetail(error, request) ?? error.message,
        instance,
        ...(validation
          ? {
              errors: validation.map((v) => ({
                path: (v.instancePath ?? "").replace(/^\//, "").replaceAll("/", "."),
                message: v.message ?? "invalid",
              })),
            }
          : {}),
      });
    });

    app.setNotFoundHandler(notFoundProblem);
  },
  { name: "@minutes/gateway/problems", fastify: "5.x", dependencies: ["@minutes/gateway/schema-compiler"] },
);
