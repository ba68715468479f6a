/**
 * A request's schema failures as `{ path, message }` issues a client can act on: an unknown field
 * is named (with the field probably meant), a union names every allowed value, a body of another
 * kind is "expected a JSON object", and a value is shown as a short preview. Effect's formatters
 * print whole values, which for a deeply nested one overflows the stack. Only failed requests get
 * here, so walking the issue tree costs the accepted ones nothing.
 */
import { SchemaAST as AST, Option, ParseResult } from "effect";
import type { ProblemIssue } from "./problem.js";

/** How `requestIssues` words what it finds. */
export interface RequestIssueOptions {
  /** What a key the schema does not know is called: `field` in a body, `parameter` in a query. */
  readonly unknownKey: string;
}

/** The issues of a decoding failure, one per path (the first found), in the order Effect found them. */
export const requestIssues = (
  error: ParseResult.ParseError,
  options: RequestIssueOptions,
): Array<ProblemIssue> => {
  const out: Array<ProblemIssue> = [];
  const seen = new Set<string>();
  const push = (path: ReadonlyArray<PropertyKey>, message: string): void => {
    const key = formatPath(path);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ path: key, message });
  };

  const walk = (
    issue: ParseResult.ParseIssue,
    path: ReadonlyArray<PropertyKey>,
    fields: ReadonlyArray<string>,
  ): void => {
    switch (issue._tag) {
      case "Pointer":
        walk(issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])], fields);
        break;
      case "Composite": {
        if (AST.isUnion(issue.ast) && isShallow(issue)) {
          push(path, `expected ${expectedOf(issue.ast)}, got ${preview(issue.actual)}`);
          break;
        }
        const known = AST.isTypeLiteral(issue.ast)
          ? issue.ast.propertySignatures.flatMap((p) => (typeof p.name === "string" ? [p.name] : []))
          : fields;
        for (const sub of Array.isArray(issue.issues) ? issue.issues : [issue.issues]) {
          // The `| undefined` of an optional field is no alternative worth naming.
          if (sub._tag === "Type" && AST.isUndefinedKeyword(sub.ast) && AST.isUnion(issue.ast)) continue;
          walk(sub, path, known);
        }
        break;
      }
      case "Unexpected": {
        const name = path[path.length - 1];
        const meant = typeof name === "string" ? suggestion(name, fields) : undefined;
        push(
          path,
          `unknown ${options.unknownKey}${meant === undefined ? "" : `; did you mean ${JSON.stringify(meant)}?`}`,
        );
        break;
      }
      case "Missing":
        push(path, effectMessage(issue) ?? "is missing");
        break;
      case "Forbidden":
        push(path, issue.message ?? "cannot be decoded here");
        break;
      case "Refinement":
        if (issue.kind === "Predicate" && hasMessage(issue.ast))
          push(path, effectMessage(issue) ?? "is not valid");
        else walk(issue.issue, path, fields);
        break;
      case "Transformation":
        if (issue.kind === "Transformation" && hasMessage(issue.ast))
          push(path, effectMessage(issue) ?? "is not valid");
        else walk(issue.issue, path, fields);
        break;
      case "Type":
        push(path, typeMessage(issue));
        break;
    }
  };

  walk(error.issue, [], []);
  return out;
};

// internal

const hasMessage = (ast: AST.AST): boolean => Option.isSome(AST.getMessageAnnotation(ast));

/** Effect's own message for an issue whose schema words it (a `message` annotation). */
const effectMessage = (issue: ParseResult.ParseIssue): string | undefined =>
  ParseResult.ArrayFormatter.formatIssueSync(issue)[0]?.message;

const typeMessage = (issue: ParseResult.Type): string =>
  (hasMessage(issue.ast) ? effectMessage(issue) : undefined) ??
  issue.message ??
  `expected ${expectedOf(issue.ast)}, got ${preview(issue.actual)}`;

/** A union whose every member failed on the value itself (not inside it): one issue names them all. */
const isShallow = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Type":
      return issue.message === undefined && !hasMessage(issue.ast);
    case "Composite":
      return (
        AST.isUnion(issue.ast) &&
        (Array.isArray(issue.issues) ? issue.issues : [issue.issues]).every((i) => isShallow(i))
      );
    case "Transformation":
      return issue.kind === "Encoded" && isShallow(issue.issue);
    case "Refinement":
      return issue.kind === "From" && isShallow(issue.issue);
    default:
      return false;
  }
};

/** What the client may send for `ast`, in words: `a string`, `"a" or "b"`, `one of "a", "b", "c"`. */
const expectedOf = (ast: AST.AST): string => {
  const alternatives = [...new Set(alternativesOf(ast))];
  if (alternatives.length <= 1) return alternatives[0] ?? "nothing";
  if (alternatives.length === 2) return `${alternatives[0]} or ${alternatives[1]}`;
  return `one of ${alternatives.join(", ")}`;
};

const alternativesOf = (ast: AST.AST): Array<string> => {
  switch (ast._tag) {
    case "Union":
      return ast.types.flatMap(alternativesOf);
    case "Transformation":
      // The wire form is what the client sends.
      return alternativesOf(ast.from);
    case "UndefinedKeyword":
      return [];
    case "Literal":
      return [typeof ast.literal === "bigint" ? String(ast.literal) : JSON.stringify(ast.literal)];
    case "StringKeyword":
      return ["a string"];
    case "NumberKeyword":
      return ["a number"];
    case "BooleanKeyword":
      return ["true or false"];
    case "TypeLiteral":
      return ["a JSON object"];
    case "TupleType":
      return ["an array"];
    case "Refinement": {
      const described = AST.getDescriptionAnnotation(ast).pipe(
        Option.orElse(() => AST.getTitleAnnotation(ast)),
        Option.orElse(() => AST.getIdentifierAnnotation(ast)),
      );
      return Option.isSome(described) ? [described.value] : alternativesOf(ast.from);
    }
    default:
      return [String(ast)];
  }
};

const PREVIEW_CHARACTERS = 40;

/** A short rendering of a received value; never walks into arrays or objects. */
const preview = (value: unknown): string => {
  if (value === undefined) return "nothing";
  if (typeof value === "string") {
    return value.length <= PREVIEW_CHARACTERS
      ? JSON.stringify(value)
      : `${JSON.stringify(value.slice(0, PREVIEW_CHARACTERS))}… (${value.length} characters)`;
  }
  if (value === null || typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
};

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    "",
  );

/** Case, `_` and `-` aside, or one typo (an edit or a swap) away: the known key probably meant. */
const suggestion = (name: string, known: ReadonlyArray<string>): string | undefined => {
  const wanted = normalise(name);
  const same = known.find((k) => normalise(k) === wanted);
  if (same !== undefined || wanted.length < 4 || wanted.length > 64) return same;
  const near = known.filter((k) => editDistanceAtMostOne(normalise(k), wanted));
  return near.length === 1 ? near[0] : undefined;
};

const normalise = (key: string): string => key.toLowerCase().replace(/[-_]/g, "");

/** Whether `a` becomes `b` by at most one insertion, deletion, substitution or adjacent swap. */
const editDistanceAtMostOne = (a: string, b: string): boolean => {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return true;
  const rest = (x: number, y: number) => a.slice(x) === b.slice(y);
  if (a.length === b.length) {
    return rest(i + 1, i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(i + 2, i + 2));
  }
  return a.length > b.length ? rest(i + 1, i) : rest(i, i + 1);
};
