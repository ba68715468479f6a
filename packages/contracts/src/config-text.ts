/**
 * Plain-words text for configuration messages: what a schema expects ("a list of strings",
 * `one of "cloud", "datacenter" or null`) and what was found. Values under a secret key (any
 * `Redacted` field) are described by kind only, never shown. Internal to this package: the
 * wording is part of `loadConfig`'s messages, not an API.
 */
import { SchemaAST as AST, Option } from "effect";

/** Found values are quoted up to this many characters (a pasted protocol must not fill a log line). */
const PREVIEW_CHARS = 60;

/**
 * A found value for a message: strings quoted and shortened, without the user name and password
 * of any URL in them (see {@link withoutUrlCredentials}); lists and objects by kind only.
 */
export const preview = (value: unknown): string => {
  if (typeof value === "string") {
    const text = withoutUrlCredentials(value);
    const quoted = JSON.stringify(text);
    return quoted.length <= PREVIEW_CHARS + 2 ? quoted : `${JSON.stringify(text.slice(0, PREVIEW_CHARS))}…`;
  }
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return kindOf(value);
};

/**
 * Text with the user info of every `scheme://user:password@host` in it left out
 * (`tls://u:pw@host:4222` → `tls://host:4222`). Works on text that does not parse as a URL (a
 * value refused for a typo is what messages quote): everything from a `://` to the last `@` before
 * the next `://` goes, so a password holding `@`, `,` or a blank goes too. One pass, no
 * backtracking: a long value costs its length.
 */
export const withoutUrlCredentials = (text: string): string => {
  let out = "";
  let from = 0;
  for (let at = text.indexOf("://"); at !== -1; ) {
    const start = at + 3;
    const next = text.indexOf("://", start);
    const userInfoEnd = text.lastIndexOf("@", (next === -1 ? text.length : next) - 1);
    if (userInfoEnd >= start) {
      out += text.slice(from, start);
      from = userInfoEnd + 1;
    }
    at = next;
  }
  return out + text.slice(from);
};

/**
 * A `nats.url` value (or what was given for it) as messages may show it: without the user name
 * and password or token of any server, with a scheme (see {@link withoutUrlCredentials}) or
 * without one at the start (`u:pw@host:4222` → `host:4222`).
 */
export const withoutNatsCredentials = (text: string): string => {
  const stripped = withoutUrlCredentials(text);
  const firstScheme = stripped.indexOf("://");
  const userInfoEnd = stripped.lastIndexOf("@", (firstScheme === -1 ? stripped.length : firstScheme) - 1);
  return userInfoEnd === -1 ? stripped : stripped.slice(userInfoEnd + 1);
};

/**
 * Annotation of a schema whose values messages must not show although they are no `Redacted`:
 * notification recipients, since a webhook URL carries its secret in the path.
 */
export const ConcealedId: unique symbol = Symbol.for("@minutes/contracts/Concealed");

/** What kind of value this is, without showing it ("a string", "a list", …). */
export const kindOf = (value: unknown): string => {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  switch (typeof value) {
    case "string":
      return value === "" ? "an empty string" : "a string";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "object":
      return "an object";
    default:
      return `a ${typeof value}`;
  }
};

/** What a schema accepts, in plain words. */
export const describeExpected = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "StringKeyword":
      return "a string";
    case "NumberKeyword":
      return "a number";
    case "BooleanKeyword":
      return "true or false";
    case "Literal":
      return ast.literal === null ? "null" : JSON.stringify(ast.literal);
    case "TypeLiteral":
      return "an object";
    case "TupleType":
      return ast.elements.length === 0 && ast.rest.length === 1 && ast.rest[0] !== undefined
        ? `a list of ${plural(ast.rest[0].type)}`
        : "a list";
    case "Union":
      return describeUnion(ast);
    case "Refinement":
      return plainAnnotation(ast) ?? builtInRuleDescription(ast) ?? describeExpected(ast.from);
    case "Transformation":
      return describeExpected(ast.from);
    case "Declaration":
      return ast.typeParameters[0] !== undefined ? describeExpected(ast.typeParameters[0]) : "a value";
    case "Suspend":
      return describeExpected(ast.f());
    default:
      return "a value";
  }
};

/**
 * Whether a value of this schema is a secret: it is, or holds, a `Redacted` or a schema annotated
 * {@link ConcealedId}.
 */
