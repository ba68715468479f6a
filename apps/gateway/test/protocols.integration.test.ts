import { deflateSync, gzipSync } from "node:zlib";
import { ProtocolReady, protocolReadySubject, publishRequestedSubject } from "@minutes/contracts";
import { jetstream } from "@nats-io/jetstream";
import { Effect, Schema } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { natsMessageBytes } from "../src/jetstream-publisher.js";
import { streamEventOf } from "../src/routes/protocols.js";
import { type Harness, protocolBody, startHarness, unique } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("POST /api/protocols", () => {
  it("stores the event in JetStream and answers 202 with its id and stream sequence", async () => {
    h = await startHarness();
    const jobId = `job-${unique()}`;
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody(jobId),
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ jobId, duplicate: false, streamSequence: 1 });
    expect(body.eventId).toMatch(new RegExp(`^${jobId}:[0-9a-f]{64}$`));
    const stored = await h.ctx.jsm.streams.getMessage(h.ctx.streams.protocol, { seq: 1 });
    expect(stored?.subject).toBe(protocolReadySubject(jobId, h.config.nats.subject_prefix));
    expect(stored?.header.get("Nats-Msg-Id")).toBe(body.eventId);
    expect(stored?.json()).toMatchObject({ schemaVersion: 1, jobId, filename: `${jobId}.md` });
  });

  it("says duplicate: true for the same submission and stores it once", async () => {
    h = await startHarness();
    const payload = protocolBody(`job-${unique()}`, { topic: "Weekly", labels: ["a"] });
    const first = await h.app.inject({ method: "POST", url: "/api/protocols", headers: h.auth, payload });
    const second = await h.app.inject({ method: "POST", url: "/api/protocols", headers: h.auth, payload });
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual({ ...first.json(), duplicate: true });
    // The meeting processor sending the same protocol again later is still a duplicate.
    const later = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: { ...payload, occurredAt: "2031-01-01T00:00:00Z" },
    });
    expect(later.json()).toEqual({ ...first.json(), duplicate: true });
    const changed = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: { ...payload, topic: "Weekly (edited)" },
    });
    expect(changed.json()).toMatchObject({ duplicate: false, streamSequence: 2 });
    const info = await h.ctx.jsm.streams.info(h.ctx.streams.protocol);
    expect(info.state.messages).toBe(2);
  });

  it("stores an earlier protocol sent again after a newer one (a revert), and a resend of it once", async () => {
    h = await startHarness();
    const jobId = `job-${unique()}`;
    const post = async (markdown: string) =>
      (
        await h!.app.inject({
          method: "POST",
          url: "/api/protocols",
          headers: h!.auth,
          payload: protocolBody(jobId, { markdown }),
        })
      ).json() as { eventId: string; streamSequence: number; duplicate: boolean };
    const a = await post("# Version A");
    const b = await post("# Version B");
    expect(b).toMatchObject({ streamSequence: a.streamSequence + 1, duplicate: false });
    // A again inside the duplicate window: the job's latest protocol is B, so A is stored again.
    const revert = await post("# Version A");
    expect(revert).toEqual({ ...a, streamSequence: b.streamSequence + 1, duplicate: false });
    const latest = await h.ctx.jsm.streams.getMessage(h.ctx.streams.protocol, {
      last_by_subj: protocolReadySubject(jobId, h.config.nats.subject_prefix),
    });
    expect(latest?.seq).toBe(revert.streamSequence);
    expect(latest?.json()).toMatchObject({ markdown: "# Version A" });
    // Sent once more: now it is the job's latest protocol, and a duplicate of the revert.
    expect(await post("# Version A")).toEqual({ ...revert, duplicate: true });
    expect((await h.ctx.jsm.streams.info(h.ctx.streams.protocol)).state.messages).toBe(3);
  });

  it("answers 400 problem+json listing every schema issue with its path", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: { markdown: "  ", filename: "x.md", occurredAt: "yesterday", spaceKey: "bad key!" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem).toMatchObject({ status: 400, title: "Invalid request", instance: "/api/protocols" });
    const paths = problem.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(["jobId", "markdown", "occurredAt", "spaceKey"]);
    for (const e of problem.errors) expect(e.message.length).toBeGreaterThan(0);
    const info = await h.ctx.jsm.streams.info(h.ctx.streams.protocol);
    expect(info.state.messages).toBe(0);
  });

  it("answers 400 naming the field for a protocol with a NUL character, which no database stores", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: { ...protocolBody(unique()), markdown: "# Sync\n\nA\u0000B\n" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { path: "markdown", message: "must not contain the NUL character (U+0000)" },
    ]);
    const info = await h.ctx.jsm.streams.info(h.ctx.streams.protocol);
    expect(info.state.messages).toBe(0);
  });

  it("accepts an empty or blank topic (the publisher takes the protocol's), and publishes that markdown must not be blank", async () => {
    h = await startHarness();
    for (const topic of ["", "   "]) {
      const res = await h.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: h.auth,
        payload: { ...protocolBody(unique()), topic },
      });
      expect(res.statusCode, JSON.stringify(topic)).toBe(202);
    }
    const document = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    const properties =
      document.paths["/api/protocols"].post.requestBody.content["application/json"].schema.properties;
    expect(properties.markdown).toMatchObject({ minLength: 1, pattern: "\\S" });
    expect(properties.topic).toMatchObject({ maxLength: 255 });
    expect(properties.topic).not.toHaveProperty("minLength");
  });

  it("answers 400 for a body that is not JSON", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: { ...h.auth, "content-type": "application/json" },
      payload: "{not json",
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  });

  it("answers 413 for a body over gateway.body_limit_bytes", async () => {
    h = await startHarness({ overrides: { gateway: { body_limit_bytes: 2_048 } } });
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody("big", { markdown: "x".repeat(4_000) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ status: 413, title: "Payload too large" });
  });

  it("answers 413 stating the NATS server's max_payload for an event it would refuse, not 503", async () => {
    // The body limit is above max_payload, as it is (by about 0.7 KiB) with both defaults at 1 MiB.
    h = await startHarness({ overrides: { gateway: { body_limit_bytes: 4 * 1024 * 1024 } } });
    const max = h.nc.info?.max_payload ?? 0;
    expect(max).toBeGreaterThan(0);
    const jobId = `job-${unique()}`;
    // The NATS message of a one-character protocol; each further ASCII character adds one byte.
    const one = streamEventOf(
      Schema.decodeUnknownSync(ProtocolReady)(protocolBody(jobId, { markdown: "x" })),
    );
    const fits = max - natsMessageBytes(one.payload, one.eventId) + 1;
    const post = (markdown: string) =>
      h?.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: h.auth,
        payload: protocolBody(jobId, { markdown }),
      });
    const tooLarge = await post("x".repeat(fits + 1));
    expect(tooLarge?.statusCode).toBe(413);
    expect(tooLarge?.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(tooLarge?.json()).toMatchObject({
      type: "urn:minutes:problem:payload-too-large",
      status: 413,
      detail: `the event is ${max + 1} bytes as a NATS message, over the NATS server's max_payload of ${max} bytes, so it cannot be stored; send a smaller protocol (retrying will not help)`,
    });
    expect((await h.ctx.jsm.streams.info(h.ctx.streams.protocol)).state.messages).toBe(0);
    // The check counts what the server counts: a message of exactly max_payload bytes is stored.
    const exact = await post("x".repeat(fits));
    expect(exact?.statusCode).toBe(202);
  });

  it("answers 415 for a content type other than JSON", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: { ...h.auth, "content-type": "text/plain" },
      payload: "hello",
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ status: 415, title: "Unsupported media type" });
  });

  it("answers 415 naming the Content-Encoding of a compressed body, after the key check, and stores nothing", async () => {
    h = await startHarness();
    const json = JSON.stringify(protocolBody(unique()));
    const send = (headers: Record<string, string>, payload: Buffer | string) =>
      h?.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: { "content-type": "application/json", ...headers },
        payload,
      });
    for (const [encoding, body] of [
      ["gzip", gzipSync(json)],
      ["deflate", deflateSync(json)],
      ["GZIP, identity", gzipSync(json)],
    ] as const) {
      const res = await send({ ...h.auth, "content-encoding": encoding }, body);
      expect(res?.statusCode, encoding).toBe(415);
      expect(res?.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(res?.headers["accept-encoding"]).toBe("identity");
      expect(res?.json()).toMatchObject({
        status: 415,
        title: "Unsupported media type",
        detail: `Content-Encoding "${encoding.toLowerCase().replace(", identity", "")}" is not accepted: send the body uncompressed (no Content-Encoding header)`,
      });
    }
    expect((await send({ "content-encoding": "gzip" }, gzipSync(json)))?.statusCode).toBe(401);
    expect((await h.ctx.jsm.streams.info(h.ctx.streams.protocol)).state.messages).toBe(0);
    expect((await send({ ...h.auth, "content-encoding": "identity" }, json))?.statusCode).toBe(202);
    const imported = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { ...h.auth, "content-type": "application/x-ndjson", "content-encoding": "br" },
      payload: "x",
    });
    expect(imported.statusCode).toBe(415);
    expect(imported.json().detail).toMatch(/^Content-Encoding "br" is not accepted/);
  });

  it("answers 401 with WWW-Authenticate without a valid API key, and never logs the key", async () => {
    h = await startHarness();
    const none = await h.app.inject({ method: "POST", url: "/api/protocols", payload: protocolBody("a") });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toBe('Bearer realm="minutes"');
    expect(none.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const wrong = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: { authorization: "Bearer not-the-key" },
      payload: protocolBody("a"),
    });
    expect(wrong.statusCode).toBe(401);
    const ok = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody("a"),
    });
    expect(ok.statusCode).toBe(202);
    expect(h.logs()).toContain("protocol event stored");
    expect(h.logs()).not.toContain(h.apiKey);
    expect(h.logs()).not.toContain("not-the-key");
  });

  it("logs a request's URL without the value of a key sent in the query string", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "GET",
      url: "/api/publications?api_key=QUERY-SECRET-1&Token=QUERY-SECRET-2&limit=5",
    });
    expect(res.statusCode).toBe(401);
    const incoming = h
      .logs()
      .split("\n")
      .filter((line) => line.includes("incoming request"))
      .map((line) => JSON.parse(line) as { req: { url: string } });
    expect(incoming.map((l) => l.req.url)).toContain(
      "/api/publications?api_key=[redacted]&Token=[redacted]&limit=5",
    );
    expect(h.logs()).not.toContain("QUERY-SECRET");
  });

  it("refuses every request when no API keys are configured", async () => {
    h = await startHarness({ overrides: { gateway: { api_keys: [] } } });
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody("a"),
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toContain("gateway.api_keys");
  });

  it("keeps imports, exports, deletions, cleanups, replays and archive runs to operators' keys once any are set", async () => {
    h = await startHarness({ overrides: { gateway: { admin_api_keys: ["operator-key-123"] } } });
    const intake = h.auth;
    const operator = { authorization: "Bearer operator-key-123" };
    const ndjson = { "content-type": "application/x-ndjson" };
    const operatorsOnly = [
      { method: "GET", url: "/api/export" },
      { method: "POST", url: "/api/import", headers: ndjson, payload: "{}" },
      {
        method: "POST",
        url: "/api/publications/cleanup",
        payload: { before: "2000-01-01T00:00:00Z", dryRun: true },
      },
      { method: "DELETE", url: "/api/publications/1" },
      { method: "POST", url: "/api/replays", payload: { since: "2026-01-01T00:00:00Z", dryRun: true } },
      { method: "DELETE", url: "/api/replays/none" },
      { method: "POST", url: "/api/archive/run", payload: {} },
    ] as const;
    for (const route of operatorsOnly) {
      const refused = await h.app.inject({
        ...route,
        headers: { ...("headers" in route ? route.headers : {}), ...intake },
      });
      expect(`${route.method} ${route.url} ${refused.statusCode}`).toBe(`${route.method} ${route.url} 403`);
      expect(refused.json()).toMatchObject({ type: "urn:minutes:problem:admin-key-required" });
      const allowed = await h.app.inject({
        ...route,
        headers: { ...("headers" in route ? route.headers : {}), ...operator },
      });
      expect([401, 403]).not.toContain(allowed.statusCode);
    }
    // The intake key still sends and reads; the operator's key may too.
    for (const auth of [intake, operator]) {
      const sent = await h.app.inject({
        method: "POST",
        url: "/api/protocols",
        headers: auth,
        payload: protocolBody("a"),
      });
      expect(sent.statusCode).toBe(202);
      expect(
        (await h.app.inject({ method: "GET", url: "/api/publications", headers: auth })).statusCode,
      ).toBe(200);
    }
    // The document says which routes answer 403.
    const document = (await h.app.inject({ method: "GET", url: "/docs/json" })).json();
    expect(Object.keys(document.paths["/api/import"].post.responses)).toContain("403");
    expect(Object.keys(document.paths["/api/protocols"].post.responses)).not.toContain("403");
  });

  it("lets every key do everything while no operators' keys are set", async () => {
    h = await startHarness();
    const exported = await h.app.inject({ method: "GET", url: "/api/export", headers: h.auth });
    expect(exported.statusCode).toBe(200);
  });

  it("answers an import without a key 401 before looking at its content type", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/import",
      headers: { "content-type": "text/plain" },
      payload: "x",
    });
    expect(res.statusCode).toBe(401);
  });

  it("honours and returns x-request-id", async () => {
    h = await startHarness();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: { ...h.auth, "x-request-id": "req-123" },
      payload: protocolBody("a"),
    });
    expect(res.headers["x-request-id"]).toBe("req-123");
    const generated = await h.app.inject({ method: "GET", url: "/healthz" });
    expect(generated.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers 503 (never 202) when the NATS connection is gone", async () => {
    h = await startHarness();
    await h.nc.close();
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody("a"),
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 503, type: "urn:minutes:problem:event-stream-unavailable" });
    // When to try again, as a client that honours it expects.
    expect(res.headers["retry-after"]).toBe("5");
  });

  it("names the job in the log line of an event or command JetStream did not store", async () => {
    h = await startHarness();
    // Its subject carries the id base64url-encoded: searching the log for the job must still find it.
    const jobId = "Sprint Review 2026/11";
    // A stored protocol of another job, so that its publish command gets as far as JetStream.
    const commanded = "Retro 2026/11";
    await Effect.runPromise(
      h.ctx.store.saveProtocol({
        jobId: commanded,
        markdown: "# Retro",
        filename: "retro.md",
        metadata: {},
        contentHash: "h",
        streamSequence: 1,
        occurredAt: new Date().toISOString(),
      }),
    );
    await h.nc.close();
    const event = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody(jobId),
    });
    expect(event.statusCode).toBe(503);
    const command = await h.app.inject({
      method: "POST",
      url: `/api/jobs/${encodeURIComponent(commanded)}/publish-confluence`,
      headers: h.auth,
    });
    expect(command.statusCode).toBe(503);
    const refused = h
      .logs()
      .split("\n")
      .filter((l) => l.includes("JetStream did not acknowledge a publish"))
      .map((l) => JSON.parse(l) as { jobId?: string; subject?: string });
    expect(refused.map((l) => l.jobId)).toEqual([jobId, commanded]);
    expect(refused[0]?.subject).toBe(protocolReadySubject(jobId, h.config.nats.subject_prefix));
    expect(refused[1]?.subject).toBe(publishRequestedSubject(commanded, h.config.nats.subject_prefix));
    for (const line of refused) expect(line.subject).not.toContain("2026/11");
  });

  it("answers 503 when no stream stores the subject, even after looking for missing streams", async () => {
    h = await startHarness();
    // The stream's name is taken by a stream on other subjects: nothing is missing to re-create
    // (a deleted stream would be: see nats-recovery), yet nothing stores the event.
    await h.ctx.jsm.streams.delete(h.ctx.streams.protocol);
    await h.ctx.jsm.streams.add({ name: h.ctx.streams.protocol, subjects: [`other_${unique()}.>`] });
    const res = await h.app.inject({
      method: "POST",
      url: "/api/protocols",
      headers: h.auth,
      payload: protocolBody("a"),
    });
    expect(res.statusCode).toBe(503);
    const js = jetstream(h.nc);
    await expect(js.publish(protocolReadySubject("a", h.config.nats.subject_prefix), "{}")).rejects.toThrow();
  });
});
