import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { keepAliveClient } from "../src/keep-alive-client.js";

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

const serve = async (handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) => {
  const connections = new Set<unknown>();
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => handler(req, res, body));
  });
  server.on("connection", (socket) => connections.add(socket));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, connections };
};

describe("keepAliveClient", () => {
  it("sends method, path, headers and body, and reads status and body over reused connections", async () => {
    const { base, connections } = await serve((req, res, body) => {
      const answer = JSON.stringify({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        body,
      });
      res.writeHead(202, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(answer),
      });
      res.end(answer);
    });
    const client = keepAliveClient(base);
    try {
      const answers = await Promise.all(
        Array.from({ length: 3 }, (_, i) =>
          client.request("POST", "/api/things", { authorization: "Bearer k" }, `{"n":${i},"text":"ünïcode"}`),
        ),
      );
      for (const [i, answer] of answers.entries()) {
        expect(answer.status).toBe(202);
        expect(JSON.parse(answer.body)).toEqual({
          method: "POST",
          url: "/api/things",
          auth: "Bearer k",
          body: `{"n":${i},"text":"ünïcode"}`,
        });
      }
      for (let i = 0; i < 5; i++) await client.request("POST", "/again", {}, "x");
      expect(connections.size).toBe(3);
    } finally {
      client.close();
    }
  });

  it("fails a request whose answer it cannot frame, or whose connection closes", async () => {
    const { base } = await serve((req, res) => {
      if (req.url === "/chunked") {
        res.writeHead(200, { "transfer-encoding": "chunked" });
        res.end("streamed");
      } else req.socket.destroy();
    });
    const client = keepAliveClient(base);
    try {
      await expect(client.request("POST", "/chunked", {}, "")).rejects.toThrow(/Content-Length/);
      await expect(client.request("POST", "/hang-up", {}, "")).rejects.toThrow(/closed/);
    } finally {
      client.close();
    }
  });
});
