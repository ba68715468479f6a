// The transport over real sockets: a TLS terminator in front of the sandbox (extra CA trust) and
// a CONNECT proxy (HTTPS_PROXY / NO_PROXY passed in through the config, never read from the env);
// and what it tells about each request: its time in the caller's stats, its debug log line.
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { connect, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { fileURLToPath } from "node:url";
import { assert, layer } from "@effect/vitest";
import { Effect, HashMap, Logger, LogLevel } from "effect";
import { makeConfluenceClient } from "../src/ConfluenceClient.js";
import { type ConfluenceCallStats, countConfluenceRetries } from "../src/retry-schedule.js";
import { configFor, credentialForms, TestSandbox } from "./helpers/sandbox.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const CERT = readFileSync(fixture("localhost-test.cert.pem"), "utf8");
const KEY = readFileSync(fixture("localhost-test.key.pem"), "utf8");

/** Listens on a random port until the scope closes; returns the port. */
const listen = (server: Server, sockets: Set<Socket>) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<number>((resolve) => {
          server.on("connection", (s: Socket) => {
            sockets.add(s);
            s.on("close", () => sockets.delete(s));
          });
          server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            resolve(typeof address === "object" && address !== null ? address.port : 0);
          });
        }),
    ),
    () =>
      Effect.promise(
        () =>
          new Promise<void>((resolve) => {
            for (const s of sockets) s.destroy();
            server.close(() => resolve());
          }),
      ),
  );

/** A TLS front for the sandbox with the fixture certificate; returns `https://127.0.0.1:PORT/wiki`. */
const tlsFront = Effect.gen(function* () {
  const sb = yield* TestSandbox;
  const target = new URL(sb.origin);
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: KEY, cert: CERT }, (tlsSocket) => {
    const upstream = connect(Number(target.port), target.hostname);
    tlsSocket.pipe(upstream).pipe(tlsSocket);
    tlsSocket.on("error", () => upstream.destroy());
    upstream.on("error", () => tlsSocket.destroy());
  });
  const port = yield* listen(server, sockets);
  return `https://127.0.0.1:${port}/wiki`;
});

/**
 * A CONNECT-only forward proxy that counts tunnels. With `auth` (`user:password`) it requires
 * `Proxy-Authorization: Basic …` and answers 407 otherwise, echoing what it got in the body (as a
 * careless proxy might: the client must not pass that on).
 */
