import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import * as api from "../src/api.js";
import { ProtocolReady, toJsonSchema } from "../src/index.js";

describe("@minutes/contracts/api", () => {
  it("gives every HTTP body a self-contained JSON Schema for validation and OpenAPI", () => {
    for (const [name, value] of Object.entries(api)) {
      if (!Schema.isSchema(value)) continue;
      const json = JSON.stringify(toJsonSchema(value as Schema.Schema<unknown, unknown, never>));
      expect(json, name).not.toContain("$ref");
    }
  });

  it("round-trips a replay request as the gateway receives it", () => {
    const wire = { since: "2025-09-01T00:00:00Z", jobIds: ["job-1"], force: true };
    const decoded = Schema.decodeUnknownSync(api.ReplayRequest)(wire);
    expect(Schema.encodeSync(api.ReplayRequest)(decoded)).toEqual(wire);
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
