// Builds the sandbox's Fastify app: fault and auth hooks, OpenAPI validation, the Confluence
// error envelopes and every route module. `startSandbox` adds listening and persistence on top;
// tests that only need `app.inject` can use this directly.

import { randomBytes, randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { ConfluenceApiError, Exceptions, reasonPhrase, v1ErrorBody, v2ErrorBody } from "./errors.js";
import { FaultController } from "./FaultController.js";
import { apiOfMountedPath, callOf, isInsideMount, metaOf, setCall } from "./mount.js";
import { OpenApiValidator } from "./OpenApiValidator.js";
import { registerAdminRoutes } from "./routes/admin.js";
import { registerV1Routes } from "./routes/v1.js";
import { registerV2Routes } from "./routes/v2.js";
import { HTML_CONTENT_SECURITY_POLICY, isViewRoute, registerViewRoutes } from "./routes/view.js";
import type { CallInfo, ResolvedOptions, SandboxContext } from "./SandboxContext.js";
import type { SandboxOptions, SandboxUser } from "./SandboxOptions.js";
import { SandboxStore } from "./SandboxStore.js";

/** What {@link buildSandboxApp} returns: the app plus handles `startSandbox` builds on. */
export interface SandboxApp {
  readonly app: FastifyInstance;
  readonly store: SandboxStore;
  readonly faults: FaultController;
  readonly options: ResolvedOptions;
  /** Adds a user (missing fields generated) and returns it. */
  addUser(user: Partial<SandboxUser>): SandboxUser;
  /**
   * Makes a token stop working (as if revoked in the Atlassian account): Cloud's API token, Data
   * Center's personal access token. A Data Center user's password (Basic auth) keeps working.
   */
  revokeToken(token: string): void;
  /** Back to the initial spaces and users (tokens kept); faults cleared. */
  reset(): void;
  /** Destroys hung connections (fault `hang`) so `app.close()` can finish. */
  releaseHung(): void;
}

/** The default Cloud id of the gateway base `/ex/confluence/{cloudId}`. */
export const DEFAULT_CLOUD_ID = "a436116f-02ce-4520-8fbb-7301462a1674";

// The validator only reads the specs; one instance serves every sandbox in the process.
const sharedValidator = new OpenApiValidator();

/**
 * Builds the sandbox app without listening. Use `app.inject(...)` in tests, or
 * {@link startSandbox} for a real HTTP server.
 */
export function buildSandboxApp(options: SandboxOptions): SandboxApp {
  const isCloud = options.mode === "cloud";
  const contextPath = isCloud ? "" : normaliseContextPath(options.contextPath ?? "");
  const resolved: ResolvedOptions = {
    mode: options.mode,
    contextPath,
    cloudId: options.cloudId ?? DEFAULT_CLOUD_ID,
    latencyMs: options.latencyMs ?? 0,
    v1Removed: isCloud ? (options.v1Removed ?? true) : false,
    rejectUnconvertible: options.rejectUnconvertible ?? isCloud,
    rewriteStorage: options.rewriteStorage ?? isCloud,
    captchaAfterFailures: isCloud ? 0 : (options.captchaAfterFailures ?? 3),
    archivePlan: options.archivePlan ?? "standard",
    archiveTaskMs: options.archiveTaskMs ?? 0,
    spaces: (options.spaces ?? [{ key: "MEETINGS" }]).map((s) => ({
      key: s.key,
      name: s.name ?? titleCase(s.key),
    })),
  };
  const store = new SandboxStore();
  const faults = new FaultController(options.faultSeed, resolved.mode);
  for (const rule of options.faults ?? []) faults.add(rule);
  const ctx: SandboxContext = {
    options: resolved,
    store,
    faults,
    validator: sharedValidator,
    now: () => new Date().toISOString(),
    isCloud,
    failedLogins: new Map(),
  };

  const initialUsers = (options.users ?? defaultUsers()).map((u) => completeUser(u));
  const seed = () => {
    store.restore({ format: 1, nextId: 65_537, spaces: [], pages: [], users: initialUsers, purged: [] });
    const owner = initialUsers[0]?.accountId ?? "system";
    for (const s of resolved.spaces) store.createSpace(s.key, s.name, owner, ctx.now());
  };
  seed();

  const app = Fastify({
    logger: options.logger === true,
    forceCloseConnections: true,
    bodyLimit: isCloud ? 5_242_880 : 50 * 1024 * 1024,
    // Confluence ids are long; Fastify's default 100-char param limit is fine, but keep paths exact.
    routerOptions: { ignoreTrailingSlash: true },
  });
  const hung = new Set<Socket>();
  const lostResponses = new WeakSet<FastifyRequest>();

  // Fault `lostResponse`: the handler ran (state changed); the answer never reaches the client.
  app.addHook("onSend", async (req, _reply, payload) => {
    if (lostResponses.has(req)) req.raw.socket.destroy();
    return payload;
  });

  // Every HTML answer (the page view, the index, Tomcat's pages) gets the policy: defence in depth.
  app.addHook("onSend", async (_req, reply, payload) => {
    if (String(reply.getHeader("content-type") ?? "").startsWith("text/html"))
      reply.header("content-security-policy", HTML_CONTENT_SECURITY_POLICY);
    return payload;
  });

  app.addHook("onRequest", async (req, reply) => {
    // Pages for people (`/sandbox`, and the webui links that redirect there) are not the REST API.
    if (req.url.startsWith("/sandbox") || isViewRoute(req)) return;
    const decision = faults.decide(req.method, req.url.split("?")[0] ?? req.url);
    const delay = resolved.latencyMs + decision.latencyMs;
    if (delay > 0) await sleep(delay);
    if (decision.kind === "reset") {
      reply.hijack();
      req.raw.socket.destroy();
      return reply;
    }
    if (decision.kind === "lostResponse") lostResponses.add(req);
    if (decision.kind === "hang") {
      reply.hijack();
      hung.add(req.raw.socket);
      req.raw.socket.once("close", () => hung.delete(req.raw.socket));
      return reply;
    }
    if (decision.kind === "status") {
      const api = apiOfPath(req.url);
      const message =
        decision.status === 429 ? "Rate limit exceeded" : `Sandbox fault: ${reasonPhrase(decision.status)}`;
      reply.code(decision.status).headers(decision.headers);
      return reply.send(
        api === "v2" ? v2ErrorBody(decision.status, message) : v1ErrorBody(decision.status, message),
      );
    }
    const meta = metaOf(req);
    if (meta === undefined) return;
    return authenticate(ctx, req, reply, meta);
  });

  app.addHook("preHandler", async (req, reply) => {
    const meta = metaOf(req);
    if (meta === undefined) return;
    const call = callOf(req);
    if (call === undefined) return;
    // REST-API.md §1.1: removed v1 endpoints answer 410 with GoneException.
    if (
      meta.removed &&
      (resolved.v1Removed === true || (resolved.v1Removed === "gateway" && meta.via === "gateway"))
    ) {
      throw new ConfluenceApiError(410, "This deprecated endpoint has been removed.", {
        exception: Exceptions.gone,
      });
    }
    const fastifyParams = req.params as Record<string, string>;
    const specParams: Record<string, string> = {};
    for (const [from, to] of meta.paramNames) specParams[to] = fastifyParams[from] ?? "";
    const check = ctx.validator.validate(meta.specName, req.method, meta.spec, {
      params: specParams,
      query: req.query as Record<string, unknown>,
      body: req.body,
    });
    if (!check.ok) throw new ConfluenceApiError(400, check.message, { exception: Exceptions.badRequest });
    const expand = check.query.expand;
    if (isCloud && meta.api === "v1" && expand !== undefined) {
      // REST-API.md §9: Cloud v1 allows at most 8 expansions per request.
      const list = Array.isArray(expand) ? expand.map(String) : String(expand).split(",");
      const count = list.filter((e) => e.trim() !== "").length;
      if (count > 8) {
        throw new ConfluenceApiError(400, `Too many expansions: ${count} requested, at most 8 are allowed`, {
          exception: Exceptions.badRequest,
        });
      }
    }
    if (isCloud && meta.removed) {
      // REST-API.md §1.1: deprecated v1 endpoints that still answer carry these headers.
      reply.header("deprecation", "Wed, 1 Mar 2023 00:00:00 GMT");
      reply.header("warning", '299 - "Deprecated API, will be removed on Mon, 31 Mar 2025 00:00:00 GMT"');
    }
    call.query = check.query;
    call.params = Object.fromEntries(meta.paramNames.map(([from, to]) => [from, check.params[to]]));
    const user = call.user;
    if (
      meta.via === "gateway" &&
      user?.scopes !== undefined &&
      !check.scopes.every((s) => user.scopes?.includes(s))
    ) {
      // REST-API.md §2.1: a request outside the token's scopes.
      reply.code(401);
      return reply.send({ code: 401, message: "Unauthorized; scope does not match" });
    }
    if (user === null && !meta.anonymous) {
      // DC treats a wrong PAT as anonymous (REST-API.md §2.2); anonymous sees nothing here.
      if (meta.list && req.method === "GET") {
        return reply.send({ results: [], start: 0, limit: 25, size: 0, _links: {} });
      }
      if (req.method === "GET")
        throw new ConfluenceApiError(404, "No content found or not permitted to view");
      throw new ConfluenceApiError(403, "User not permitted to use Confluence");
    }
    return undefined;
  });

  app.setErrorHandler((error: unknown, req, reply) => {
    const api = metaOf(req)?.api ?? apiOfPath(req.url);
    if (error instanceof ConfluenceApiError) {
      reply.code(error.status).headers(error.headers);
      if (error.rawBody !== undefined) return reply.send(error.rawBody);
      if (api === "v2") return reply.send(v2ErrorBody(error.status, error.message));
      const message =
        isCloud && error.exception !== undefined ? `${error.exception}: ${error.message}` : error.message;
      return reply.send(v1ErrorBody(error.status, message));
    }
    const fastifyError = error as { statusCode?: number; message?: string; code?: string };
    const status = typeof fastifyError.statusCode === "number" ? fastifyError.statusCode : 500;
    let message = status >= 500 ? "Internal Server Error" : (fastifyError.message ?? reasonPhrase(status));
    if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      message = `Requests for this resource can be at most ${isCloud ? 5_242_880 : 50 * 1024 * 1024} bytes`;
    }
    if (status >= 500) req.log.error(error);
    reply.code(status);
    return reply.send(api === "v2" ? v2ErrorBody(status, message) : v1ErrorBody(status, message));
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0] ?? req.url;
    if (!isInsideMount(ctx, path)) {
      // Outside the web application (DC context path, Cloud `/wiki`): Tomcat or the edge answers,
      // not Confluence, so no REST envelope and no 405 however API-like the path looks.
      reply.code(404).type("text/html;charset=utf-8");
      return reply.send(TOMCAT_404);
    }
    const located = apiOfMountedPath(ctx, path);
    if (located !== undefined && isKnownApiPath(ctx, located.api, located.rel)) {
      reply.code(405);
      return reply.send(
        located.api === "v2"
          ? v2ErrorBody(405, "Method Not Allowed")
          : v1ErrorBody(405, `Method ${req.method} not allowed`),
      );
    }
    reply.code(404);
    if (located?.api === "v2") return reply.send(v2ErrorBody(404, "Not Found"));
    if (located?.api === "v1")
      return reply.send(v1ErrorBody(404, `null for uri: ${req.protocol}://${req.host}${req.url}`));
    return reply
      .type("text/html; charset=utf-8")
      .send("<!doctype html><title>404</title><h1>Page Not Found</h1>");
  });

  registerV2Routes(app, ctx);
  registerV1Routes(app, ctx);
  registerAdminRoutes(app, ctx, {
    addUser: (u) => addUser(u),
    revokeToken: (t) => revokeToken(t),
    reset: () => reset(),
  });
  registerViewRoutes(app, ctx);

  const addUser = (u: Partial<SandboxUser>): SandboxUser => {
    const user = completeUser(u);
    if (
      store.userList.some((x) => x.email.toLowerCase() === user.email.toLowerCase() || x.token === user.token)
    ) {
      throw new TypeError(`a user with email ${user.email} or the same token already exists`);
    }
    store.userList.push(user);
    store.changed();
    return user;
  };
  const revokeToken = (token: string): void => {
    store.revokedTokens.add(token);
    store.changed();
  };
  const reset = (): void => {
    seed();
    ctx.failedLogins.clear();
    faults.clear();
    store.changed();
  };

  return {
    app,
    store,
    faults,
    options: resolved,
    addUser,
    revokeToken,
    reset,
    releaseHung: () => {
      for (const s of hung) s.destroy();
      hung.clear();
    },
  };
}

