/**
 * Answers for requests Node's HTTP parser refuses before Fastify sees them (a malformed request
 * line or header, headers over the size limit, a request that did not arrive in time): an
 * `application/problem+json` like every other error, written straight to the socket with
 * `Connection: close`, then the connection ends. Nothing of the request is echoed back or logged
 * (its bytes may hold a key); a client that cannot send valid HTTP gets no `instance` either.
 */
import { randomUUID } from "node:crypto";
import { maxHeaderSize, ServerResponse, STATUS_CODES } from "node:http";
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
  // A keep-alive client may send a bad request right behind good ones (pipelined) still being
  // answered: their answers go first, whole and in order, then this one (writing earlier would cut
  // one off, or be read as the answer of a request still waiting for its own).
  afterAnswers(socket, answer);
};

// internal

/** What `socketMessage` returns when the socket lacks Node's `_httpMessage` (not just `null`). */
const unknown = Symbol("unknown");

/**
 * The response holding the socket (Node's internal `_httpMessage`, unchanged through Node 24):
 * Node writes pipelined responses one at a time, queueing the others until it holds none. `null`
 * when none; `unknown` when the socket never had the property (its first request is the bad one,
 * or this Node renamed it).
 */
const socketMessage = (socket: Socket): ServerResponse | null | typeof unknown => {
  if (!("_httpMessage" in socket)) return unknown;
  const message = (socket as Socket & { readonly _httpMessage?: unknown })._httpMessage;
  if (message instanceof ServerResponse) return message;
  return message === null || message === undefined ? null : unknown;
};

/**
 * Calls `then` once no response holds the socket. A response's bytes may all be written
 * (`writableFinished`) while Node has not yet handed the socket to the next one: that happens in
 * Node's own `finish` listener, added before ours, so the socket is looked at again after each
 * `finish`. A response closed before it finished (the client went away, or it was destroyed)
 * destroys the socket: nothing after it can be answered in order. Without `_httpMessage`, only a
 * connection nothing was written to is answered (as Node does); any other is closed unanswered.
 */
const afterAnswers = (socket: Socket, then: () => void, previous?: ServerResponse): void => {
  const current = socketMessage(socket);
  if (current === unknown) {
    if (socket.bytesWritten === 0 && socket.writableLength === 0) then();
    else socket.destroy();
    return;
  }
  // `previous` still holding the socket after its `finish` would mean Node changed: answer now.
  if (current === null || current === previous || socket.destroyed) {
    then();
    return;
  }
  if (current.destroyed) {
    socket.destroy();
    return;
  }
  current.once("finish", () => afterAnswers(socket, then, current));
  current.once("close", () => {
    if (socketMessage(socket) === current) socket.destroy();
  });
};

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
