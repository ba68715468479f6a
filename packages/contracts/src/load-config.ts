/**
 * Layered configuration: defaults < config file (`--config` or `MINUTES_CONFIG`) < environment.
 * Environment variables map onto keys with `__` between levels (`MINUTES_CONFLUENCE__BASE_URL`
 * → `confluence.base_url`); a value is read as the type of that key's default, so a token of
 * digits stays a string. Errors name the key, what was expected and what was found.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Either, ParseResult, Schema } from "effect";
import { defaultConfig, MinutesConfig, type MinutesConfigInput } from "./Config.js";

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

/** Where the configuration comes from; everything is optional so tests can pass only what matters. */
export interface LoadConfigOptions {
  /** Command-line arguments (`--config <file>` or `--config=<file>` is honoured). */
  readonly argv?: ReadonlyArray<string>;
  /** Environment variables (pass `process.env` from the app's config module). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory a relative config path is resolved against. */
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

/** Prefix of the environment variables mapped onto configuration keys. */
export const ENV_PREFIX = "MINUTES_";

/** The environment variable that sets a key, e.g. `confluence.base_url` → `MINUTES_CONFLUENCE__BASE_URL`. */
export const envVarForKey = (path: string): string => ENV_PREFIX + path.split(".").join("__").toUpperCase();

/**
 * Loads and decodes the configuration.
 * @returns the decoded configuration, or a `ConfigError` naming each bad key.
 */
export const loadConfig = (options: LoadConfigOptions = {}): Either.Either<MinutesConfig, ConfigError> => {
  const env = options.env ?? {};
  const issues: Array<ConfigIssue> = [];
  const origins = new Map<string, string>();

  let merged: Record<string, unknown> = structuredClone(defaultConfig) as unknown as Record<string, unknown>;

  const file = configFileFrom(options.argv ?? [], env);
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
    for (const key of leafPaths(read.right)) origins.set(key, path);
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
    const value = coerceEnvValue(raw, current);
    if (Either.isLeft(value)) {
      issues.push({ path, message: `${value.left} (from environment variable ${name})` });
      continue;
    }
    merged = setPath(merged, path, value.right);
    origins.set(path, `environment variable ${name}`);
  }
  if (issues.length > 0) return Either.left(new ConfigError({ issues }));

  const decoded = Schema.decodeUnknownEither(MinutesConfig, { errors: "all", onExcessProperty: "error" })(
    merged,
  );
  if (Either.isRight(decoded)) return Either.right(decoded.right);
  return Either.left(new ConfigError({ issues: formatParseIssues(decoded.left, origins) }));
};

/** Turns a decoding failure of any schema into key-path issues (`a.b[0]: expected …, got …`). */
export const formatParseIssues = (
  error: ParseResult.ParseError,
  origins: ReadonlyMap<string, string> = new Map(),
): Array<ConfigIssue> => {
  const seen = new Set<string>();
  const out: Array<ConfigIssue> = [];
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const path = issue.path.reduce<string>(
      (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      "",
    );
    if (seen.has(path) || issue.message.startsWith("Expected undefined")) continue;
    seen.add(path);
    const origin = origins.get(path);
    out.push({ path, message: humanise(issue) + (origin ? ` (from ${origin})` : "") });
  }
  return out;
};

// internal

const NOT_FOUND = Symbol("not found");

const humanise = (issue: ParseResult.ArrayFormatterIssue): string => {
  if (issue._tag === "Unexpected") return "unknown key";
  if (issue._tag === "Missing") return "is missing";
  const m = /^Expected (.*), actual (.*)$/s.exec(issue.message);
  return m ? `expected ${m[1]}, got ${m[2]}` : issue.message;
};

const configFileFrom = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined => {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--config") return argv[i + 1];
    if (arg?.startsWith("--config=")) return arg.slice("--config=".length);
  }
  return env.MINUTES_CONFIG || undefined;
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
  } catch (cause) {
    return Either.left({
      path: "",
      message: `config file ${path} is not valid JSON: ${(cause as Error).message}`,
    });
  }
};

const envNameToPath = (name: string): string | undefined => {
  if (!name.startsWith(ENV_PREFIX) || name === "MINUTES_CONFIG") return undefined;
  return name
    .slice(ENV_PREFIX.length)
    .split("__")
    .map((s) => s.toLowerCase())
    .join(".");
};

const coerceEnvValue = (raw: string, template: unknown): Either.Either<unknown, string> => {
  if (typeof template === "boolean") {
    const v = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return Either.right(true);
    if (["false", "0", "no", "off"].includes(v)) return Either.right(false);
    return Either.left(`expected true or false, got ${JSON.stringify(raw)}`);
  }
  if (typeof template === "number") {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n)
      ? Either.right(n)
      : Either.left(`expected a number, got ${JSON.stringify(raw)}`);
  }
  if (Array.isArray(template)) {
    const t = raw.trim();
    if (t.startsWith("[")) {
      try {
        return Either.right(JSON.parse(t) as unknown);
      } catch {
        return Either.left(`expected a JSON array or a comma-separated list, got ${JSON.stringify(raw)}`);
      }
    }
    const items = t === "" ? [] : t.split(",").map((s) => s.trim());
    return Either.right(typeof template[0] === "number" ? items.map(Number) : items);
  }
  if (isPlainObject(template)) {
    try {
      return Either.right(JSON.parse(raw) as unknown);
    } catch {
      return Either.left(`expected a JSON object, got ${JSON.stringify(raw)}`);
    }
  }
  if (template === null && raw.trim().toLowerCase() === "null") return Either.right(null);
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

const leafPaths = (obj: Record<string, unknown>, prefix = ""): Array<string> =>
  Object.entries(obj).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return isPlainObject(v) ? leafPaths(v, p) : [p];
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
