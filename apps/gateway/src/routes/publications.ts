/**
 * Publication records: list (filtered, cursor-paged), read, retry a failed one (a durable
 * `PublishRequested{trigger:"retry"}`), delete (optionally moving the page to the trash first).
 */
import { randomUUID } from "node:crypto";
import { Publication } from "@minutes/contracts";
import {
  CommandAccepted,
  DeletePublicationQuery,
  PublicationDeleted,
  PublicationIdParams,
  PublicationList,
  PublicationListQuery,
} from "@minutes/contracts/api";
import { Effect } from "effect";
import type { FastifyPluginAsync } from "fastify";
import { publishCommand } from "../commands.js";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { conflict, HttpProblem } from "../problem.js";
import { runEffect } from "../run-effect.js";
import { problemResponses } from "./responses.js";

export const publicationRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Querystring: PublicationListQuery }>(
    "/api/publications",
    {
      schema: {
        tags: ["publications"],
        summary: "List publications, newest first (cursor paging)",
        querystring: routeSchema(PublicationListQuery),
        response: { 200: routeSchema(PublicationList), ...problemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      return runEffect(
        ctx.store.query({
          status: q.status,
          spaceKey: q.space,
          since: q.since !== undefined ? new Date(q.since) : undefined,
          until: q.until !== undefined ? new Date(q.until) : undefined,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
  );

  app.get<{ Params: PublicationIdParams }>(
    "/api/publications/:id",
    {
      schema: {
        tags: ["publications"],
        summary: "A publication record",
        params: routeSchema(PublicationIdParams),
        response: { 200: routeSchema(Publication), ...problemResponses },
      },
    },
    async (request) => runEffect(ctx.store.get(request.params.id)),
  );

  app.post<{ Params: PublicationIdParams }>(
    "/api/publications/:id/retry",
    {
      schema: {
        tags: ["publications"],
        summary: "Retry a failed publication",
        params: routeSchema(PublicationIdParams),
        response: { 202: routeSchema(CommandAccepted), ...problemResponses },
      },
    },
    async (request, reply) => {
      const record = await runEffect(ctx.store.get(request.params.id));
      if (record.status !== "failed") {
        throw conflict(
          `publication ${record.id} is ${record.status}; only failed publications can be retried`,
          "not-retryable",
        );
      }
      const commandId = randomUUID();
      const ack = await publishCommand(
        ctx.publisher,
        request.log,
        ctx.config.nats.subject_prefix,
        record.jobId,
        { trigger: "retry" },
        `retry:${commandId}`,
      );
      const location = `/api/publications/${record.id}`;
      return reply.code(202).header("location", location).send({
        jobId: record.jobId,
        publicationId: record.id,
        status: "accepted",
        commandId,
        streamSequence: ack.seq,
        location,
      });
    },
  );

  app.delete<{ Params: PublicationIdParams; Querystring: DeletePublicationQuery }>(
    "/api/publications/:id",
    {
      schema: {
        tags: ["publications"],
        summary: "Delete a publication record (deletePage=true also trashes its Confluence page)",
        params: routeSchema(PublicationIdParams),
        querystring: routeSchema(DeletePublicationQuery),
        response: { 200: routeSchema(PublicationDeleted), ...problemResponses },
      },
    },
    async (request) => {
      const record = await runEffect(ctx.store.get(request.params.id));
      let pageDeleted = false;
      if (request.query.deletePage === true && record.pageId !== null) {
        const client = await ctx.confluence.client();
        const result = await Effect.runPromise(Effect.either(client.deletePage(record.pageId)));
        if (result._tag === "Left") {
          const e = result.left;
          if (e._tag !== "ConfluenceNotFoundError") {
            request.log.warn({ tag: e._tag, pageId: record.pageId }, "deleting the Confluence page failed");
            throw new HttpProblem({
              status:
                e._tag === "ConfluencePermissionError" || e._tag === "ConfluenceAuthenticationError"
                  ? 409
                  : 503,
              slug: "confluence-delete-failed",
              detail: `the Confluence page ${record.pageId} was not deleted, so the record was kept: ${e.message}`,
            });
          }
        }
        pageDeleted = true;
      }
      const deleted = await runEffect(ctx.store.deletePublication(record.id));
      return { deleted, pageDeleted };
    },
  );
};
