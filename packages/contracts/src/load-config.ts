/**
 * Layered configuration: defaults < config file (`--config` or `MINUTES_CONFIG`) < environment.
 * Environment variables map onto keys with `__` between levels (`MINUTES_CONFLUENCE__BASE_URL`
 * → `confluence.base_url`); a value is read as the type of that key's default (or, when that
 * default is null, of the key's schema), so a token of digits stays a string. Errors name the key, what was expected and what was found, except that
 * a value under a secret key (any `Redacted` field) is described by its kind, never shown.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SchemaAST as AST, Either, Option, type ParseResult, Schema } from "effect";
import { defaultConfig, MinutesConfig, type MinutesConfigInput } from "./Config.js";
import { astAtPath, describeExpected, holdsSecret, kindOf, preview } from "./config-text.js";

/** One problem in the configuration: the key path and what is wrong with it. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** The configuration could not be read or does not decode. `message` is one line per issue. */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String })),
}) {
  override get message(): string {
    return this.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("\n");
  }
}

/**
 * The command line itself is wrong (an unknown option, `--config` without a file, a stray
 * argument): a usage error (exit code 2), not a configuration that does not decode.
 */
export class ConfigUsageError extends Schema.TaggedError<ConfigUsageError>()("ConfigUsageError", {
  problem: Schema.String,
}) {
  override get message(): string {
    return this.problem;
  }
}

/** What the command line of a Minutes service says. */
export interface ConfigArgs {
  /** The file of `--config <file>` or `--config=<file>`, if given. */
  readonly configFile: string | undefined;
  /** `--help` or `-h` was given. */
  readonly help: boolean;
}

/** The options every Minutes service accepts, for its usage line. */
export const CONFIG_USAGE = "[--config <file>] [--help]";

/** The `--help` text of a Minutes service that reads the configuration. */
export const configHelp = (program: string): string =>
  [
    `Usage: ${program} ${CONFIG_USAGE}`,
    "",
    "Configuration, each layer over the one before: the defaults; the JSON file named by --config",
    "or MINUTES_CONFIG; environment variables MINUTES_<SECTION>__<KEY> (e.g. MINUTES_GATEWAY__PORT)",
    "and NATS_URL, DATABASE_URL, VAULT_FILE, VAULT_PASSWORD, LOG_LEVEL.",
    "",
    "Exit codes: 1 the configuration is not valid or the service cannot start, 2 usage error.",
    "",
  ].join("\n");

/**
 * Parses the command line of a Minutes service: `--config <file>`, `--config=<file>`, `--help`.
 * Anything else fails with a `ConfigUsageError` naming it, so a typo (`--confg`), a bare file
 * name or a `--config` without its file never starts a service on the built-in defaults.
 */
export const parseConfigArgs = (argv: ReadonlyArray<string>): Either.Either<ConfigArgs, ConfigUsageError> => {
  let configFile: string | undefined;
  let help = false;
  const usage = (problem: string) => Either.left(new ConfigUsageError({ problem }));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    let file: string;
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--config") {
      const next = argv[i + 1];
      if (next === undefined || next === "" || next.startsWith("-"))
        return usage("--config needs a file name");
      file = next;
      i++;
    } else if (arg.startsWith("--config=")) {
      file = arg.slice("--config=".length);
      if (file === "") return usage("--config needs a file name");
    } else if (arg.startsWith("-")) {
      const name = arg.split("=")[0] ?? arg;
      return usage(`unknown option ${name}${closeTo(name, "--config") ? " (did you mean --config?)" : ""}`);
    } else {
      return usage(`unexpected argument ${JSON.stringify(arg)} (a config file is given as --config <file>)`);
    }
    if (configFile !== undefined) return usage("--config is given twice");
    configFile = file;
  }
  return Either.right({ configFile, help });
};

/** Where the configuration comes from; everything is optional so tests can pass only what matters. */
export interface LoadConfigOptions {
  /**
   * Command-line arguments: `--config <file>` or `--config=<file>` (`--help` is accepted and
   * ignored); anything else fails with `ConfigUsageError` (see {@link parseConfigArgs}).
   */
  readonly argv?: ReadonlyArray<string>;
  /** Environment variables (pass `process.env` from the app's config module). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Directory a relative config path is resolved against (default: the working directory). The
   * services pass {@link invocationDirectory}.
   */
  readonly cwd?: string;
  /** Values applied over the file and under the environment (e.g. a demo's embedded defaults). */
  readonly overrides?: DeepPartial<MinutesConfigInput>;
}

