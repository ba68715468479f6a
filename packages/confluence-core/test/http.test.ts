import { assert, describe, it } from "@effect/vitest";
import { Effect, Redacted } from "effect";
import {
  type ConfluenceClientConfig,
  type ResolvedConfig,
  resolveConfig,
} from "../src/ConfluenceClientConfig.js";
import { ConfluenceConfigError } from "../src/ConfluenceError.js";
import { makeHttp } from "../src/http.js";

const resolved = (config: ConfluenceClientConfig): ResolvedConfig => {
  const r = resolveConfig(config);
  if (r instanceof ConfluenceConfigError) return assert.fail(r.message);
  return r;
};
const auth = { type: "basic", email: "bot@example.com", token: Redacted.make("t0ken") } as const;

describe("makeHttp URL building", () => {
  it.scoped(
    "puts v1 under /rest/api and v2 under /api/v2 of the Cloud site, repeating array parameters",
    () =>
      Effect.gen(function* () {
        const http = yield* makeHttp(resolved({ baseUrl: "https://acme.atlassian.net", auth }), []);
        assert.strictEqual(
          http.urlOf("v1", "/user/current"),
          "https://acme.atlassian.net/wiki/rest/api/user/current",
        );
        assert.strictEqual(
          http.urlOf("v2", "/pages", {
            "space-id": "1",
            status: ["current", "archived"],
            title: 'A "B" & C',
            skip: undefined,
          }),
          "https://acme.atlassian.net/wiki/api/v2/pages?space-id=1&status=current&status=archived&title=A+%22B%22+%26+C",
        );
      }),
  );

  it.scoped(
    "resolves v2 site-relative and v1 context-relative next links against the gateway, never the site",
    () =>
      Effect.gen(function* () {
        const http = yield* makeHttp(
          resolved({ baseUrl: "https://acme.atlassian.net", auth, scopedToken: true, cloudId: "c0ffee" }),
          [],
        );
        assert.strictEqual(
          http.resolveNext("v2", "/wiki/api/v2/pages?cursor=abc&limit=25"),
          "https://api.atlassian.com/ex/confluence/c0ffee/wiki/api/v2/pages?cursor=abc&limit=25",
        );
        assert.strictEqual(
          http.resolveNext("v1", "/rest/api/content/search?cql=type%3Dpage&cursor=xyz"),
          "https://api.atlassian.com/ex/confluence/c0ffee/wiki/rest/api/content/search?cql=type%3Dpage&cursor=xyz",
        );
        assert.strictEqual(
          http.resolveNext("v1", "https://acme.atlassian.net/wiki/rest/api/search?next=true&cursor=q"),
          "https://api.atlassian.com/ex/confluence/c0ffee/wiki/rest/api/search?next=true&cursor=q",
        );
      }),
  );

  it.scoped("keeps a Data Center context path for next links", () =>
    Effect.gen(function* () {
      const http = yield* makeHttp(
        resolved({
          baseUrl: "https://wiki.acme.local/confluence",
          auth: { type: "bearer", token: Redacted.make("pat") },
        }),
        [],
      );
      assert.strictEqual(
        http.resolveNext("v1", "/rest/api/content?limit=2&start=4"),
        "https://wiki.acme.local/confluence/rest/api/content?limit=2&start=4",
      );
      assert.strictEqual(
        http.resolveNext("v1", "/confluence/rest/api/content/1/child/page?start=25"),
        "https://wiki.acme.local/confluence/rest/api/content/1/child/page?start=25",
      );
    }),
  );

  it.scoped("refuses a path that URL parsing would change, keeping encoded values as they are", () =>
    Effect.gen(function* () {
      const http = yield* makeHttp(
        resolved({
          baseUrl: "https://wiki.acme.local/confluence",
          auth: { type: "bearer", token: Redacted.make("pat") },
        }),
        [],
      );
      // A dot segment would take the label's DELETE to the page itself (or to the API root).
      for (const path of [
        "/content/65542/label/..",
        "/content/65542/label/.",
        "/content/%2e%2E",
        "/content/./1",
      ])
        assert.throws(() => http.urlOf("v1", path), /refusing to send a request to v1 path .*dot segment/);
      assert.strictEqual(
        http.urlOf("v1", `/content/1/label/${encodeURIComponent("a..b")}`, { name: ".." }),
        "https://wiki.acme.local/confluence/rest/api/content/1/label/a..b?name=..",
      );
      assert.strictEqual(
        http.urlOf("v1", `/content/${encodeURIComponent("../2")}`),
        "https://wiki.acme.local/confluence/rest/api/content/..%2F2",
      );
    }),
  );

  it.scoped("builds a client with a proxy and extra CA without reading the environment", () =>
    Effect.gen(function* () {
      const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
      const http = yield* makeHttp(
        resolved({
          baseUrl: "https://acme.atlassian.net",
          auth,
          proxy: { httpsProxy: "http://proxy-user:s%40cret@proxy:3128", noProxy: "localhost" },
        }),
        [pem],
      );
      // The user info becomes a Proxy-Authorization value; the URI kept around has none.
      assert.strictEqual(http.config.proxy?.httpsProxy?.uri, "http://proxy:3128/");
      assert.strictEqual(
        Redacted.value(http.config.proxy?.httpsProxy?.token ?? Redacted.make("")),
        `Basic ${Buffer.from("proxy-user:s@cret").toString("base64")}`,
      );
      assert.notInclude(JSON.stringify(http.config), "cret");
    }),
  );
});
