/**
 * A minimal keep-alive HTTP/1.1 client for load generation, in the manner of autocannon or wrk:
 * a fixed set of connections, one request in flight on each (no pipelining), answers framed by
 * `Content-Length`. On a 2-core machine the client shares the cores with the server it measures,
 * and node:http's client (or fetch) spends about as much CPU per request as a lean server does,
 * so that cost would be counted against the server.
 *
 * It reads the status line and `Content-Length` only; chunked answers or a connection closed with
 * a request in flight fail that request, so a benchmark never counts an answer it did not get.
 */
import { once } from "node:events";
import { connect, type Socket } from "node:net";

/** One answer: the status and the body as text. */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A pool of keep-alive connections to one origin. */
export interface KeepAliveClient {
  /** Sends a request with a body on a free connection; rejects on a broken connection or answer. */
  readonly request: (
    method: string,
    path: string,
    headers: Readonly<Record<string, string>>,
    body: string,
  ) => Promise<Answer>;
  /** Closes every connection. */
  readonly close: () => void;
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** One connection with at most one request in flight. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (a: Answer) => void; reject: (e: Error) => void } | undefined;

  constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("the connection closed with a request in flight")));
  }

  send(request: string): Promise<Answer> {
    if (this.waiting !== undefined) return Promise.reject(new Error("a request is already in flight"));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf(HEADER_END);
    if (headerEnd === -1) return;
    const head = this.buffer.toString("latin1", 0, headerEnd);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? Number.NaN);
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head)?.[1];
    if (Number.isNaN(status) || length === undefined) {
      this.fail(new Error(`an answer without a status or Content-Length: ${JSON.stringify(head)}`));
      this.socket.destroy();
      return;
    }
    const bodyStart = headerEnd + HEADER_END.length;
    const end = bodyStart + Number(length);
    if (this.buffer.length < end) return;
    const body = this.buffer.toString("utf8", bodyStart, end);
    this.buffer = this.buffer.subarray(end);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve({ status, body });
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
  }
}

/**
 * A client for `base` (e.g. `http://127.0.0.1:8080`): one connection per request in flight, each
 * kept open for the next request, so N concurrent callers use N connections.
 */
export const keepAliveClient = (base: string): KeepAliveClient => {
  const url = new URL(base);
  if (url.protocol !== "http:") throw new Error(`only http: origins, not ${url.protocol}`);
  const port = Number(url.port || 80);
  const all = new Set<Connection>();
  const idle: Array<Connection> = [];

  const acquire = async (): Promise<Connection> => {
    const free = idle.pop();
    if (free !== undefined) return free;
    const socket = connect({ host: url.hostname, port, noDelay: true });
    await once(socket, "connect");
    const connection = new Connection(socket);
    all.add(connection);
    return connection;
  };
  const release = (connection: Connection): void => {
    if (connection.socket.destroyed) all.delete(connection);
    else idle.push(connection);
  };

  const request: KeepAliveClient["request"] = async (method, path, headers, body) => {
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    const connection = await acquire();
    try {
      return await connection.send(`${head}\r\n${body}`);
    } finally {
      release(connection);
    }
  };

  return {
    request,
    close: () => {
      for (const c of all) c.socket.destroy();
    },
  };
};