// internal

function defaultUsers(): SandboxUser[] {
  return [
    { accountId: "", email: "minutes-bot@example.com", displayName: "Minutes Bot", token: "" },
    { accountId: "", email: "alice@example.com", displayName: "Alice Example", token: "" },
  ];
}

function completeUser(u: Partial<SandboxUser>): SandboxUser {
  const email = u.email ?? `user-${randomBytes(3).toString("hex")}@example.com`;
  return {
    accountId: u.accountId === undefined || u.accountId === "" ? `557058:${randomUUID()}` : u.accountId,
    email,
    displayName: u.displayName ?? email.split("@")[0] ?? email,
    token:
      u.token === undefined || u.token === "" ? `ATATT3x${randomBytes(24).toString("base64url")}` : u.token,
    username: u.username ?? email.split("@")[0] ?? email,
    ...(u.password === undefined ? {} : { password: u.password }),
    ...(u.scoped === undefined ? {} : { scoped: u.scoped }),
    ...(u.scopes === undefined ? {} : { scopes: u.scopes }),
  };
}

function normaliseContextPath(p: string): string {
  if (p === "" || p === "/") return "";
  return `/${p.replace(/^\/+|\/+$/g, "")}`;
}

function titleCase(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1).toLowerCase();
}

function apiOfPath(url: string): "v1" | "v2" | "other" {
  if (/\/api\/v2(\/|$|\?)/.test(url)) return "v2";
  if (/\/rest\/api(\/|$|\?)/.test(url)) return "v1";
  return "other";
}