/** A deep partial of a JSON-like object type. */
export type DeepPartial<T> =
  T extends ReadonlyArray<unknown> ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Environment variables that are read besides the `MINUTES_*` mapping. */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  NATS_URL: "nats.url",
  DATABASE_URL: "database.url",
  VAULT_FILE: "vault.file",
  VAULT_PASSWORD: "vault.password",
  LOG_LEVEL: "logging.level",
};

/**
 * The directory a relative `--config` or `MINUTES_CONFIG` means: where the user typed the
 * command. `pnpm --filter @minutes/gateway start` runs the service inside its package directory
 * and says in `INIT_CWD` where it was started (as `pnpm vault` does for the vault CLI); without
 * it (`node apps/gateway/dist/main.js`, a container) the process's own working directory.
 */
export const invocationDirectory = (
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): string => (env.INIT_CWD !== undefined && env.INIT_CWD !== "" ? env.INIT_CWD : cwd);

/** Prefix of the environment variables mapped onto configuration keys. */
export const ENV_PREFIX = "MINUTES_";

/** The environment variable that sets a key, e.g. `confluence.base_url` → `MINUTES_CONFLUENCE__BASE_URL`. */
export const envVarForKey = (path: string): string => ENV_PREFIX + path.split(".").join("__").toUpperCase();

/**
 * Loads and decodes the configuration.
 * @returns the decoded configuration; a `ConfigUsageError` when `argv` is not a valid command
 * line; else a `ConfigError` naming each bad key.
 */
export const loadConfig = (
  options: LoadConfigOptions = {},
): Either.Either<MinutesConfig, ConfigError | ConfigUsageError> => {
  const env = options.env ?? {};
  const issues: Array<ConfigIssue> = [];
  const origins = new Map<string, string>();

  let merged: Record<string, unknown> = structuredClone(defaultConfig) as unknown as Record<string, unknown>;

  const args = parseConfigArgs(options.argv ?? []);
  if (Either.isLeft(args)) return Either.left(args.left);
  const file = args.right.configFile ?? (env.MINUTES_CONFIG || undefined);
  if (file !== undefined) {
    const path = resolve(options.cwd ?? ".", file);
    const read = readJsonFile(path);
    if (Either.isLeft(read)) return Either.left(new ConfigError({ issues: [read.left] }));
    if (!isPlainObject(read.right)) {
      return Either.left(
        new ConfigError({ issues: [{ path: "", message: `${path}: expected a JSON object` }] }),
      );
    }
    merged = deepMerge(merged, read.right);
    for (const key of keyPaths(read.right)) origins.set(key, path);
  }

  if (options.overrides) merged = deepMerge(merged, options.overrides as Record<string, unknown>);

  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const path = ENV_ALIASES[name] ?? envNameToPath(name);
    if (path === undefined) continue;
    const current = getPath(defaultConfig as unknown as Record<string, unknown>, path);
    if (current === NOT_FOUND) {
      issues.push({ path, message: `unknown configuration key (from environment variable ${name})` });
      continue;
    }
    const value = coerceEnvValue(raw, current, isSecretKey(path), encodedKindsAtPath(path));
    if (Either.isLeft(value)) {
      issues.push({ path, message: `${value.left} (from environment variable ${name})` });
      continue;
    }
    merged = setPath(merged, path, value.right);
    origins.set(path, `environment variable ${name}`);
  }

  const decoded = Schema.decodeUnknownEither(MinutesConfig, { errors: "all", onExcessProperty: "error" })(
    merged,
  );
  if (Either.isRight(decoded) && issues.length === 0) return Either.right(decoded.right);
  // A variable that could not be read left its key as it was: issues of that key would repeat it.
  const reported = new Set(issues.map((i) => i.path));
  const decodeIssues = Either.isLeft(decoded)
    ? formatParseIssues(decoded.left, origins).filter((i) => !reported.has(i.path))
    : [];
  return Either.left(new ConfigError({ issues: [...issues, ...decodeIssues] }));
};

