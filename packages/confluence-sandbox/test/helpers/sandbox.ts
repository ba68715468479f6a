// Test helper: start a real sandbox on 127.0.0.1:0 and call it over HTTP with fetch, with the
// credentials each deployment expects (Cloud Basic email:token, DC Bearer PAT).

import { afterEach } from "vitest";
import { type Sandbox, type SandboxOptions, type SandboxUser, startSandbox } from "../../src/index.js";

/** A JSON response: status, headers and parsed body. */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
  readonly text: string;
}

/** Calls the sandbox; `path` is appended to `base` (default the sandbox's baseUrl). */
export type Caller = (
  method: string,
  path: string,
  init?: { body?: unknown; user?: SandboxUser | null; auth?: string; base?: string; rawBody?: string },
) => Promise<JsonResponse>;

const running: Sandbox[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

/** Starts a sandbox closed automatically after the test. */
export async function sandbox(options: SandboxOptions): Promise<{ sb: Sandbox; call: Caller }> {
  const sb = await startSandbox(options);
  running.push(sb);
  return { sb, call: caller(sb) };
}

/** The Authorization header for a user in a sandbox's mode. */
export function authFor(sb: Sandbox, user: SandboxUser): string {
  return sb.mode === "cloud"
    ? `Basic ${Buffer.from(`${user.email}:${user.token}`).toString("base64")}`
    : `Bearer ${user.token}`;
}

/** A fetch-based caller bound to a sandbox. */
export function caller(sb: Sandbox): Caller {
  return async (method, path, init = {}) => {
    const headers: Record<string, string> = { accept: "application/json" };
    const user = init.user === undefined ? sb.user : init.user;
    if (init.auth !== undefined) headers.authorization = init.auth;
    else if (user !== null) headers.authorization = authFor(sb, user);
    let body: string | undefined;
    if (init.rawBody !== undefined) {
      body = init.rawBody;
      headers["content-type"] = "application/json";
    } else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(`${init.base ?? sb.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

/** Storage body helper. */
export const storage = (value: string) => ({ representation: "storage", value });

/** Creates a page through v2 and returns its JSON. */
export async function createV2Page(
  call: Caller,
  title: string,
  extra: { parentId?: string; value?: string; user?: SandboxUser } = {},
): Promise<JsonResponse> {
  const spaces = await call("GET", "/api/v2/spaces?keys=MEETINGS");
  return call("POST", "/api/v2/pages", {
    body: {
      spaceId: spaces.body.results[0].id,
      status: "current",
      title,
      ...(extra.parentId === undefined ? {} : { parentId: extra.parentId }),
      body: storage(extra.value ?? "<p>Hello</p>"),
    },
    ...(extra.user === undefined ? {} : { user: extra.user }),
  });
}

/** Creates a page through v1 (DC or Cloud with v1 enabled). */
export async function createV1Page(
  call: Caller,
  title: string,
  extra: { parentId?: string; value?: string; metadata?: unknown; space?: string } = {},
): Promise<JsonResponse> {
  return call("POST", "/rest/api/content", {
    body: {
      type: "page",
      title,
      space: { key: extra.space ?? "MEETINGS" },
      ...(extra.parentId === undefined ? {} : { ancestors: [{ id: extra.parentId }] }),
      body: { storage: { value: extra.value ?? "<p>Hello</p>", representation: "storage" } },
      ...(extra.metadata === undefined ? {} : { metadata: extra.metadata }),
    },
  });
}
