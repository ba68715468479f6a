/**
 * Answers for requests Node's HTTP parser refuses before Fastify sees them (a malformed request
 * line or header, headers over the size limit, a request that did not arrive in time): an
 * `application/problem+json` like every other error, written straight to the socket with
 * `Connection: close`, then the connection ends. Nothing of the request is echoed back or logged
 * (its bytes may hold a key); a client that cannot send valid HTTP gets no `instance` either.
 */
import { randomUUID } from "node:crypto";
import { maxHeaderSize, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyBaseLogger } from "fastify";
import { genericProblem, PROBLEM_CONTENT_TYPE, type ProblemBody } from "./problem.js";

/** The problem answered for a connection error of Node's HTTP parser, by its `code`. */
export const clientErrorProblem = (code: string | undefined): ProblemBody => {
  const [status, detail] = describe(code);
  return { ...genericProblem(status), status, detail };
};

/**
 * Fastify's `clientErrorHandler`: answers the problem when the socket can still be written, then
 * closes the connection. A reset connection gets nothing.
 */
export const answerClientError = (
  error: Error & { readonly code?: string },
  socket: Socket,
  log: FastifyBaseLogger,
): void => {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const problem = clientErrorProblem(error.code);
  const requestId = randomUUID();
  // The error's `rawPacket` holds the request's bytes: only the code is logged.
  log.debug({ reqId: requestId, code: error.code, status: problem.status }, "malformed request refused");
  const body = JSON.stringify(problem);
  const head = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ""}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    `x-request-id: ${requestId}`,
  ];
  const answer = () => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(`${head.join("\r\n")}\r\n\r\n${body}`, () => socket.destroy());
  };
  // A keep-alive client may send a bad request right behind a good one still being answered:
  // that answer goes first, whole, then this one (writing now would cut it off or mix with it).
  const inFlight = (socket as Socket & { readonly _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    inFlight.once("finish", answer);
    inFlight.once("close", () => {
      if (!inFlight.writableFinished) socket.destroy();
    });
  } else answer();
};

// internal

const describe = (code: string | undefined): readonly [status: number, detail: string] => {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return [
        431,
        `the request line and headers are larger than the ${maxHeaderSize} bytes the gateway accepts`,
      ];
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "ERR_HTTP_HEADERS_TIMEOUT":
      return [408, "the request did not arrive in time: send it again"];
    default:
      return [400, "the request is not valid HTTP/1.1 (a malformed request line or header)"];
  }
};
