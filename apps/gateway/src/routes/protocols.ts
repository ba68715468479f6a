/**
 * `POST /api/protocols`: the meeting processor's `ProtocolReady`. Decoded with the contract,
 * published on the job's subject with a content-derived msgID (JetStream drops a resubmission
 * inside the duplicate window and says so), answered 202 only after JetStream acked.
 */
import { createHash } from "node:crypto";
import { ProtocolReady, type ProtocolReadyInput, protocolReadySubject } from "@minutes/contracts";
import { type ProtocolAccepted, ProtocolAccepted as ProtocolAcceptedSchema } from "@minutes/contracts/api";
import { Schema } from "effect";
import type { FastifyPluginAsync } from "fastify";
import { publishStored } from "../commands.js";
import type { RouteOptions } from "../context.js";
import { routeSchema } from "../plugins/schema-compiler.js";
import { problemResponses } from "./responses.js";

/** The wire (JSON) form of an event, with the contract's encoder (built once, not per call). */
const encodeProtocolReady = Schema.encodeSync(ProtocolReady);

/**
 * The wire form of an event the route has just decoded, without encoding it again.
 * `ProtocolReady` has no field transformations (only refinements, a brand and a default), so a
 * decoded event already is its wire form, and encoding it ran every refinement a second time. This
 * assignment stops compiling if a field's decoded type ever differs from its wire type, and a unit
 * test checks that it agrees with `encodeProtocolReady`.
 */
export const wireOfDecoded = (event: ProtocolReady): ProtocolReadyInput => event;

/** `eventIdOf` for an event already in its wire form (the route encodes each event once). */
const eventIdOfWire = (jobId: string, wire: ProtocolReadyInput): string => {
  const content = JSON.stringify([
    wire.schemaVersion ?? 1,
    wire.markdown,
    wire.filename,
    wire.meetingDate ?? null,
    wire.topic ?? null,
    wire.spaceKey ?? null,
    wire.parentPageId ?? null,
    wire.labels ?? null,
    wire.source ?? null,
  ]);
  return `${jobId}:${createHash("sha256").update(content, "utf8").digest("hex")}`;
};

/**
 * The event id (and JetStream msgID): the job id and a sha256 over the Markdown and every
 * metadata field. The event time is not content: the same protocol sent again later is a
 * duplicate.
 */
export const eventIdOf = (event: ProtocolReady): string =>
  eventIdOfWire(event.jobId, encodeProtocolReady(event));

export const protocolRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Body: ProtocolReady }>(
    "/api/protocols",
    {
      schema: {
        tags: ["events"],
        summary: "Accept a ProtocolReady event",
        body: routeSchema(ProtocolReady),
        response: { 202: routeSchema(ProtocolAcceptedSchema), ...problemResponses },
      },
    },
    async (request, reply): Promise<ProtocolAccepted> => {
      const event = request.body;
      const wire = wireOfDecoded(event);
      const eventId = eventIdOfWire(event.jobId, wire);
      // What `ProtocolReadyJson` would encode, without encoding the event a second time.
      const payload = JSON.stringify(wire);
      const ack = await publishStored(
        ctx.publisher,
        request.log,
        protocolReadySubject(event.jobId, ctx.config.nats.subject_prefix),
        payload,
        eventId,
      );
      request.log.info(
        { jobId: event.jobId, seq: ack.seq, duplicate: ack.duplicate },
        "protocol event stored",
      );
      reply.code(202);
      return { eventId, jobId: event.jobId, streamSequence: ack.seq, duplicate: ack.duplicate };
    },
  );
};
