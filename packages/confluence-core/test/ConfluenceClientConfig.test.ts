import { assert, describe, it } from "@effect/vitest";
import { Redacted } from "effect";
import {
  type ConfluenceClientConfig,
  detectDeployment,
  proxyUrlForDisplay,
  proxyUrlProblem,
  type ResolvedConfig,
  resolveConfig,
} from "../src/ConfluenceClientConfig.js";
import { ConfluenceConfigError } from "../src/ConfluenceError.js";

const TOKEN = "ATATT3x-config-secret";
const basic = { type: "basic", email: "bot@example.com", token: Redacted.make(TOKEN) } as const;
const bearer = { type: "bearer", token: Redacted.make(TOKEN) } as const;

const ok = (config: ConfluenceClientConfig): ResolvedConfig => {
  const r = resolveConfig(config);
  if (r instanceof ConfluenceConfigError) return assert.fail(r.message);
  return r;
};
const bad = (config: ConfluenceClientConfig): ConfluenceConfigError => {
  const r = resolveConfig(config);
  if (!(r instanceof ConfluenceConfigError)) return assert.fail("expected a configuration error");
  assert.notInclude(r.message, TOKEN);
  assert.notInclude(JSON.stringify(r), TOKEN);
  return r;
};

describe("detectDeployment", () => {
  it("recognises Cloud sites and the api.atlassian.com gateway", () => {
    assert.strictEqual(detectDeployment("https://acme.atlassian.net/wiki"), "cloud");
    assert.strictEqual(detectDeployment("https://ACME.atlassian.net"), "cloud");
    assert.strictEqual(detectDeployment("https://legacy.jira.com/wiki"), "cloud");
    assert.strictEqual(detectDeployment("https://api.atlassian.com/ex/confluence/1234-abcd"), "cloud");
  });

  it("treats everything else, including localhost and other api.atlassian.com paths, as Data Center", () => {
    assert.strictEqual(detectDeployment("https://confluence.acme.local/confluence"), "datacenter");
    assert.strictEqual(detectDeployment("http://127.0.0.1:8090/wiki"), "datacenter");
    assert.strictEqual(detectDeployment("https://api.atlassian.com/ex/jira/1"), "datacenter");
    assert.strictEqual(detectDeployment("https://atlassian.net.evil.example/wiki"), "datacenter");
    assert.strictEqual(detectDeployment("not a url"), "datacenter");
  });
});