/**
 * Turns a decoding failure of any schema into key-path issues (`a.b[0]: expected …, got …`),
 * one per path. What is expected is said in plain words (`one of "cloud", "datacenter" or
 * null`, `a list of strings`); a value under a `Redacted` field is described by its kind
 * (`got a number`), never shown. `origins` maps a key path, or a prefix of it, to where its
 * value came from.
 */
export const formatParseIssues = (
  error: ParseResult.ParseError,
  origins: ReadonlyMap<string, string> = new Map(),
): Array<ConfigIssue> => {
  const seen = new Set<string>();
  const out: Array<ConfigIssue> = [];
  for (const leaf of leaves(error.issue, [], false)) {
    const path = leaf.path.reduce<string>(
      (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      "",
    );
    if (seen.has(path)) continue;
    seen.add(path);
    const origin = originOf(origins, path);
    out.push({ path, message: leaf.message + (origin ? ` (from ${origin})` : "") });
  }
  return out;
};

// internal

const NOT_FOUND = Symbol("not found");

/** One problem of a decoding failure, before its origin is added. */
interface Leaf {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
}

/**
 * Walks a parse issue down to what is wrong. `secret` is set once the walk is under a
 * `Redacted` value: from there on, found values are described by kind only.
 */
const leaves = (
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>,
  secret: boolean,
): Array<Leaf> => {
  switch (issue._tag) {
    case "Pointer":
      return leaves(
        issue.issue,
        [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])],
        secret,
      );
    case "Unexpected":
      return [{ path, message: "unknown key" }];
    case "Missing":
      return [{ path, message: "is missing" }];
    case "Forbidden":
      return [{ path, message: "cannot be checked synchronously" }];
    case "Composite": {
      const inner = issuesOf(issue);
      if (issue.ast._tag !== "Union") return inner.flatMap((i) => leaves(i, path, secret));
      // A union: the member the value was meant for (it is of that member's type but breaks one
      // of its rules), else every alternative at once (`one of "cloud", "datacenter" or null`).
      const meant = inner.find((i) => !isTypeMismatch(i));
      if (meant !== undefined) return leaves(meant, path, secret);
      return [{ path, message: mismatch(issue.ast, issue.actual, secret || holdsSecret(issue.ast)) }];
    }
    case "Refinement": {
      if (issue.kind === "From") return leaves(issue.issue, path, secret);
      const own = annotationMessage(issue.ast, issue);
      if (own === undefined) return leaves(issue.issue, path, secret);
      return [{ path, message: guard(own, issue.ast, issue.actual, secret) }];
    }
    case "Transformation":
      return leaves(issue.issue, path, secret || isRedactedTransformation(issue.ast));
    case "Type": {
      const underSecret = secret || holdsSecret(issue.ast);
      const own = issue.message ?? annotationMessage(issue.ast, issue);
      const message =
        own !== undefined
          ? guard(own, issue.ast, issue.actual, underSecret)
          : mismatch(issue.ast, issue.actual, underSecret);
      return [{ path, message }];
    }
  }
};

const issuesOf = (issue: ParseResult.Composite): ReadonlyArray<ParseResult.ParseIssue> =>
  Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue];

/** A schema's own `message` annotation for an issue, when it is plain text. */
const annotationMessage = (ast: AST.AST, issue: ParseResult.ParseIssue): string | undefined => {
  const annotation = AST.getMessageAnnotation(ast);
  if (Option.isNone(annotation)) return undefined;
  const result = annotation.value(issue);
  if (typeof result === "string") return result;
  if (
    typeof result === "object" &&
    result !== null &&
    "message" in result &&
    typeof result.message === "string"
  )
    return result.message;
  return undefined;
};

/** `expected <what the schema accepts>, got <the value, or only its kind when it is secret>`. */
const mismatch = (ast: AST.AST, actual: unknown, secret: boolean): string =>
  secret
    ? `expected ${describeExpected(ast)}, got ${kindOf(actual)} (not shown: the key is secret)`
    : `expected ${describeExpected(ast)}, got ${preview(actual)}`;

/**
 * A rule's own message, unless the value is secret and the message would show it or its
 * beginning (as a shortened preview does): then the plain `mismatch` message instead.
 */
