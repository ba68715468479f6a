/**
 * The original route, `POST /api/jobs/:jobId/publish-confluence`, now a command: it publishes a
 * `PublishRequested{trigger:"manual"}` and waits up to `gateway.publish_wait_ms` for the result
 * (200), else answers 202 with where to poll. Also `GET /api/jobs/:jobId/publications` and the
 * job's version history, `GET /api/jobs/:jobId/versions`.
 */
import { randomUUID } from "node:crypto";
import {
  CommandAccepted,
  JobIdParams,
  JobPublications,
  JobVersions,
  PublishCompleted,
  PublishNowQuery,
} from "@minutes/contracts/api";
import { Option } from "effect";
import type { FastifyPluginAsync } from "fastify";
import { publishCommand } from "../commands.js";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { notFound } from "../problem.js";
import { runEffect } from "../run-effect.js";
import { watchForFinal } from "../wait-for-final.js";
import { problemResponses } from "./responses.js";

export const jobRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Params: JobIdParams; Querystring: PublishNowQuery }>(
    "/api/jobs/:jobId/publish-confluence",
    {
      schema: {
        tags: ["publications"],
        summary: "Publish or republish the job's latest protocol now",
        params: routeSchema(JobIdParams),
        querystring: routeSchema(PublishNowQuery),
        response: {
          200: routeSchema(PublishCompleted),
          202: routeSchema(CommandAccepted),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      const protocol = await runEffect(ctx.store.getProtocol(jobId));
      if (Option.isNone(protocol)) throw notFound(`no protocol is stored for job ${JSON.stringify(jobId)}`);
      const since = new Date();
      const commandId = randomUUID();
      const watch = watchForFinal(
        ctx.feed,
        ctx.store,
        jobId,
        "manual",
        since,
        ctx.config.gateway.publish_wait_ms,
      );
      let ack: Awaited<ReturnType<typeof publishCommand>>;
      try {
        ack = await publishCommand(
          ctx.publisher,
          request.log,
          ctx.config.nats.subject_prefix,
          jobId,
          { trigger: "manual", force: request.query.force ?? false },
          `manual:${commandId}`,
        );
      } catch (error) {
        watch.cancel();
        throw error;
      }
      const final = await watch.result;
      const record = Option.getOrNull(await runEffect(ctx.store.findByJob(jobId)));
      if (final !== null) {
        const o = final.kind === "outcome" ? final.outcome : undefined;
        return reply.code(200).send({
          jobId,
          publicationId: record?.id ?? o?.publicationId ?? null,
          status: record?.status ?? null,
          outcome: o?.outcome ?? null,
          pageId: record?.pageId ?? o?.pageId ?? null,
          pageUrl: record?.pageUrl ?? o?.pageUrl ?? null,
          pageVersion: record?.pageVersion ?? o?.pageVersion ?? null,
          errorTag: o ? o.errorTag : (record?.errorTag ?? null),
          errorMessage: o ? o.errorMessage : (record?.errorMessage ?? null),
        });
      }
      const location = record
        ? `/api/publications/${record.id}`
        : `/api/jobs/${encodeURIComponent(jobId)}/publications`;
      return reply
        .code(202)
        .header("location", location)
        .send({
          jobId,
          publicationId: record?.id ?? null,
          status: "accepted",
          commandId,
          streamSequence: ack.seq,
          location,
        });
    },
  );

  app.get<{ Params: JobIdParams }>(
    "/api/jobs/:jobId/publications",
    {
      schema: {
        tags: ["publications"],
        summary: "The job's publication records",
        params: routeSchema(JobIdParams),
        response: { 200: routeSchema(JobPublications), ...problemResponses },
      },
    },
    async (request) => {
      const items = await runEffect(ctx.store.listByJob(request.params.jobId));
      return { jobId: request.params.jobId, items };
    },
  );

  app.get<{ Params: JobIdParams }>(
    "/api/jobs/:jobId/versions",
    {
      schema: {
        tags: ["publications"],
        summary: "Every page version Minutes wrote for the job (version, content hash, time, trigger)",
        params: routeSchema(JobIdParams),
        response: { 200: routeSchema(JobVersions), ...problemResponses },
      },
    },
    async (request) => {
      const items = await runEffect(ctx.store.listVersions(request.params.jobId));
      return { jobId: request.params.jobId, items };
    },
  );
};