describe("resolveConfig", () => {
  it("adds /wiki to a Cloud site and uses it for both REST and links", () => {
    const r = ok({ baseUrl: "https://acme.atlassian.net/", auth: basic });
    assert.strictEqual(r.deployment, "cloud");
    assert.strictEqual(r.siteUrl, "https://acme.atlassian.net/wiki");
    assert.strictEqual(r.apiBase, "https://acme.atlassian.net/wiki");
    assert.isFalse(r.viaGateway);
  });

  it("sends a scoped token through the gateway while links keep the site base", () => {
    const r = ok({
      baseUrl: "https://acme.atlassian.net/wiki",
      auth: basic,
      scopedToken: true,
      cloudId: "c0ffee-1234",
    });
    assert.strictEqual(r.apiBase, "https://api.atlassian.com/ex/confluence/c0ffee-1234/wiki");
    assert.strictEqual(r.siteUrl, "https://acme.atlassian.net/wiki");
    assert.isTrue(r.viaGateway);
  });

  it("sends an OAuth bearer token on Cloud through the gateway", () => {
    const r = ok({
      baseUrl: "https://acme.atlassian.net",
      auth: bearer,
      cloudId: "c0ffee",
      gatewayUrl: "http://127.0.0.1:9000",
    });
    assert.strictEqual(r.apiBase, "http://127.0.0.1:9000/ex/confluence/c0ffee/wiki");
  });

  it("accepts a gateway URL as the base and leaves human links to the responses", () => {
    const r = ok({ baseUrl: "https://api.atlassian.com/ex/confluence/c0ffee", auth: basic });
    assert.strictEqual(r.apiBase, "https://api.atlassian.com/ex/confluence/c0ffee/wiki");
    assert.isUndefined(r.siteUrl);
  });

  it("keeps a Data Center context path and applies the defaults", () => {
    const r = ok({ baseUrl: "https://wiki.acme.local/confluence/", auth: bearer });
    assert.strictEqual(r.deployment, "datacenter");
    assert.strictEqual(r.apiBase, "https://wiki.acme.local/confluence");
    assert.strictEqual(r.timeoutMs, 30_000);
    assert.strictEqual(r.maxRetries, 3);
    assert.strictEqual(r.retryDelayMs, 1_000);
    assert.strictEqual(r.maxRetryAfterMs, 300_000);
    assert.strictEqual(r.locale, "en");
  });

  it("rejects Bearer on a Cloud site without cloudId, naming the fix", () => {
    const e = bad({ baseUrl: "https://acme.atlassian.net/wiki", auth: bearer });
    assert.strictEqual(e.field, "cloudId");
    assert.include(e.reason, "gateway");
  });

  it("rejects a scoped token without cloudId", () => {
    assert.strictEqual(
      bad({ baseUrl: "https://acme.atlassian.net", auth: basic, scopedToken: true }).field,
      "cloudId",
    );
  });

  it("rejects a user name instead of an e-mail on Cloud", () => {
    const e = bad({ baseUrl: "https://acme.atlassian.net", auth: { ...basic, email: "bot" } });
    assert.strictEqual(e.field, "auth.email");
  });

  it("rejects cloudId for Data Center", () => {
    assert.strictEqual(
      bad({ baseUrl: "https://wiki.acme.local", auth: bearer, cloudId: "x" }).field,
      "cloudId",
    );
  });

  it("allows http only for localhost", () => {
    ok({ baseUrl: "http://127.0.0.1:8090/wiki", deployment: "cloud", auth: basic });
    ok({ baseUrl: "http://localhost:8090", auth: bearer });
    assert.include(bad({ baseUrl: "http://wiki.acme.local", auth: bearer }).reason, "https");
  });

  it("rejects credentials or a query in the URL, and a malformed URL in Russian when asked", () => {
    assert.strictEqual(
      bad({ baseUrl: `https://bot:${TOKEN}@wiki.acme.local`, auth: bearer }).field,
      "baseUrl",
    );
    assert.strictEqual(
      bad({ baseUrl: "https://wiki.acme.local/?os_authType=basic", auth: bearer }).field,
      "baseUrl",
    );
    const ru = bad({ baseUrl: "wiki.acme.local", auth: bearer, locale: "ru" });
    assert.match(ru.message, /^Некорректный формат base_url/);
  });

  it("rejects an empty token or one pasted with its scheme", () => {
    assert.strictEqual(
      bad({ baseUrl: "https://wiki.acme.local", auth: { type: "bearer", token: Redacted.make(" ") } }).field,
      "auth.token",
    );
    assert.strictEqual(
      bad({
        baseUrl: "https://wiki.acme.local",
        auth: { type: "bearer", token: Redacted.make(`Bearer ${TOKEN}`) },
      }).field,
      "auth.token",
    );
  });

  it("rejects nonsensical numbers", () => {
    assert.strictEqual(
      bad({ baseUrl: "https://wiki.acme.local", auth: bearer, timeoutMs: 0 }).field,
      "timeoutMs",
    );
    assert.strictEqual(
      bad({ baseUrl: "https://wiki.acme.local", auth: bearer, maxRetries: -1 }).field,
      "maxRetries",
    );
    assert.strictEqual(
      bad({ baseUrl: "https://wiki.acme.local", auth: bearer, pageSize: 500 }).field,
      "pageSize",
    );
    assert.strictEqual(
      bad({ baseUrl: "https://wiki.acme.local", auth: bearer, proxy: { httpsProxy: "nope" } }).field,
      "proxy.httpsProxy",
    );
  });

  it("accepts a proxy URL with user and password and keeps them out of every error text", () => {
    const ok = resolveConfig({
      baseUrl: "https://wiki.acme.local",
      auth: bearer,
      proxy: { httpsProxy: "http://proxyuser:pw%3Asecret@127.0.0.1:4297", httpProxy: "https://p.acme.local" },
    });
    assert.notInstanceOf(ok, ConfluenceConfigError);
    for (const text of [
      "socks5://proxyuser:pw-secret@proxy:1080",
      "http://proxyuser:pw-secret@proxy:3128/?x=1",
    ]) {
      const error = bad({ baseUrl: "https://wiki.acme.local", auth: bearer, proxy: { httpProxy: text } });
      assert.strictEqual(error.field, "proxy.httpProxy");
      assert.notInclude(error.message, "pw-secret");
      assert.notInclude(error.message, "proxyuser");
    }
  });

  it("shows a proxy URL without its user info, and nothing of a value that is not a URL", () => {
    assert.strictEqual(proxyUrlForDisplay("http://proxyuser:pw@127.0.0.1:4297"), "http://127.0.0.1:4297");
    assert.strictEqual(proxyUrlForDisplay("https://u:p@proxy.acme.local/"), "https://proxy.acme.local");
    assert.strictEqual(proxyUrlForDisplay("proxyuser:pw@host"), "(not an http(s) URL)");
  });

  it("says what is wrong with a proxy URL without repeating it", () => {
    assert.isUndefined(proxyUrlProblem("http://proxy:3128"));
    assert.isUndefined(proxyUrlProblem("http://user@proxy:3128"));
    assert.match(proxyUrlProblem("proxy:3128") ?? "", /http:\/\/ or https:\/\//);
    assert.match(proxyUrlProblem("user:pw-secret@proxy") ?? "", /http:\/\/ or https:\/\//);
    assert.match(proxyUrlProblem("http://[pw-secret") ?? "", /not a valid absolute URL/);
    assert.match(proxyUrlProblem("http://:pw-secret@proxy") ?? "", /no user name/);
    assert.match(proxyUrlProblem("http://u:%E0%A4%A@proxy") ?? "", /URL-encoded/);
  });
});
