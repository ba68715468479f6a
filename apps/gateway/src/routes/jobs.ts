/**
 * The original route, `POST /api/jobs/:jobId/publish-confluence`, now a command: it publishes a
 * `PublishRequested{trigger:"manual"}` and waits up to `gateway.publish_wait_ms` for the result:
 * 200 when the page holds it, a problem (409, 422 or 502) when it failed or was rejected — as the
 * original answered a failure with a non-2xx — else 202 with where to poll. Also
 * `GET /api/jobs/:jobId/publications` and the job's version history, `GET /api/jobs/:jobId/versions`.
 */
import { randomUUID } from "node:crypto";
import type { Publication } from "@minutes/contracts";
import {
  CommandAccepted,
  JobIdParams,
  JobPublications,
  JobVersions,
  Problem,
  PublishCompleted,
  PublishFailedProblem,
  PublishNowQuery,
  type PublishResult,
} from "@minutes/contracts/api";
import { Option, Schema } from "effect";
import type { FastifyPluginAsync } from "fastify";
import { publishCommand } from "../commands.js";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { HttpProblem, PROBLEM_CONTENT_TYPE } from "../problem.js";
import { runEffect } from "../run-effect.js";
import { noProtocolDetail, queuedProtocolOf, requireStoredProtocol } from "../stored-protocol.js";
import { watchForFinal } from "../wait-for-final.js";
import { commandAcceptedExample, jobPublicationsExample } from "./openapi-examples.js";
import {
  absentBodyAsEmpty,
  answer,
  bodyProblems,
  DATABASE_DOWN,
  EVENT_STREAM_DOWN,
  invalidInput,
  locationHeader,
  noBody,
  noQuery,
  problemAnswer,
  problemResponses,
  unavailableAnswer,
} from "./responses.js";

