import { createHash } from "node:crypto";
import { ProtocolReady, ProtocolReadyJson } from "@minutes/contracts";
import {
  ImportLineError,
  InvalidCursorError,
  InvalidTransitionError,
  PublicationNotFoundError,
  StoreUnavailableError,
} from "@minutes/publication-store";
import { headers } from "@nats-io/transport-node";
import { Effect, Redacted, Schema } from "effect";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { inNextPublishBatch } from "../src/commands.js";
import { MessageTooLargeError, natsMessageBytes, tooLargeFor } from "../src/jetstream-publisher.js";
import { makeApiKeys } from "../src/plugins/auth.js";
import type { HttpProblem } from "../src/problem.js";
import { publishFailureStatus } from "../src/routes/jobs.js";
import { eventIdOf, streamEventOf } from "../src/routes/protocols.js";
import { problemOf, runEffect } from "../src/run-effect.js";

describe("API key check", () => {
  const keys = makeApiKeys([Redacted.make("alpha-key"), Redacted.make(""), Redacted.make("beta-key")]);
  const requestWith = (authorization?: string) =>
    ({ headers: authorization === undefined ? {} : { authorization }, ip: "192.0.2.7" }) as FastifyRequest;
  /** What `requireApiKey` decides: null (let through) or the problem's detail. */
  const verdict = (authorization?: string): string | null => {
    let outcome: string | null | undefined;
    keys.requireApiKey.call(
      {} as FastifyInstance,
      requestWith(authorization),
      {} as FastifyReply,
      undefined as never,
      (error) => {
        outcome = error ? (error as unknown as HttpProblem).detail : null;
      },
    );
    if (outcome === undefined) throw new Error("requireApiKey did not decide");
    return outcome;
  };

  it("accepts exactly the configured keys, ignores empty ones and says why it refuses", () => {
    expect(verdict("Bearer alpha-key")).toBeNull();
    expect(verdict("bearer   beta-key")).toBeNull();
    expect(verdict("Bearer alpha-key x")).toBe("send an API key as 'Authorization: Bearer <key>'");
    expect(verdict("Bearer gamma")).toBe("the API key is not valid");
    expect(verdict("Bearer ")).toBe("send an API key as 'Authorization: Bearer <key>'");
    expect(verdict()).toBe("send an API key as 'Authorization: Bearer <key>'");
    expect(verdict("Basic YWxwaGEta2V5")).toBe("send an API key as 'Authorization: Bearer <key>'");
  });

  it("rate-limits by key for valid keys and by address otherwise, without showing the key", () => {
    const alpha = keys.callerKey(requestWith("Bearer alpha-key"));
    expect(alpha).toMatch(/^key:[0-9a-f]{32}$/);
    expect(alpha).not.toContain("alpha");
    expect(keys.callerKey(requestWith("Bearer beta-key"))).not.toBe(alpha);
    expect(keys.callerKey(requestWith("Bearer made-up"))).toBe("ip:192.0.2.7");
  });

  it("refuses everything, saying why, when no key is configured", () => {
    const none = makeApiKeys([Redacted.make("")]);
    let detail: string | undefined;
    none.requireApiKey.call(
      {} as FastifyInstance,
      requestWith("Bearer "),
      {} as FastifyReply,
      undefined as never,
      (error) => {
        detail = (error as unknown as HttpProblem).detail;
      },
    );
    expect(detail).toBe(
      "no API keys are configured (gateway.api_keys, gateway.admin_api_keys); every request is refused",
    );
  });
});

describe("store failures as problems", () => {
  it("maps each tagged store error to its status", () => {
    expect(problemOf(new PublicationNotFoundError({ id: 3 })).statusCode).toBe(404);
    expect(
      problemOf(new InvalidTransitionError({ id: 3, from: "rejected", to: "publishing" })).statusCode,
    ).toBe(409);
    expect(problemOf(new InvalidCursorError({ cursor: "x" })).statusCode).toBe(400);
    expect(problemOf(new ImportLineError({ line: 2, reason: "bad" })).statusCode).toBe(400);
    const down = problemOf(
      new StoreUnavailableError({ operation: "get", reason: "SQLITE_BUSY: secret path /x" }),
    );
    expect(down.statusCode).toBe(503);
    expect(down.detail).not.toContain("SQLITE");
  });

  it("rejects with the problem for a failure and with the defect for a bug", async () => {
    await expect(runEffect(Effect.fail(new PublicationNotFoundError({ id: 1 })))).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(runEffect(Effect.die(new Error("bug")))).rejects.toThrow("bug");
    await expect(runEffect(Effect.succeed(5))).resolves.toBe(5);
  });
});

describe("publish-now failures as statuses", () => {
  it("answers 422 for a rejection, 409 when state stands in the way and 502 when Confluence refused or failed", () => {
    expect(publishFailureStatus("rejected", "EventRejectedError")).toBe(422);
    expect(publishFailureStatus("rejected", null)).toBe(422);
    // Confluence was never asked, and the same protocol times out again: not Confluence failing.
    expect(publishFailureStatus("failed", "RenderTimeoutError")).toBe(422);
    for (const tag of [
      "ManualEditError",
      "TitleTakenError",
      "PageArchivedError",
      "ConfluenceDisabledError",
      "ProtocolMissingError",
    ]) {
      expect(publishFailureStatus("failed", tag), tag).toBe(409);
    }
    for (const tag of [
      "ConfluenceAuthenticationError",
      "ConfluencePermissionError",
      "ConfluenceNotFoundError",
      "ConfluenceValidationError",
      "ConfluenceServerError",
      "ConfluenceNetworkError",
      "ConfluenceRateLimitedError",
      "SomethingNew",
    ]) {
      expect(publishFailureStatus("failed", tag), tag).toBe(502);
    }
    expect(publishFailureStatus("failed", null)).toBe(502);
  });
});