const connectProxy = (auth?: string) =>
  Effect.gen(function* () {
    const stats = { tunnels: 0, refused: 0, authorizations: [] as Array<string> };
    const sockets = new Set<Socket>();
    const server = createHttpServer((_req, res) => res.writeHead(405).end());
    server.on("connect", (req, client: Socket, head: Buffer) => {
      const got = req.headers["proxy-authorization"] ?? "";
      stats.authorizations.push(got);
      if (auth !== undefined && got !== `Basic ${Buffer.from(auth).toString("base64")}`) {
        stats.refused++;
        client.end(
          `HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="${got}"\r\nContent-Length: ${got.length + 6}\r\n\r\necho: ${got}`,
        );
        return;
      }
      stats.tunnels++;
      const [host, port] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host ?? "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    const port = yield* listen(server, sockets);
    return { url: `http://127.0.0.1:${port}`, stats };
  });

layer(TestSandbox.layer("cloud"), { excludeTestServices: true })("HTTP transport", (it) => {
  it.scoped("rejects a certificate it does not trust with a TLS network error", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const baseUrl = yield* tlsFront;
      const client = yield* makeConfluenceClient(configFor(sb, { baseUrl, maxRetries: 0 })).pipe(
        Effect.orDie,
      );
      const error = yield* Effect.flip(client.testConnection());
      assert.strictEqual(error._tag, "ConfluenceNetworkError");
      if (error._tag === "ConfluenceNetworkError") assert.strictEqual(error.reason, "tls");
    }),
  );

  it.scoped("trusts an extra CA given inline or as a file, besides the system roots", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const baseUrl = yield* tlsFront;
      const inline = yield* makeConfluenceClient(configFor(sb, { baseUrl, ca: CERT })).pipe(Effect.orDie);
      assert.strictEqual((yield* inline.testConnection()).displayName, sb.user.displayName);
      const fromFile = yield* makeConfluenceClient(
        configFor(sb, { baseUrl, caFile: fixture("localhost-test.cert.pem") }),
      ).pipe(Effect.orDie);
      const space = yield* fromFile.getSpace("MEETINGS");
      assert.strictEqual(space.key, "MEETINGS");
    }),
  );

  it.scoped("tunnels through the configured HTTPS proxy", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const baseUrl = yield* tlsFront;
      const proxy = yield* connectProxy();
      const client = yield* makeConfluenceClient(
        configFor(sb, { baseUrl, ca: CERT, proxy: { httpsProxy: proxy.url } }),
      ).pipe(Effect.orDie);
      yield* client.testConnection();
      assert.isAtLeast(proxy.stats.tunnels, 1);
    }),
  );

  it.scoped("bypasses the proxy for hosts in NO_PROXY", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const baseUrl = yield* tlsFront;
      const proxy = yield* connectProxy();
      const client = yield* makeConfluenceClient(
        configFor(sb, {
          baseUrl,
          ca: CERT,
          proxy: { httpsProxy: proxy.url, noProxy: "localhost,127.0.0.1" },
        }),
      ).pipe(Effect.orDie);
      yield* client.testConnection();
      assert.strictEqual(proxy.stats.tunnels, 0);
    }),
  );

  it.scoped("reuses pooled keep-alive connections across calls", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const baseUrl = yield* tlsFront;
      const proxy = yield* connectProxy();
      const client = yield* makeConfluenceClient(
        configFor(sb, { baseUrl, ca: CERT, proxy: { httpsProxy: proxy.url }, maxConnections: 1 }),
      ).pipe(Effect.orDie);
      for (let i = 0; i < 5; i++) yield* client.getPageInfo(sb.state.spaces()[0]?.homepageId ?? "65538");
      assert.strictEqual(proxy.stats.tunnels, 1);
    }),
  );

  it.scoped("authenticates to the proxy with the user and password of its URL", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const baseUrl = yield* tlsFront;
      const proxy = yield* connectProxy("proxy-user:p@ss:word");
      const url = proxy.url.replace("//", "//proxy-user:p%40ss%3Aword@");
      const client = yield* makeConfluenceClient(
        configFor(sb, { baseUrl, ca: CERT, proxy: { httpsProxy: url } }),
      ).pipe(Effect.orDie);
      yield* client.testConnection();
      assert.isAtLeast(proxy.stats.tunnels, 1);
      assert.strictEqual(proxy.stats.refused, 0);
    }),
  );

  it.scoped("sends each proxy its own credentials when HTTP_PROXY and HTTPS_PROXY differ", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const httpProxy = yield* connectProxy("http-user:http-pw");
      const httpsProxy = yield* connectProxy("https-user:https-pw");
      // The sandbox itself is plain http: its requests take HTTP_PROXY.
      const client = yield* makeConfluenceClient(
        configFor(sb, {
          proxy: {
            httpProxy: httpProxy.url.replace("//", "//http-user:http-pw@"),
            httpsProxy: httpsProxy.url.replace("//", "//https-user:https-pw@"),
          },
        }),
      ).pipe(Effect.orDie);
      yield* client.testConnection();
      assert.isAtLeast(httpProxy.stats.tunnels, 1);
      assert.strictEqual(httpProxy.stats.refused, 0);
      assert.deepStrictEqual(httpsProxy.stats.authorizations, []);
    }),
  );

  it.scoped("a proxy that refuses the credentials is a network error that shows none of them", () =>
    Effect.gen(function* () {
      const sb = yield* TestSandbox;
      const baseUrl = yield* tlsFront;
      const proxy = yield* connectProxy("proxy-user:right-pw");
      const client = yield* makeConfluenceClient(
        configFor(sb, {
          baseUrl,
          ca: CERT,
          maxRetries: 0,
          proxy: { httpsProxy: proxy.url.replace("//", "//proxy-user:wrong-pw@") },
        }),
      ).pipe(Effect.orDie);
      const error = yield* Effect.flip(client.testConnection());
      assert.strictEqual(proxy.stats.refused, 1);
      assert.strictEqual(error._tag, "ConfluenceNetworkError");
      if (error._tag === "ConfluenceNetworkError") {
        assert.strictEqual(error.reason, "proxy");
        assert.strictEqual(error.code, "PROXY_407");
      }
      const shown = `${error.message} ${JSON.stringify(error)} ${String(error)}`;
      for (const secret of ["wrong-pw", Buffer.from("proxy-user:wrong-pw").toString("base64")])
        assert.notInclude(shown, secret);
    }),
  );
});

