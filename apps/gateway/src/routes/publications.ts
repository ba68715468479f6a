/**
 * Publication records: list (filtered, cursor-paged), read, retry a failed one or one a stopped
 * publisher left `publishing` (a durable `PublishRequested{trigger:"retry"}`), delete (optionally
 * moving the page to the trash first, and with `create_index_page` asking a publisher to rewrite the
 * index page that listed it), and clean up old records in bulk (the store's batches; Confluence is
 * never touched). A page is trashed only once its `minutes.job` property shows it is the record's
 * job's: page ids restart in every Confluence site, so an imported record may name anyone's page.
 */
import { randomUUID } from "node:crypto";
import type { ConfluenceClientService, ConfluenceError, PageInfo } from "@minutes/confluence-core";
import {
  FINAL_STATUSES,
  IndexRefreshRequestJson,
  IndexRefreshResultJson,
  indexRefreshSubject,
  JOB_PROPERTY_KEY,
  jobOfJobProperty,
  Publication,
} from "@minutes/contracts";
import {
  CommandAccepted,
  DeletePublicationQuery,
  PageOwnershipProblem,
  Problem,
  PublicationCleanupRequest,
  PublicationCleanupResult,
  PublicationDeleted,
  PublicationIdParams,
  PublicationList,
  PublicationListQuery,
} from "@minutes/contracts/api";
import { Effect, Either, Option, Schema } from "effect";
import type { FastifyBaseLogger, FastifyPluginAsync } from "fastify";
import { publishCommand } from "../commands.js";
import { configureConfluence } from "../confluence.js";
import type { GatewayContext, RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import {
  conflict,
  HttpProblem,
  misconfigured,
  PROBLEM_CONTENT_TYPE,
  UNAVAILABLE_RETRY_AFTER_S,
  unavailable,
} from "../problem.js";
import { runEffect } from "../run-effect.js";
import { noProtocolDetail, requireStoredProtocol } from "../stored-protocol.js";
import {
  commandAcceptedExample,
  pageOfAnotherJobExample,
  publicationExample,
  publicationListExample,
} from "./openapi-examples.js";
import {
  absentBodyAsEmpty,
  adminOnly,
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
  UNAVAILABLE_HEADERS,
  unavailableAnswer,
} from "./responses.js";

const NO_RECORD = problemAnswer(404, "Not found: no publication record has this id.", {
  detail: "publication 7 not found",
});

export const publicationRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Querystring: PublicationListQuery }>(
    "/api/publications",
    {
      schema: {
        tags: ["publications"],
        summary: "List publications, newest first (cursor paging)",
        querystring: routeSchema(PublicationListQuery),
        response: {
          200: answer(
            routeSchema(PublicationList),
            "One page of publication records, newest `updatedAt` first; `nextCursor` (pass it as `cursor`) is `null` on the last page.",
            { example: publicationListExample },
          ),
          400: invalidInput(
            "an unknown query parameter, a value that does not match its schema, `limit` outside 1–500, `until` not after `since`, or a `cursor` this API did not issue",
          ),
          503: unavailableAnswer("the publication database is unavailable", DATABASE_DOWN),
          ...problemResponses,
        },
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

  app.post<{ Body: PublicationCleanupRequest }>(
    "/api/publications/cleanup",
    {
      ...adminOnly,
      schema: {
        tags: ["publications"],
        summary: "Delete old publication records in bulk (never their Confluence pages)",
        description:
          "Deletes the records last changed before `before` in the given final statuses (default: published, failed, rejected, archived), with their page versions and, unless `keepProtocols`, their jobs' stored protocols. Never deletes a pending or publishing record, nor one whose job has a newer protocol waiting. Runs in batches, each one transaction: a job is deleted whole or not at all. `dryRun: true` counts and deletes nothing.",
        body: routeSchema(PublicationCleanupRequest),
        ...noQuery,
        response: {
          200: answer(
            routeSchema(PublicationCleanupResult),
            "Done (or counted, with `dryRun`): how many records, page versions and stored protocols were deleted, how many were kept for a newer protocol, and the first 1000 deleted job ids.",
          ),
          400: invalidInput(
            "the body does not match its schema (a missing or bad `before`, an unknown field, `pending` or `publishing` in `statuses`), or a query parameter",
          ),
          ...bodyProblems(),
          503: problemAnswer(
            503,
            "Service unavailable: the publication database is unavailable. Batches finished before it deleted their records; the call is idempotent, so run it again after `Retry-After` seconds.",
            { detail: DATABASE_DOWN, headers: UNAVAILABLE_HEADERS },
          ),
          ...problemResponses,
        },
      },
    },
    async (request): Promise<PublicationCleanupResult> => {
      const body = request.body;
      const before = new Date(body.before);
      const statuses = FINAL_STATUSES.filter((s) => body.statuses === undefined || body.statuses.includes(s));
      const keepProtocols = body.keepProtocols === true;
      const started = performance.now();
      const result = await runEffect(
        ctx.store.cleanup({ before, statuses, dryRun: body.dryRun === true, keepProtocols }),
      );
      const { jobIds: _, ...counts } = result;
      request.log.info(
        {
          before: before.toISOString(),
          statuses,
          keepProtocols,
          ...counts,
          durationMs: Math.round(performance.now() - started),
        },
        result.dryRun ? "publication cleanup counted (dry run)" : "publication records cleaned up",
      );
      return { ...result, before: before.toISOString(), statuses, keepProtocols };
    },
  );

  app.get<{ Params: PublicationIdParams }>(
    "/api/publications/:id",
    {
      schema: {
        tags: ["publications"],
        summary: "A publication record",
        params: routeSchema(PublicationIdParams),
        ...noQuery,
        response: {
          200: answer(routeSchema(Publication), "The publication record.", { example: publicationExample }),
          400: invalidInput("an id that is not a decimal number from 1 to 2147483647, or a query parameter"),
          404: NO_RECORD,
          503: unavailableAnswer("the publication database is unavailable", DATABASE_DOWN),
          ...problemResponses,
        },
      },
    },
    async (request) => runEffect(ctx.store.get(request.params.id)),
  );

  app.post<{ Params: PublicationIdParams }>(
    "/api/publications/:id/retry",
    {
      schema: {
        tags: ["publications"],
        summary: "Retry a failed publication, or one whose publisher stopped while publishing it",
        description:
          "Retries a `failed` publication, or a `publishing` one that nobody is publishing any more: its lease ran out because the publisher holding it stopped (for example, killed during each delivery of its message, which left the record `publishing`). The job's stored protocol is published; without one there is nothing to publish (404, as publish-now).",
        params: routeSchema(PublicationIdParams),
        ...noQuery,
        ...noBody,
        response: {
          202: answer(
            routeSchema(CommandAccepted),
            "Accepted: the retry command is stored in JetStream; a publisher runs it. Poll `Location` (the same as `location`) until `status` is final.",
            {
              example: commandAcceptedExample,
              headers: locationHeader("The publication record to poll: `/api/publications/{id}`."),
            },
          ),
          400: invalidInput(
            "an id that is not a decimal number from 1 to 2147483647, a query parameter, or a body other than `{}`",
          ),
          404: problemAnswer(
            404,
            "Not found: no publication record has this id, or no protocol is stored for its job and none waits in the event stream (an imported record, or a protocol cleaned up): send the protocol again (`POST /api/protocols`). No command was sent.",
            { detail: noProtocolDetail("job-42") },
          ),
          409: problemAnswer(
            409,
            "Conflict, no command was sent: the publication is neither `failed` nor `publishing` (only those can be retried); or a publisher is publishing it now (it holds the record's lease: `detail` says who and until when; retry if it is still `publishing` after that); or its job's only protocol still waits in the event stream for a publisher.",
            {
              detail:
                "publication 7 is publishing: publisher-1/3f2a9c1d holds its lease until 2026-11-26T10:01:00.000Z (renewed while its attempt runs); retry it if it is still publishing after that",
            },
          ),
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
      const {
        publication: record,
        owner,
        expiresAt,
        held,
      } = await runEffect(ctx.store.getLease(request.params.id));
      if (held) {
        throw conflict(
          `publication ${record.id} is publishing: ${owner ?? "a publisher"} holds its lease until ${expiresAt} (renewed while its attempt runs); retry it if it is still publishing after that`,
          "not-retryable",
        );
      }
      if (record.status !== "failed" && record.status !== "publishing") {
        // A rejection is the protocol's own: a retry would publish the same protocol (or, for an
        // event that did not decode, none), so say what does help.
        const instead =
          record.status === "rejected"
            ? ": its protocol was rejected (errorMessage says why), and retrying would send the same one; send a corrected protocol (POST /api/protocols)"
            : "";
        throw conflict(
          `publication ${record.id} is ${record.status}; only failed publications can be retried, and publishing ones whose publisher stopped (lease ran out)${instead}`,
          "not-retryable",
        );
      }
      await requireStoredProtocol(ctx, request.log, record.jobId);
      if (record.status === "publishing")
        request.log.info(
          { publicationId: record.id, jobId: record.jobId, leaseOwner: owner, leaseExpiredAt: expiresAt },
          "retrying a publication left publishing by a publisher that stopped (its lease ran out)",
        );
      const commandId = randomUUID();
      const ack = await publishCommand(
        ctx.publisher,
        request.log,
        ctx.config.nats.subject_prefix,
        record.jobId,
        { trigger: "retry" },
        `retry:${commandId}`,
      );
      // Counted as a retry, as the publisher's claim counts one of a failed record (it cannot
      // tell the retry of a stuck record from a redelivery of the stuck record's own attempt).
      if (record.status === "publishing") await runEffect(ctx.store.markRetry(record.id));
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
      ...adminOnly,
      schema: {
        tags: ["publications"],
        summary: "Delete a publication record (deletePage=true also trashes its Confluence page)",
        params: routeSchema(PublicationIdParams),
        querystring: routeSchema(DeletePublicationQuery),
        ...noBody,
        response: {
          200: answer(
            routeSchema(PublicationDeleted),
            "Deleted: the record, and with `deletePage=true` its page moved to the Confluence trash first (`pageDeleted`), once its `minutes.job` content property showed it is the record's job's. A page Confluence does not have (deleted or trashed already) is `pageNotFound: true` with `pageDeleted: false`: nothing was deleted there, the record was. `indexRefreshed` says whether a publisher rewrote the index page without it (`null`: no index page).",
          ),
          400: invalidInput(
            "an id that is not a decimal number from 1 to 2147483647, an unknown query parameter or a `deletePage` that is not `true`/`false`, or a body other than `{}`",
          ),
          404: NO_RECORD,
          409: {
            description:
              "Conflict: with `deletePage=true`, the page the record names is not shown to be the record's job's (`urn:minutes:problem:page-of-another-job`: its `minutes.job` property names another job, given as `pageJobId`; `urn:minutes:problem:page-not-the-jobs`: it has no such property, `pageJobId` is `null`, and it is not the original integration's page the record was imported with; page ids restart in every Confluence site, so a record imported from another installation may name anyone's page; both as `PageOwnershipProblem`, with the page as `pageId`), or Confluence refused the deletion (permission, authentication; a plain problem). Nothing was deleted: the page and the record were kept.",
            content: {
              [PROBLEM_CONTENT_TYPE]: {
                schema: routeSchema(Schema.Union(PageOwnershipProblem, Problem)),
                example: pageOfAnotherJobExample,
              },
            },
          },
          ...bodyProblems(),
          503: problemAnswer(
            503,
            "Service unavailable: the publication database is unavailable, or (with `deletePage=true`) Confluence failed or did not answer, so the page and the record were kept (with `Retry-After`); or, with `deletePage=true`, Confluence is not configured for the gateway (`urn:minutes:problem:confluence-not-configured`: not enabled, no token, or with Data Center Basic auth no password; as `GET /health/confluence` answers it, the detail says which settings to change, and no `Retry-After`: retrying will not help until an operator changes them). Nothing was changed.",
            {
              detail: DATABASE_DOWN,
              headers: {
                "Retry-After": {
                  type: "integer",
                  description: `Seconds to wait before trying again (${UNAVAILABLE_RETRY_AFTER_S}); not when Confluence is not configured.`,
                },
              },
            },
          ),
          ...problemResponses,
        },
      },
      preValidation: absentBodyAsEmpty,
    },
    async (request) => {
      const record = await runEffect(ctx.store.get(request.params.id));
      let pageDeleted = false;
      let pageNotFound = false;
      if (request.query.deletePage === true && record.pageId !== null) {
        const pageId = record.pageId;
        // No client (not enabled, no token, a configuration the client refuses): a 503 naming the
        // settings, as /health/confluence answers it; only an operator can change that.
        const client = await ctx.confluence.client().catch((e: unknown) => {
          throw misconfigured(
            `${e instanceof Error ? e.message : "Confluence is not configured"}, so the page ${pageId} was not deleted and the record was kept: ${configureConfluence(ctx.config.confluence)}`,
            "confluence-not-configured",
          );
        });
        /** Confluence failed: the record is kept, and the answer says why. */
        const failed = (e: ConfluenceError): never => {
          request.log.warn({ tag: e._tag, pageId }, "deleting the Confluence page failed");
          const detail = `the Confluence page ${pageId} was not deleted, so the record was kept: ${e.message}`;
          // Refused (permission, credentials): retrying will not help. Else Confluence failed
          // or did not answer: a temporary 503 with Retry-After.
          throw e._tag === "ConfluencePermissionError" || e._tag === "ConfluenceAuthenticationError"
            ? new HttpProblem({ status: 409, slug: "confluence-delete-failed", detail })
            : unavailable(detail, "confluence-delete-failed");
        };
        const found = await Effect.runPromise(Effect.either(ownerOfPage(client, pageId)));
        if (Either.isLeft(found)) {
          if (found.left._tag !== "ConfluenceNotFoundError") failed(found.left);
          pageNotFound = true;
        } else if (found.right.page.status === "trashed") {
          pageNotFound = true;
        } else {
          const { page, owner } = found.right;
          if (owner !== record.jobId && !(owner === undefined && isOriginalMappingPage(record, page))) {
            request.log.warn(
              { pageId, jobId: record.jobId, pageJobId: owner ?? null, publicationId: record.id },
              "not deleting a page that is not the record's job's",
            );
            throw owner !== undefined
              ? new HttpProblem({
                  status: 409,
                  slug: "page-of-another-job",
                  detail: `page ${pageId} belongs to job ${owner} (its ${JOB_PROPERTY_KEY} property), not to job ${record.jobId}: nothing was deleted and the record was kept. The record may come from another installation (page ids restart in every Confluence site); delete it without deletePage`,
                  extensions: { pageId, pageJobId: owner },
                })
              : new HttpProblem({
                  status: 409,
                  slug: "page-not-the-jobs",
                  detail: `page ${pageId} ("${page.title}") has no ${JOB_PROPERTY_KEY} property naming job ${record.jobId}, so nothing shows it is this job's page (a person's page, a year or index page, or another site's page with the same id): nothing was deleted and the record was kept. Delete the page in Confluence if it should go, and the record without deletePage`,
                  extensions: { pageId, pageJobId: null },
                });
          }
          const result = await Effect.runPromise(Effect.either(client.deletePage(pageId)));
          if (Either.isLeft(result)) {
            if (result.left._tag !== "ConfluenceNotFoundError") failed(result.left);
            // Gone between the check and the delete: someone else deleted it.
            pageNotFound = true;
          } else {
            pageDeleted = true;
          }
        }
      }
      const deleted = await runEffect(ctx.store.deletePublication(record.id));
      const indexRefreshed =
        ctx.config.confluence.advanced_settings.create_index_page && record.pageId !== null
          ? await refreshIndex(ctx, deleted, request.log)
          : null;
      return { deleted, pageDeleted, pageNotFound, indexRefreshed };
    },
  );
};

/** How long a delete waits for a publisher to rewrite the index page. */
export const INDEX_REFRESH_TIMEOUT_MS = 10_000;

/**
 * Asks one publisher to rewrite the index page that listed a deleted record; whether one did. Not
 * an error when none does: the next publication in that space and parent rewrites it anyway.
 */
const refreshIndex = async (
  ctx: GatewayContext,
  record: Publication,
  log: FastifyBaseLogger,
): Promise<boolean> => {
  try {
    const reply = await ctx.nc.request(
      indexRefreshSubject(ctx.config.nats.subject_prefix),
      Schema.encodeSync(IndexRefreshRequestJson)({
        spaceKey: record.spaceKey,
        parentPageId: record.parentPageId,
      }),
      { timeout: INDEX_REFRESH_TIMEOUT_MS },
    );
    if (Either.isRight(Schema.decodeEither(IndexRefreshResultJson)(reply.string()))) return true;
    log.warn({ reply: reply.string().slice(0, 500) }, "the index page was not rewritten after a delete");
  } catch (error) {
    log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      "no publisher rewrote the index page after a delete; the next publication there will",
    );
  }
  return false;
};

// internal

/** The page and the job its `minutes.job` property names (`undefined`: none), read at once. */
const ownerOfPage = (client: ConfluenceClientService, pageId: string) =>
  Effect.all(
    {
      page: client.getPageInfo(pageId),
      property: client.getProperty(pageId, JOB_PROPERTY_KEY),
    },
    { concurrency: "unbounded" },
  ).pipe(
    Effect.map(({ page, property }) => ({
      page,
      owner: Option.isSome(property) ? jobOfJobProperty(property.value.value) : undefined,
    })),
  );

/**
 * A page without a job property that is still the record's: the original integration's page, which
 * `./minutes import-original` mapped to the job (a page id with no version or hash of Minutes' own,
 * the publisher's adoption rule for such a record), still under the title the mapping recorded.
 */
const isOriginalMappingPage = (record: Publication, page: PageInfo): boolean =>
  record.pageVersion === null &&
  record.contentHash === null &&
  record.pageTitle !== null &&
  page.title === record.pageTitle;
