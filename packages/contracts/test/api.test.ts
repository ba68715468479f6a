import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import * as api from "../src/api.js";
import { ProtocolReady, toJsonSchema } from "../src/index.js";

describe("@minutes/contracts/api", () => {
  it("gives every HTTP body a self-contained JSON Schema for validation and OpenAPI", () => {
    const schemas = Object.entries(api).filter(([, value]) => Schema.isSchema(value));
    // The subpath's bodies, queries and answers: the loop below checks something.
    expect(schemas.length).toBeGreaterThanOrEqual(30);
    for (const [name, value] of schemas) {
      const json = JSON.stringify(toJsonSchema(value as Schema.Schema<unknown, unknown, never>));
      expect(json, name).not.toContain("$ref");
    }
  });

  it("round-trips a replay request as the gateway receives it", () => {
    const wire = { since: "2025-09-01T00:00:00Z", jobIds: ["job-1"], force: true };
    const decoded = Schema.decodeUnknownSync(api.ReplayRequest)(wire);
    expect(Schema.encodeSync(api.ReplayRequest)(decoded)).toEqual(wire);
  });

  it("carries a stalled replay's progress, and its status in the JSON Schema the OpenAPI document shows", () => {
    const wire = {
      id: "3f0c2a1e-7d4b-4c55-9a7e-1b2c3d4e5f60",
      status: "stalled",
      total: 5,
      issued: 2,
      done: 0,
      published: 0,
      skippedUnchanged: 0,
      failed: 0,
      ratePerSecond: null,
      etaSeconds: null,
      startedAt: "2026-11-27T10:00:00.000Z",
      finishedAt: "2026-11-27T11:00:00.000Z",
      since: "2026-11-01T00:00:00.000Z",
      until: "2026-11-27T10:00:00.000Z",
      spaceKey: null,
      force: false,
    } as const;
    expect(Schema.encodeSync(api.ReplayProgress)(Schema.decodeUnknownSync(api.ReplayProgress)(wire))).toEqual(
      wire,
    );
    expect(JSON.stringify(toJsonSchema(api.ReplayProgress))).toContain('"stalled"');
  });

  it("reads publish-now's answers with the original route's fields: success and page_url, or success false and error", () => {
    const result = {
      jobId: "job-42",
      publicationId: 7,
      status: "published",
      outcome: "published",
      pageId: "98765",
      pageUrl: "https://acme.atlassian.net/wiki/spaces/TEAM/pages/98765",
      pageVersion: 3,
      errorTag: null,
      errorMessage: null,
    } as const;
    const ok = { ...result, success: true, publication_id: 7, page_url: result.pageUrl };
    expect(
      Schema.encodeSync(api.PublishCompleted)(Schema.decodeUnknownSync(api.PublishCompleted)(ok)),
    ).toEqual(ok);
    expect(Either.isLeft(Schema.decodeUnknownEither(api.PublishCompleted)({ ...ok, success: false }))).toBe(
      true,
    );
    const failed = {
      type: "urn:minutes:problem:publication-failed",
      title: "Publication failed",
      status: 502,
      detail: 'the publication of job "job-42" failed: ConfluenceServerError: Confluence answered 500',
      success: false,
      error: "Confluence answered 500",
      errorTag: "ConfluenceServerError",
      errorMessage: "Confluence answered 500",
      result: { ...result, status: "failed", outcome: "failed", errorTag: "ConfluenceServerError" },
      publication: null,
    };
    expect(Schema.decodeUnknownSync(api.PublishFailedProblem)(failed)).toEqual(failed);
    // A failure is a problem too: clients that only know problems read it as one.
    expect(Schema.decodeUnknownSync(api.Problem)(failed)).toMatchObject({
      status: 502,
      title: "Publication failed",
    });
  });

  it("takes a cleanup's cutoff and final statuses only: in-progress records are never cleaned up", () => {
    const wire = { before: "2026-01-01T00:00:00Z", statuses: ["failed", "rejected"], dryRun: true };
    const decode = Schema.decodeUnknownEither(api.PublicationCleanupRequest);
    expect(Either.map(decode(wire), Schema.encodeSync(api.PublicationCleanupRequest))).toEqual(
      Either.right(wire),
    );
    for (const status of ["pending", "publishing"])
      expect(Either.isLeft(decode({ ...wire, statuses: [status] })), status).toBe(true);
    expect(Either.isLeft(decode({ ...wire, statuses: [] }))).toBe(true);
    expect(Either.isLeft(decode({ statuses: ["failed"] }))).toBe(true);
  });

  it("reads ids and limits from plain decimal digits only, from 1 to PostgreSQL's integer maximum", () => {
    const id = (text: string) => Schema.decodeUnknownEither(api.PublicationIdParams)({ id: text });
    expect(id("16")).toEqual(Either.right({ id: 16 }));
    expect(id("0016")).toEqual(Either.right({ id: 16 }));
    expect(id("2147483647")).toEqual(Either.right({ id: 2_147_483_647 }));
    for (const loose of ["0x10", " 16", "1e3", "16.0", "+16", "-1", "", "1_000"]) {
      expect(Either.isLeft(id(loose)), loose).toBe(true);
    }
    const message = (text: string) =>
      Either.match(id(text), { onLeft: (e) => e.message, onRight: () => "decoded" });
    expect(message("0x10")).toContain('expected a whole number in decimal digits, got "0x10"');
    expect(message("0")).toContain("expected a number greater than 0");
    expect(message("2147483648")).toContain("is out of range: at most 2147483647");
    expect(message("99999999999999999999999")).toContain("is out of range: at most 2147483647");
    expect(Schema.encodeSync(api.PublicationIdParams)({ id: 16 })).toEqual({ id: "16" });
  });

  it("caps a page at 500 publications with a clear refusal, and documents the default and the maximum", () => {
    const limit = (text: string) =>
      Either.match(Schema.decodeUnknownEither(api.PublicationListQuery)({ limit: text }), {
        onLeft: (e) => e.message,
        onRight: (q) => q.limit,
      });
    expect([limit("1"), limit("50"), limit("500")]).toEqual([1, 50, 500]);
    expect(limit("501")).toContain("is out of range: at most 500");
    expect(limit("1000")).toContain("is out of range: at most 500");
    expect([api.PUBLICATION_LIST_DEFAULT_LIMIT, api.PUBLICATION_LIST_MAX_LIMIT]).toEqual([50, 500]);
    const properties = toJsonSchema(api.PublicationListQuery as Schema.Schema<unknown, unknown, never>)
      .properties as Record<string, { description?: string }>;
    expect(properties.limit?.description).toBe(
      "Publications per page: 1–500 (default 50); a larger limit is refused",
    );
  });

  it("refuses every key of a query or body that takes none, and takes an empty one", () => {
    for (const [name, schema] of [
      ["NoQuery", api.NoQuery],
      ["NoBody", api.NoBody],
    ] as const) {
      const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" });
      expect(decode({}), name).toEqual(Either.right({}));
      const refused = decode({ force: "true", foo: "1" });
      expect(Either.isLeft(refused) && refused.left.message, name).toMatch(
        /\["force"\][\s\S]*is unexpected[\s\S]*\["foo"\]/,
      );
      for (const other of [[], "x", 1, null])
        expect(Either.isLeft(decode(other)), `${name} ${other}`).toBe(true);
      expect(toJsonSchema(schema), name).toMatchObject({
        type: "object",
        properties: {},
        additionalProperties: false,
      });
    }
  });

  it("refuses a window whose until is not after its since, on each query and body that has one", () => {
    const since = "2026-11-02T00:00:00Z";
    for (const [name, schema, extra] of [
      ["PublicationListQuery", api.PublicationListQuery, {}],
      ["StatsQuery", api.StatsQuery, {}],
      ["ReplayRequest", api.ReplayRequest, {}],
    ] as const) {
      const decode = Schema.decodeUnknownEither(schema as Schema.Schema<unknown, unknown, never>);
      expect(Either.isRight(decode({ ...extra, since, until: "2026-11-02T00:00:01Z" })), name).toBe(true);
      expect(Either.isRight(decode({ ...extra, since })), name).toBe(true);
      for (const until of [since, "2026-11-01T00:00:00Z"]) {
        const result = decode({ ...extra, since, until });
        expect(Either.isLeft(result) && result.left.message, name).toContain(
          `must be after since: until ${until} is not after since ${since}`,
        );
      }
    }
  });

  it("documents timestamps as date-time and meeting dates as date", () => {
    const props = (schema: Schema.Schema<unknown, unknown, never>) =>
      toJsonSchema(schema).properties as Record<string, { format?: string }>;
    const protocol = props(ProtocolReady as unknown as Schema.Schema<unknown, unknown, never>);
    expect([protocol.occurredAt?.format, protocol.meetingDate?.format]).toEqual(["date-time", "date"]);
    for (const schema of [api.ReplayRequest, api.StatsQuery, api.PublicationListQuery]) {
      const p = props(schema as Schema.Schema<unknown, unknown, never>);
      expect([p.since?.format, p.until?.format]).toEqual(["date-time", "date-time"]);
    }
  });
});
