/**
 * The gateway's HTTP bodies, query strings and parameters (`@minutes/contracts/api`). The
 * gateway validates and serializes with them and generates its OpenAPI document from them;
 * clients (the meeting processor, operators' scripts, the demo) can decode answers with them.
 */

import { Schema } from "effect";
import { RoutingRule } from "./Config.js";

export { ArchiveRunRequest, ArchiveRunResult } from "./Archive.js";

import { IsoTimestamp, JobId } from "./ProtocolReady.js";
import { Publication, PublicationVersion } from "./Publication.js";
import { FinalStatus, PublicationStatus } from "./PublicationStatus.js";
import { PublicationOutcomeKind } from "./PublishRequested.js";

/** `true`/`false`/`1`/`0` in a query string. */
export const BooleanFromQuery = Schema.transform(Schema.Literal("true", "false", "1", "0"), Schema.Boolean, {
  strict: true,
  decode: (s) => s === "true" || s === "1",
  encode: (b) => (b ? "true" : "false"),
}).annotations({ identifier: "BooleanFromQuery" });

/** Largest id or count a path or query accepts: PostgreSQL's `integer`, the type of the record ids. */
const MAX_ID = 2_147_483_647;

/**
 * A whole number from 1 to `MAX_ID` written in plain decimal digits. `Number(s)` would also read
 * `0x10`, ` 16` and `1e3` (as 16, 16 and 1000), so the text is checked before it is converted.
 */
const PositiveIntFromString = Schema.transform(
  Schema.String.pipe(
    Schema.pattern(/^[0-9]+$/, {
      message: (issue) => `expected a whole number in decimal digits, got ${JSON.stringify(issue.actual)}`,
    }),
  ),
  Schema.Number,
  { strict: true, decode: (s) => Number(s), encode: (n) => String(n) },
).pipe(
  Schema.filter((n) =>
    n < 1 ? "expected a number greater than 0" : n > MAX_ID ? `is out of range: at most ${MAX_ID}` : true,
  ),
);

/**
 * Refuses a window whose `until` is not after its `since` (since is inclusive, until exclusive, so
 * such a window is always empty), naming both; either may be absent.
 */
const untilAfterSince = <
  A extends { readonly since?: string | undefined; readonly until?: string | undefined },
  I,
>(
  self: Schema.Schema<A, I, never>,
) =>
  self.pipe(
    Schema.filter(({ since, until }) =>
      since === undefined || until === undefined || Date.parse(until) > Date.parse(since)
        ? true
        : { path: ["until"], message: `must be after since: until ${until} is not after since ${since}` },
    ),
  );

/**
 * The query string or body of a route that takes none: every key is refused as unknown, so a
 * parameter or field sent to the wrong route (or in the wrong part of the request) is not
 * silently ignored. `Schema.Struct({})` cannot say this: Effect reads it as "any value but null"
 * and never checks its keys; an index signature whose keys match nothing makes every key excess.
 */
const nothingIn = (description: string) =>
  Schema.Record({ key: Schema.String.pipe(Schema.filter(() => false)), value: Schema.Never }).annotations({
    description,
    jsonSchema: { type: "object", properties: {}, additionalProperties: false, description },
  });

/** Query of a route that takes no parameters: any parameter is an unknown one. */
export const NoQuery = nothingIn("No query parameters");
export type NoQuery = typeof NoQuery.Type;

/** Body of a route that takes none: no body, or `{}`; any field is an unknown one. */
export const NoBody = nothingIn("No body, or {}");
export type NoBody = typeof NoBody.Type;

/** How many publications `GET /api/publications` returns without a `limit` (the store's default). */
export const PUBLICATION_LIST_DEFAULT_LIMIT = 50;
/** The largest `limit` of `GET /api/publications` (the store's largest page); more is refused. */
export const PUBLICATION_LIST_MAX_LIMIT = 500;

/** `:id` of a publication. */
export const PublicationIdParams = Schema.Struct({ id: PositiveIntFromString });
export type PublicationIdParams = typeof PublicationIdParams.Type;

/** `:jobId` of a job. */
export const JobIdParams = Schema.Struct({ jobId: JobId });
export type JobIdParams = typeof JobIdParams.Type;

/** `:id` of a replay. */
export const ReplayIdParams = Schema.Struct({
  id: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
});
export type ReplayIdParams = typeof ReplayIdParams.Type;

