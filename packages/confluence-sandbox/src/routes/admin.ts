// `/sandbox/admin/*`: control the sandbox from tests running in another process. No auth:
// the sandbox only ever listens on a developer machine or CI. Every body is plain JSON.

import type { FastifyInstance } from "fastify";
import { type FaultRule, validateFaultRule } from "../FaultController.js";
import type { SandboxContext } from "../SandboxContext.js";
import type { SandboxUser } from "../SandboxOptions.js";

/** Registers the admin endpoints (faults, users, reset, state). */
export function registerAdminRoutes(
  app: FastifyInstance,
  ctx: SandboxContext,
  ops: {
    addUser: (u: Partial<SandboxUser>) => SandboxUser;
    revokeToken: (token: string) => void;
    reset: () => void;
  },
): void {
  const bad = (message: string) => ({ error: message });

  app.get("/sandbox/admin/faults", async () => ({ faults: ctx.faults.list() }));
  app.post("/sandbox/admin/faults", async (req, reply) => {
    if (
      req.body !== undefined &&
      (typeof req.body !== "object" || req.body === null || Array.isArray(req.body))
    ) {
      reply.code(400);
      return bad('the body must be one fault rule or { "faults": [rules], "seed": number }');
    }
    const body = req.body as { faults?: FaultRule[]; seed?: number } | FaultRule | undefined;
    const rules =
      body !== undefined && "faults" in body && Array.isArray(body.faults)
        ? body.faults
        : body === undefined
          ? []
          : [body as FaultRule];
    try {
      if (body !== undefined && "seed" in body && typeof body.seed === "number") ctx.faults.seed(body.seed);
      // All or nothing: a 400 must not leave the rules before the bad one active.
      for (const rule of rules) validateFaultRule(rule);
      const ids = rules.map((r) => ctx.faults.add(r));
      return { ids, faults: ctx.faults.list() };
    } catch (e) {
      reply.code(400);
      return bad((e as Error).message);
    }
  });
  app.delete("/sandbox/admin/faults", async (_req, reply) => {
    ctx.faults.clear();
    return reply.code(204).send();
  });
  app.post("/sandbox/admin/users", async (req, reply) => {
    try {
      return ops.addUser((req.body ?? {}) as Partial<SandboxUser>);
    } catch (e) {
      reply.code(400);
      return bad((e as Error).message);
    }
  });
  app.delete("/sandbox/admin/tokens/:token", async (req, reply) => {
    ops.revokeToken((req.params as { token: string }).token);
    return reply.code(204).send();
  });
  app.post("/sandbox/admin/reset", async (_req, reply) => {
    ops.reset();
    return reply.code(204).send();
  });
  if (ctx.isCloud) {
    // REST-API.md §1: the unauthenticated cloud-id probe clients such as md2conf use.
    app.get("/_edge/tenant_info", async () => ({ cloudId: ctx.options.cloudId }));
    // REST-API.md §1: the supported route to the cloud id for OAuth / scoped tokens.
    app.get("/oauth/token/accessible-resources", async (req, reply) => {
      const token = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
      const user = ctx.store.activeUsers().find((u) => u.token === token);
      if (user === undefined) {
        reply.code(401);
        return { code: 401, message: "Unauthorized" };
      }
      return [
        {
          id: ctx.options.cloudId,
          url: `${req.protocol}://${req.host}`,
          name: "sandbox",
          scopes: user.scopes ?? [],
          avatarUrl: "",
        },
      ];
    });
  }
  app.get("/sandbox/admin/state", async () => ({
    mode: ctx.options.mode,
    cloudId: ctx.options.cloudId,
    contextPath: ctx.options.contextPath,
    ...ctx.store.snapshot(),
    faults: ctx.faults.list(),
  }));
}
