/**
 * Effect Schema as Fastify's validator and serializer. A route declares `routeSchema(S)`: the JSON
 * Schema from contracts' `toJsonSchema` (for OpenAPI) carrying `S` under a hidden symbol, and the
 * compilers decode/encode with `S` itself, so the documented and the enforced shapes cannot drift.
 * Keys a schema does not know are refused in bodies and query strings alike (`additionalProperties:
 * false` is what the document says). Validators return `{ value }` or `{ error }` and never throw.
 */
import { type JsonSchemaObject, nulPath, toJsonSchema } from "@minutes/contracts";
import { Either, Schema, SchemaAST } from "effect";
import type { FastifyInstance, FastifySchemaCompiler } from "fastify";
import fp from "fastify-plugin";
import type { ProblemIssue } from "../problem.js";
import { requestIssues } from "../request-issues.js";

const EFFECT_SCHEMA = Symbol.for("@minutes/gateway/effect-schema");

type AnySchema = Schema.Schema.AnyNoContext;

/** A JSON Schema for the route (and OpenAPI) that also carries the Effect Schema enforcing it. */
export const routeSchema = <A, I>(schema: Schema.Schema<A, I, never>): JsonSchemaObject => {
  const json: Record<string, unknown> = { ...toJsonSchema(schema) };
  Object.defineProperty(json, EFFECT_SCHEMA, { value: schema, enumerable: false });
  return json;
};

/**
 * `json` with keys only the OpenAPI document reads (a response's `x-response-description` and
 * `headers`, `examples`), still carrying the Effect Schema `routeSchema` attached: a spread
 * would drop it, and the route would then be neither validated nor serialized with it.
 */
export const documented = (
  json: JsonSchemaObject,
  docs: Readonly<Record<string, unknown>>,
): JsonSchemaObject => {
  const out: Record<string, unknown> = { ...json, ...docs };
  const effect = effectSchemaOf(json);
  if (effect !== undefined) Object.defineProperty(out, EFFECT_SCHEMA, { value: effect, enumerable: false });
  return out;
};

/** The Effect Schema attached by `routeSchema`, if any. */
export const effectSchemaOf = (json: unknown): AnySchema | undefined =>
  typeof json === "object" && json !== null
    ? ((json as { [EFFECT_SCHEMA]?: AnySchema })[EFFECT_SCHEMA] ?? undefined)
    : undefined;

const NUL_MESSAGE = "must not contain the NUL character (U+0000)";

/** What a 400's detail says about each request part Fastify validates. */
const MISMATCH: Readonly<Record<string, string>> = {
  body: "the request body does not match its schema",
  querystring: "the query string does not match its schema",
  params: "the path parameters do not match their schema",
  headers: "the request headers do not match their schema",
};

/** Where a part's issue paths start (a body's fields are named bare). */
const PATH_PREFIX: Readonly<Record<string, string>> = {
  querystring: "query",
  params: "params",
  headers: "headers",
};

/** A request part that does not decode; the error handler renders `issues` as `errors`. */
export class SchemaValidationError extends Error {
  readonly statusCode = 400;
  readonly code = "FST_ERR_VALIDATION";
  constructor(
    /** Fastify's name of the part: `body`, `querystring`, `params` or `headers`. */
    readonly part: string,
    readonly issues: ReadonlyArray<ProblemIssue>,
  ) {
    // The first issue goes into the detail too, for clients that log only the detail.
    const [first] = issues;
    const more = issues.length > 1 ? ` and ${issues.length - 1} more` : "";
    const shown = first ? ` (${first.path ? `${first.path}: ` : ""}${first.message}${more})` : "";
    super(`${MISMATCH[part] ?? `the request ${part} does not match its schema`}${shown}`);
    this.name = "SchemaValidationError";
  }
}

