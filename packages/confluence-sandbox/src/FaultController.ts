// Decides, per incoming REST request, whether to misbehave: delay, 429, 5xx, reset, hang, or
// a lost answer (the request is processed, then the connection drops before the response).
// Rules are plain JSON so tests in other processes can set them through the admin endpoint;
// randomness comes from a seeded generator so rate-based faults are reproducible.

import type { SandboxMode } from "./SandboxOptions.js";

/** What a fault does to a matching request. */
/**
 * `lostResponse` processes the request normally (the write lands) and then destroys the socket
 * instead of answering: the client sees a network error although the server changed state.
 */
export type FaultKind = "latency" | "rateLimit" | "status" | "reset" | "hang" | "lostResponse";

/**
 * One fault rule. A request matches when `method` (if set) equals its method and `path` (if set)
 * matches its path (a RegExp source, or a plain substring when it has no regex metacharacters).
 * A matching rule fires on the next `times` requests, or with probability `rate` (0..1), or on
 * every request when neither is given.
 */
export interface FaultRule {
  readonly kind: FaultKind;
  readonly method?: string;
  readonly path?: string;
  readonly rate?: number;
  readonly times?: number;
  /** `latency`: delay in ms before the request proceeds normally. */
  readonly latencyMs?: number;
  /** `status`: the status to answer with (500, 502, 503, 504...); `rateLimit` ignores it (429). */
  readonly status?: number;
  /**
   * `rateLimit` (and optionally `status`): the `Retry-After` value as sent, e.g. `2`,
   * `"Wed, 21 Oct 2026 07:28:00 GMT"` or `"9223372036854775807"`. Default `1` for 429.
   */
  readonly retryAfter?: number | string;
  /** Extra response headers, e.g. `{"X-RateLimit-Limit": "0"}`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A rule as stored, with its id and how often it has fired. */
export interface ActiveFault extends FaultRule {
  readonly id: number;
  readonly fired: number;
  readonly remaining: number | null;
}

/** What the sandbox must do with a request after consulting the faults. */
export type FaultDecision =
  | { readonly kind: "none"; readonly latencyMs: number }
  | {
      readonly kind: "status";
      readonly latencyMs: number;
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
    }
  | { readonly kind: "reset" | "hang" | "lostResponse"; readonly latencyMs: number };

/**
 * The sandbox's fault injector. Add rules with {@link FaultController.add}, remove them with
 * {@link FaultController.clear}; the admin endpoint `POST /sandbox/admin/faults` does the same.
 *
 * @example
 * sandbox.faults.add({ kind: "rateLimit", times: 2, retryAfter: 1 });
 * sandbox.faults.add({ kind: "status", status: 503, rate: 0.1, method: "PUT", path: "/pages/" });
 */
export class FaultController {
  private rules: Array<{
    id: number;
    rule: FaultRule;
    regex: RegExp | null;
    fired: number;
    remaining: number | null;
  }> = [];
  private nextId = 1;
  private rng: () => number;

  /** `mode`: whose rate-limit headers a 429 carries (Cloud's by default). */
  constructor(
    seed?: number,
    private readonly mode: SandboxMode = "cloud",
  ) {
    this.rng = mulberry32(seed ?? Date.now());
  }

  /** Adds a rule and returns its id. Throws `TypeError` for an invalid rule. */
  add(rule: FaultRule): number {
    validateRule(rule);
    const id = this.nextId++;
    this.rules.push({
      id,
      rule,
      regex: rule.path === undefined ? null : toRegex(rule.path),
      fired: 0,
      remaining: rule.times ?? null,
    });
    return id;
  }

  /** Removes one rule by id, or every rule when no id is given. */
  clear(id?: number): void {
    this.rules = id === undefined ? [] : this.rules.filter((r) => r.id !== id);
  }

  /** Re-seeds the random generator used by `rate`. */
  seed(seed: number): void {
    this.rng = mulberry32(seed);
  }

  /** The active rules with their counters. */
  list(): ReadonlyArray<ActiveFault> {
    return this.rules.map((r) => ({ ...r.rule, id: r.id, fired: r.fired, remaining: r.remaining }));
  }