describe("event ids", () => {
  const decode = Schema.decodeUnknownSync(ProtocolReady);
  const base = { jobId: "j-1", markdown: "# A", filename: "a.md", occurredAt: "2026-01-01T00:00:00Z" };

  it("are stable for the same content and change with any metadata field", () => {
    const id = eventIdOf(decode(base));
    expect(id).toMatch(/^j-1:[0-9a-f]{64}$/);
    expect(eventIdOf(decode({ ...base }))).toBe(id);
    expect(eventIdOf(decode({ ...base, schemaVersion: 1 }))).toBe(id);
    for (const change of [
      { markdown: "# B" },
      { filename: "b.md" },
      { topic: "T" },
      { spaceKey: "S" },
      { parentPageId: "1" },
      { labels: ["x"] },
      { source: "s" },
      { meetingDate: "2026-01-02" },
    ]) {
      expect(eventIdOf(decode({ ...base, ...change }))).not.toBe(id);
    }
  });

  it("stay what earlier releases computed, so resubmissions across a deploy are still duplicates", () => {
    expect(eventIdOf(decode(base))).toBe(
      "j-1:63cf0dc9f57d6714942a7304e906660c58813171bc4aa2b2ba24d80b624e42e3",
    );
    const full = {
      ...base,
      markdown: '# A\n\nZürich "quoted" \\ line',
      topic: "T",
      labels: ["x", "y"],
      spaceKey: "TEAM",
    };
    expect(eventIdOf(decode(full))).toBe(
      "j-1:226733dc00969469e0aab9caa1d7ae02774280ffcd95031e9b41be5aa21c9c1e",
    );
  });
});

describe("the JetStream payload and event id of an event", () => {
  const decode = Schema.decodeUnknownSync(ProtocolReady);
  const encode = Schema.encodeSync(ProtocolReadyJson);
  /** The event id as it was first defined: sha256 over this JSON array. */
  const referenceId = (e: ProtocolReady): string => {
    const content = JSON.stringify([
      e.schemaVersion ?? 1,
      e.markdown,
      e.filename,
      e.meetingDate ?? null,
      e.topic ?? null,
      e.spaceKey ?? null,
      e.parentPageId ?? null,
      e.labels ?? null,
      e.source ?? null,
    ]);
    return `${e.jobId}:${createHash("sha256").update(content, "utf8").digest("hex")}`;
  };
  const minimal = { jobId: "j-1", markdown: "# A", filename: "a.md", occurredAt: "2026-01-01T00:00:00Z" };
  const optional = {
    meetingDate: "2026-01-01",
    topic: 'Weekly "sync" \\ ü',
    spaceKey: "TEAM",
    parentPageId: "42",
    labels: ["x", "y"],
    source: "processor",
  };
  const inputs = [
    minimal,
    { ...minimal, schemaVersion: 1, markdown: '# B\n\n"quoted" \\ Zürich\t\u0001 \u2028' },
    ...Object.entries(optional).map(([k, v]) => ({ ...minimal, [k]: v })),
    { ...minimal, ...optional, unknownField: "dropped" },
  ];

  it.each(inputs)("payload is what the contract's JSON codec encodes, byte for byte (%#)", (input) => {
    const event = decode(input);
    const { payload, eventId } = streamEventOf(event);
    expect(payload).toBe(encode(event));
    expect(eventId).toBe(referenceId(event));
  });
});

describe("publish batches", () => {
  it("start every publish of one turn together, after that turn, and settle each on its own", async () => {
    const started: Array<string> = [];
    // Each publish answers with the publishes started before it settles: all of its batch.
    const publish =
      (name: string, fail = false) =>
      () => {
        started.push(name);
        return Promise.resolve().then(() => {
          if (fail) throw new Error(name);
          return started.join();
        });
      };
    const batch = [
      inNextPublishBatch(publish("a")),
      inNextPublishBatch(publish("b", true)),
      inNextPublishBatch(() => {
        throw new Error("c");
      }),
      inNextPublishBatch(publish("d")),
    ];
    expect(started).toEqual([]);
    const settled = await Promise.allSettled(batch);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value : String(s.reason)))).toEqual([
      "a,b,d",
      "Error: b",
      "Error: c",
      "a,b,d",
    ]);
    await expect(inNextPublishBatch(publish("e"))).resolves.toBe("a,b,d,e");
  });
});

describe("NATS message size", () => {
  it("counts what the server counts against max_payload: the encoded headers and the UTF-8 payload", () => {
    for (const [payload, msgID] of [
      ["{}", "job:abc"],
      ['{"markdown":"Protokoll über Änderungen — 会議"}', "jöb-会議:0123"],
      ["\ud800 lone surrogate", "x"],
    ] as const) {
      const h = headers();
      h.set("Nats-Msg-Id", msgID);
      // What the client sends (`encode` is on the implementation, not on the interface).
      const headerBytes = (h as unknown as { encode(): Uint8Array }).encode().length;
      expect(natsMessageBytes(payload, msgID)).toBe(headerBytes + new TextEncoder().encode(payload).length);
    }
  });

  it("refuses a message over max_payload, to the byte, and nothing when max_payload is unknown", () => {
    const payload = "é".repeat(1_000); // 2 000 bytes in 1 000 UTF-16 units
    const size = natsMessageBytes(payload, "id");
    expect(tooLargeFor(size, payload, "id")).toBeUndefined();
    const refused = tooLargeFor(size - 1, payload, "id");
    expect(refused).toBeInstanceOf(MessageTooLargeError);
    expect(refused).toMatchObject({ size, maxPayload: size - 1 });
    expect(tooLargeFor(undefined, payload, "id")).toBeUndefined();
  });
});
