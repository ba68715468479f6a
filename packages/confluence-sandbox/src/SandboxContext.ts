// What every route needs: resolved options, the store, users, faults and link builders.
// Built once per app by `buildSandboxApp`; routes receive it instead of reaching for globals.

import type { FaultController } from "./FaultController.js";
import type { OpenApiValidator } from "./OpenApiValidator.js";
import type { SandboxMode, SandboxUser } from "./SandboxOptions.js";
import { current, type PageRecord, type SandboxStore, type SpaceRecord } from "./SandboxStore.js";

/** Options after defaults were applied. */
export interface ResolvedOptions {
  readonly mode: SandboxMode;
  readonly contextPath: string;
  readonly cloudId: string;
  readonly latencyMs: number;
  readonly v1Removed: boolean | "gateway";
  readonly rejectUnconvertible: boolean;
  readonly rewriteStorage: boolean;
  readonly captchaAfterFailures: number;
  readonly archivePlan: "free" | "standard" | "premium";
  readonly archiveTaskMs: number;
  readonly spaces: ReadonlyArray<{ readonly key: string; readonly name: string }>;
}

/** Per-request facts the hooks establish before a handler runs. */
export interface CallInfo {
  readonly api: "v1" | "v2";
  /** `gateway` when the request came through `/ex/confluence/{cloudId}`. */
  readonly via: "site" | "gateway";
  readonly user: SandboxUser | null;
  /** Site origin derived from the Host header, e.g. `http://127.0.0.1:8090`. */
  readonly origin: string;
  query: Record<string, unknown>;
  params: Record<string, unknown>;
}

/** Shared state and helpers for the route modules. */
export interface SandboxContext {
  readonly options: ResolvedOptions;
  readonly store: SandboxStore;
  readonly faults: FaultController;
  readonly validator: OpenApiValidator;
  readonly now: () => string;
  readonly isCloud: boolean;
  /** DC: consecutive failed Basic logins per user name (Seraph CAPTCHA emulation). */
  readonly failedLogins: Map<string, number>;
}

/** `_links.base` for humans: Cloud `ORIGIN/wiki`, DC `ORIGIN[/context]` (REST-API.md §1). */
export function siteBase(ctx: SandboxContext, origin: string): string {
  return ctx.isCloud ? `${origin}/wiki` : `${origin}${ctx.options.contextPath}`;
}

/** `_links.context`: Cloud `/wiki`, DC the context path. */
export function siteContext(ctx: SandboxContext): string {
  return ctx.isCloud ? "/wiki" : ctx.options.contextPath;
}

/** A page's `webui` link (REST-API.md §1: Cloud `/spaces/KEY/pages/ID/Title`, DC `/display/KEY/Title`). */
export function webui(ctx: SandboxContext, space: SpaceRecord, page: PageRecord): string {
  const title = current(page).title;
  if (ctx.isCloud) return `/spaces/${space.key}/pages/${page.id}/${plusEncode(title)}`;
  return /^[A-Za-z0-9 _.,()'-]+$/.test(title)
    ? `/display/${space.key}/${plusEncode(title)}`
    : `/pages/viewpage.action?pageId=${page.id}`;
}

/** Confluence's tiny link: the id as little-endian bytes in URL-safe base64 (`2818049` → `/x/AQAr`). */
export function tinyui(id: string): string {
  let n = BigInt(id);
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.push(Number(n & 0xffn));
    n >>= 8n;
  }
  const b64 = Buffer.from(bytes)
    .toString("base64")
    .replace(/=+$/, "")
    .replace(/\//g, "-")
    .replace(/\+/g, "_");
  return `/x/${b64}`;
}

/** The page id of a tiny link code (`AQAr` → `2818049`), the inverse of {@link tinyui}; undefined if malformed. */
export function pageIdOfTinyui(code: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(code)) return undefined;
  const bytes = Buffer.from(code.replace(/-/g, "/").replace(/_/g, "+"), "base64");
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  return n === 0n ? undefined : n.toString();
}

/** `Title With Spaces` → `Title+With+Spaces`, other characters percent-encoded. */
export function plusEncode(title: string): string {
  return encodeURIComponent(title).replace(/%20/g, "+");
}

/** The user JSON of v1 (`by`, `createdBy`, `user/current`), per deployment. */
export function v1User(
  ctx: SandboxContext,
  origin: string,
  user: SandboxUser | null,
): Record<string, unknown> {
  const base = siteBase(ctx, origin);
  const links = { base, context: siteContext(ctx) };
  if (user === null) {
    return {
      type: "anonymous",
      profilePicture: {
        path: "/images/icons/profilepics/anonymous.svg",
        width: 48,
        height: 48,
        isDefault: true,
      },
      displayName: "Anonymous",
      _links: { self: `${base}/rest/api/user/anonymous`, ...links },
    };
  }
  if (ctx.isCloud) {
    return {
      type: "known",
      accountId: user.accountId,
      accountType: "atlassian",
      email: user.email,
      publicName: user.displayName,
      profilePicture: { path: `/wiki/aa-avatar/${user.accountId}`, width: 48, height: 48, isDefault: true },
      displayName: user.displayName,
      isExternalCollaborator: false,
      _expandable: { operations: "", personalSpace: "" },
      _links: { self: `${base}/rest/api/user?accountId=${encodeURIComponent(user.accountId)}`, ...links },
    };
  }
  return {
    type: "known",
    username: user.username ?? user.email.split("@")[0],
    userKey: user.accountId,
    profilePicture: { path: "/images/icons/profilepics/default.svg", width: 48, height: 48, isDefault: true },
    displayName: user.displayName,
    _expandable: { status: "" },
    _links: { self: `${base}/rest/api/user?key=${encodeURIComponent(user.accountId)}`, ...links },
  };
}
