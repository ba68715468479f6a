// Both pagination styles: v1 `start`/`limit` with a context-relative `_links.next` (omitted on
// the last page), v2 opaque `cursor` in `_links.next` and the `Link` header (REST-API.md §6.3).
// Cursors are base64url offsets: opaque to clients, trivially stable for an in-memory list.

import type { FastifyReply, FastifyRequest } from "fastify";
import { ConfluenceApiError, Exceptions } from "./errors.js";

/** Slices `items` by `start`/`limit` and builds the v1 `ContentArray` envelope. */
export function v1Page<T>(
  req: FastifyRequest,
  items: ReadonlyArray<T>,
  query: Record<string, unknown>,
  links: { base: string; context: string },
  defaultLimit: number,
  maxLimit = 200,
  style: "start" | "cursor" | "search-cursor" = "start",
): { results: T[]; start: number; limit: number; size: number; _links: Record<string, string> } {
  const start = Math.max(0, toInt(query.start, 0));
  const limit = Math.min(Math.max(1, toInt(query.limit, defaultLimit)), maxLimit);
  const results = items.slice(start, start + limit);
  const path = contextRelative(req.url, links.context);
  const out: Record<string, string> = {
    base: links.base,
    context: links.context,
    self: `${links.base}${path.split("?")[0]}`,
  };
  if (style === "start") {
    if (start + limit < items.length)
      out.next = withParams(path, { start: String(start + limit), limit: String(limit) });
    if (start > 0)
      out.prev = withParams(path, { start: String(Math.max(0, start - limit)), limit: String(limit) });
  } else if (start + limit < items.length) {
    // Cloud search pages only with a cursor (REST-API.md §4.5); `/search` also marks `next=true`.
    out.next = withParams(path, {
      ...(style === "search-cursor" ? { next: "true" } : {}),
      cursor: encodeCursor(start + limit),
      limit: String(limit),
      start: null,
    });
  }
  return { results, start, limit, size: results.length, _links: out };
}

/** Slices `items` by `cursor`/`limit`, sets the `Link` header and builds the v2 envelope. */
export function v2Page<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  items: ReadonlyArray<T>,
  query: Record<string, unknown>,
  base: string,
  maxLimit = 250,
): { results: T[]; _links: Record<string, string> } {
  const limit = Math.min(Math.max(1, toInt(query.limit, 25)), maxLimit);
  const offset = query.cursor === undefined ? 0 : decodeCursor(String(query.cursor));
  const results = items.slice(offset, offset + limit);
  const links: Record<string, string> = { base };
  if (offset + limit < items.length) {
    // v2 `next` is site-relative and carries `/wiki` (REST-API.md §1).
    const path = req.url.replace(/^\/ex\/confluence\/[^/]+/, "");
    links.next = withParams(path, { cursor: encodeCursor(offset + limit), limit: String(limit) });
    reply.header("Link", `<${links.next}>; rel="next", <${base}>; rel="base"`);
  }
  return { results, _links: links };
}

/** Opaque cursor for an offset. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`sandbox:${offset}`).toString("base64url");
}

/** Offset of a cursor; 400 for a cursor the sandbox did not issue. */
export function decodeCursor(cursor: string): number {
  const m = /^sandbox:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (m === null) throw new ConfluenceApiError(400, "Invalid cursor", { exception: Exceptions.badRequest });
  return Number(m[1]);
}

/** Coerces a query value to an integer. */
export function toInt(value: unknown, fallback: number): number {
  const n = typeof value === "number" ? value : Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
}

// internal

function contextRelative(url: string, context: string): string {
  const noGateway = url.replace(/^\/ex\/confluence\/[^/]+/, "");
  return context !== "" && noGateway.startsWith(context) ? noGateway.slice(context.length) : noGateway;
}

function withParams(path: string, params: Record<string, string | null>): string {
  const [pathname, search = ""] = path.split("?") as [string, string?];
  const sp = new URLSearchParams(search);
  for (const [k, v] of Object.entries(params)) {
    if (v === null) sp.delete(k);
    else sp.set(k, v);
  }
  return `${pathname}?${sp.toString()}`;
}
