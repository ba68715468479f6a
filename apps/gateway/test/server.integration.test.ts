import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSandbox } from "@minutes/confluence-sandbox";
import { loadConfig, type MinutesConfig } from "@minutes/contracts";
import { PublicationStore } from "@minutes/publication-store";
import { saveEncryptedToken, setTokenExpiry } from "@minutes/token-vault";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Effect, Either, Exit, Redacted, Scope } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/server.js";
import { cleanUp } from "./helpers/clean-up.js";
import { startConnectProxy } from "./helpers/connect-proxy.js";
import { deleteStreams, NATS_URL, protocolBody, unique } from "./helpers/harness.js";

let server: RunningServer | undefined;
let config: MinutesConfig | undefined;
let dir: string | undefined;
afterEach(async () => {
  const [s, c, d] = [server, config, dir];
  server = undefined;
  config = undefined;
  dir = undefined;
  await cleanUp(
    () => s?.stop(),
    () => (c ? deleteStreams(c) : undefined),
    () => (d ? rm(d, { recursive: true, force: true }) : undefined),
  );
});

/** A gateway on the sandbox (Cloud) that reads the vault `vaultFile` with password `vault-pw-456`. */
const vaultServerConfig = (o: {
  readonly id: string;
  readonly dir: string;
  readonly sandbox: { readonly baseUrl: string; readonly user: { readonly email: string } };
  readonly vaultFile: string;
  readonly apiToken: string;
  readonly env?: Record<string, string>;
}) =>
  Either.getOrThrow(
    loadConfig({
      env: o.env ?? {},
      overrides: {
        nats: { url: NATS_URL, stream: `T_${o.id}`, subject_prefix: `t_${o.id}` },
        database: { sqlite_path: join(o.dir, "store.sqlite") },
        gateway: { port: 0, api_keys: ["server-key-123"] },
        confluence: {
          enabled: true,
          deployment: "cloud",
          api_token: o.apiToken,
          base_url: o.sandbox.baseUrl,
          username: o.sandbox.user.email,
        },
        vault: { file: o.vaultFile, password: "vault-pw-456" },
        logging: { level: "silent" },
      },
    }),
  );

