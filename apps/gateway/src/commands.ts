/**
 * Publishing to JetStream from a request: a message counts as accepted only once JetStream acked
 * it, so any failure (connection closed, stream missing, timeout) becomes a 503 and the client
 * knows nothing was stored — except a message over the server's `max_payload`, a 413, since
 * retrying cannot store it. `PublishRequested` commands are built and validated here.
 */

import { PublishRequested, PublishRequestedJson, publishRequestedSubject } from "@minutes/contracts";
import type { PubAck } from "@nats-io/jetstream";
import { Schema } from "effect";
import type { FastifyBaseLogger } from "fastify";
import { type JetStreamPublisher, MessageTooLargeError } from "./jetstream-publisher.js";
import { HttpProblem, unavailable } from "./problem.js";

/** How long a publish waits for JetStream's acknowledgement. */
export const PUBLISH_TIMEOUT_MS = 5_000;

/** Publishes waiting for the next batch (see `inNextPublishBatch`). */
let batch: Array<() => void> = [];

const startBatch = (): void => {
  const started = batch;
  batch = [];
  for (const start of started) start();
};

/**
 * Starts `publish` together with every other publish started in the same turn of the event loop.
 *
 * The NATS client flushes its outbound buffer to the socket in a microtask after a publish.
 * Concurrent requests are read in separate I/O callbacks, each followed by a microtask
 * checkpoint, so every request used to become its own socket write — and its own wake-up of
 * nats-server, which on loopback the writer pays for in the kernel. Starting the publishes from
 * one `setImmediate` (which runs right after the poll phase that read those requests, no timer
 * involved) lets the client send them in one write. Each publish still waits for its own ack.
 */
export const inNextPublishBatch = <A>(publish: () => Promise<A>): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    if (batch.length === 0) setImmediate(startBatch);
    batch.push(() => {
      try {
        publish().then(resolve, reject);
      } catch (error) {
        reject(error);
      }
    });
  });

/**
 * Publishes and waits for the ack; rejects with a 503 problem when JetStream did not store it.
 * `jobId` names the job in the log lines of a refusal: the subject carries it encoded (base64url for
 * ids with other characters than letters, digits, `_` and `-`), so an operator searching the log for
 * the job would not find the subject.
 */
export const publishStored = async (
  publisher: JetStreamPublisher,
  log: FastifyBaseLogger,
  subject: string,
  payload: string,
  msgID: string,
  jobId: string,
): Promise<PubAck> => {
  try {
    return await inNextPublishBatch(() => publisher.publish(subject, payload, msgID, PUBLISH_TIMEOUT_MS));
  } catch (error) {
    if (error instanceof MessageTooLargeError) {
      log.info(
        { jobId, subject, size: error.size, maxPayload: error.maxPayload },
        "message over max_payload refused",
      );
      // Not a 503: the same message would be refused again, and clients retry 503s.
      throw new HttpProblem({
        status: 413,
        detail: `the event is ${error.size} bytes as a NATS message, over the NATS server's max_payload of ${error.maxPayload} bytes, so it cannot be stored; send a smaller protocol (retrying will not help)`,
      });
    }
    log.warn({ err: error, jobId, subject }, "JetStream did not acknowledge a publish");
    throw unavailable(
      "the event stream (NATS JetStream) did not store the message, so the request was not accepted; retry later",
      "event-stream-unavailable",
    );
  }
};

/** What a command says besides the job. */
export interface CommandOptions {
  readonly trigger: "manual" | "retry" | "replay";
  readonly force?: boolean | undefined;
  readonly replayId?: string | undefined;
}

/** Publishes one `PublishRequested` command for `jobId`, de-duplicated on `msgID`. */
export const publishCommand = (
  publisher: JetStreamPublisher,
  log: FastifyBaseLogger,
  subjectPrefix: string,
  jobId: string,
  options: CommandOptions,
  msgID: string,
): Promise<PubAck> => {
  const command = Schema.decodeUnknownSync(PublishRequested)({
    schemaVersion: 1,
    jobId,
    trigger: options.trigger,
    force: options.force ?? false,
    ...(options.replayId !== undefined ? { replayId: options.replayId } : {}),
    requestedAt: new Date().toISOString(),
  });
  return publishStored(
    publisher,
    log,
    publishRequestedSubject(jobId, subjectPrefix),
    Schema.encodeSync(PublishRequestedJson)(command),
    msgID,
    jobId,
  );
};