const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const effect = effectSchemaOf(schema);
  if (effect === undefined) {
    return () => ({
      error: new Error(`route schema for ${httpPart ?? "input"} was not built with routeSchema`),
    });
  }
  // Effect's own check for unknown keys doubles the cost of decoding an event (measured: 5 µs to
  // 11–16 µs for a protocol), so a flat object is checked against its keys first, and decoded
  // strictly only when it has another key: the strict decode then names it.
  const keys = flatKeysOf(effect.ast);
  const decode = Schema.decodeUnknownEither(effect, { errors: "all" });
  const decodeStrictly = Schema.decodeUnknownEither(effect, { errors: "all", onExcessProperty: "error" });
  const prefix = PATH_PREFIX[httpPart ?? ""] ?? "";
  const unknownKey = httpPart === "body" ? "field" : "parameter";
  return (data: unknown) => {
    const result = keys !== undefined && !hasOtherKeys(data, keys) ? decode(data) : decodeStrictly(data);
    if (Either.isRight(result)) {
      // Neither database can store or compare text with U+0000: a 400 naming the field, not a
      // database error (a 500, or a 503 that says to try again).
      const nul = nulPath(data);
      if (nul === undefined) return { value: result.right };
      return {
        error: new SchemaValidationError(httpPart ?? "input", [
          { path: prefix && nul ? `${prefix}.${nul}` : nul || prefix, message: NUL_MESSAGE },
        ]),
      };
    }
    let issues: ReadonlyArray<ProblemIssue>;
    try {
      issues = requestIssues(result.left, { unknownKey });
    } catch (error) {
      // Only a message annotation printing a deeply nested value could get here; the value is
      // invalid either way, and a validator must not throw.
      issues = [
        {
          path: "",
          message: error instanceof RangeError ? "is nested too deeply to be checked" : "is not valid",
        },
      ];
    }
    return {
      error: new SchemaValidationError(
        httpPart ?? "input",
        issues.map((i) => ({
          path: prefix && i.path ? `${prefix}.${i.path}` : i.path || prefix,
          message: i.message,
        })),
      ),
    };
  };
};

/**
 * The keys of the objects `ast` accepts (its wire side), when they are all it accepts and no value
 * in them is an object with keys of its own; otherwise undefined (every input is decoded strictly).
 */
export const flatKeysOf = (ast: SchemaAST.AST): ReadonlySet<string> | undefined => {
  if (SchemaAST.isTransformation(ast) || SchemaAST.isRefinement(ast)) return flatKeysOf(ast.from);
  if (!SchemaAST.isTypeLiteral(ast) || ast.indexSignatures.length > 0) return undefined;
  const keys = new Set<string>();
  for (const property of ast.propertySignatures) {
    if (typeof property.name !== "string" || mayHoldObject(property.type)) return undefined;
    keys.add(property.name);
  }
  return keys;
};

/** Whether a value of `ast` may be an object whose keys the strict decode would check. */
const mayHoldObject = (ast: SchemaAST.AST): boolean => {
  switch (ast._tag) {
    case "Union":
      return ast.types.some(mayHoldObject);
    case "TupleType":
      return [...ast.elements.map((e) => e.type), ...ast.rest.map((r) => r.type)].some(mayHoldObject);
    case "Refinement":
      return mayHoldObject(ast.from);
    case "Transformation":
      return mayHoldObject(ast.from) || mayHoldObject(ast.to);
    case "Literal":
    case "UniqueSymbol":
    case "UndefinedKeyword":
    case "VoidKeyword":
    case "NeverKeyword":
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "BigIntKeyword":
    case "SymbolKeyword":
    case "TemplateLiteral":
    case "Enums":
      return false;
    default:
      return true;
  }
};

/** Whether `data` is an object with a key outside `keys` (for...in: no array is allocated). */
const hasOtherKeys = (data: unknown, keys: ReadonlySet<string>): boolean => {
  if (typeof data !== "object" || data === null) return false;
  for (const key in data) if (!keys.has(key)) return true;
  return false;
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