export const jobRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Params: JobIdParams; Querystring: PublishNowQuery }>(
    "/api/jobs/:jobId/publish-confluence",
    {
      schema: {
        tags: ["publications"],
        summary: "Publish or republish the job's latest protocol now",
        description: "`force` is a query parameter (`?force=true`); the route takes no body (or `{}`).",
        params: routeSchema(JobIdParams),
        querystring: routeSchema(PublishNowQuery),
        ...noBody,
        response: {
          200: answer(
            routeSchema(PublishCompleted),
            "Published: the page holds the protocol (`outcome` `published`, or `unchanged` when it already did), or a person's edit was kept (`skipped`, with `on_manual_edit: skip`). `success` is always `true`.",
          ),
          202: answer(
            routeSchema(CommandAccepted),
            "Accepted: the command is stored in JetStream but the publication did not end within `gateway.publish_wait_ms`; poll `Location` (the same as `location`) until `status` is final.",
            {
              example: commandAcceptedExample,
              headers: locationHeader(
                "Where to poll: `/api/publications/{id}` of the job's record, or `/api/jobs/{jobId}/publications` while it has none.",
              ),
            },
          ),
          400: invalidInput(
            "a query parameter other than `force`, a `force` that is not `true`/`false`, a body other than `{}`, or a job id that is not one",
          ),
          404: problemAnswer(
            404,
            "Not found: no protocol is stored for the job, and none waits in the event stream: send the protocol again (`POST /api/protocols`).",
            {
              detail: noProtocolDetail("job-42"),
            },
          ),
          409: {
            ...publishFailedResponse,
            description: `${publishFailedResponse.description}; also a plain problem (without the failure fields) while the job's only protocol still waits in the event stream for a publisher (is one running?)`,
            content: {
              [PROBLEM_CONTENT_TYPE]: { schema: routeSchema(Schema.Union(PublishFailedProblem, Problem)) },
            },
          },
          422: publishFailedResponse,
          502: publishFailedResponse,
          ...bodyProblems(),
          503: unavailableAnswer(
            "the publication database or the event stream (NATS JetStream) is unavailable, and the command was not stored",
            EVENT_STREAM_DOWN,
          ),
          ...problemResponses,
        },
      },
      preValidation: absentBodyAsEmpty,
    },
    async (request, reply) => {
      const { jobId } = request.params;
      await requireStoredProtocol(ctx, request.log, jobId);
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
        const result: PublishResult = {
          jobId,
          publicationId: record?.id ?? o?.publicationId ?? null,
          status: record?.status ?? null,
          outcome: o?.outcome ?? null,
          pageId: record?.pageId ?? o?.pageId ?? null,
          pageUrl: record?.pageUrl ?? o?.pageUrl ?? null,
          pageVersion: record?.pageVersion ?? o?.pageVersion ?? null,
          errorTag: o ? o.errorTag : (record?.errorTag ?? null),
          errorMessage: o ? o.errorMessage : (record?.errorMessage ?? null),
        };
        // What ended the wait decides: the outcome event, else the record the wait saw final.
        const ended = o !== undefined ? o.outcome : final.kind === "record" ? final.publication.status : null;
        if (ended === "failed" || ended === "rejected") throw publishFailed(ended, result, record);
        return reply.code(200).send({
          ...result,
          success: true,
          publication_id: result.publicationId,
          page_url: result.pageUrl,
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
        ...noQuery,
        response: {
          200: answer(
            routeSchema(JobPublications),
            "The job's publication records (`items`, empty for a job Minutes has no record of), and `queued`: its latest protocol event while no publisher has taken it yet (accepted with a 202, not yet in `items`), else `null`.",
            { example: jobPublicationsExample },
          ),
          400: invalidInput("a query parameter, or a job id that is not one"),
          503: unavailableAnswer("the publication database is unavailable", DATABASE_DOWN),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { jobId } = request.params;
      const [items, protocol] = await Promise.all([
        runEffect(ctx.store.listByJob(jobId)),
        runEffect(ctx.store.getProtocol(jobId)),
      ]);
      // What the publishers have taken of the job: its stored protocol and the messages its records name.
      const taken = Math.max(
        Option.match(protocol, { onNone: () => 0, onSome: (p) => p.streamSequence ?? 0 }),
        ...items.map((p) => p.streamSequence ?? 0),
      );
      return { jobId, items, queued: await queuedProtocolOf(ctx, request.log, jobId, taken) };
    },
  );

  app.get<{ Params: JobIdParams }>(
    "/api/jobs/:jobId/versions",
    {
      schema: {
        tags: ["publications"],
        summary: "Every page version Minutes wrote for the job (version, content hash, time, trigger)",
        params: routeSchema(JobIdParams),
        ...noQuery,
        response: {
          200: answer(
            routeSchema(JobVersions),
            "Every page version Minutes wrote for the job, oldest first (empty for a job without any).",
          ),
          400: invalidInput("a query parameter, or a job id that is not one"),
          503: unavailableAnswer("the publication database is unavailable", DATABASE_DOWN),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const items = await runEffect(ctx.store.listVersions(request.params.jobId));
      return { jobId: request.params.jobId, items };
    },
  );
};

/**
 * Failures that retrying does not fix until someone acts on the page or on Minutes: a person's edit
 * (`on_manual_edit: fail`), a title another page holds, a page archived in Confluence, publishing
 * disabled, the job's protocol gone. Each message says what to do.
 */
const STATE_CONFLICTS: ReadonlySet<string> = new Set([
  "ManualEditError",
  "TitleTakenError",
  "PageArchivedError",
  "ConfluenceDisabledError",
  "ProtocolMissingError",
]);

/**
 * Failures of the protocol itself, recorded `failed` rather than `rejected`: a protocol whose
 * conversion overran `publisher.render_timeout_seconds` (`RenderTimeoutError`). Confluence was never
 * asked, and publishing the same protocol again fails the same way: only a corrected protocol helps,
 * as with a rejection.
 */
const PROTOCOL_FAULTS: ReadonlySet<string> = new Set(["RenderTimeoutError"]);

/**
 * The one place mapping a publication that ended badly to a status: `rejected`, or a failure of
 * the protocol itself (`PROTOCOL_FAULTS`), is 422 (only a corrected protocol helps); a state
 * conflict (`STATE_CONFLICTS`) is 409; every other failure is 502, the upstream failing: Confluence
 * refused (authentication, permission, validation, a missing parent) or failed (5xx, network, rate
 * limit) after the publisher's retries.
 */
export const publishFailureStatus = (
  ended: "failed" | "rejected",
  errorTag: string | null,
): 409 | 422 | 502 =>
  ended === "rejected" || (errorTag !== null && PROTOCOL_FAULTS.has(errorTag))
    ? 422
    : errorTag !== null && STATE_CONFLICTS.has(errorTag)
      ? 409
      : 502;

// internal

const publishFailedResponse = {
  description:
    "The publication failed (409: the page's or Minutes' state stands in the way; 502: Confluence refused or failed) or was rejected, or its protocol took longer than publisher.render_timeout_seconds to convert (422: only a corrected protocol helps)",
  content: { [PROBLEM_CONTENT_TYPE]: { schema: routeSchema(PublishFailedProblem) } },
};

/**
 * The problem answering a failed or rejected publication: nothing the 200 would have said is lost
 * (`result`, the record), and the original's `success: false` and `error` are there for its clients.
 */
const publishFailed = (
  ended: "failed" | "rejected",
  result: PublishResult,
  record: Publication | null,
): HttpProblem => {
  const reason =
    result.errorMessage !== null
      ? `${result.errorTag ?? "error"}: ${result.errorMessage}`
      : (result.errorTag ?? "no reason was recorded");
  const detail = `the publication of job ${JSON.stringify(result.jobId)} ${ended === "rejected" ? "was rejected" : "failed"}: ${reason}`;
  return new HttpProblem({
    status: publishFailureStatus(ended, result.errorTag),
    slug: ended === "rejected" ? "publication-rejected" : "publication-failed",
    title: ended === "rejected" ? "Publication rejected" : "Publication failed",
    detail,
    extensions: {
      success: false,
      error: result.errorMessage ?? detail,
      errorTag: result.errorTag,
      errorMessage: result.errorMessage,
      result,
      publication: record,
    } satisfies Omit<PublishFailedProblem, "type" | "title" | "status" | "detail" | "instance" | "errors">,
  });
};
