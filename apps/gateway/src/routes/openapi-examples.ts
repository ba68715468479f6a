/**
 * Example bodies for the OpenAPI document: what client builders show and test against. They are
 * wire JSON, written out rather than generated, so a unit test decodes each with the schema its
 * route uses (an example a schema refuses would teach clients a wrong shape).
 */

import type { ProtocolReadyInput, Publication } from "@minutes/contracts";
import type {
  CommandAccepted,
  ConfluenceStatus,
  JobPublications,
  PageOwnershipProblem,
  ProtocolAccepted,
  PublicationList,
} from "@minutes/contracts/api";
import type { ProblemBody } from "../problem.js";

/** `DELETE /api/publications/{id}?deletePage=true` → 409: the page names another job. */
export const pageOfAnotherJobExample: PageOwnershipProblem = {
  type: "urn:minutes:problem:page-of-another-job",
  title: "Conflict",
  status: 409,
  detail:
    "page 65560 belongs to job dbg1 (its minutes.job property), not to job demo-extra: nothing was deleted and the record was kept. The record may come from another installation (page ids restart in every Confluence site); delete it without deletePage",
  instance: "/api/publications/50",
  pageId: "65560",
  pageJobId: "dbg1",
};

/** `POST /api/protocols` request body. */
export const protocolReadyExample: ProtocolReadyInput = {
  jobId: "job-42",
  markdown: "# Weekly\n\n- done",
  filename: "weekly.md",
  occurredAt: "2026-11-26T10:00:00Z",
  meetingDate: "2026-11-26",
  spaceKey: "TEAM",
  labels: ["weekly"],
  source: "meeting-processor",
};

/** `POST /api/protocols` → 202 for `protocolReadyExample` (its real event id). */
export const protocolAcceptedExample: ProtocolAccepted = {
  eventId: "job-42:2b1591be0b783221cdae3a3c2b2ddc98de7b714cf9b43705b78a79c33c98ed6f",
  jobId: "job-42",
  streamSequence: 17,
  duplicate: false,
};

/** `POST /api/protocols` → 400 for a body with a misspelt field, no `jobId` and a bad timestamp. */
export const protocolInvalidExample: ProblemBody = {
  type: "urn:minutes:problem:invalid-request",
  title: "Invalid request",
  status: 400,
  detail:
    'the request body does not match its schema (spacekey: unknown field; did you mean "spaceKey"? and 2 more)',
  instance: "/api/protocols",
  errors: [
    { path: "spacekey", message: 'unknown field; did you mean "spaceKey"?' },
    { path: "jobId", message: "is missing" },
    { path: "occurredAt", message: 'expected an ISO 8601 timestamp with time zone, got "yesterday"' },
  ],
};

/** A published record. */
export const publicationExample: Publication = {
  id: 7,
  jobId: "job-42",
  status: "published",
  pageId: "98765",
  pageUrl: "https://acme.atlassian.net/wiki/spaces/TEAM/pages/98765",
  spaceKey: "TEAM",
  parentPageId: "12345",
  pageTitle: "2026-11-26 Weekly",
  contentHash: "9f2c1e0b7a4d3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a3",
  pageVersion: 3,
  streamSequence: 17,
  attempts: 1,
  retryCount: 0,
  errorMessage: null,
  errorTag: null,
  trigger: "event",
  createdAt: "2026-11-26T10:00:01.204Z",
  updatedAt: "2026-11-26T10:00:03.118Z",
  lastRetryAt: null,
  publishedAt: "2026-11-26T10:00:03.118Z",
  latencyMs: 3118,
  meetingDate: "2026-11-26",
  archivedAt: null,
};

/** `GET /api/publications` → 200: a page with more to read. */
export const publicationListExample: PublicationList = {
  items: [publicationExample],
  nextCursor: "eyJ1IjoiMjAyNi0xMS0yNlQxMDowMDowMy4xMThaIiwiaSI6N30",
};

/** `GET /api/jobs/:jobId/publications` → 200: a record, and a newer protocol waiting in the stream. */
export const jobPublicationsExample: JobPublications = {
  jobId: "job-42",
  items: [publicationExample],
  queued: { streamSequence: 21, storedAt: "2026-11-27T09:12:44.051Z" },
};

/** 202 of retry and publish-now: the command is stored; `location` is the `Location` header. */
export const commandAcceptedExample: CommandAccepted = {
  jobId: "job-42",
  publicationId: 7,
  status: "accepted",
  commandId: "0b7e3c52-5d0f-4d7a-9a43-2f5e8c1d6b90",
  streamSequence: 18,
  location: "/api/publications/7",
};

/** `GET /status/confluence` → 200: the token from the vault expires within the warning window. */
export const confluenceStatusTokenExpiringExample: ConfluenceStatus = {
  status: "ok",
  reasons: [],
  warnings: [
    "the Confluence token expires on 2026-12-05, in 8 days: replace it before then; store the new one with `./minutes vault add --url https://acme.atlassian.net/wiki --username minutes-bot@acme.example --expires YYYY-MM-DD` (used without a restart)",
  ],
  nats: {
    connected: true,
    server: "nats://127.0.0.1:4222",
    stream: "MINUTES_PROTOCOLS",
    outcomeStream: "MINUTES_PROTOCOLS_OUTCOMES",
    streamFound: true,
    outcomeStreamFound: true,
  },
  consumer: { name: "minutes-publisher", found: true, pending: 0, ackPending: 0, waiting: 4, backlog: 0 },
  publishers: null,
  database: { status: "ok", detail: null },
  lastPublication: null,
  tokenSource: "vault",
  tokenExpiresAt: "2026-12-05T23:59:59.000Z",
  confluenceEnabled: true,
  routing: null,
  detailsWithheld: true,
};