/**
 * `POST /api/protocols` → 202: the event is stored in JetStream. The field descriptions are what
 * the OpenAPI document tells the meeting processor's client.
 */
export const ProtocolAccepted = Schema.Struct({
  eventId: Schema.String.annotations({
    description:
      "`<jobId>:<sha256 of the Markdown and every metadata field>`, the JetStream message id (occurredAt is not part of it)",
  }),
  jobId: Schema.String,
  streamSequence: Schema.Number.annotations({
    description:
      "The event's sequence in the protocol stream; for a duplicate, the sequence where the job's protocol is stored",
  }),
  duplicate: Schema.Boolean.annotations({
    description:
      "true when the same event was already stored inside the duplicate window (nats.duplicate_window_seconds): it is stored once",
  }),
}).annotations({ identifier: "ProtocolAccepted" });
export type ProtocolAccepted = typeof ProtocolAccepted.Type;

/** Query of `POST /api/jobs/:jobId/publish-confluence`. */
export const PublishNowQuery = Schema.Struct({
  /** Write a new page version even when the content is unchanged. */
  force: Schema.optional(BooleanFromQuery),
});
export type PublishNowQuery = typeof PublishNowQuery.Type;

/**
 * What `publish-confluence` learned about the job's publication once it reached a final state: from
 * the outcome event and the record. The 200 answer carries it (`PublishCompleted`), and so does
 * the problem answer of a failed or rejected publication, under `result` (`PublishFailedProblem`).
 */
export const PublishResult = Schema.Struct({
  jobId: Schema.String,
  publicationId: Schema.NullOr(Schema.Number),
  status: Schema.NullOr(PublicationStatus),
  outcome: Schema.NullOr(PublicationOutcomeKind),
  pageId: Schema.NullOr(Schema.String),
  pageUrl: Schema.NullOr(Schema.String),
  pageVersion: Schema.NullOr(Schema.Number),
  errorTag: Schema.NullOr(Schema.String),
  errorMessage: Schema.NullOr(Schema.String),
}).annotations({ identifier: "PublishResult" });
export type PublishResult = typeof PublishResult.Type;

/**
 * `publish-confluence` → 200: the page holds the protocol (`outcome` `published` or `unchanged`),
 * or a person's edit was kept (`skipped`, with `on_manual_edit: skip`; `errorMessage` says so).
 * `success`, `publication_id` and `page_url` are the original route's fields, for its clients:
 * `success` is always `true` here, since a failed or rejected publication answers a problem.
 */
export const PublishCompleted = Schema.Struct({
  ...PublishResult.fields,
  success: Schema.Literal(true),
  /** The original's name of `publicationId`. */
  publication_id: Schema.NullOr(Schema.Number),
  /** The original's name of `pageUrl`. */
  page_url: Schema.NullOr(Schema.String),
}).annotations({ identifier: "PublishCompleted" });
export type PublishCompleted = typeof PublishCompleted.Type;

/** 202: the command is stored; poll `location` for the result. */
export const CommandAccepted = Schema.Struct({
  jobId: Schema.String,
  publicationId: Schema.NullOr(Schema.Number),
  status: Schema.Literal("accepted"),
  commandId: Schema.String,
  streamSequence: Schema.Number,
  location: Schema.String,
}).annotations({ identifier: "CommandAccepted" });
export type CommandAccepted = typeof CommandAccepted.Type;

/** Query of `GET /api/publications`. */
export const PublicationListQuery = Schema.Struct({
  status: Schema.optional(PublicationStatus),
  space: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255))),
  since: Schema.optional(IsoTimestamp),
  until: Schema.optional(IsoTimestamp),
  // A larger limit used to be cut to the maximum silently, so a client asking for 1000 saw 500
  // items and a nextCursor, and could take the page for the whole list.
  limit: Schema.optional(
    PositiveIntFromString.pipe(
      Schema.filter(
        (n) => n <= PUBLICATION_LIST_MAX_LIMIT || `is out of range: at most ${PUBLICATION_LIST_MAX_LIMIT}`,
      ),
    ),
  ).annotations({
    description: `Publications per page: 1–${PUBLICATION_LIST_MAX_LIMIT} (default ${PUBLICATION_LIST_DEFAULT_LIMIT}); a larger limit is refused`,
  }),
  cursor: Schema.optional(Schema.String.pipe(Schema.maxLength(500))),
}).pipe(untilAfterSince);
export type PublicationListQuery = typeof PublicationListQuery.Type;

