/**
 * `POST /api/protocols`: the meeting processor's `ProtocolReady`. Decoded with the contract,
 * published on the job's subject with a content-derived msgID (JetStream drops a resubmission
 * inside the duplicate window and says so), answered 202 only after JetStream acked.
 */
import { hash } from "node:crypto";
import { ProtocolReady, type ProtocolReadyInput, protocolReadySubject } from "@minutes/contracts";
import { type ProtocolAccepted, ProtocolAccepted as ProtocolAcceptedSchema } from "@minutes/contracts/api";
import type { FastifyPluginAsync } from "fastify";
import { publishStored } from "../commands.js";
import type { RouteOptions } from "../context.js";
import { documented, routeSchema } from "../plugins/schema-compiler.js";
import { latestOnSubject } from "../streams.js";
import { protocolAcceptedExample, protocolInvalidExample, protocolReadyExample } from "./openapi-examples.js";
import {
  answer,
  bodyProblems,
  EVENT_STREAM_DOWN,
  noQuery,
  problemAnswer,
  problemResponses,
  unavailableAnswer,
} from "./responses.js";

/**
 * The wire form of an event the route has just decoded, without encoding it again.
 * `ProtocolReady` has no field transformations (only refinements, a brand and a default), so a
 * decoded event already is its wire form, and encoding it ran every refinement a second time. This
 * assignment stops compiling if a field's decoded type ever differs from its wire type, and a unit
 * test checks the payload below against the contract's `ProtocolReadyJson`.
 */
export const wireOfDecoded = (event: ProtocolReady): ProtocolReadyInput => event;

/** A decoded event ready for JetStream: its payload and its event id (the msgID). */
export interface StreamEvent {
  readonly payload: string;
  readonly eventId: string;
}

/**
 * The JetStream payload and the event id of a decoded event.
 *
 * The event id is the job id and a sha256 over the Markdown and every metadata field. The event
 * time is not content: the same protocol sent again later is a duplicate.
 *
 * The Markdown is most of both strings, and escaping it for JSON most of their cost, so it is
 * escaped once and spliced into each: the payload is byte for byte `JSON.stringify` of the wire
 * form (what `ProtocolReadyJson` encodes), and the hashed content is byte for byte the JSON array
 * `[schemaVersion, markdown, filename, meetingDate, topic, spaceKey, parentPageId, labels,
 * source]` (absent fields as null) that ids have always hashed. Unit tests pin both.
 */
export const streamEventOf = (event: ProtocolReady): StreamEvent => {
  const { schemaVersion, jobId, markdown, ...rest } = wireOfDecoded(event);
  const markdownJson = JSON.stringify(markdown);
  const restJson = JSON.stringify(rest);
  const version = JSON.stringify(schemaVersion ?? 1);
  const payload = `{"schemaVersion":${version},"jobId":${JSON.stringify(jobId)},"markdown":${markdownJson}${restJson === "{}" ? "}" : `,${restJson.slice(1)}`}`;
  const metadataJson = JSON.stringify([
    rest.filename,
    rest.meetingDate ?? null,
    rest.topic ?? null,
    rest.spaceKey ?? null,
    rest.parentPageId ?? null,
    rest.labels ?? null,
    rest.source ?? null,
  ]);
  const content = `[${version},${markdownJson},${metadataJson.slice(1)}`;
  return { payload, eventId: `${jobId}:${hash("sha256", content, "hex")}` };
};

/** The event id (and JetStream msgID) of a decoded event; see `streamEventOf`. */
export const eventIdOf = (event: ProtocolReady): string => streamEventOf(event).eventId;

