import { describe, expect, it } from "vitest";
import { ProtocolReady, toJsonSchema } from "../src/index.js";

describe("toJsonSchema", () => {
  it("inlines every $ref so Fastify and OpenAPI see one self-contained schema", () => {
    const schema = toJsonSchema(ProtocolReady);
    const text = JSON.stringify(schema);
    expect(text).not.toContain("$ref");
    expect(text).not.toContain("$defs");
    expect(schema.type).toBe("object");
    expect(schema.required).toEqual(expect.arrayContaining(["jobId", "markdown", "filename", "occurredAt"]));
  });
});
