/** `GET /api/stats`: counts by status and space, success rate, retries, latency percentiles, per day. */
import { PublicationStats } from "@minutes/contracts";
import { StatsQuery } from "@minutes/contracts/api";
import type { FastifyPluginAsync } from "fastify";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { runEffect } from "../run-effect.js";
import { answer, DATABASE_DOWN, invalidInput, problemResponses, unavailableAnswer } from "./responses.js";

export const statsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Querystring: StatsQuery }>(
    "/api/stats",
    {
      schema: {
        tags: ["statistics"],
        summary: "Publication statistics over a window of updatedAt (since inclusive, until exclusive)",
        querystring: routeSchema(StatsQuery),
        response: {
          200: answer(
            routeSchema(PublicationStats),
            "Counts by status and space, success rate, retries, latency percentiles and counts per UTC day, over the records in the window: a published or archived one by when it was published (an archive run does not count old meetings again), any other by its last change. `successRate` is the share of the records that ended that were published: (published + archived) / (published + archived + failed + rejected), a rejected protocol being one that was not published; `null` when none ended (pending and publishing records do not count). A day's `failed` counts its rejected records too.",
          ),
          400: invalidInput(
            "an unknown query parameter, a timestamp that is not one, or `until` not after `since`",
          ),
          503: unavailableAnswer("the publication database is unavailable", DATABASE_DOWN),
          ...problemResponses,
        },
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