/** Captures what the client logs: message and annotations of each line. */
const captureLogs = () => {
  const lines: Array<{ readonly message: string; readonly fields: Record<string, unknown> }> = [];
  const logger = Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ message, annotations }) => {
      lines.push({
        message: String(Array.isArray(message) ? message[0] : message),
        fields: Object.fromEntries(HashMap.toEntries(annotations)),
      });
    }),
  );
  return { lines, logger };
};

const newStats = (): ConfluenceCallStats => ({ retries: 0, rateLimited: 0, requests: 0, requestMs: 0 });

for (const mode of ["cloud", "datacenter"] as const) {
  layer(TestSandbox.layer(mode), { excludeTestServices: true })(`each request on ${mode}`, (it) => {
    it.scoped("adds its time to the caller's stats, a retried request once per attempt", () =>
      Effect.gen(function* () {
        const sb = yield* TestSandbox;
        sb.faults.clear();
        // The space lookup is one GET; its first attempt is slow and fails, the retry succeeds.
        sb.faults.add({ kind: "latency", latencyMs: 120, times: 1 });
        sb.faults.add({ kind: "status", status: 503, method: "GET", path: "/space", times: 1 });
        const client = yield* makeConfluenceClient(configFor(sb)).pipe(Effect.orDie);
        const stats = newStats();
        const started = performance.now();
        yield* countConfluenceRetries(client.getSpace("MEETINGS"), stats);
        const wall = performance.now() - started;
        assert.strictEqual(stats.requests, 2);
        assert.strictEqual(stats.retries, 1);
        assert.isAtLeast(stats.requestMs, 120);
        // The wait before the retry is not request time.
        assert.isBelow(stats.requestMs, wall);
      }),
    );

    it.scoped(
      "is logged at debug with method, path, query names, status, duration and retry, never a query value or credential",
      () =>
        Effect.gen(function* () {
          const sb = yield* TestSandbox;
          sb.faults.clear();
          sb.faults.add({ kind: "status", status: 503, method: "GET", path: "/(pages|content)$", times: 1 });
          const title = "Quarterly plan q7zx-private";
          const { lines, logger } = captureLogs();
          const client = yield* makeConfluenceClient(configFor(sb)).pipe(Effect.orDie);
          yield* client
            .findPageByTitle("MEETINGS", title)
            .pipe(Effect.provide(logger), Logger.withMinimumLogLevel(LogLevel.Debug));
          const requests = lines.filter((l) => l.message === "Confluence request");
          // The space, then the title lookup twice (a 503, then its retry).
          assert.isAtLeast(requests.length, 3);
          const lookups = requests.filter((l) => /\/(pages|content)$/.test(String(l.fields.path)));
          assert.deepStrictEqual(
            lookups.map((l) => [l.fields.method, l.fields.status, l.fields.retry]),
            [
              ["GET", 503, 0],
              ["GET", 200, 1],
            ],
          );
          for (const l of requests) {
            assert.match(String(l.fields.path), /^(\/wiki)?\/(api\/v2|rest\/api)\//);
            assert.typeOf(l.fields.durationMs, "number");
          }
          assert.include(String(lookups[0]?.fields.query), "title");
          const text = JSON.stringify(lines);
          for (const hidden of [...credentialForms(sb), "q7zx", "Quarterly", "?"])
            assert.notInclude(text, hidden);
          sb.faults.clear();
        }),
    );

    it.scoped("is not logged at info", () =>
      Effect.gen(function* () {
        const sb = yield* TestSandbox;
        sb.faults.clear();
        const { lines, logger } = captureLogs();
        const client = yield* makeConfluenceClient(configFor(sb)).pipe(Effect.orDie);
        yield* client.getSpace("MEETINGS").pipe(Effect.provide(logger));
        assert.deepStrictEqual(lines, []);
      }),
    );
  });
}