/** One page of publications, newest first; pass `nextCursor` as `cursor` for the next one. */
export const PublicationList = Schema.Struct({
  items: Schema.Array(Publication),
  nextCursor: Schema.NullOr(Schema.String),
}).annotations({ identifier: "PublicationList" });
export type PublicationList = typeof PublicationList.Type;

/** `GET /api/jobs/:jobId/publications`. */
/**
 * A `ProtocolReady` event JetStream stored for a job that no publisher has taken yet (none is
 * running, or they are behind): accepted, so nothing is lost, but not yet in the job's records.
 */
export const QueuedProtocol = Schema.Struct({
  streamSequence: Schema.Number,
  /** When JetStream stored it (ISO 8601). */
  storedAt: Schema.String,
}).annotations({ identifier: "QueuedProtocol" });
export type QueuedProtocol = typeof QueuedProtocol.Type;

export const JobPublications = Schema.Struct({
  jobId: Schema.String,
  items: Schema.Array(Publication),
  /** The job's latest protocol event when no publisher has taken it yet; null otherwise. */
  queued: Schema.NullOr(QueuedProtocol),
}).annotations({ identifier: "JobPublications" });
export type JobPublications = typeof JobPublications.Type;

/** `GET /api/jobs/:jobId/versions` → 200: every page version Minutes wrote for the job, oldest first. */
export const JobVersions = Schema.Struct({
  jobId: Schema.String,
  items: Schema.Array(PublicationVersion),
}).annotations({ identifier: "JobVersions" });
export type JobVersions = typeof JobVersions.Type;

/** Query of `DELETE /api/publications/:id`. */
export const DeletePublicationQuery = Schema.Struct({ deletePage: Schema.optional(BooleanFromQuery) });
export type DeletePublicationQuery = typeof DeletePublicationQuery.Type;

/** `DELETE /api/publications/:id` → 200. */
export const PublicationDeleted = Schema.Struct({
  deleted: Publication,
  /** With `deletePage=true`: this request moved the record's page to the Confluence trash. */
  pageDeleted: Schema.Boolean,
  /**
   * With `deletePage=true`: Confluence has no such page (deleted or in the trash already), so
   * nothing was deleted there (`pageDeleted: false`) and the record was deleted. `false` otherwise.
   */
  pageNotFound: Schema.Boolean,
  /**
   * With `create_index_page`: whether a publisher rewrote the index page of the record's space and
   * parent, which no longer lists it (`false`: no publisher answered; the next publication there
   * rewrites it). `null` when there is no index page to rewrite (the option is off, or the record
   * never had a page).
   */
  indexRefreshed: Schema.NullOr(Schema.Boolean),
}).annotations({ identifier: "PublicationDeleted" });

/**
 * `POST /api/publications/cleanup`: delete old publication records in bulk. Never touches
 * Confluence; never deletes a `pending` or `publishing` record (a publication waits or runs), nor
 * one whose job has a newer protocol waiting.
 */
export const PublicationCleanupRequest = Schema.Struct({
  /** Records last changed (`updatedAt`) before this instant; one changed at it stays. */
  before: IsoTimestamp,
  /** Only records in these statuses (default: all four final ones). */
  statuses: Schema.optional(Schema.Array(FinalStatus).pipe(Schema.minItems(1))),
  /** Count what would be deleted, and delete nothing. */
  dryRun: Schema.optional(Schema.Boolean),
  /** Keep the jobs' stored protocols, so `publish-confluence` can still republish them. */
  keepProtocols: Schema.optional(Schema.Boolean),
}).annotations({ identifier: "PublicationCleanupRequest" });
export type PublicationCleanupRequest = typeof PublicationCleanupRequest.Type;