/** The operation's description in the OpenAPI document (Markdown). */
const PROTOCOLS_DESCRIPTION = `Stores a \`ProtocolReady\` event in JetStream for the publishers, which publish it to Confluence. The 202 is sent only after JetStream acknowledged storing it: a 202 is never lost, and a 503 or 413 means nothing was stored (retry a 503; a 413 cannot succeed).

The 202's fields:
- \`eventId\`: \`<jobId>:<sha256 of the Markdown and every metadata field>\`, the JetStream message id. \`occurredAt\` is not part of it: the same protocol sent again later has the same id.
- \`streamSequence\`: the event's sequence in the protocol stream (for a duplicate, where the job's protocol is stored).
- \`duplicate\`: \`true\` when the same event was already stored inside the duplicate window (\`nats.duplicate_window_seconds\`, default 120 s): it is stored once, so resending after a timeout is safe.

A protocol sent again after a different one for the same job (A, then B, then A again: a revert) is no duplicate: it is stored again and published, so the page shows A again. Events of a job are published in the order JetStream stored them (arrival order, not \`occurredAt\`).`;

export const protocolRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Body: ProtocolReady }>(
    "/api/protocols",
    {
      schema: {
        tags: ["events"],
        summary: "Accept a ProtocolReady event",
        description: PROTOCOLS_DESCRIPTION,
        body: documented(routeSchema(ProtocolReady), { examples: [protocolReadyExample] }),
        ...noQuery,
        response: {
          202: answer(
            routeSchema(ProtocolAcceptedSchema),
            "Accepted: the event is stored in JetStream (or was already, `duplicate: true`); a publisher publishes it to Confluence. Poll `GET /api/jobs/{jobId}/publications` for the page.",
            { example: protocolAcceptedExample },
          ),
          400: problemAnswer(
            400,
            "Invalid request: the body does not match `ProtocolReady` (`errors` lists each issue: `path`, `message`; the detail repeats the first), is not JSON or not UTF-8, or the URL has a query parameter. Nothing was stored.",
            { example: protocolInvalidExample },
          ),
          ...bodyProblems(
            "Payload too large: the body is over `gateway.body_limit_bytes` (default 1 MiB), or the event as a NATS message (its JSON plus the `Nats-Msg-Id` header) is over the NATS server's `max_payload`. The detail names the limit. Nothing was stored; retrying the same protocol will not help.",
          ),
          503: unavailableAnswer(
            "the event stream (NATS JetStream) did not store the event (not connected, no stream after one attempt to re-create it, or no acknowledgement within 5 s)",
            EVENT_STREAM_DOWN,
          ),
          ...problemResponses,
        },
      },
    },
    async (request, reply): Promise<ProtocolAccepted> => {
      const event = request.body;
      const { payload, eventId } = streamEventOf(event);
      const subject = protocolReadySubject(event.jobId, ctx.config.nats.subject_prefix);
      let ack = await publishStored(ctx.publisher, request.log, subject, payload, eventId, event.jobId);
      if (ack.duplicate) {
        // JetStream knows this content for the job from inside the duplicate window. When a
        // different protocol was stored for the job since, this is a revert to the earlier one
        // (A, B, A again), not a resend: it is stored again, under an id naming the protocol it
        // follows (a resend of the revert is a duplicate of that copy). A resend of the job's
        // latest protocol stays a duplicate.
        // No answer from the stream: the duplicate answer JetStream gave stands.
        const latest = await latestOnSubject(ctx.jsm, ctx.streams.protocol, subject, request.log);
        const latestId = latest?.header?.get("Nats-Msg-Id") ?? "";
        const sameProtocol = latestId === eventId || latestId.startsWith(`${eventId}:after:`);
        if (latest !== null && !sameProtocol) {
          const msgID = `${eventId}:after:${latest.seq}`;
          ack = await publishStored(ctx.publisher, request.log, subject, payload, msgID, event.jobId);
          request.log.info(
            { jobId: event.jobId, seq: ack.seq, after: latest.seq },
            "earlier protocol sent again",
          );
        } else if (latest !== null) {
          ack = { ...ack, seq: latest.seq };
        }
      }
      request.log.info(
        { jobId: event.jobId, seq: ack.seq, duplicate: ack.duplicate },
        "protocol event stored",
      );
      reply.code(202);
      return { eventId, jobId: event.jobId, streamSequence: ack.seq, duplicate: ack.duplicate };
    },
  );
};
