// Validates each request against Atlassian's own OpenAPI documents (Cloud v1 and v2), so a
// client that sends what real Confluence would refuse is refused here too. Operations compile
// lazily with one shared Ajv per spec and purpose (params coerce from strings, bodies don't).

import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

/** The two specs: Cloud v1 (also used for DC v1 shapes) and Cloud v2. */
export type SpecName = "v1" | "v2";

/** The outcome of {@link OpenApiValidator.validate}. */
export type RequestCheck =
  | {
      readonly ok: true;
      readonly query: Record<string, unknown>;
      readonly params: Record<string, unknown>;
      readonly scopes: ReadonlyArray<string>;
    }
  | { readonly ok: false; readonly message: string };

interface CompiledOperation {
  readonly query: ValidateFunction;
  readonly path: ValidateFunction;
  readonly arrays: ReadonlySet<string>;
  readonly body: ValidateFunction | null;
  readonly bodyRequired: boolean;
  readonly scopes: ReadonlyArray<string>;
}

type Json = Record<string, unknown>;

/**
 * Request validation against the OpenAPI operation `method specPath` (for v1 the spec path
 * carries `/wiki/rest/api`, for v2 it is relative to `/wiki/api/v2`).
 */
export class OpenApiValidator {
  private readonly specs = new Map<SpecName, Json>();
  private readonly paramAjv = new Map<SpecName, Ajv>();
  private readonly bodyAjv = new Map<SpecName, Ajv>();
  private readonly compiled = new Map<string, CompiledOperation | null>();

  /** Whether the spec documents this operation. */
  has(spec: SpecName, method: string, specPath: string): boolean {
    return this.operation(spec, method, specPath) !== null;
  }

  /** The spec paths (templates) with the methods documented for each. */
  paths(spec: SpecName): ReadonlyArray<{ readonly path: string; readonly methods: ReadonlyArray<string> }> {
    const paths = this.spec(spec).paths as Record<string, Json>;
    return Object.entries(paths).map(([path, item]) => ({
      path,
      methods: Object.keys(item).filter((k) => HTTP_METHODS.includes(k)),
    }));
  }

  /** Validates path params, query and JSON body; returns coerced params and query. */
  validate(
    spec: SpecName,
    method: string,
    specPath: string,
    input: { params: Record<string, string>; query: Record<string, unknown>; body: unknown },
  ): RequestCheck {
    const op = this.operation(spec, method, specPath);
    if (op === null) return { ok: true, query: { ...input.query }, params: { ...input.params }, scopes: [] };
    const params: Json = { ...input.params };
    if (!op.path(params)) return { ok: false, message: describe(op.path, "path") };
    const query: Json = {};
    for (const [k, v] of Object.entries(input.query)) {
      query[k] = op.arrays.has(k)
        ? Array.isArray(v)
          ? v
          : String(v).split(",")
        : Array.isArray(v)
          ? v[0]
          : v;
    }
    if (!op.query(query)) return { ok: false, message: describe(op.query, "query") };
    if (op.body !== null) {
      if (input.body === undefined || input.body === null) {
        if (op.bodyRequired) return { ok: false, message: "The request body is required" };
      } else if (!op.body(input.body)) {
        return { ok: false, message: describe(op.body, "body") };
      }
    }
    return { ok: true, query, params, scopes: op.scopes };
  }

  private spec(name: SpecName): Json {
    let spec = this.specs.get(name);
    if (spec === undefined) {
      const file = new URL(`../openapi/openapi-${name}.json`, import.meta.url);
      // Atlassian's `oneOf`s overlap (a v2 body `{representation, value}` matches both
      // PageBodyWrite and PageNestedBodyWrite), and Confluence accepts either: read them as `anyOf`.
      spec = JSON.parse(readFileSync(file, "utf8"), (_key, value: unknown) => {
        if (typeof value === "object" && value !== null && !Array.isArray(value) && "oneOf" in value) {
          const { oneOf, ...rest } = value as Json;
          return { ...rest, anyOf: oneOf };
        }
        return value;
      }) as Json;
      this.specs.set(name, spec);
    }
    return spec;
  }

  private ajv(name: SpecName, purpose: "param" | "body"): Ajv {
    const map = purpose === "param" ? this.paramAjv : this.bodyAjv;
    let ajv = map.get(name);
    if (ajv === undefined) {
      ajv = new Ajv({
        strict: false,
        allErrors: true,
        validateSchema: false,
        logger: false,
        ...(purpose === "param" ? { coerceTypes: "array" as const } : {}),
      });
      addFormats(ajv);
      ajv.addFormat("string", true);
      const spec = this.spec(name);
      ajv.addSchema({ components: spec.components }, name);
      map.set(name, ajv);
    }
    return ajv;
  }