/** `POST /api/publications/cleanup` → 200: what was deleted (with `dryRun`: what would be, now). */
export const PublicationCleanupResult = Schema.Struct({
  dryRun: Schema.Boolean,
  /** The request's cutoff, as an ISO string in UTC. */
  before: Schema.String,
  /** The statuses the cleanup took (the request's, or every final one). */
  statuses: Schema.Array(FinalStatus),
  keepProtocols: Schema.Boolean,
  /** Publication records deleted. */
  deleted: Schema.Number,
  /** Their page versions (Minutes' history; the pages' own history in Confluence stays). */
  versionsDeleted: Schema.Number,
  /** Their jobs' stored protocols. */
  protocolsDeleted: Schema.Number,
  /** Records old enough and in a chosen status, kept because their job has a newer protocol waiting. */
  keptNewerProtocol: Schema.Number,
  /** Job ids of the deleted records, the first 1000 by record id. */
  jobIds: Schema.Array(Schema.String),
}).annotations({ identifier: "PublicationCleanupResult" });
export type PublicationCleanupResult = typeof PublicationCleanupResult.Type;

/** Query of `GET /api/stats`. */
export const StatsQuery = Schema.Struct({
  since: Schema.optional(IsoTimestamp),
  until: Schema.optional(IsoTimestamp),
}).pipe(untilAfterSince);
export type StatsQuery = typeof StatsQuery.Type;

/** `POST /api/replays`: republish every job whose protocol events fall in the window. */
export const ReplayRequest = Schema.Struct({
  since: IsoTimestamp,
  until: Schema.optional(IsoTimestamp),
  spaceKey: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255))),
  jobIds: Schema.optional(Schema.Array(JobId).pipe(Schema.maxItems(10_000))),
  force: Schema.optional(Schema.Boolean),
  dryRun: Schema.optional(Schema.Boolean),
})
  .pipe(untilAfterSince)
  .annotations({ identifier: "ReplayRequest" });
export type ReplayRequest = typeof ReplayRequest.Type;

/**
 * Progress of a replay. `done` counts every job with an outcome (published, skipped or failed).
 * `status`: `running`; `completed` (every job has its outcome); `cancelled` (by `DELETE`, or the
 * gateway stopping); `stalled` (no command issued and no outcome for an hour: it issues no more
 * commands; outcomes of those it issued still count, and when the last arrives it is `completed`).
 */
export const ReplayProgress = Schema.Struct({
  id: Schema.String,
  status: Schema.Literal("running", "completed", "cancelled", "stalled").annotations({
    description:
      "running; completed (every job has its outcome); cancelled (DELETE, or the gateway stopping); stalled (no command issued and no outcome for an hour: it issues no more commands; outcomes of those it issued still count, and with the last one it is completed)",
  }),
  total: Schema.Number,
  issued: Schema.Number,
  done: Schema.Number,
  published: Schema.Number,
  skippedUnchanged: Schema.Number,
  failed: Schema.Number,
  ratePerSecond: Schema.NullOr(Schema.Number),
  etaSeconds: Schema.NullOr(Schema.Number),
  startedAt: Schema.String,
  finishedAt: Schema.NullOr(Schema.String),
  since: Schema.String,
  until: Schema.String,
  spaceKey: Schema.NullOr(Schema.String),
  force: Schema.Boolean,
  /**
   * Present when the window starts before the oldest message the protocol stream still holds (this
   * instant) and the stream has removed older ones (its retention or a purge): events of the window
   * stored before this instant may be gone, and jobs whose only events they were are not selected.
   */
  availableSince: Schema.optional(Schema.String),
}).annotations({ identifier: "ReplayProgress" });
export type ReplayProgress = typeof ReplayProgress.Type;

/** The replays a gateway knows: every running one and the most recent finished ones, newest first. */
export const ReplayList = Schema.Struct({
  items: Schema.Array(ReplayProgress),
}).annotations({ identifier: "ReplayList" });
export type ReplayList = typeof ReplayList.Type;

/** `POST /api/replays` with `dryRun: true` → 200: what would be republished. */
export const ReplayDryRun = Schema.Struct({
  dryRun: Schema.Literal(true),
  total: Schema.Number,
  /** The first 1000 job ids. */
  jobIds: Schema.Array(Schema.String),
  /**
   * Present when the window starts before the oldest message the protocol stream still holds (this
   * instant) and the stream has removed older ones (its retention or a purge): events of the window
   * stored before this instant may be gone, and jobs whose only events they were are not selected.
   */
  availableSince: Schema.optional(Schema.String),
}).annotations({ identifier: "ReplayDryRun" });
export type ReplayDryRun = typeof ReplayDryRun.Type;