const guard = (message: string, ast: AST.AST, actual: unknown, secret: boolean): string => {
  if (!secret) return message;
  const text = typeof actual === "string" ? actual : typeof actual === "number" ? String(actual) : "";
  const head = text.slice(0, 16);
  const shows =
    head !== "" && (message.includes(head) || message.includes(JSON.stringify(head).slice(1, -1)));
  return shows ? mismatch(ast, actual, true) : message;
};

/** The value is not of the schema's type at all (as opposed to breaking one of its rules). */
const isTypeMismatch = (issue: ParseResult.ParseIssue): boolean => {
  switch (issue._tag) {
    case "Type":
      return issue.message === undefined && Option.isNone(AST.getMessageAnnotation(issue.ast));
    case "Refinement":
      return issue.kind === "From" && isTypeMismatch(issue.issue);
    case "Transformation":
      return issue.kind === "Encoded" && isTypeMismatch(issue.issue);
    case "Composite":
      return issue.ast._tag === "Union" && issuesOf(issue).every(isTypeMismatch);
    default:
      return false;
  }
};

const isRedactedTransformation = (ast: AST.Transformation): boolean =>
  ast.to._tag === "Declaration" && holdsSecret(ast.to);

/** Where the value at `path` (or the list or section holding it) came from. */
const originOf = (origins: ReadonlyMap<string, string>, path: string): string | undefined => {
  for (let p = path; p !== ""; p = p.replace(/(\[\d+\]|\.?[^.[]+)$/, "")) {
    const origin = origins.get(p);
    if (origin !== undefined) return origin;
  }
  return undefined;
};

/** Whether the configuration key at a dotted path holds a secret (a `Redacted` value). */
const isSecretKey = (path: string): boolean => {
  const ast = astAtPath(MinutesConfig.ast, path.split("."));
  return ast !== undefined && holdsSecret(ast);
};

/** What a value may be written as, apart from null: the JSON kinds the encoded side of a schema accepts. */
type EncodedKind = "string" | "number" | "boolean" | "other";

/** The kinds the key at a dotted path accepts as written (`publisher.render_threads`: number). */
const encodedKindsAtPath = (path: string): ReadonlySet<EncodedKind> => {
  const ast = astAtPath(MinutesConfig.ast, path.split("."));
  return new Set(ast === undefined ? [] : encodedKinds(ast));
};

const encodedKinds = (ast: AST.AST): Array<EncodedKind> => {
  switch (ast._tag) {
    case "StringKeyword":
    case "TemplateLiteral":
      return ["string"];
    case "NumberKeyword":
      return ["number"];
    case "BooleanKeyword":
      return ["boolean"];
    case "Literal":
      if (ast.literal === null) return [];
      return typeof ast.literal === "string" ||
        typeof ast.literal === "number" ||
        typeof ast.literal === "boolean"
        ? [typeof ast.literal as EncodedKind]
        : ["other"];
    case "Union":
      return ast.types.flatMap(encodedKinds);
    case "Refinement":
    case "Transformation":
      return encodedKinds(ast.from);
    case "Suspend":
      return encodedKinds(ast.f());
    default:
      return ["other"];
  }
};

/** Whether two option names are one typo apart (a changed, missing, extra or swapped character). */
const closeTo = (a: string, b: string): boolean => {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let prev2: Array<number> = [];
  let prev: Array<number> = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row: Array<number> = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return (prev[b.length] ?? 2) <= 1;
};

const readJsonFile = (path: string): Either.Either<unknown, ConfigIssue> => {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return Either.left({
      path: "",
      message: `cannot read config file ${path}: ${code === "ENOENT" ? "no such file" : (code ?? "read error")}`,
    });
  }
  try {
    return Either.right(JSON.parse(text) as unknown);
  } catch {
    // V8's message may quote the text around the mistake, which may be a secret: only the place.
    return Either.left({
      path: "",
      message: `config file ${path} is not valid JSON (${lineAndColumn(text, syntaxErrorOffset(text))})`,
    });
  }
};

/**
 * Where JSON text stops being valid: the longest prefix that is still the start of a valid
 * document, found by bisection (a prefix of a viable prefix is viable).
 */