/**
 * Whether `rel` (relative to the API root) is a path of the API's spec, whatever the method. The v1
 * spec is Cloud's; on Data Center its Cloud-only resources are unknown paths (404, not 405).
 */
function isKnownApiPath(ctx: SandboxContext, api: "v1" | "v2", rel: string): boolean {
  const specPath = api === "v1" ? `/wiki/rest/api${rel}` : rel;
  return ctx.validator
    .paths(api)
    .some((p) => (ctx.isCloud || !CLOUD_ONLY_V1.has(p.path)) && templateRegex(p.path).test(specPath));
}

// v1 resources REST-API.md documents for Cloud only: Data Center moves pages by `ancestors` on
// `PUT /content/{id}` (§4.3), and has no move resource.
const CLOUD_ONLY_V1: ReadonlySet<string> = new Set([
  "/wiki/rest/api/content/{pageId}/move/{position}/{targetId}",
]);

function templateRegex(template: string): RegExp {
  const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
  return new RegExp(`^${source}/?$`);
}

// Tomcat's error report, as real DC answers outside its context path (REST-API.md §7.1: non-JSON bodies happen).
const TOMCAT_404 =
  '<!doctype html><html lang="en"><head><title>HTTP Status 404 – Not Found</title></head>' +
  "<body><h1>HTTP Status 404 – Not Found</h1><p><b>Type</b> Status Report</p>" +
  "<p><b>Description</b> The origin server did not find a current representation for the target " +
  "resource or is not willing to disclose that one exists.</p></body></html>";

