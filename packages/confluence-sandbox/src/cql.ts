// A CQL subset for `/rest/api/content/search` and `/rest/api/search` (REST-API.md §4.5):
// fields title, space(.key), label, type, ancestor, parent, id, creator, text, created and
// lastmodified; = != ~ !~ < <= > >= IN / NOT IN; AND/OR/NOT, parentheses, ORDER BY.
// Anything else is a 400, as Confluence refuses what it cannot parse.

import { ConfluenceApiError, Exceptions } from "./errors.js";
import { current, type PageRecord, type SpaceRecord } from "./SandboxStore.js";

/** A parsed CQL query. */
export interface CqlQuery {
  readonly where: CqlNode;
  readonly orderBy: ReadonlyArray<{ readonly field: string; readonly desc: boolean }>;
}

/** A node of the CQL expression tree. */
export type CqlNode =
  | { readonly kind: "and" | "or"; readonly left: CqlNode; readonly right: CqlNode }
  | { readonly kind: "not"; readonly node: CqlNode }
  | {
      readonly kind: "clause";
      readonly field: string;
      readonly op: string;
      readonly values: ReadonlyArray<CqlValue>;
    };

/** A literal or a function call (`now("-1d")`, `currentUser()`). */
export type CqlValue =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "fn"; readonly name: string; readonly args: ReadonlyArray<string> };

/** What the evaluator needs from the store. */
export interface CqlContext {
  readonly pages: ReadonlyArray<PageRecord>;
  readonly spaceOf: (p: PageRecord) => SpaceRecord;
  readonly ancestorsOf: (p: PageRecord) => ReadonlyArray<PageRecord>;
  readonly currentUser: string | null;
  readonly now: Date;
}

const FIELDS = [
  "title",
  "space",
  "space.key",
  "label",
  "type",
  "ancestor",
  "parent",
  "id",
  "content",
  "creator",
  "text",
  "created",
  "lastmodified",
];

/** Parses CQL; throws a 400 `ConfluenceApiError` for syntax errors or unsupported fields. */
export function parseCql(cql: string): CqlQuery {
  const tokens = tokenize(cql);
  let i = 0;
  const peek = () => tokens[i];
  const fail = (why: string): never => {
    throw new ConfluenceApiError(400, `Could not parse cql : ${cql} (${why})`, {
      exception: Exceptions.badRequest,
    });
  };
  const isWord = (w: string) => {
    const t = peek();
    return t !== undefined && t.type === "word" && t.text.toLowerCase() === w;
  };
  const value = (): CqlValue => {
    const t = tokens[i++];
    if (t === undefined || (t.type !== "word" && t.type !== "string")) return fail("expected a value");
    if (t.type === "word" && peek()?.text === "(") {
      i++;
      const args: string[] = [];
      while (peek() !== undefined && peek()?.text !== ")") {
        const a = tokens[i++]!;
        if (a.text !== ",") args.push(a.text);
      }
      if (tokens[i++]?.text !== ")") fail("unclosed function call");
      return { kind: "fn", name: t.text.toLowerCase(), args };
    }
    return { kind: "text", text: t.text };
  };
  const clause = (): CqlNode => {
    const f = tokens[i++];
    if (f === undefined || f.type !== "word") return fail("expected a field");
    const field = f.text.toLowerCase();
    if (!FIELDS.includes(field)) {
      throw new ConfluenceApiError(
        400,
        `The field '${f.text}' is not supported in CQL. Supported fields: ${FIELDS.join(", ")}`,
        { exception: Exceptions.badRequest },
      );
    }
    let op: string;
    if (isWord("not")) {
      i++;
      if (!isWord("in")) fail("expected IN after NOT");
      i++;
      op = "not in";
    } else if (isWord("in")) {
      i++;
      op = "in";
    } else {
      const o = tokens[i++];
      if (o === undefined || o.type !== "op") return fail("expected an operator");
      op = o.text;
    }
    if (op === "in" || op === "not in") {
      if (tokens[i++]?.text !== "(") fail("expected ( after IN");
      const values: CqlValue[] = [];
      while (peek() !== undefined && peek()?.text !== ")") {
        if (peek()?.text === ",") {
          i++;
          continue;
        }
        values.push(value());
      }
      if (tokens[i++]?.text !== ")") fail("unclosed IN list");
      return { kind: "clause", field, op, values };
    }
    return { kind: "clause", field, op, values: [value()] };
  };
  const primary = (): CqlNode => {
    if (isWord("not")) {
      i++;
      return { kind: "not", node: primary() };
    }
    if (peek()?.text === "(") {
      i++;
      const node = or();
      if (tokens[i++]?.text !== ")") fail("unbalanced parentheses");
      return node;
    }
    return clause();
  };
  const and = (): CqlNode => {
    let left = primary();
    while (isWord("and")) {
      i++;
      left = { kind: "and", left, right: primary() };
    }
    return left;
  };
  const or = (): CqlNode => {
    let left = and();
    while (isWord("or")) {
      i++;
      left = { kind: "or", left, right: and() };
    }
    return left;
  };
  const where = or();
  const orderBy: Array<{ field: string; desc: boolean }> = [];
  if (isWord("order")) {
    i++;
    if (!isWord("by")) fail("expected BY after ORDER");
    i++;
    do {
      if (peek()?.text === ",") i++;
      const f = tokens[i++];
      if (f === undefined || f.type !== "word") fail("expected an ORDER BY field");
      let desc = false;
      if (isWord("desc") || isWord("asc")) desc = tokens[i++]!.text.toLowerCase() === "desc";
      orderBy.push({ field: f!.text.toLowerCase(), desc });
    } while (peek()?.text === ",");
  }
  if (i < tokens.length) fail(`unexpected '${tokens[i]!.text}'`);
  return { where, orderBy };
}

