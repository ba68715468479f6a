import { ProtocolReady } from "@minutes/contracts";
import { ReplayRequest } from "@minutes/contracts/api";
import { Schema } from "effect";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { problemsPlugin } from "../src/plugins/problems.js";
import { flatKeysOf, routeSchema, schemaCompilerPlugin } from "../src/plugins/schema-compiler.js";

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An app with one `POST /` route validating its body with `schema`, answering what it decoded. */
const appFor = async <A, I>(schema: Schema.Schema<A, I, never>): Promise<FastifyInstance> => {
  const built = Fastify({ logger: false });
  await built.register(schemaCompilerPlugin);
  await built.register(problemsPlugin);
  built.post("/", { schema: { body: routeSchema(schema) } }, async (request) => ({ decoded: request.body }));
  return built;
};

describe("flatKeysOf", () => {
  it("lists the keys of a flat object schema, through refinements and transformations", () => {
    expect([...(flatKeysOf(ProtocolReady.ast) ?? [])]).toEqual([
      "schemaVersion",
      "jobId",
      "markdown",
      "filename",
      "occurredAt",
      "meetingDate",
      "topic",
      "spaceKey",
      "parentPageId",
      "labels",
      "source",
    ]);
    expect(flatKeysOf(ReplayRequest.ast)).toEqual(
      new Set(["since", "until", "spaceKey", "jobIds", "force", "dryRun"]),
    );
  });

  it("gives none for objects nested in it, records and non-objects, which are always decoded strictly", () => {
    const nested = Schema.Struct({ a: Schema.optional(Schema.Array(Schema.Struct({ b: Schema.String }))) });
    expect(flatKeysOf(nested.ast)).toBeUndefined();
    expect(flatKeysOf(Schema.Record({ key: Schema.String, value: Schema.String }).ast)).toBeUndefined();
    expect(flatKeysOf(Schema.Array(Schema.String).ast)).toBeUndefined();
  });
});

describe("the validator", () => {
  it("refuses unknown keys of flat bodies and of objects nested in a body", async () => {
    app = await appFor(
      Schema.Struct({
        a: Schema.String,
        items: Schema.optional(Schema.Array(Schema.Struct({ b: Schema.String }))),
      }),
    );
    const ok = await app.inject({ method: "POST", url: "/", payload: { a: "x", items: [{ b: "y" }] } });
    expect(ok.json()).toEqual({ decoded: { a: "x", items: [{ b: "y" }] } });
    const nested = await app.inject({
      method: "POST",
      url: "/",
      payload: { a: "x", items: [{ b: "y", B: 1 }] },
    });
    expect(nested.statusCode).toBe(400);
    expect(nested.json().errors).toEqual([
      { path: "items[0].B", message: 'unknown field; did you mean "b"?' },
    ]);
    await app.close();
    app = await appFor(Schema.Struct({ a: Schema.String }));
    const flat = await app.inject({ method: "POST", url: "/", payload: { a: "x", A: 1, c: 2 } });
    expect(flat.json().errors).toEqual([
      { path: "A", message: 'unknown field; did you mean "a"?' },
      { path: "c", message: "unknown field" },
    ]);
  });
});