/** One import line that could not be used: its 1-based number (blank lines count) and why. */
export const ImportLineIssue = Schema.Struct({
  line: Schema.Number,
  /** A short, readable reason, e.g. `version: expected 1, got 2` (long values are cut). */
  reason: Schema.String,
}).annotations({ identifier: "ImportLineIssue" });
export type ImportLineIssue = typeof ImportLineIssue.Type;

/**
 * `POST /api/import` → 200. Every non-blank line is counted once:
 * `imported + updated + skipped` is the number of non-blank lines read.
 */
export const ImportSummary = Schema.Struct({
  /** Rows created (protocols, publications, versions). */
  imported: Schema.Number,
  /** Rows replaced by a newer copy. */
  updated: Schema.Number,
  /** Lines that changed nothing: the header, copies not newer than the stored row, invalid lines. */
  skipped: Schema.Number,
  /** Invalid lines (all of them; only with `onInvalidLine=skip`, else the import fails). */
  invalid: Schema.Number,
  /** The first invalid lines (at most 100), in file order. */
  errors: Schema.Array(ImportLineIssue),
  /** Invalid lines not listed in `errors` (`invalid - errors.length`). */
  errorsOmitted: Schema.Number,
}).annotations({ identifier: "ImportSummary" });
export type ImportSummary = typeof ImportSummary.Type;

/**
 * `GET /health/confluence` → 200. The deployment, the site and the user the credentials belong to
 * only for a client with an API key; without one (possible only with `gateway.auth_health` off)
 * `detailsWithheld` is true and they are left out.
 */
export const ConfluenceHealth = Schema.Struct({
  status: Schema.Literal("ok"),
  detailsWithheld: Schema.Boolean,
  deployment: Schema.optional(Schema.String),
  siteUrl: Schema.optional(Schema.String),
  user: Schema.optional(
    Schema.Struct({
      displayName: Schema.String,
      accountId: Schema.optional(Schema.String),
      username: Schema.optional(Schema.String),
    }),
  ),
}).annotations({ identifier: "ConfluenceHealth" });
export type ConfluenceHealth = typeof ConfluenceHealth.Type;

/** A running publisher instance as `GET /status/confluence` sees it in the publisher registry. */
export const PublisherInstanceStatus = Schema.Struct({
  instanceId: Schema.String,
  /** Its host and process id; null when `detailsWithheld`. */
  host: Schema.NullOr(Schema.String),
  pid: Schema.NullOr(Schema.Number),
  version: Schema.String,
  startedAt: Schema.String,
  /** When NATS stored its last heartbeat. */
  lastHeartbeatAt: Schema.String,
}).annotations({ identifier: "PublisherInstanceStatus" });
export type PublisherInstanceStatus = typeof PublisherInstanceStatus.Type;

/** The publishers the registry shows: who runs now, and who recently stopped without a clean stop. */
export const PublishersStatus = Schema.Struct({
  /** Publishers with a heartbeat less than three of their heartbeat intervals old. */
  alive: Schema.Number,
  /** The alive ones, the newest start first. */
  instances: Schema.Array(PublisherInstanceStatus),
  /**
   * Publishers started within the last `windowSeconds` whose heartbeat stopped without a clean stop
   * (killed, crashed, out of memory, a failed start).
   */
  uncleanStops: Schema.Number,
  windowSeconds: Schema.Number,
  /** The newest start within the window, alive or not; null when there is none. */
  lastStartedAt: Schema.NullOr(Schema.String),
}).annotations({ identifier: "PublishersStatus" });
export type PublishersStatus = typeof PublishersStatus.Type;

/**
 * `GET /status/confluence`: the pipeline at a glance. Never contains a token. `degraded` when
 * NATS is disconnected, a stream or the publishers' consumer is missing, messages wait while no
 * publisher pulls from the consumer, publishers keep dying, the database is down, or the
 * Confluence token in use has expired; `reasons` says which, one sentence each (empty when `ok`).
 * `warnings` says what needs doing soon without anything failing yet (a token that expires within
 * `confluence.token_expiry_warning_days`): the status stays `ok`.
 */
