/**
 * JSON Schema from Effect Schemas, for Fastify validation and OpenAPI. `JSONSchema.make` emits
 * `$defs` with `$ref`s that carry sibling keywords (`{"$ref": …, "exclusiveMinimum": 0}`);
 * the refs are inlined by merging the target with those siblings so no keyword is lost.
 */
import { JSONSchema, type Schema } from "effect";

/** A JSON Schema object (draft-07 subset as produced by Effect). */
export type JsonSchemaObject = { readonly [key: string]: unknown };

/** JSON Schema for the encoded (wire) side of `schema`, with every `$ref` inlined. */
export const toJsonSchema = <A, I, R>(schema: Schema.Schema<A, I, R>): JsonSchemaObject => {
  const doc = JSONSchema.make(schema) as unknown as Record<string, unknown>;
  const defs = (doc.$defs ?? {}) as Record<string, unknown>;
  const { $schema: _schema, $defs: _defs, ...root } = doc;
  return inline(root, defs, new Set()) as JsonSchemaObject;
};

// internal

const inline = (node: unknown, defs: Record<string, unknown>, stack: Set<string>): unknown => {
  if (Array.isArray(node)) return node.map((n) => inline(n, defs, stack));
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Record<string, unknown>;
  const ref = obj.$ref;
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const name = decodeURIComponent(ref.slice("#/$defs/".length));
    const { $ref: _ref, ...siblings } = obj;
    if (stack.has(name)) return { ...siblings };
    const target = defs[name];
    const next = new Set(stack).add(name);
    return inline({ ...(target as Record<string, unknown>), ...siblings }, defs, next);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = inline(v, defs, stack);
  return out;
};