  /**
   * Consults the rules for one request and consumes the `times` budget of those that fire.
   * Latency rules add up; the first firing status/reset/hang rule decides the outcome.
   */
  decide(method: string, path: string): FaultDecision {
    let latencyMs = 0;
    let outcome: FaultDecision | null = null;
    for (const r of this.rules) {
      if (r.rule.method !== undefined && r.rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (r.regex !== null && !r.regex.test(path)) continue;
      if (r.remaining !== null && r.remaining <= 0) continue;
      if (r.rule.kind !== "latency" && outcome !== null) continue;
      if (r.rule.rate !== undefined && this.rng() >= r.rule.rate) continue;
      r.fired++;
      if (r.remaining !== null) r.remaining--;
      switch (r.rule.kind) {
        case "latency":
          latencyMs += r.rule.latencyMs ?? 0;
          break;
        case "rateLimit":
          outcome = {
            kind: "status",
            latencyMs: 0,
            status: 429,
            headers: rateLimitHeaders(r.rule, this.mode),
          };
          break;
        case "status": {
          const headers: Record<string, string> = { ...r.rule.headers };
          if (r.rule.retryAfter !== undefined) headers["Retry-After"] = String(r.rule.retryAfter);
          outcome = { kind: "status", latencyMs: 0, status: r.rule.status ?? 500, headers };
          break;
        }
        case "reset":
        case "hang":
        case "lostResponse":
          outcome = { kind: r.rule.kind, latencyMs: 0 };
          break;
      }
    }
    this.rules = this.rules.filter((r) => r.remaining === null || r.remaining > 0);
    return outcome === null ? { kind: "none", latencyMs } : { ...outcome, latencyMs };
  }
}

/**
 * Throws the `TypeError` {@link FaultController.add} would throw for `rule`, adding nothing: lets a
 * caller refuse a list of rules whole instead of leaving the valid ones before a bad one active.
 */
export function validateFaultRule(rule: FaultRule): void {
  validateRule(rule);
}

// internal

const KINDS: ReadonlyArray<FaultKind> = ["latency", "rateLimit", "status", "reset", "hang", "lostResponse"];

function validateRule(rule: FaultRule): void {
  if (typeof rule !== "object" || rule === null || !KINDS.includes(rule.kind)) {
    throw new TypeError(`fault kind must be one of ${KINDS.join(", ")}`);
  }
  if (rule.rate !== undefined && !(typeof rule.rate === "number" && rule.rate >= 0 && rule.rate <= 1)) {
    throw new TypeError("fault rate must be a number between 0 and 1");
  }
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) {
    throw new TypeError("fault times must be a positive integer");
  }
  if (
    rule.status !== undefined &&
    !(Number.isInteger(rule.status) && rule.status >= 400 && rule.status <= 599)
  ) {
    throw new TypeError("fault status must be an HTTP error status (400..599)");
  }
  if (rule.path !== undefined) toRegex(rule.path);
}

function toRegex(path: string): RegExp {
  if (/[\^$*+?()[\]{}|\\]/.test(path)) {
    try {
      return new RegExp(path);
    } catch {
      throw new TypeError(`fault path is not a valid regular expression: ${path}`);
    }
  }
  return new RegExp(path.replace(/[.]/g, "\\."));
}

// The documented rate-limit headers: Cloud's (REST-API.md §8.1), or Data Center's token bucket (§8.2).
function rateLimitHeaders(rule: FaultRule, mode: SandboxMode): Record<string, string> {
  const retryAfter = rule.retryAfter ?? 1;
  if (mode === "datacenter")
    return {
      "Retry-After": String(retryAfter),
      "X-RateLimit-Limit": "20",
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Interval-Seconds": "1",
      "X-RateLimit-FillRate": "10",
      ...rule.headers,
    };
  const seconds = typeof retryAfter === "number" ? retryAfter : Number(retryAfter);
  const resetMs =
    Number.isFinite(seconds) && seconds < 1e9 ? Date.now() + seconds * 1000 : Date.now() + 60_000;
  return {
    "Retry-After": String(retryAfter),
    "X-RateLimit-Limit": "100",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Reset": new Date(resetMs).toISOString(),
    "X-RateLimit-NearLimit": "true",
    "RateLimit-Reason": "confluence-quota-tenant-based",
    ...rule.headers,
  };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