export const ConfluenceStatus = Schema.Struct({
  status: Schema.Literal("ok", "degraded"),
  reasons: Schema.Array(Schema.String),
  warnings: Schema.Array(Schema.String),
  nats: Schema.Struct({
    connected: Schema.Boolean,
    /** The NATS server's `host:port`; null when not connected or when `detailsWithheld`. */
    server: Schema.NullOr(Schema.String),
    stream: Schema.String,
    outcomeStream: Schema.String,
    /** Whether each stream exists; `null` when NATS or JetStream did not answer. */
    streamFound: Schema.NullOr(Schema.Boolean),
    outcomeStreamFound: Schema.NullOr(Schema.Boolean),
  }),
  consumer: Schema.Struct({
    name: Schema.String,
    found: Schema.Boolean,
    pending: Schema.NullOr(Schema.Number),
    ackPending: Schema.NullOr(Schema.Number),
    /** Open pull requests: publishers ready for a message (`num_waiting`). */
    waiting: Schema.NullOr(Schema.Number),
    backlog: Schema.NullOr(Schema.Number),
  }),
  /**
   * The publisher registry; null when no publisher of this version has started yet (it creates the
   * registry) or JetStream did not answer.
   */
  publishers: Schema.NullOr(PublishersStatus),
  database: Schema.Struct({ status: Schema.Literal("ok", "down"), detail: Schema.NullOr(Schema.String) }),
  /** The newest record; null when there is none or when `detailsWithheld`. */
  lastPublication: Schema.NullOr(Publication),
  tokenSource: Schema.Literal("vault", "config", "none"),
  /**
   * When the token in use expires, as recorded with it (the vault entry's, or
   * `confluence.token_expires_at` for a configured token); null when unknown or there is no token.
   */
  tokenExpiresAt: Schema.NullOr(IsoTimestamp),
  confluenceEnabled: Schema.Boolean,
  /**
   * Where protocols go: the default space and parent, then the routing rules in order (first match
   * wins); null when `detailsWithheld`.
   */
  routing: Schema.NullOr(
    Schema.Struct({
      defaultSpaceKey: Schema.String,
      defaultParentPageId: Schema.NullOr(Schema.String),
      rules: Schema.Array(RoutingRule),
    }),
  ),
  /**
   * True when the request carried no valid API key (possible only with `gateway.auth_health` off):
   * the last publication (a meeting's title, page and error), the routing rules, the NATS server's
   * address and the publishers' hosts and pids are left out.
   */
  detailsWithheld: Schema.Boolean,
}).annotations({ identifier: "ConfluenceStatus" });
export type ConfluenceStatus = typeof ConfluenceStatus.Type;

/** `GET /healthz`. */
export const Liveness = Schema.Struct({ status: Schema.Literal("ok") }).annotations({
  identifier: "Liveness",
});

/** RFC 9457 problem details. */
export const Problem = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  status: Schema.Number,
  detail: Schema.optional(Schema.String),
  instance: Schema.optional(Schema.String),
  errors: Schema.optional(Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))),
}).annotations({ identifier: "Problem" });

/**
 * `DELETE /api/publications/{id}?deletePage=true` → 409 (`application/problem+json`) when the page
 * the record names is not shown to be its job's: the problem's fields, the page, and the job its
 * `minutes.job` content property names (`urn:minutes:problem:page-of-another-job`), or `null`
 * when it has none (`urn:minutes:problem:page-not-the-jobs`).
 */
export const PageOwnershipProblem = Schema.Struct({
  ...Problem.fields,
  pageId: Schema.String,
  pageJobId: Schema.NullOr(Schema.String),
}).annotations({ identifier: "PageOwnershipProblem" });
export type PageOwnershipProblem = typeof PageOwnershipProblem.Type;

/**
 * `publish-confluence` → 409, 422 or 502 (`application/problem+json`): the publication ended
 * `failed` or `rejected`. Besides the problem's fields, the original route's failure fields
 * (`success: false`, `error`: the error message) and everything a 200 would have said: the error's
 * tag and message, the outcome (`result`, the shape of the 200 answer without the original's
 * fields) and the job's publication record as stored (`null` when it has none).
 */
export const PublishFailedProblem = Schema.Struct({
  ...Problem.fields,
  success: Schema.Literal(false),
  /** The original's failure field: the error message (the detail when there is none). */
  error: Schema.String,
  errorTag: Schema.NullOr(Schema.String),
  errorMessage: Schema.NullOr(Schema.String),
  result: PublishResult,
  publication: Schema.NullOr(Publication),
}).annotations({ identifier: "PublishFailedProblem" });
export type PublishFailedProblem = typeof PublishFailedProblem.Type;
