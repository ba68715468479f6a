/**
 * Whether a job has a protocol a publish command can publish. A publisher publishes only the
 * protocol the store holds: a command for a job without one fails (`ProtocolMissingError`, the
 * job's record marked failed when it has one) with the same advice as the 404 here. So publish-now
 * and retry check first and say why not — 404 when Minutes has none (it must be sent again), 409
 * while one waits in the event stream; the publisher's failure is left for a protocol removed
 * (a cleanup) between this check and the publisher taking the command.
 */
import { protocolReadySubject } from "@minutes/contracts";
import type { QueuedProtocol } from "@minutes/contracts/api";
import type { StoredProtocol } from "@minutes/publication-store";
import { Option } from "effect";
import type { FastifyBaseLogger } from "fastify";
import type { GatewayContext } from "./context.js";
import { HttpProblem, notFound } from "./problem.js";
import { runEffect } from "./run-effect.js";
import { latestOnSubject } from "./streams.js";

/**
 * The job's stored protocol. Rejects with a 409 problem while its only protocol still waits in the
 * event stream for a publisher (which publishes it when it takes it), else with a 404 problem
 * saying it must be sent again; a 503 when the database is down.
 */
export const requireStoredProtocol = async (
  ctx: GatewayContext,
  log: FastifyBaseLogger,
  jobId: string,
): Promise<StoredProtocol> => {
  const protocol = await runEffect(ctx.store.getProtocol(jobId));
  if (Option.isSome(protocol)) return protocol.value;
  const queued = await queuedProtocolOf(ctx, log, jobId, 0);
  if (queued !== null)
    throw new HttpProblem({
      status: 409,
      detail: `the job's protocol is in the event stream (sequence ${queued.streamSequence}, stored ${queued.storedAt}) and waits for a publisher to take it; it is published then (is a publisher running?)`,
    });
  throw notFound(noProtocolDetail(jobId));
};

/** The 404's detail: what is missing and what brings it back. */
export const noProtocolDetail = (jobId: string): string =>
  `no protocol is stored for job ${JSON.stringify(jobId)}, so there is nothing to publish: send the protocol again (POST /api/protocols)`;

/**
 * The job's latest `ProtocolReady` event in the stream when its sequence is above `taken` (what the
 * publishers have stored or recorded of the job): accepted with a 202, not yet taken by a publisher.
 */
export const queuedProtocolOf = async (
  ctx: GatewayContext,
  log: FastifyBaseLogger,
  jobId: string,
  taken: number,
): Promise<QueuedProtocol | null> => {
  const subject = protocolReadySubject(jobId, ctx.config.nats.subject_prefix);
  const latest = await latestOnSubject(ctx.jsm, ctx.streams.protocol, subject, log);
  return latest === null || latest.seq <= taken
    ? null
    : { streamSequence: latest.seq, storedAt: latest.time.toISOString() };
};
