// Mounts REST routes under every root a deployment answers on (Cloud site, Cloud gateway, DC
// context path) and tags each with what the hooks need: API kind, OpenAPI path, removal status.
// Handlers then see one `CallInfo` and never care which root the request came through.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { CallInfo, SandboxContext } from "./SandboxContext.js";

/** One REST route, relative to its API root (`/wiki/rest/api`, `/wiki/api/v2`, `/rest/api`). */
export interface ApiRoute {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Fastify URL relative to the API root, e.g. `/content/:id`. */
  readonly url: string;
  /** OpenAPI path relative to the API root, e.g. `/content/{id}`. */
  readonly spec: string;
  /** Cloud removed this v1 endpoint (REST-API.md §1.1): 410 when `v1Removed` applies. */
  readonly removed?: boolean;
  /** DC anonymous callers get an empty list here instead of 404/403. */
  readonly list?: boolean;
  /** Anonymous callers are served (e.g. `user/current` on DC). */
  readonly anonymous?: boolean;
  /** The message of Cloud's v1 403 for bad credentials on this route (REST-API.md §2.1). */
  readonly authMessage?: string;
  readonly handler: (call: CallInfo, req: FastifyRequest, reply: FastifyReply) => unknown;
}

/** What the hooks read from `request.routeOptions.config`. */
export interface RouteMeta {
  readonly api: "v1" | "v2";
  readonly spec: string;
  readonly specName: "v1" | "v2";
  readonly via: "site" | "gateway";
  readonly removed: boolean;
  readonly list: boolean;
  readonly anonymous: boolean;
  readonly authMessage: string;
  /** Fastify param name → OpenAPI param name (`pageId` → `page-id`), by position. */
  readonly paramNames: ReadonlyArray<readonly [string, string]>;
}

const calls = new WeakMap<FastifyRequest, CallInfo>();

/** The `CallInfo` the hooks attached to a request. */
export function callOf(req: FastifyRequest): CallInfo | undefined {
  return calls.get(req);
}

/** Attaches the `CallInfo` (done by the auth hook). */
export function setCall(req: FastifyRequest, call: CallInfo): void {
  calls.set(req, call);
}

/** The route's metadata, or undefined for non-API routes and 404s. */
export function metaOf(req: FastifyRequest): RouteMeta | undefined {
  const config = req.routeOptions.config as Partial<RouteMeta> | undefined;
  return config?.api === undefined ? undefined : (config as RouteMeta);
}

/** The API roots of a deployment for one API. */
export function apiRoots(
  ctx: SandboxContext,
  api: "v1" | "v2",
): Array<{ root: string; via: "site" | "gateway" }> {
  if (!ctx.isCloud) return api === "v1" ? [{ root: `${ctx.options.contextPath}/rest/api`, via: "site" }] : [];
  const rel = api === "v1" ? "/wiki/rest/api" : "/wiki/api/v2";
  return [
    { root: rel, via: "site" },
    { root: `/ex/confluence/${ctx.options.cloudId}${rel}`, via: "gateway" },
  ];
}

/**
 * The roots the deployment's web application answers on at all: Cloud `/wiki` (site) and
 * `/ex/confluence/{cloudId}/wiki` (gateway); DC its context path, or everything without one.
 * Anything else is outside Confluence and gets the server's plain 404 (REST-API.md §1, §7.1).
 */
export function mountRoots(ctx: SandboxContext): string[] {
  if (!ctx.isCloud) return [ctx.options.contextPath];
  return ["/wiki", `/ex/confluence/${ctx.options.cloudId}/wiki`];
}

/** Whether a URL path (no query) lies under one of {@link mountRoots}. */
export function isInsideMount(ctx: SandboxContext, path: string): boolean {
  return mountRoots(ctx).some((root) => isUnder(path, root));
}

/**
 * The API a URL path (no query) belongs to, by the roots this deployment actually mounts, with the
 * path relative to that API root; undefined outside every API root (e.g. `/rest/api` without DC's
 * context path, or `/api/v2` on DC).
 */
export function apiOfMountedPath(
  ctx: SandboxContext,
  path: string,
): { api: "v1" | "v2"; rel: string } | undefined {
  for (const api of ["v2", "v1"] as const) {
    for (const { root } of apiRoots(ctx, api)) {
      if (isUnder(path, root)) return { api, rel: path.slice(root.length) };
    }
  }
  return undefined;
}

/** Registers `routes` under every root of `api`. */
export function mountApi(
  app: FastifyInstance,
  ctx: SandboxContext,
  api: "v1" | "v2",
  routes: ReadonlyArray<ApiRoute>,
): void {
  for (const { root, via } of apiRoots(ctx, api)) {
    for (const route of routes) {
      const meta: RouteMeta = {
        api,
        spec: api === "v1" ? `/wiki/rest/api${route.spec}` : route.spec,
        specName: api,
        via,
        removed: route.removed === true,
        list: route.list === true,
        anonymous: route.anonymous === true,
        authMessage: route.authMessage ?? "Current user not permitted to use Confluence",
        paramNames: paramNames(route.url, route.spec),
      };
      app.route({
        method: route.method,
        url: `${root}${route.url}`,
        config: meta,
        handler: async (req, reply) => {
          const call = calls.get(req);
          if (call === undefined) throw new Error("sandbox: request reached a handler without auth");
          return route.handler(call, req, reply);
        },
      });
    }
  }
}

// internal

function isUnder(path: string, root: string): boolean {
  return root === "" || path === root || path.startsWith(`${root}/`);
}

function paramNames(url: string, spec: string): Array<readonly [string, string]> {
  const fastifyNames = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? "");
  const specNames = [...spec.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? "");
  return fastifyNames.map((name, i) => [name, specNames[i] ?? name] as const);
}