const TOMCAT_401 =
  '<!doctype html><html lang="en"><head><title>HTTP Status 401 – Unauthorized</title></head>' +
  "<body><h1>HTTP Status 401 – Unauthorized</h1></body></html>";

async function authenticate(
  ctx: SandboxContext,
  req: FastifyRequest,
  reply: FastifyReply,
  meta: { api: "v1" | "v2"; via: "site" | "gateway"; authMessage: string },
): Promise<FastifyReply | undefined> {
  const origin = `${req.protocol}://${req.host}`;
  const header = req.headers.authorization ?? "";
  const users = ctx.store.activeUsers();
  const setUser = (user: SandboxUser | null) => {
    const call: CallInfo = { api: meta.api, via: meta.via, user, origin, query: {}, params: {} };
    setCall(req, call);
    return undefined;
  };
  const basic = /^Basic\s+(.+)$/i.exec(header);
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  let name: string | undefined;
  let secret: string | undefined;
  if (basic !== null) {
    const decoded = Buffer.from(basic[1] ?? "", "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i >= 0) {
      name = decoded.slice(0, i);
      secret = decoded.slice(i + 1);
    }
  }
  if (!ctx.isCloud) {
    // REST-API.md §2.2: PAT as Bearer; a wrong PAT is anonymous; Basic username:password → 401 when wrong.
    if (bearer !== null) return setUser(users.find((u) => u.token === bearer[1]) ?? null);
    if (basic !== null) {
      const login = name ?? "";
      const limit = ctx.options.captchaAfterFailures;
      if (limit > 0 && (ctx.failedLogins.get(login) ?? 0) >= limit) {
        // REST-API.md §2.2: Seraph CAPTCHA mode; the password is not even checked.
        reply
          .code(403)
          .header("X-Seraph-LoginReason", "AUTHENTICATION_DENIED")
          .header(
            "X-Authentication-Denied-Reason",
            `CAPTCHA_CHALLENGE; login-url=${origin}${ctx.options.contextPath}/login.action`,
          );
        return reply.send(v1ErrorBody(403, "CAPTCHA_CHALLENGE"));
      }
      // A password is not a personal access token: revoking the user's PAT leaves it working, as
      // in Data Center (the password is checked against every user, revoked token or not).
      const user = ctx.store.userList.find(
        (u) =>
          (u.username === name || u.email.toLowerCase() === name?.toLowerCase()) &&
          (u.password ?? u.token) === secret,
      );
      if (user !== undefined) ctx.failedLogins.delete(login);
      else ctx.failedLogins.set(login, (ctx.failedLogins.get(login) ?? 0) + 1);
      if (user === undefined) {
        reply
          .code(401)
          .header("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
          .header("WWW-Authenticate", 'Basic realm="Protected"');
        return reply.send(v1ErrorBody(401, "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED"));
      }
      return setUser(user);
    }
    return setUser(null);
  }
  // Cloud (REST-API.md §2.1)
  let user: SandboxUser | undefined;
  if (basic !== null)
    user = users.find((u) => u.email.toLowerCase() === name?.toLowerCase() && u.token === secret);
  else if (bearer !== null && meta.via === "gateway") user = users.find((u) => u.token === bearer[1]);
  if (user !== undefined && user.scoped === true && meta.via === "site") {
    reply.code(401).type("text/html;charset=utf-8");
    return reply.send(TOMCAT_401);
  }
  if (user !== undefined && user.scoped !== true && meta.via === "gateway" && basic !== null) {
    reply.code(401);
    return reply.send({ code: 401, message: "Unauthorized" });
  }
  if (user === undefined) {
    if (meta.api === "v2") {
      reply.code(404);
      return reply.send({ errors: [{ status: 404, code: "NOT_FOUND", title: "Not Found", detail: null }] });
    }
    reply.code(403);
    return reply.send(v1ErrorBody(403, meta.authMessage));
  }
  return setUser(user);
}