const syntaxErrorOffset = (text: string): number => {
  const viable = (end: number): boolean => {
    try {
      JSON.parse(text.slice(0, end));
      return true;
    } catch (error) {
      const message = (error as Error).message;
      const at = /at position (\d+)/.exec(message)?.[1];
      return /end of JSON input/.test(message) || (at !== undefined && Number(at) >= end);
    }
  };
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (viable(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
};

const lineAndColumn = (text: string, offset: number): string => {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
};

const envNameToPath = (name: string): string | undefined => {
  if (!name.startsWith(ENV_PREFIX) || name === "MINUTES_CONFIG") return undefined;
  return name
    .slice(ENV_PREFIX.length)
    .split("__")
    .map((s) => s.toLowerCase())
    .join(".");
};

/**
 * Reads an environment value as the type of the key's default. A secret's text is never quoted
 * back, any other as `preview` shows it (shortened, without a URL's user name and password).
 * For a key whose default is null, the type comes from the key's schema (`kinds`): an empty value
 * or `null` (an unset variable in a template) is null; for a key that takes a number and no text
 * (`publisher.render_threads`) a numeral is that number, `true`/`false` for one that takes a boolean;
 * anything else stays text, for the schema to accept or name as wrong.
 */
const coerceEnvValue = (
  raw: string,
  template: unknown,
  secret: boolean,
  kinds: ReadonlySet<EncodedKind>,
): Either.Either<unknown, string> => {
  const got = secret ? `${kindOf(raw)} (not shown: the key is secret)` : preview(raw);
  if (typeof template === "boolean") {
    const v = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return Either.right(true);
    if (["false", "0", "no", "off"].includes(v)) return Either.right(false);
    return Either.left(`expected true or false, got ${got}`);
  }
  if (typeof template === "number") {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n)
      ? Either.right(n)
      : Either.left(`expected a number, got ${got}`);
  }
  if (Array.isArray(template)) {
    const numbers = typeof template[0] === "number";
    const t = raw.trim();
    if (t.startsWith("[")) {
      try {
        return Either.right(JSON.parse(t) as unknown);
      } catch {
        return Either.left(
          `expected a JSON array or a comma-separated list of ${numbers ? "numbers" : "strings"}, got ${secret ? "text starting with [ that is not valid JSON (not shown: the key is secret)" : got}`,
        );
      }
    }
    const items = t === "" ? [] : t.split(",").map((s) => s.trim());
    if (!numbers) return Either.right(items);
    const parsed = items.map((s) => (s === "" ? Number.NaN : Number(s)));
    return parsed.every(Number.isFinite)
      ? Either.right(parsed)
      : Either.left(`expected a comma-separated list of numbers (or a JSON array), got ${got}`);
  }
  if (isPlainObject(template)) {
    try {
      return Either.right(JSON.parse(raw) as unknown);
    } catch {
      return Either.left(`expected a JSON object, got ${got}`);
    }
  }
  if (template === null) {
    const t = raw.trim();
    if (t === "" || t.toLowerCase() === "null") return Either.right(null);
    if (!kinds.has("string")) {
      const n = Number(t);
      if (kinds.has("number") && Number.isFinite(n)) return Either.right(n);
      if (kinds.has("boolean") && (t.toLowerCase() === "true" || t.toLowerCase() === "false"))
        return Either.right(t.toLowerCase() === "true");
    }
  }
  return Either.right(raw);
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const deepMerge = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
};

/** Every key path of an object, sections and leaves (`a`, `a.b`). */
const keyPaths = (obj: Record<string, unknown>, prefix = ""): Array<string> =>
  Object.entries(obj).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return isPlainObject(v) ? [p, ...keyPaths(v, p)] : [p];
  });

const getPath = (obj: Record<string, unknown>, path: string): unknown => {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (!isPlainObject(cur) || !(part in cur)) return NOT_FOUND;
    cur = cur[part];
  }
  return cur;
};

const setPath = (obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> => {
  const [head, ...rest] = path.split(".");
  if (head === undefined) return obj;
  if (rest.length === 0) return { ...obj, [head]: value };
  const child = obj[head];
  return { ...obj, [head]: setPath(isPlainObject(child) ? child : {}, rest.join("."), value) };
};