  private operation(spec: SpecName, method: string, specPath: string): CompiledOperation | null {
    const cacheKey = `${spec} ${method.toLowerCase()} ${specPath}`;
    if (this.compiled.has(cacheKey)) return this.compiled.get(cacheKey) ?? null;
    const doc = this.spec(spec);
    const item = (doc.paths as Record<string, Json | undefined>)[specPath];
    const op = item?.[method.toLowerCase()] as Json | undefined;
    if (item === undefined || op === undefined) {
      this.compiled.set(cacheKey, null);
      return null;
    }
    const rawParams = [
      ...((item.parameters as Json[] | undefined) ?? []),
      ...((op.parameters as Json[] | undefined) ?? []),
    ];
    const params = rawParams.map((p) => resolve(doc, p));
    const schemaFor = (where: string) => {
      const properties: Json = {};
      const required: string[] = [];
      for (const p of params.filter((x) => x.in === where)) {
        properties[p.name as string] = fixArrayEnum(rewriteRefs(p.schema ?? {}, spec) as Json);
        if (p.required === true) required.push(p.name as string);
      }
      return { type: "object", properties, required };
    };
    const arrays = new Set(
      params
        .filter(
          (p) =>
            p.in === "query" &&
            (resolve(doc, (p.schema as Json | undefined) ?? {}).type as unknown) === "array",
        )
        .map((p) => p.name as string),
    );
    const requestBody = op.requestBody === undefined ? undefined : resolve(doc, op.requestBody as Json);
    const jsonSchema = (requestBody?.content as Record<string, Json> | undefined)?.["application/json"]
      ?.schema;
    // v2 lists scopes in `x-atlassian-oauth2-scopes`, v1 in `security[].oAuthDefinitions`.
    const scopes = [
      ...((op["x-atlassian-oauth2-scopes"] as Json[] | undefined) ?? []).flatMap(
        (s) => (s.scopes as string[] | undefined) ?? [],
      ),
      ...((op.security as Json[] | undefined) ?? []).flatMap(
        (s) => (s.oAuthDefinitions as string[] | undefined) ?? [],
      ),
    ];
    const compiled: CompiledOperation = {
      path: this.ajv(spec, "param").compile(schemaFor("path")),
      query: this.ajv(spec, "param").compile(schemaFor("query")),
      arrays,
      body:
        jsonSchema === undefined
          ? null
          : this.ajv(spec, "body").compile(rewriteRefs(jsonSchema, spec) as Json),
      bodyRequired: requestBody?.required === true,
      scopes,
    };
    this.compiled.set(cacheKey, compiled);
    return compiled;
  }
}

// internal

const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

function resolve(doc: Json, node: Json): Json {
  let current = node;
  for (let i = 0; i < 10 && typeof current.$ref === "string"; i++) {
    const ref = current.$ref as string;
    if (!ref.startsWith("#/")) break;
    let target: unknown = doc;
    for (const part of ref.slice(2).split("/")) {
      target = (target as Json | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    }
    if (typeof target !== "object" || target === null) break;
    current = target as Json;
  }
  return current;
}

function rewriteRefs(node: unknown, spec: SpecName): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, spec));
  if (typeof node !== "object" || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `${spec}${v}` : rewriteRefs(v, spec);
  }
  return out;
}

// Atlassian's v1 spec puts `enum` on array-typed params (e.g. `status`), which no array can satisfy.
function fixArrayEnum(schema: Json): Json {
  if (schema.type === "array" && Array.isArray(schema.enum)) {
    const { enum: values, ...rest } = schema;
    return { ...rest, items: { ...((rest.items as Json | undefined) ?? {}), enum: values } };
  }
  return schema;
}

function describe(validate: ValidateFunction, where: string): string {
  const errors = validate.errors ?? [];
  return errors
    .slice(0, 5)
    .map((e) => {
      const at = e.instancePath === "" ? where : `${where}${e.instancePath.replace(/\//g, ".")}`;
      const extra =
        e.keyword === "enum"
          ? `: ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`
          : e.keyword === "additionalProperties"
            ? `: ${(e.params as { additionalProperty?: string }).additionalProperty}`
            : "";
      return `${at} ${e.message ?? "is invalid"}${extra}`;
    })
    .join("; ");
}
