/**
 * `POST /api/archive/run`: archive the pages of old meetings now. The gateway has no Confluence
 * writer of its own, so it asks the publishers over NATS request/reply (one of their queue group
 * answers) and returns what that run did.
 */
import {
  ArchiveRunRequestJson,
  ArchiveRunResult,
  ArchiveRunResultJson,
  archiveRunSubject,
} from "@minutes/contracts";
import { ArchiveRunRequest } from "@minutes/contracts/api";
import { RequestError, TimeoutError } from "@nats-io/transport-node";
import { Either, Schema } from "effect";
import type { FastifyPluginAsync } from "fastify";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { HttpProblem, unavailable } from "../problem.js";
import {
  adminOnly,
  answer,
  bodyOptional,
  bodyProblems,
  invalidInput,
  noQuery,
  problemAnswer,
  problemResponses,
  unavailableAnswer,
} from "./responses.js";

/** How long the gateway waits for a run; a longer one goes on in the publisher and is logged there. */
export const ARCHIVE_RUN_TIMEOUT_MS = 120_000;

const decodeResult = Schema.decodeUnknownEither(ArchiveRunResultJson);

export const archiveRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Body: ArchiveRunRequest }>(
    "/api/archive/run",
    {
      ...adminOnly,
      schema: {
        tags: ["publications"],
        summary: "Move the pages of meetings older than N days to the archive now",
        description:
          "Runs the archive job (archive_old_pages) once, in one publisher: pages of meetings older than `olderThanDays` (default `archive_after_days`) move under the archive page and their records become `archived`. Idempotent. No body (or `{}`) means the configured age.",
        body: routeSchema(ArchiveRunRequest),
        ...noQuery,
        response: {
          200: answer(
            routeSchema(ArchiveRunResult),
            "The run is done: the cutoff date, how many pages were archived, the ones that failed and why, and which publisher ran it.",
          ),
          400: invalidInput(
            "the body does not match its schema (`olderThanDays` not a whole number of days from 1 to 36500, an unknown field), or a query parameter",
          ),
          ...bodyProblems(),
          503: unavailableAnswer(
            "no publisher is running to archive pages, the publishers could not be reached over NATS, or the run failed",
            "no publisher is running to archive pages; start one and try again",
          ),
          504: problemAnswer(
            504,
            "Gateway timeout: the run did not finish within 120 s; it goes on in the publisher, whose log reports the result.",
            {
              detail:
                "the archive run did not finish within 120 s; it goes on in the publisher, whose log reports the result",
            },
          ),
          ...problemResponses,
        },
        ...bodyOptional,
      },
      // No body at all means the configured age, like `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      let text: string;
      try {
        const reply = await ctx.nc.request(
          archiveRunSubject(ctx.config.nats.subject_prefix),
          Schema.encodeSync(ArchiveRunRequestJson)(request.body),
          { timeout: ARCHIVE_RUN_TIMEOUT_MS },
        );
        text = reply.string();
      } catch (error) {
        if (error instanceof RequestError && error.isNoResponders()) {
          throw unavailable(
            "no publisher is running to archive pages; start one and try again",
            "no-publisher",
          );
        }
        if (
          error instanceof TimeoutError ||
          (error instanceof RequestError && error.cause instanceof TimeoutError)
        ) {
          throw new HttpProblem({
            status: 504,
            detail: `the archive run did not finish within ${ARCHIVE_RUN_TIMEOUT_MS / 1000} s; it goes on in the publisher, whose log reports the result`,
          });
        }
        request.log.warn({ err: error }, "archive request over NATS failed");
        throw unavailable(
          "the publishers could not be reached over NATS; try again later",
          "event-stream-unavailable",
        );
      }
      const result = decodeResult(text);
      if (Either.isRight(result)) return result.right;
      const reason = (JSON.parse(text) as { error?: unknown }).error;
      throw unavailable(
        `the archive run failed: ${typeof reason === "string" ? reason : "unexpected answer from the publisher"}`,
        "archive-failed",
      );
    },
  );
};