/** Evaluates a query over the context's pages, in ORDER BY order (default: id). */
export function runCql(query: CqlQuery, ctx: CqlContext): PageRecord[] {
  const hits = ctx.pages.filter((p) => matches(query.where, p, ctx));
  const order = query.orderBy.length === 0 ? [{ field: "id", desc: false }] : query.orderBy;
  return hits.sort((a, b) => {
    for (const o of order) {
      const va = sortValue(o.field, a);
      const vb = sortValue(o.field, b);
      if (va < vb) return o.desc ? 1 : -1;
      if (va > vb) return o.desc ? -1 : 1;
    }
    return 0;
  });
}

// internal

type Token = { type: "word" | "string" | "op" | "punct"; text: string };

function tokenize(cql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < cql.length) {
    const c = cql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      let text = "";
      i++;
      while (i < cql.length && cql[i] !== c) {
        if (cql[i] === "\\" && i + 1 < cql.length) i++;
        text += cql[i];
        i++;
      }
      if (i >= cql.length) {
        throw new ConfluenceApiError(400, `Could not parse cql : ${cql} (unterminated string)`, {
          exception: Exceptions.badRequest,
        });
      }
      i++;
      out.push({ type: "string", text });
    } else if ("(),".includes(c)) {
      out.push({ type: "punct", text: c });
      i++;
    } else if ("=!~<>".includes(c)) {
      const two = cql.slice(i, i + 2);
      if (["!=", "!~", "<=", ">="].includes(two)) {
        out.push({ type: "op", text: two });
        i += 2;
      } else if (c === "!") {
        throw new ConfluenceApiError(400, `Could not parse cql : ${cql}`, {
          exception: Exceptions.badRequest,
        });
      } else {
        out.push({ type: "op", text: c });
        i++;
      }
    } else {
      let text = "";
      while (i < cql.length && !/[\s()=!~<>,"']/.test(cql[i]!)) text += cql[i++];
      out.push({ type: "word", text });
    }
  }
  return out;
}

function matches(node: CqlNode, p: PageRecord, ctx: CqlContext): boolean {
  switch (node.kind) {
    case "and":
      return matches(node.left, p, ctx) && matches(node.right, p, ctx);
    case "or":
      return matches(node.left, p, ctx) || matches(node.right, p, ctx);
    case "not":
      return !matches(node.node, p, ctx);
    case "clause":
      return clauseMatches(node, p, ctx);
  }
}