export const holdsSecret = (ast: AST.AST, seen: Set<AST.AST> = new Set()): boolean => {
  if (seen.has(ast)) return false;
  seen.add(ast);
  if (ast.annotations[ConcealedId] === true) return true;
  switch (ast._tag) {
    case "Declaration":
      return isRedacted(ast) || ast.typeParameters.some((t) => holdsSecret(t, seen));
    case "Transformation":
      return holdsSecret(ast.to, seen) || holdsSecret(ast.from, seen);
    case "Refinement":
      return holdsSecret(ast.from, seen);
    case "Union":
      return ast.types.some((t) => holdsSecret(t, seen));
    case "TupleType":
      return (
        ast.elements.some((e) => holdsSecret(e.type, seen)) || ast.rest.some((r) => holdsSecret(r.type, seen))
      );
    case "TypeLiteral":
      return (
        ast.propertySignatures.some((p) => holdsSecret(p.type, seen)) ||
        ast.indexSignatures.some((s) => holdsSecret(s.type, seen))
      );
    case "Suspend":
      return holdsSecret(ast.f(), seen);
    default:
      return false;
  }
};

/** The schema of the key at `path` (`["gateway", "api_keys"]`), or undefined when there is none. */
export const astAtPath = (ast: AST.AST, path: ReadonlyArray<string>): AST.AST | undefined => {
  let current: AST.AST | undefined = ast;
  for (const key of path) {
    current = current === undefined ? undefined : propertyOf(current, key);
  }
  return current;
};

/** Annotation of a refinement with what it accepts in plain words (used where the value is secret). */
export const PlainExpectedId: unique symbol = Symbol.for("@minutes/contracts/PlainExpected");

// internal

const isRedacted = (ast: AST.Declaration): boolean => {
  const made = AST.getTypeConstructorAnnotation(ast);
  return Option.isSome(made) && made.value._tag === "effect/Redacted";
};

const plainAnnotation = (ast: AST.AST): string | undefined => {
  const value = ast.annotations[PlainExpectedId];
  return typeof value === "string" ? value : undefined;
};

/**
 * The description of one of Effect's own rules (`positive()`, `int()`, `maxLength(n)`, …: they
 * carry a schema id), which says the rule in words: "a positive number", not the base type's "a
 * number" that the value may well be. Descriptions of our own rules are written for the API docs,
 * not for an error message, so they are not used.
 */
const builtInRuleDescription = (ast: AST.Refinement): string | undefined => {
  if (Option.isNone(AST.getSchemaIdAnnotation(ast))) return undefined;
  return Option.getOrUndefined(AST.getDescriptionAnnotation(ast));
};

const describeUnion = (ast: AST.Union): string => {
  const members = flattenUnion(ast).filter((m) => m._tag !== "UndefinedKeyword");
  const literals = members.filter((m): m is AST.Literal => m._tag === "Literal" && m.literal !== null);
  const hasNull = members.some((m) => m._tag === "Literal" && m.literal === null);
  const others = members.filter((m) => m._tag !== "Literal");
  const parts: Array<string> = [];
  if (literals.length > 1) parts.push(`one of ${literals.map((l) => JSON.stringify(l.literal)).join(", ")}`);
  else if (literals[0] !== undefined) parts.push(JSON.stringify(literals[0].literal));
  for (const o of others) {
    const text = describeExpected(o);
    if (!parts.includes(text)) parts.push(text);
  }
  if (hasNull) parts.push("null");
  return joinOr(parts);
};

const flattenUnion = (ast: AST.AST): Array<AST.AST> =>
  ast._tag === "Union" ? ast.types.flatMap(flattenUnion) : [ast];

const joinOr = (parts: ReadonlyArray<string>): string =>
  parts.length <= 1 ? (parts[0] ?? "a value") : `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}`;

const plural = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "StringKeyword":
      return "strings";
    case "NumberKeyword":
      return "numbers";
    case "BooleanKeyword":
      return "true/false values";
    case "TypeLiteral":
      return "objects";
    case "Refinement":
      return plural(ast.from);
    case "Transformation":
      return plural(ast.from);
    default:
      return "values";
  }
};

const propertyOf = (ast: AST.AST, key: string): AST.AST | undefined => {
  switch (ast._tag) {
    case "TypeLiteral":
      return ast.propertySignatures.find((p) => p.name === key)?.type;
    case "Refinement":
      return propertyOf(ast.from, key);
    case "Transformation":
      return propertyOf(ast.to, key);
    case "Suspend":
      return propertyOf(ast.f(), key);
    case "Union": {
      for (const member of ast.types) {
        const found = propertyOf(member, key);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    default:
      return undefined;
  }
};
