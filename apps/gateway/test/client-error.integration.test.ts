import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, listen, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Sends `request` as raw bytes and resolves with everything the gateway wrote until it closed. */
const rawExchange = (base: string, request: string): Promise<string> => {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.write(request);
  });
};

/** Splits a raw HTTP/1.1 answer into its status, headers (lowercase names) and body. */
const parse = (raw: string) => {
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = raw.slice(0, end).split("\r\n");
  const headers = new Map(
    lines.map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
    }),
  );
  return { status: Number(statusLine.split(" ")[1]), statusLine, headers, body: raw.slice(end + 4) };
};

/** Splits the raw answers of a connection, one after the other, each by its `content-length`. */
const parseAll = (raw: string) => {
  const bytes = Buffer.from(raw, "utf8");
  const answers: Array<ReturnType<typeof parse>> = [];
  let at = 0;
  while (at < bytes.length) {
    const headEnd = bytes.indexOf("\r\n\r\n", at);
    if (headEnd < 0) throw new Error(`an incomplete answer: ${bytes.subarray(at).toString("utf8")}`);
    const head = parse(`${bytes.subarray(at, headEnd).toString("utf8")}\r\n\r\n`);
    const length = Number(head.headers.get("content-length"));
    if (!Number.isInteger(length)) throw new Error(`an answer without content-length: ${head.statusLine}`);
    const end = headEnd + 4 + length;
    answers.push(parse(bytes.subarray(at, end).toString("utf8")));
    at = end;
  }
  return answers;
};

describe("requests Node's HTTP parser refuses", () => {
  it("answers headers over the size limit with a 431 problem and closes the connection, echoing nothing", async () => {
    h = await startHarness();
    const base = await listen(h);
    const raw = await rawExchange(
      base,
      `GET /api/publications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer HEADER-SECRET-431\r\nX-Filler: ${"f".repeat(20_000)}\r\n\r\n`,
    );
    const answer = parse(raw);
    expect(answer.statusLine).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(answer.headers.get("content-type")).toBe("application/problem+json");
    expect(answer.headers.get("connection")).toBe("close");
    expect(answer.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(answer.headers.get("content-length"))).toBe(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body)).toEqual({
      type: "urn:minutes:problem:request-header-fields-too-large",
      title: "Request header fields too large",
      status: 431,
      detail: expect.stringContaining("bytes the gateway accepts"),
    });
    for (const echoed of ["HEADER-SECRET-431", "fffff", "/api/publications"]) {
      expect(raw).not.toContain(echoed);
      expect(h.logs()).not.toContain(echoed);
    }
  });

  it("answers a malformed request line with a 400 problem and closes the connection, echoing nothing", async () => {
    h = await startHarness();
    const base = await listen(h);
    const raw = await rawExchange(base, "GET /api/x?token=LINE-SECRET-400 HTTP/1.1 trailing junk\r\n\r\n");
    const answer = parse(raw);
    expect(answer.statusLine).toBe("HTTP/1.1 400 Bad Request");
    expect(answer.headers.get("content-type")).toBe("application/problem+json");
    expect(answer.headers.get("connection")).toBe("close");
    expect(Number(answer.headers.get("content-length"))).toBe(Buffer.byteLength(answer.body));
    expect(JSON.parse(answer.body)).toEqual({
      type: "urn:minutes:problem:invalid-request",
      title: "Invalid request",
      status: 400,
      detail: "the request is not valid HTTP/1.1 (a malformed request line or header)",
    });
    expect(raw).not.toContain("LINE-SECRET-400");
    expect(h.logs()).not.toContain("LINE-SECRET-400");
  });

  it("answers a request after a valid one on the same connection, the valid one first", async () => {
    h = await startHarness();
    const base = await listen(h);
    const raw = await rawExchange(base, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP AT ALL\r\n\r\n");
    const first = raw.indexOf("HTTP/1.1 200 OK");
    const second = raw.indexOf("HTTP/1.1 400 Bad Request");
    expect(first).toBe(0);
    expect(second).toBeGreaterThan(first);
    expect(parse(raw.slice(second)).headers.get("content-type")).toBe("application/problem+json");
  });

  it("answers every valid request pipelined before a malformed one, in order, and the problem last", async () => {
    h = await startHarness();
    const base = await listen(h);
    const valid = (path: string, headers = "") => `GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;
    const raw = await rawExchange(
      base,
      valid("/healthz") +
        valid("/api/publications", `Authorization: Bearer ${h.apiKey}\r\n`) +
        valid("/healthz") +
        "NOT HTTP AT ALL\r\n\r\n",
    );
    const answers = parseAll(raw);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 400]);
    expect(JSON.parse(answers[0]?.body ?? "")).toEqual({ status: "ok" });
    expect(answers[1]?.headers.get("content-type")).toMatch(/^application\/json/);
    expect(JSON.parse(answers[2]?.body ?? "")).toEqual({ status: "ok" });
    expect(answers[3]?.headers.get("content-type")).toBe("application/problem+json");
    expect(answers[3]?.headers.get("connection")).toBe("close");
    expect(JSON.parse(answers[3]?.body ?? "").status).toBe(400);
  });
});
