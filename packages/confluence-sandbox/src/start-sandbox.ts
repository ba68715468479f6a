// Starts a listening sandbox: builds the app, loads and persists state when a SQLite file is
// given, and returns the handle tests use (URLs, users, faults, state, close).
// `close()` releases hung fault connections first so it never waits on a client's timeout.

import type { FastifyInstance } from "fastify";
import { buildSandboxApp } from "./app.js";
import type { FaultController } from "./FaultController.js";
import type { SandboxMode, SandboxOptions, SandboxUser } from "./SandboxOptions.js";
import type { SandboxState } from "./SandboxStore.js";
import { SqliteSnapshot } from "./SqliteSnapshot.js";

/** A running sandbox. */
export interface Sandbox {
  /** Cloud `http://127.0.0.1:PORT/wiki`; DC `http://127.0.0.1:PORT[/contextPath]`. */
  readonly baseUrl: string;
  /** Cloud gateway base for scoped tokens: `http://127.0.0.1:PORT/ex/confluence/{cloudId}`. */
  readonly gatewayBaseUrl: string;
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  readonly mode: SandboxMode;
  readonly cloudId: string;
  /** The default bot user (the first user). */
  readonly user: SandboxUser;
  /** Every user (a revoked token stays listed but no longer authenticates). */
  readonly users: ReadonlyArray<SandboxUser>;
  readonly faults: FaultController;
  /** Read-only inspection of spaces, pages, versions, labels, properties and trash. */
  readonly state: SandboxState;
  /** The underlying Fastify app (for `inject`). */
  readonly app: FastifyInstance;
  /** Adds a user; missing fields (account id, token...) are generated. */
  addUser(user: Partial<SandboxUser>): SandboxUser;
  /**
   * Makes a token stop working: Cloud's API token, Data Center's personal access token (as Bearer).
   * A Data Center user's password (Basic auth) keeps working, as a revoked PAT leaves it in
   * Confluence, also when the password is the token's value (no `password` given).
   */
  revokeToken(token: string): void;
  /** Back to the initial spaces and users; faults cleared. */
  reset(): void;
  /** Stops listening (hung fault connections are destroyed) and flushes persistence. */
  close(): Promise<void>;
}

/**
 * Starts a sandbox on `host:port` (default `127.0.0.1:0`, a random port).
 *
 * @example
 * const sandbox = await startSandbox({ mode: "cloud" });
 * const auth = "Basic " + Buffer.from(`${sandbox.user.email}:${sandbox.user.token}`).toString("base64");
 * await fetch(`${sandbox.baseUrl}/api/v2/spaces?keys=MEETINGS`, { headers: { authorization: auth } });
 * await sandbox.close();
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const built = buildSandboxApp(options);
  const { app, store } = built;
  let persistence: SqliteSnapshot | undefined;
  if (options.sqliteFile !== undefined) {
    persistence = await SqliteSnapshot.open(options.sqliteFile);
    const saved = await persistence.load();
    if (saved !== undefined) {
      // Keep users passed in options usable even if the snapshot predates them.
      const users = [...saved.users];
      for (const u of options.users ?? []) if (!users.some((x) => x.token === u.token)) users.push(u);
      store.restore({ ...saved, users });
    }
    const p = persistence;
    store.onChange(() => p.save(() => store.snapshot()));
    p.save(() => store.snapshot());
  }
  const host = options.host ?? "127.0.0.1";
  try {
    await app.listen({ port: options.port ?? 0, host });
  } catch (err) {
    await app.close();
    await persistence?.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : (options.port ?? 0);
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const isCloud = options.mode === "cloud";
  let closed = false;
  return {
    baseUrl: isCloud ? `${origin}/wiki` : `${origin}${built.options.contextPath}`,
    gatewayBaseUrl: `${origin}/ex/confluence/${built.options.cloudId}`,
    origin,
    mode: options.mode,
    cloudId: built.options.cloudId,
    get user() {
      return store.userList[0]!;
    },
    get users() {
      return [...store.userList];
    },
    faults: built.faults,
    state: store,
    app,
    addUser: built.addUser,
    revokeToken: built.revokeToken,
    reset: built.reset,
    close: async () => {
      if (closed) return;
      closed = true;
      built.releaseHung();
      await app.close();
      await persistence?.close();
    },
  };
}
