/**
 * Effect Schema as Fastify's validator and serializer. A route declares `routeSchema(S)`: the JSON
 * Schema from contracts' `toJsonSchema` (for OpenAPI) carrying `S` under a hidden symbol, and the
 * compilers decode/encode with `S` itself, so the documented and the enforced shapes cannot drift.
 * Validators return `{ value }` or `{ error }` and never throw.
 */
import { formatParseIssues, type JsonSchemaObject, toJsonSchema } from "@minutes/contracts";
import { Either, Schema } from "effect";
import type { FastifyInstance, FastifySchemaCompiler } from "fastify";
import fp from "fastify-plugin";
import type { ProblemIssue } from "../problem.js";

const EFFECT_SCHEMA = Symbol.for("@minutes/gateway/effect-schema");

type AnySchema = Schema.Schema.AnyNoContext;

/** A JSON Schema for the route (and OpenAPI) that also carries the Effect Schema enforcing it. */
export const routeSchema = <A, I>(schema: Schema.Schema<A, I, never>): JsonSchemaObject => {
  const json: Record<string, unknown> = { ...toJsonSchema(schema) };
  Object.defineProperty(json, EFFECT_SCHEMA, { value: schema, enumerable: false });
  return json;
};

/** The Effect Schema attached by `routeSchema`, if any. */
export const effectSchemaOf = (json: unknown): AnySchema | undefined =>
  typeof json === "object" && json !== null
    ? ((json as { [EFFECT_SCHEMA]?: AnySchema })[EFFECT_SCHEMA] ?? undefined)
    : undefined;

/** A request part that does not decode; the error handler renders `issues` as `errors`. */
export class SchemaValidationError extends Error {
  readonly statusCode = 400;
  readonly code = "FST_ERR_VALIDATION";
  constructor(
    readonly part: string,
    readonly issues: ReadonlyArray<ProblemIssue>,
  ) {
    super(`the request ${part} does not match its schema`);
    this.name = "SchemaValidationError";
  }
}

const partName = (httpPart: string | undefined): string =>
  httpPart === "querystring" ? "query string" : (httpPart ?? "input");

const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const effect = effectSchemaOf(schema);
  if (effect === undefined) {
    return () => ({
      error: new Error(`route schema for ${httpPart ?? "input"} was not built with routeSchema`),
    });
  }
  const decode = Schema.decodeUnknownEither(effect, { errors: "all" });
  return (data: unknown) => {
    const result = decode(data);
    if (Either.isRight(result)) return { value: result.right };
    const prefix = httpPart === "body" ? "" : httpPart === "querystring" ? "query" : (httpPart ?? "");
    const issues = formatParseIssues(result.left).map((i) => ({
      path: prefix && i.path ? `${prefix}.${i.path}` : i.path || prefix,
      message: i.message,
    }));
    return { error: new SchemaValidationError(partName(httpPart), issues) };
  };
};

const serializerCompiler = ({ schema }: { schema: unknown }) => {
  const effect = effectSchemaOf(schema);
  if (effect === undefined) return (data: unknown) => JSON.stringify(data);
  const encode = Schema.encodeUnknownEither(effect);
  // A handler that returns a shape its schema rejects is a bug; the body still goes out as given
  // rather than turning a completed operation into a 500.
  return (data: unknown) => {
    const result = encode(data);
    return JSON.stringify(Either.isRight(result) ? result.right : data);
  };
};

/** Installs the Effect Schema validator and serializer compilers. */
export const schemaCompilerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
  },
  { name: "@minutes/gateway/schema-compiler", fastify: "5.x" },
);
