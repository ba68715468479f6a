/** `GET /api/stats`: counts by status and space, success rate, retries, latency percentiles, per day. */
import { PublicationStats } from "@minutes/contracts";
import { StatsQuery } from "@minutes/contracts/api";
import type { FastifyPluginAsync } from "fastify";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { runEffect } from "../run-effect.js";
import { problemResponses } from "./responses.js";

export const statsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Querystring: StatsQuery }>(
    "/api/stats",
    {
      schema: {
        tags: ["statistics"],
        summary: "Publication statistics over a window of updatedAt (since inclusive, until exclusive)",
        querystring: routeSchema(StatsQuery),
        response: { 200: routeSchema(PublicationStats), ...problemResponses },
      },
    },
    async (request) =>
      runEffect(
        ctx.store.stats({
          since: request.query.since !== undefined ? new Date(request.query.since) : undefined,
          until: request.query.until !== undefined ? new Date(request.query.until) : undefined,
        }),
      ),
  );
};
