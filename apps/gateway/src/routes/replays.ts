/**
 * Bulk republication: `POST /api/replays` (or a dry run counting the jobs), `GET` its progress,
 * `DELETE` to stop issuing commands. See `ReplayManager` for the pacing and what survives restarts.
 */

import {
  ReplayDryRun,
  ReplayIdParams,
  ReplayList,
  ReplayProgress,
  ReplayRequest,
} from "@minutes/contracts/api";
import type { FastifyPluginAsync } from "fastify";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { HttpProblem, notFound, unavailable } from "../problem.js";
import { DRY_RUN_SAMPLE, type ReplaySelection } from "../ReplayManager.js";
import { runEffect } from "../run-effect.js";
import {
  absentBodyAsEmpty,
  adminOnly,
  answer,
  bodyProblems,
  invalidInput,
  locationHeader,
  noBody,
  noQuery,
  problemAnswer,
  problemResponses,
  unavailableAnswer,
} from "./responses.js";

const NO_REPLAY = problemAnswer(
  404,
  "Not found: this gateway knows no replay with this id (progress lives in the gateway's memory: a restart forgets it).",
  { detail: "no replay 3f0c2a1e-7d4b-4c55-9a7e-1b2c3d4e5f60 is known to this gateway" },
);

export const replayRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Body: ReplayRequest }>(
    "/api/replays",
    {
      ...adminOnly,
      schema: {
        tags: ["replays"],
        summary: "Republish every job with protocol events since a time",
        body: routeSchema(ReplayRequest),
        ...noQuery,
        response: {
          200: answer(
            routeSchema(ReplayDryRun),
            "Dry run (`dryRun: true`): how many jobs the replay would republish, and the first of their ids; nothing was issued.",
          ),
          202: answer(
            routeSchema(ReplayProgress),
            "Started: the replay's progress so far; it issues its commands in the background. Poll `Location` for its progress.",
            { headers: locationHeader("The replay's progress: `/api/replays/{id}`.") },
          ),
          400: invalidInput(
            "the body does not match its schema (a missing or bad `since`, `until` not after `since`, an unknown field), or a query parameter",
          ),
          409: problemAnswer(
            409,
            "Conflict: a replay this gateway runs already republishes some of the selected jobs (each page would be written twice). Nothing was started; `Location` is the running replay's progress. A dry run is always answered.",
            {
              detail:
                "replay 3f0c2a1e-7d4b-4c55-9a7e-1b2c3d4e5f60 is still running over 12 of these 40 jobs (5 of 120 done): wait for it to end (GET /api/replays/3f0c2a1e-7d4b-4c55-9a7e-1b2c3d4e5f60) or cancel it (DELETE /api/replays/3f0c2a1e-7d4b-4c55-9a7e-1b2c3d4e5f60), then start this one",
              headers: locationHeader("The running replay's progress: `/api/replays/{id}`."),
            },
          ),
          ...bodyProblems(),
          503: unavailableAnswer(
            "the protocol stream could not be read, or (with `spaceKey`) the publication database is unavailable; no replay was started",
            "the protocol stream could not be read; no replay was started",
          ),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      // The schema refused an until not after since, as it does for every window.
      const body = request.body;
      const now = new Date();
      if (body.spaceKey !== undefined) await runEffect(ctx.store.health());
      let selection: ReplaySelection;
      try {
        selection = await ctx.replays.selectJobs(body);
      } catch (error) {
        request.log.warn({ err: error }, "reading the protocol stream for a replay failed");
        throw unavailable(
          "the protocol stream could not be read; no replay was started",
          "event-stream-unavailable",
        );
      }
      const { jobs, availableSince } = selection;
      if (availableSince !== undefined) {
        request.log.warn(
          { since: body.since, availableSince },
          "the replay window starts before the oldest event the protocol stream still holds",
        );
      }
      if (body.dryRun === true) {
        return reply.code(200).send({
          dryRun: true,
          total: jobs.length,
          jobIds: jobs.slice(0, DRY_RUN_SAMPLE),
          ...(availableSince !== undefined ? { availableSince } : {}),
        });
      }
      const running = ctx.replays.overlapping(jobs);
      if (running !== undefined) {
        const { progress, shared } = running;
        throw new HttpProblem({
          status: 409,
          slug: "replay-overlaps",
          detail: `replay ${progress.id} is still running over ${shared} of these ${jobs.length} ${jobs.length === 1 ? "job" : "jobs"} (${progress.done} of ${progress.total} done): wait for it to end (GET /api/replays/${progress.id}) or cancel it (DELETE /api/replays/${progress.id}), then start this one`,
          headers: { location: `/api/replays/${progress.id}` },
        });
      }
      const progress = ctx.replays.start(body, selection, now);
      request.log.info({ replayId: progress.id, total: progress.total }, "replay started");
      return reply.code(202).header("location", `/api/replays/${progress.id}`).send(progress);
    },
  );

  app.get(
    "/api/replays",
    {
      schema: {
        tags: ["replays"],
        summary: "Replays this gateway knows: running ones and the latest finished, newest first",
        ...noQuery,
        response: {
          200: answer(
            routeSchema(ReplayList),
            "Every running replay and the latest 100 ended ones (completed, cancelled or stalled) this gateway started since it started, newest first.",
          ),
          400: invalidInput("a query parameter"),
          ...problemResponses,
        },
      },
    },
    async () => ({ items: ctx.replays.list() }),
  );

  app.get<{ Params: ReplayIdParams }>(
    "/api/replays/:id",
    {
      schema: {
        tags: ["replays"],
        summary: "Progress of a replay",
        params: routeSchema(ReplayIdParams),
        ...noQuery,
        response: {
          200: answer(
            routeSchema(ReplayProgress),
            "The replay's progress (`status` `completed` at the end; `stalled` after an hour without progress).",
          ),
          400: invalidInput("a query parameter, or an id that is not one"),
          404: NO_REPLAY,
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const progress = ctx.replays.get(request.params.id);
      if (!progress) throw notFound(`no replay ${request.params.id} is known to this gateway`);
      return progress;
    },
  );

  app.delete<{ Params: ReplayIdParams }>(
    "/api/replays/:id",
    {
      ...adminOnly,
      schema: {
        tags: ["replays"],
        summary: "Cancel a replay (stops issuing commands)",
        params: routeSchema(ReplayIdParams),
        ...noQuery,
        ...noBody,
        response: {
          200: answer(
            routeSchema(ReplayProgress),
            "Cancelled: the replay issues no more commands (those already issued still run); its progress as of now.",
          ),
          400: invalidInput("a query parameter, a body other than `{}`, or an id that is not one"),
          404: NO_REPLAY,
          ...bodyProblems(),
          ...problemResponses,
        },
      },
      preValidation: absentBodyAsEmpty,
    },
    async (request) => {
      const progress = ctx.replays.cancel(request.params.id);
      if (!progress) throw notFound(`no replay ${request.params.id} is known to this gateway`);
      return progress;
    },
  );
};