function clauseMatches(node: Extract<CqlNode, { kind: "clause" }>, p: PageRecord, ctx: CqlContext): boolean {
  const { field, op } = node;
  if (field === "created" || field === "lastmodified") {
    const at = new Date(field === "created" ? p.createdAt : current(p).createdAt);
    return node.values.some((v) => compareDate(at, v, op, ctx.now)) !== (op === "not in");
  }
  const actual = fieldValues(field, p, ctx);
  const texts = node.values.map((v) => valueText(v, ctx));
  switch (op) {
    case "=":
    case "in":
      return texts.some((t) => actual.some((a) => equal(field, a, t)));
    case "!=":
    case "not in":
      return !texts.some((t) => actual.some((a) => equal(field, a, t)));
    case "~":
      return texts.some((t) => actual.some((a) => fuzzy(a, t)));
    case "!~":
      return !texts.some((t) => actual.some((a) => fuzzy(a, t)));
    default:
      throw new ConfluenceApiError(400, `The operator '${op}' is not supported for field '${field}'`, {
        exception: Exceptions.badRequest,
      });
  }
}

function fieldValues(field: string, p: PageRecord, ctx: CqlContext): string[] {
  switch (field) {
    case "title":
      return [current(p).title];
    case "space":
    case "space.key":
      return [ctx.spaceOf(p).key];
    case "label":
      return p.labels.map((l) => l.name);
    case "type":
      return ["page"];
    case "ancestor":
      return ctx.ancestorsOf(p).map((a) => a.id);
    case "parent":
      return p.parentId === null ? [] : [p.parentId];
    case "id":
    case "content":
      return [p.id];
    case "creator":
      return [p.authorId];
    case "text":
      return [`${current(p).title} ${current(p).body.replace(/<[^>]*>/g, " ")}`];
    default:
      return [];
  }
}

function equal(field: string, actual: string, wanted: string): boolean {
  // Space keys and labels compare case-insensitively; titles exactly.
  return field === "title" || field === "id"
    ? actual === wanted
    : actual.toLowerCase() === wanted.toLowerCase();
}

function fuzzy(actual: string, wanted: string): boolean {
  const hay = actual.toLowerCase();
  const words = wanted
    .toLowerCase()
    .split(/[^\p{L}\p{N}*]+/u)
    .filter((w) => w !== "");
  return (
    words.length > 0 &&
    words.every((w) => (w.includes("*") ? new RegExp(w.replace(/\*/g, "\\S*")).test(hay) : hay.includes(w)))
  );
}

function valueText(v: CqlValue, ctx: CqlContext): string {
  if (v.kind === "text") return v.text;
  if (v.name === "currentuser") return ctx.currentUser ?? "";
  return v.args[0] ?? "";
}

function compareDate(at: Date, v: CqlValue, op: string, now: Date): boolean {
  let from: Date;
  let dayOnly = false;
  if (v.kind === "fn") {
    if (v.name !== "now") {
      throw new ConfluenceApiError(400, `The function '${v.name}()' is not supported by this sandbox`, {
        exception: Exceptions.badRequest,
      });
    }
    from = shift(now, v.args[0] ?? "");
  } else {
    const m = /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[ T](\d{2}):(\d{2}))?$/.exec(v.text.trim());
    if (m === null) {
      throw new ConfluenceApiError(
        400,
        `Could not parse date '${v.text}'. Use yyyy-mm-dd or yyyy/mm/dd (hh:mm)`,
        {
          exception: Exceptions.badRequest,
        },
      );
    }
    dayOnly = m[4] === undefined;
    from = new Date(
      Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0)),
    );
  }
  const to = new Date(from.getTime() + (dayOnly ? 86_400_000 : 60_000));
  switch (op) {
    case "=":
    case "in":
    case "not in":
      return at >= from && at < to;
    case "!=":
      return !(at >= from && at < to);
    case "<":
      return at < from;
    case "<=":
      return at < to;
    case ">":
      return at >= to;
    case ">=":
      return at >= from;
    default:
      throw new ConfluenceApiError(400, `The operator '${op}' is not supported for dates`, {
        exception: Exceptions.badRequest,
      });
  }
}

function shift(now: Date, spec: string): Date {
  const m = /^([+-]?\d+)([mhdwy])$/.exec(spec.trim());
  if (m === null) return now;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 }[m[2] as "m"];
  return new Date(now.getTime() + Number(m[1]) * unit);
}

function sortValue(field: string, p: PageRecord): string | number {
  switch (field) {
    case "title":
      return current(p).title.toLowerCase();
    case "created":
      return p.createdAt;
    case "lastmodified":
      return current(p).createdAt;
    default:
      return Number(p.id);
  }
}
