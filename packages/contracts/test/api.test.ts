import { Schema } from "effect";
import { describe, expect, it } from "vitest";
import * as api from "../src/api.js";
import { toJsonSchema } from "../src/index.js";

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
});
