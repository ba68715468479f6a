/**
 * The floor of the intake benchmark: the least a Node HTTP server can do for `POST
 * /api/protocols` and still store the event in JetStream. `node:http` with no framework, no
 * authentication, no validation and no logging: it reads the body, parses it, hashes it for the
 * msgID, publishes it with the same NATS client settings as the gateway, waits for the ack and
 * answers 202 with the same fields. `pnpm bench` runs it as its own process beside the gateway and
 * reports its ratio to the bare JetStream loop, so the gateway's ratio can be read against what
 * node:http itself costs on the machine.
 *
 * Usage: node dist/intake-floor.js <nats-url> <subject-prefix> <port>
 */
import { hash } from "node:crypto";
import { createServer } from "node:http";
import { protocolReadySubject } from "@minutes/contracts";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const [natsUrl, prefix, port] = process.argv.slice(2);
if (natsUrl === undefined || prefix === undefined || port === undefined) {
  process.stderr.write("usage: intake-floor <nats-url> <subject-prefix> <port>\n");
  process.exit(2);
}

const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
const js = jetstream(nc);

const answer = (res: import("node:http").ServerResponse, status: number, body: string) => {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
};

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") return answer(res, 200, '{"status":"ok"}');
  if (req.method !== "POST" || req.url !== "/api/protocols") return answer(res, 404, "{}");
  const chunks: Array<Buffer> = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8");
    const { jobId } = JSON.parse(text) as { jobId: string };
    const eventId = `${jobId}:${hash("sha256", text, "hex")}`;
    js.publish(protocolReadySubject(jobId, prefix), text, { msgID: eventId }).then(
      (ack) =>
        answer(
          res,
          202,
          JSON.stringify({ eventId, jobId, streamSequence: ack.seq, duplicate: ack.duplicate }),
        ),
      (error: unknown) => answer(res, 503, JSON.stringify({ detail: String(error) })),
    );
  });
});

server.listen(Number(port), "127.0.0.1");
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void nc.close().then(() => process.exit(0));
});
