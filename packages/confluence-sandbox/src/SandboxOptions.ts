// The configuration and user shapes a test or the demo passes to the sandbox.
// Kept free of runtime code so that `index.ts` can re-export the types without pulling in Fastify.

import type { FaultRule } from "./FaultController.js";

/** Which Confluence product the sandbox pretends to be. */
export type SandboxMode = "cloud" | "datacenter";

/**
 * A person or bot that can call the sandbox's REST API.
 *
 * Cloud: HTTP Basic `email:token` (classic token on the site, scoped token only on the gateway).
 * Data Center: `Authorization: Bearer <token>` (a personal access token), or Basic
 * `username:password` (the password is the token unless `password` is given).
 */
export interface SandboxUser {
  /** Cloud account id, e.g. `557058:3f2a...`; on Data Center it doubles as the user key. */
  readonly accountId: string;
  readonly email: string;
  readonly displayName: string;
  /** The API token (Cloud) or personal access token (Data Center). */
  readonly token: string;
  /** Data Center user name (defaults to the part of `email` before `@`). */
  readonly username?: string;
  /**
   * Data Center only: the password Basic auth checks, when it should differ from `token` (as a
   * real user's password differs from their personal access token, so a test can tell which of
   * the two a client sent). Default: `token`. Cloud's Basic auth takes the API token only.
   */
  readonly password?: string;
  /**
   * Cloud only: a scoped API token. It works only through the gateway base
   * (`/ex/confluence/{cloudId}`); on the site it gets a 401 HTML page (REST-API.md §2.1).
   */
  readonly scoped?: boolean;
  /**
   * Cloud scoped tokens only: the granted OAuth scopes. When set, an operation whose
   * `x-atlassian-oauth2-scopes` in the OpenAPI spec asks for a scope not in this list gets
   * `401 {"code":401,"message":"Unauthorized; scope does not match"}` (REST-API.md §2.1).
   */
  readonly scopes?: ReadonlyArray<string>;
}

/** Options for {@link startSandbox} and {@link buildSandboxApp}. */
export interface SandboxOptions {
  readonly mode: SandboxMode;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  readonly host?: string;
  /** Spaces that exist at start (and after a reset); default `[{ key: "MEETINGS" }]`. */
  readonly spaces?: ReadonlyArray<{ readonly key: string; readonly name?: string }>;
  /**
   * Users at start. Default: the bot `minutes-bot@example.com` (the first user is "the" user)
   * and a human `alice@example.com`, each with a random token.
   */
  readonly users?: ReadonlyArray<SandboxUser>;
  /** Delay added to every REST request, in milliseconds. */
  readonly latencyMs?: number;
  /** Persist state to this SQLite file (snapshot on each change) and load it at start. */
  readonly sqliteFile?: string;
  /** Data Center context path, e.g. `/confluence`; default `""`. */
  readonly contextPath?: string;
  /** Cloud id used by the gateway base `/ex/confluence/{cloudId}`; default a fixed UUID. */
  readonly cloudId?: string;
  /** Enable Fastify's request logging; default false. */
  readonly logger?: boolean;
  /**
   * Cloud only: which deprecated v1 endpoints answer `410 Gone` (REST-API.md §1.1).
   * `true` (default): removed everywhere, like Cloud sites in 2026; `"gateway"`: removed only on
   * the gateway (OAuth / scoped tokens), as observed in June 2026; `false`: all v1 still works.
   */
  readonly v1Removed?: boolean | "gateway";
  /** Faults active from the start (see {@link FaultController.add}). */
  readonly faults?: ReadonlyArray<FaultRule>;
  /** Seed for the fault RNG so rate-based faults are reproducible. */
  readonly faultSeed?: number;
  /** Reject storage bodies Confluence Cloud cannot convert to its editor (`<details>`); default true on Cloud. */
  readonly rejectUnconvertible?: boolean;
  /**
   * Apply Cloud's save-time rewrites to stored bodies (STORAGE-FORMAT.md §1.1): macros gain
   * `ac:schema-version` and `ac:macro-id`, `<br/>` becomes `<br />`. Default true on Cloud.
   */
  readonly rewriteStorage?: boolean;
  /**
   * DC only: after this many consecutive failed Basic logins for a user name, Seraph demands a
   * CAPTCHA and answers 403 `X-Seraph-LoginReason: AUTHENTICATION_DENIED` even for the right
   * password (REST-API.md §2.2) until `reset()`. Default 3; 0 disables.
   */
  readonly captchaAfterFailures?: number;
  /**
   * Cloud's page archiving (`POST /wiki/rest/api/content/archive`) depends on the plan: `free`
   * refuses it, `standard` (the default) takes one page per request, `premium` up to 300.
   */
  readonly archivePlan?: "free" | "standard" | "premium";
  /** How long an archive long task runs before its pages are archived (default 0: at once). */
  readonly archiveTaskMs?: number;
}