describe("startServer", () => {
  it("listens over HTTP and shuts down gracefully, finishing in-flight requests", async () => {
    dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    const id = unique();
    config = Either.getOrThrow(
      loadConfig({
        env: {},
        overrides: {
          nats: { url: NATS_URL, stream: `T_${id}`, subject_prefix: `t_${id}` },
          database: { sqlite_path: join(dir, "store.sqlite") },
          gateway: { port: 0, api_keys: ["server-key-123"], publish_wait_ms: 1_500 },
          confluence: { api_token: "" },
          logging: { level: "silent" },
        },
      }),
    );
    server = await startServer(config);
    const headers = { authorization: "Bearer server-key-123", "content-type": "application/json" };
    const health = await fetch(`${server.address}/healthz`);
    expect(health.status).toBe(200);
    const accepted = await fetch(`${server.address}/api/protocols`, {
      method: "POST",
      headers,
      body: JSON.stringify(protocolBody("srv-1")),
    });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get("x-request-id")).toBeTruthy();

    // A protocol in the same database (as a publisher would store it), so publish-confluence
    // waits publish_wait_ms for a publisher that is not running; stopping must let it finish.
    const scope = Effect.runSync(Scope.make());
    const store = await Effect.runPromise(
      Scope.extend(PublicationStore.make({ type: "sqlite", sqlitePath: config.database.sqlite_path }), scope),
    );
    await Effect.runPromise(
      store.saveProtocol({
        jobId: "srv-1",
        markdown: "# x",
        filename: "x.md",
        metadata: {},
        contentHash: "h",
        streamSequence: 1,
        occurredAt: "2026-01-01T00:00:00Z",
      }),
    );
    await Effect.runPromise(Scope.close(scope, Exit.void));
    const running = server;
    const arrived = new Promise<void>((resolve) => running.app.server.once("request", () => resolve()));
    const inFlight = fetch(`${server.address}/api/jobs/srv-1/publish-confluence`, {
      method: "POST",
      headers: { authorization: headers.authorization },
    });
    await arrived;
    const stopping = server.stop();
    const res = await inFlight;
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ jobId: "srv-1", status: "accepted" });
    await stopping;
    await expect(fetch(`${server.address}/healthz`)).rejects.toThrow();
    server = undefined;
  });

  it("says why there is no Confluence token, and follows the vault when the token is added", async () => {
    dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    const sandbox = await startSandbox({ mode: "cloud", port: 0 });
    try {
      const id = unique();
      const vaultFile = join(dir, "tokens.vault");
      config = vaultServerConfig({ id, dir, sandbox, vaultFile, apiToken: "" });
      server = await startServer(config);
      const key = { headers: { authorization: "Bearer server-key-123" } };
      const res = await fetch(`${server.address}/health/confluence`, key);
      const body = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(body).detail).toContain(
        `No token saved for ${sandbox.user.email} at ${sandbox.baseUrl}`,
      );
      expect(body).not.toContain("vault-pw-456");
      const tokenSource = async () =>
        (
          (await (
            await fetch(`${server?.address}/status/confluence`, {
              headers: { authorization: "Bearer server-key-123" },
            })
          ).json()) as { tokenSource: string }
        ).tokenSource;
      expect(await tokenSource()).toBe("none");

      // An operator adds the token with the vault CLI: no restart needed.
      await saveEncryptedToken({
        file: vaultFile,
        url: sandbox.baseUrl,
        username: sandbox.user.email,
        token: Redacted.make(sandbox.user.token),
        password: Redacted.make("vault-pw-456"),
      });
      // The status says so before any Confluence call.
      expect(await tokenSource()).toBe("vault");
      const fixed = await fetch(`${server.address}/health/confluence`, key);
      expect(fixed.status).toBe(200);
      expect(await fixed.json()).toMatchObject({ status: "ok", user: { accountId: sandbox.user.accountId } });
    } finally {
      await sandbox.close();
    }
  });

  it("follows the token's expiry as the vault changes while it runs: configured, then the vault entry's, set and cleared", async () => {
    dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    const sandbox = await startSandbox({ mode: "cloud", port: 0 });
    try {
      const id = unique();
      const vaultFile = join(dir, "tokens.vault");
      // The gateway's clock for the expiry, fixed: the days left must not depend on whether the
      // test and the gateway read the clock on the same side of midnight UTC.
      const now = Date.parse("2026-11-27T10:00:00Z");
      const day = (days: number) => new Date(now + days * 86_400_000).toISOString().slice(0, 10);
      config = vaultServerConfig({
        id,
        dir,
        sandbox,
        vaultFile,
        apiToken: "configured-token-789",
        env: { MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT: day(100) },
      });
      server = await startServer(config, { now: () => now });
      const address = server.address;
      const status = async () =>
        (await (
          await fetch(`${address}/status/confluence`, { headers: { authorization: "Bearer server-key-123" } })
        ).json()) as {
          tokenSource: string;
          tokenExpiresAt: string | null;
          reasons: Array<string>;
          warnings: Array<string>;
        };
      const tokenReasons = (s: { reasons: Array<string>; warnings: Array<string> }) =>
        [...s.reasons, ...s.warnings].filter((r) => r.includes("token"));
      const gauge = async () =>
        (await (await fetch(`${address}/metrics/confluence`)).text())
          .split("\n")
          .filter((line) => line.startsWith("minutes_confluence_token_expiry_timestamp_seconds"));
      const vaultCommand = `\`./minutes vault add --url ${sandbox.baseUrl} --username ${sandbox.user.email} --expires YYYY-MM-DD\` (used without a restart)`;

      // No vault entry yet: the configured token, with its configured expiry, far enough away.
      const configured = await status();
      expect(configured).toMatchObject({
        tokenSource: "config",
        tokenExpiresAt: `${day(100)}T23:59:59.000Z`,
      });
      expect(tokenReasons(configured)).toEqual([]);

      // An operator stores the token in the vault with an expiry 5 days away: no restart.
      const password = Redacted.make("vault-pw-456");
      const key = { file: vaultFile, url: sandbox.baseUrl, username: sandbox.user.email, password };
      await saveEncryptedToken({
        ...key,
        token: Redacted.make(sandbox.user.token),
        expiresAt: new Date(`${day(5)}T23:59:59Z`),
      });
      const fromVault = await status();
      expect(fromVault).toMatchObject({ tokenSource: "vault", tokenExpiresAt: `${day(5)}T23:59:59.000Z` });
      expect(tokenReasons(fromVault)).toEqual([
        `the Confluence token expires on ${day(5)}, in 5 days: replace it before then; store the new one with ${vaultCommand}`,
      ]);
      // Nothing fails yet: a warning, not a reason.
      expect(fromVault.warnings).toEqual(tokenReasons(fromVault));
      // Without an API key the command names neither the site nor the bot account.
      const open = await (await fetch(`${address}/status/confluence`)).text();
      expect((JSON.parse(open) as { warnings: Array<string> }).warnings).toEqual([
        `the Confluence token expires on ${day(5)}, in 5 days: replace it before then; store the new one with \`./minutes vault add --url <confluence.base_url> --username <confluence.username> --expires YYYY-MM-DD\` (used without a restart)`,
      ]);
      for (const detail of [sandbox.baseUrl, sandbox.user.email]) expect(open).not.toContain(detail);
      expect(fromVault.reasons.filter((r) => r.includes("token"))).toEqual([]);
      expect(await gauge()).toEqual([
        `minutes_confluence_token_expiry_timestamp_seconds{source="vault"} ${Date.parse(`${day(5)}T23:59:59Z`) / 1000}`,
      ]);

      // The entry's expiry is changed, then cleared, with the token left as it is.
      await setTokenExpiry({ ...key, expiresAt: new Date(`${day(-2)}T23:59:59Z`) });
      const expired = await status();
      expect(tokenReasons(expired)).toEqual([
        `the Confluence token expired on ${day(-2)}: publishing fails until it is replaced; store the new one with ${vaultCommand}`,
      ]);
      expect(expired.reasons).toEqual(expect.arrayContaining(tokenReasons(expired)));
      expect(expired.warnings).toEqual([]);
      await setTokenExpiry({ ...key, expiresAt: null });
      const cleared = await status();
      expect(cleared).toMatchObject({ tokenSource: "vault", tokenExpiresAt: null });
      expect(tokenReasons(cleared)).toEqual([]);
      expect(await gauge()).toEqual([]);
      const health = await fetch(`${address}/health/confluence`);
      expect(health.status).toBe(200);
      expect(JSON.stringify(await status())).not.toMatch(/configured-token-789|vault-pw-456/);
    } finally {
      await sandbox.close();
    }
  });

  it("reaches Confluence through an authenticating proxy, and never shows the proxy's password", async () => {
    dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    const sandbox = await startSandbox({ mode: "cloud", port: 0 });
    const proxy = await startConnectProxy("proxy-user:proxy-pw-secret");
    try {
      const id = unique();
      config = Either.getOrThrow(
        loadConfig({
          env: {},
          overrides: {
            nats: { url: NATS_URL, stream: `T_${id}`, subject_prefix: `t_${id}` },
            database: { sqlite_path: join(dir, "store.sqlite") },
            gateway: { port: 0, api_keys: ["server-key-123"] },
            confluence: {
              enabled: true,
              deployment: "cloud",
              api_token: sandbox.user.token,
              base_url: sandbox.baseUrl,
              username: sandbox.user.email,
              max_retries: 0,
            },
            logging: { level: "silent" },
          },
        }),
      );
      // Wrong password: the proxy refuses, and the health check says so without the credentials.
      server = await startServer(config, {
        proxy: { httpProxy: proxy.urlWith("proxy-user", "wrong-pw-secret") },
      });
      const refused = await fetch(`${server.address}/health/confluence`, {
        headers: { authorization: "Bearer server-key-123" },
      });
      const body = await refused.text();
      expect(refused.status).not.toBe(200);
      expect(proxy.stats.refused).toBeGreaterThan(0);
      expect(body).toContain("proxy refused");
      for (const secret of ["wrong-pw-secret", Buffer.from("proxy-user:wrong-pw-secret").toString("base64")])
        expect(body).not.toContain(secret);
      await server.stop();

      server = await startServer(config, {
        proxy: { httpProxy: proxy.urlWith("proxy-user", "proxy-pw-secret") },
      });
      const ok = await fetch(`${server.address}/health/confluence`);
      expect(ok.status).toBe(200);
      expect(proxy.stats.tunnels).toBeGreaterThan(0);
    } finally {
      await proxy.close();
      await sandbox.close();
    }
  });

  it("refuses at start a proxy URL it cannot use, naming the setting and not the value", async () => {
    dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    const bad = Either.getOrThrow(
      loadConfig({
        env: {},
        overrides: { database: { sqlite_path: join(dir, "store.sqlite") }, logging: { level: "silent" } },
      }),
    );
    const error = await startServer(bad, {
      proxy: { httpsProxy: "proxyuser:pw-secret@127.0.0.1:4297" },
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toBe(
      "proxy.httpsProxy: must be an http:// or https:// URL (expected http://[user:password@]host:port)",
    );
  });

  it("fails naming the address when its port is in use, and creates nothing on NATS", async () => {
    dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    const busy = createServer(() => undefined);
    await new Promise<void>((resolve) => busy.listen({ host: "127.0.0.1", port: 0 }, resolve));
    try {
      const port = (busy.address() as AddressInfo).port;
      const id = unique();
      config = Either.getOrThrow(
        loadConfig({
          env: {},
          overrides: {
            nats: { url: NATS_URL, stream: `T_${id}`, subject_prefix: `t_${id}` },
            database: { sqlite_path: join(dir, "store.sqlite") },
            gateway: { host: "127.0.0.1", port },
            confluence: { api_token: "" },
            logging: { level: "silent" },
          },
        }),
      );
      const error = await startServer(config).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toBe(
        `cannot listen on 127.0.0.1:${port} (gateway.host, gateway.port): the address is already in use (another gateway, or another program, listens there)`,
      );
      // The demo starts its gateway on another port on this code.
      expect((error as NodeJS.ErrnoException | undefined)?.code).toBe("EADDRINUSE");
      // Nothing of this gateway's on NATS: no stream of its name (the events', outcomes', ...).
      const nc = await connect({ servers: NATS_URL });
      try {
        const names: Array<string> = [];
        for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name);
        expect(names.filter((name) => name.startsWith(`T_${id}`))).toEqual([]);
      } finally {
        await nc.close();
      }
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it("fails to start with a clear error when NATS is unreachable", async () => {
    dir = await mkdtemp(join(tmpdir(), "minutes-gateway-"));
    const bad = Either.getOrThrow(
      loadConfig({
        env: {},
        overrides: {
          nats: { url: "nats://127.0.0.1:1" },
          database: { sqlite_path: join(dir, "store.sqlite") },
          logging: { level: "silent" },
        },
      }),
    );
    await expect(startServer(bad)).rejects.toThrow();
  });
});
