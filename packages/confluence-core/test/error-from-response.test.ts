import { assert, describe, it } from "@effect/vitest";
import { asksLongerThanClientWaits, requestedWaitMs } from "../src/ConfluenceError.js";
import {
  errorFromResponse,
  errorFromTransport,
  type HttpFailure,
  mayHaveLanded,
  scrub,
} from "../src/error-from-response.js";

const TOKEN = "ATATT3xFfGF0-secret-token-value";
const BASIC = Buffer.from(`bot@example.com:${TOKEN}`).toString("base64");

const v1 = (status: number, message: string) =>
  JSON.stringify({
    statusCode: status,
    data: { authorized: false, valid: true, allowedInReadOnlyMode: true, errors: [], successful: false },
    message,
    reason: "Bad Request",
  });
const v2 = (status: number, code: string, title: string) =>
  JSON.stringify({ errors: [{ status, code, title, detail: null }] });

const failure = (over: Partial<HttpFailure>): HttpFailure => ({
  method: "POST",
  path: "/wiki/rest/api/content",
  status: 400,
  headers: {},
  body: "",
  api: "v1",
  deployment: "cloud",
  viaGateway: false,
  nowMs: Date.parse("2026-11-26T12:00:00Z"),
  maxRetryAfterMs: 300_000,
  locale: "en",
  secrets: [TOKEN, `Basic ${BASIC}`, BASIC],
  ...over,
});

describe("errorFromResponse", () => {
  it("maps 401 to an authentication error", () => {
    const e = errorFromResponse(failure({ status: 401, body: v1(401, "Unauthorized") }));
    assert.strictEqual(e._tag, "ConfluenceAuthenticationError");
    assert.strictEqual(e.hint, "cloud-credentials");
  });

  it("recognises a token outside its scopes", () => {
    const e = errorFromResponse(
      failure({
        status: 401,
        viaGateway: true,
        body: '{"code":401,"message":"Unauthorized; scope does not match"}',
      }),
    );
    assert.strictEqual(e._tag, "ConfluenceAuthenticationError");
    assert.strictEqual(e.hint, "scope-mismatch");
  });

  it("recognises a scoped token sent to the site by Tomcat's HTML 401", () => {
    const e = errorFromResponse(
      failure({ status: 401, body: "<html><body><h1>HTTP Status 401 – Unauthorized</h1></body></html>" }),
    );
    assert.strictEqual(e.hint, "scoped-token-needs-gateway");
    assert.strictEqual(e.confluenceMessage, "HTTP Status 401 – Unauthorized");
  });

  it("names confluence.deployment when a Data Center refusal meets a deployment that was only detected", () => {
    const dc = { deployment: "datacenter", path: "/wiki/rest/api/user/current", method: "GET" } as const;
    const anonymous = failure({ ...dc, status: 403, body: v1(403, "caller cannot access Confluence") });
    assert.strictEqual(errorFromResponse(anonymous).hint, "datacenter-anonymous");
    const guessed = errorFromResponse({ ...anonymous, deploymentDetected: true });
    assert.strictEqual(guessed.hint, "datacenter-anonymous-or-cloud");
    assert.include(guessed.message, "wrong, expired or revoked");
    assert.include(
      guessed.message,
      "Confluence Cloud on a custom domain, since Data Center was only guessed",
    );
    assert.include(guessed.message, 'set confluence.deployment to "cloud"');
    const unauthorized = failure({ ...dc, status: 401, body: v1(401, "Unauthorized") });
    assert.strictEqual(errorFromResponse(unauthorized).hint, undefined);
    const unauthorizedGuessed = errorFromResponse({ ...unauthorized, deploymentDetected: true });
    assert.strictEqual(unauthorizedGuessed.hint, "datacenter-detected");
    assert.include(unauthorizedGuessed.message, 'set confluence.deployment to "cloud"');
  });

  it("names the user name and password, not a personal access token, when Data Center refuses Basic credentials", () => {
    const basic = {
      deployment: "datacenter",
      path: "/rest/api/user/current",
      method: "GET",
      authType: "basic",
    } as const;
    const wrong = failure({
      ...basic,
      status: 401,
      headers: { "x-seraph-loginreason": "AUTHENTICATED_FAILED" },
      body: v1(401, "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED"),
    });
    for (const deploymentDetected of [false, true]) {
      const e = errorFromResponse({ ...wrong, deploymentDetected });
      assert.strictEqual(e._tag, "ConfluenceAuthenticationError");
      assert.strictEqual(e.hint, "datacenter-basic-credentials");
      assert.include(e.message, "refused the user name and password (Basic auth");
      assert.include(e.message, "confluence.username");
      assert.notInclude(e.message, "personal access token");
    }
    // An anonymous answer to Basic names the password too; a guessed deployment, that guess only.
    const anonymous = failure({ ...basic, status: 403, body: v1(403, "caller cannot access Confluence") });
    assert.strictEqual(errorFromResponse(anonymous).hint, "datacenter-basic-credentials");
    assert.strictEqual(
      errorFromResponse({ ...anonymous, deploymentDetected: true }).hint,
      "datacenter-detected",
    );
    // Russian, like every hint.
    assert.include(
      errorFromResponse({ ...wrong, locale: "ru" }).message,
      "Data Center отклонил имя пользователя и пароль",
    );
    // Bearer on Data Center and Basic on Cloud are answered as before.
    assert.strictEqual(errorFromResponse({ ...wrong, authType: "bearer" }).hint, undefined);
    assert.strictEqual(errorFromResponse({ ...wrong, deployment: "cloud" }).hint, "cloud-credentials");
  });

  it("maps Cloud v1's 403 for bad credentials to authentication, other 403s to permission", () => {
    const creds = errorFromResponse(
      failure({ status: 403, body: v1(403, "Current user not permitted to use Confluence") }),
    );
    assert.strictEqual(creds._tag, "ConfluenceAuthenticationError");
    const caller = errorFromResponse(
      failure({ status: 403, body: v1(403, "caller cannot access Confluence") }),
    );
    assert.strictEqual(caller._tag, "ConfluenceAuthenticationError");
    const perm = errorFromResponse(
      failure({
        status: 403,
        body: v1(
          403,
          "Could not update Content of type : class com.atlassian.confluence.pages.Page with id 5",
        ),
      }),
    );
    assert.strictEqual(perm._tag, "ConfluencePermissionError");
    // What to do about it, not only that Confluence said no.
    assert.strictEqual(perm.hint, "no-permission");
    assert.match(
      perm.message,
      /add and edit pages there \(space permissions\).*page restriction.*then retry/,
    );
  });

  it("maps a Seraph CAPTCHA 403 on Data Center to authentication with a hint", () => {
    const e = errorFromResponse(
      failure({
        status: 403,
        deployment: "datacenter",
        headers: {
          "x-seraph-loginreason": "AUTHENTICATION_DENIED",
          "x-authentication-denied-reason": "CAPTCHA_CHALLENGE; login-url=x",
        },
      }),
    );
    assert.strictEqual(e._tag, "ConfluenceAuthenticationError");
    assert.strictEqual(e.hint, "datacenter-captcha");
  });

  it("marks Cloud v2's bare 404 as possibly a credential failure, but not a named 404", () => {
    const bare = errorFromResponse(
      failure({ status: 404, api: "v2", body: v2(404, "NOT_FOUND", "Not Found") }),
    );
    assert.strictEqual(bare._tag, "ConfluenceNotFoundError");
    assert.strictEqual(bare.hint, "cloud-v2-not-found-may-be-credentials");
    const named = errorFromResponse(
      failure({
        status: 404,
        api: "v2",
        body: v2(404, "NOT_FOUND", "Cannot find a page with id [999999999999]"),
      }),
    );
    assert.isUndefined(named.hint);
    assert.strictEqual(named.confluenceMessage, "Cannot find a page with id [999999999999]");
  });

  it("says to check the base URL when a 404 is HTML from Tomcat rather than a Confluence REST answer", () => {
    const tomcat =
      '<!doctype html><html lang="en"><head><title>HTTP Status 404 – Not Found</title></head>' +
      "<body><h1>HTTP Status 404 – Not Found</h1><p><b>Type</b> Status Report</p></body></html>";
    for (const deployment of ["datacenter", "cloud"] as const) {
      for (const api of ["v1", "v2"] as const) {
        const e = errorFromResponse(
          failure({
            method: "GET",
            path: "/rest/api/space/MEETINGS",
            status: 404,
            body: tomcat,
            deployment,
            api,
          }),
        );
        assert.strictEqual(e._tag, "ConfluenceNotFoundError");
        assert.strictEqual(e.hint, "check-base-url");
        assert.match(e.message, /^Confluence resource not found \[GET \/rest\/api\/space\/MEETINGS → 404\]/);
        assert.include(e.message, "check the base URL");
        assert.include(e.message, "context path");
      }
    }
    const ru = errorFromResponse(failure({ status: 404, body: tomcat, locale: "ru" }));
    assert.include(ru.message, "базовый URL");
    const json = errorFromResponse(
      failure({
        method: "GET",
        status: 404,
        deployment: "datacenter",
        body: v1(404, "null for uri: http://127.0.0.1/confluence/rest/api/nothing"),
      }),
    );
    assert.isUndefined(json.hint);
    assert.isUndefined(errorFromResponse(failure({ status: 404, body: "" })).hint);
  });

  it("maps 410 Gone to not found with the endpoint-removed hint, never to a retryable error", () => {
    const e = errorFromResponse(
      failure({
        status: 410,
        body: v1(
          410,
          "com.atlassian.confluence.api.service.exceptions.GoneException: This deprecated endpoint has been removed.",
        ),
      }),
    );
    assert.strictEqual(e._tag, "ConfluenceNotFoundError");
    assert.strictEqual(e.hint, "endpoint-removed");
  });

  it("detects every known title-exists message as a title conflict", () => {
    const messages = [
      "A page with this title already exists: A page already exists with the title Weekly in the space with key MEETINGS",
      "com.atlassian.confluence.api.service.exceptions.BadRequestException: A page with this title already exists: A page already exists with the title Weekly in the space with key MEETINGS",
    ];
    for (const m of messages) {
      const e = errorFromResponse(failure({ body: v1(400, m) }));
      assert.strictEqual(e._tag, "ConfluenceTitleConflictError", m);
      if (e._tag === "ConfluenceTitleConflictError") {
        assert.strictEqual(e.title, "Weekly");
        assert.strictEqual(e.spaceKey, "MEETINGS");
      }
    }
    const v2e = errorFromResponse(
      failure({
        api: "v2",
        body: v2(
          400,
          "BAD_REQUEST",
          "A page with this title already exists: A page already exists with the same TITLE in this space",
        ),
      }),
    );
    assert.strictEqual(v2e._tag, "ConfluenceTitleConflictError");
    const folder = errorFromResponse(
      failure({
        api: "v2",
        body: v2(400, "BAD_REQUEST", "A folder exists with the same title in this space"),
      }),
    );
    assert.strictEqual(folder._tag, "ConfluenceTitleConflictError");
  });

  it("maps malformed storage, unconvertible bodies and 413 to validation errors", () => {
    const xhtml = errorFromResponse(
      failure({
        body: v1(
          400,
          "Error parsing xhtml: Unexpected close tag </br>; expected </p>.\n at [row,col {unknown-source}]: [1,15]",
        ),
      }),
    );
    assert.strictEqual(xhtml._tag, "ConfluenceValidationError");
    assert.match(xhtml.confluenceMessage ?? "", /^Error parsing xhtml/);
    const editor = errorFromResponse(
      failure({
        body: v1(
          400,
          "com.atlassian.confluence.api.service.exceptions.BadRequestException: Content body cannot be converted to new editor format",
        ),
      }),
    );
    assert.strictEqual(editor._tag, "ConfluenceValidationError");
    assert.strictEqual(
      errorFromResponse(failure({ status: 413, body: "" }))._tag,
      "ConfluenceValidationError",
    );
  });

  it("says a 413 means the page is too large for Confluence, not invalid, and what to do", () => {
    const e = errorFromResponse(
      failure({ status: 413, body: v2(413, "REQUEST_ENTITY_TOO_LARGE", "Request Entity Too Large") }),
    );
    assert.strictEqual(e._tag, "ConfluenceValidationError");
    assert.strictEqual(e.hint, "too-large");
    assert.match(
      e.message,
      /^The page is too large for Confluence \[POST \/wiki\/rest\/api\/content → 413\]/,
    );
    assert.notMatch(e.message, /invalid/);
    assert.match(e.message, /split the protocol/);
    assert.match(e.message, /size limit/);
    const ru = errorFromResponse(failure({ status: 413, body: "", locale: "ru" }));
    assert.match(ru.message, /^Страница слишком велика для Confluence/);
    assert.match(ru.message, /разделите протокол/);
  });

  it("reads the current version from v1 and v2 409 bodies", () => {
    const a = errorFromResponse(
      failure({ status: 409, body: v1(409, "Version must be incremented on update. Current version is: 7") }),
    );
    if (a._tag === "ConfluenceVersionConflictError") assert.strictEqual(a.currentVersion, 7);
    else assert.fail(a._tag);
    const b = errorFromResponse(
      failure({
        status: 409,
        api: "v2",
        body: v2(
          409,
          "CONFLICT",
          "Version must be incremented when updating a page. Current Version: [3]. Provided version: [3]",
        ),
      }),
    );
    if (b._tag === "ConfluenceVersionConflictError") assert.strictEqual(b.currentVersion, 3);
    else assert.fail(b._tag);
  });

  it("treats Cloud's transient optimistic-lock 409 as a retryable server error", () => {
    const e = errorFromResponse(
      failure({
        status: 409,
        body: v1(
          409,
          "com.atlassian.confluence.api.service.exceptions.ConflictException: javax.persistence.OptimisticLockException: Batch update returned unexpected row count",
        ),
      }),
    );
    assert.strictEqual(e._tag, "ConfluenceServerError");
  });

  it("maps 429 with Retry-After in seconds or as a date, clamped", () => {
    const seconds = errorFromResponse(failure({ status: 429, headers: { "retry-after": "3" } }));
    if (seconds._tag === "ConfluenceRateLimitedError") assert.strictEqual(seconds.retryAfterMs, 3_000);
    else assert.fail(seconds._tag);
    const date = errorFromResponse(
      failure({ status: 429, headers: { "retry-after": "Thu, 26 Nov 2026 12:00:10 GMT" } }),
    );
    if (date._tag === "ConfluenceRateLimitedError") assert.strictEqual(date.retryAfterMs, 10_000);
    else assert.fail(date._tag);
    const huge = errorFromResponse(
      failure({ status: 429, headers: { "retry-after": "9223372036854775807" }, maxRetryAfterMs: 1_000 }),
    );
    if (huge._tag === "ConfluenceRateLimitedError") assert.strictEqual(huge.retryAfterMs, 1_000);
    else assert.fail(huge._tag);
    const none = errorFromResponse(failure({ status: 429 }));
    if (none._tag === "ConfluenceRateLimitedError") assert.isUndefined(none.retryAfterMs);
    else assert.fail(none._tag);
  });

  it("keeps the Retry-After Confluence asked for next to the clamped one", () => {
    const hour = errorFromResponse(failure({ status: 429, headers: { "retry-after": "3600" } }));
    if (hour._tag !== "ConfluenceRateLimitedError") return assert.fail(hour._tag);
    assert.strictEqual(hour.retryAfterMs, 300_000);
    assert.strictEqual(hour.requestedRetryAfterMs, 3_600_000);
    assert.strictEqual(requestedWaitMs(hour), 3_600_000);
    assert.isTrue(asksLongerThanClientWaits(hour));
    const short = errorFromResponse(failure({ status: 429, headers: { "retry-after": "3" } }));
    if (short._tag !== "ConfluenceRateLimitedError") return assert.fail(short._tag);
    assert.strictEqual(short.requestedRetryAfterMs, 3_000);
    assert.isFalse(asksLongerThanClientWaits(short));
    const huge = errorFromResponse(
      failure({ status: 503, headers: { "retry-after": "9223372036854775807" } }),
    );
    if (huge._tag !== "ConfluenceServerError") return assert.fail(huge._tag);
    assert.strictEqual(huge.retryAfterMs, 300_000);
    // Bounded at ten years: a longer wait is as good as never, and a float past 2^53 would show.
    assert.strictEqual(huge.requestedRetryAfterMs, 315_360_000_000);
  });

  it("maps 5xx to server errors, keeping a 503's Retry-After", () => {
    for (const status of [500, 501, 502, 503, 504])
      assert.strictEqual(errorFromResponse(failure({ status }))._tag, "ConfluenceServerError");
    const e = errorFromResponse(failure({ status: 503, headers: { "retry-after": "4" } }));
    if (e._tag === "ConfluenceServerError") assert.strictEqual(e.retryAfterMs, 4_000);
    else assert.fail(e._tag);
  });

  it("maps a redirect (SSO login page, wrong base URL) to a non-retryable validation error without the query", () => {
    const e = errorFromResponse(
      failure({ status: 302, headers: { location: "https://sso.example.com/login?token=abc" } }),
    );
    assert.strictEqual(e._tag, "ConfluenceValidationError");
    assert.notInclude(e.message, "token=abc");
  });

  it("never lets the token or the encoded credentials reach the error, even when the server echoes them", () => {
    const echoed = `Bad header Authorization: Basic ${BASIC} for token ${TOKEN}`;
    for (const status of [400, 401, 403, 404, 409, 429, 500]) {
      const e = errorFromResponse(failure({ status, body: v1(status, echoed) }));
      for (const text of [e.message, JSON.stringify(e), String(e)]) {
        assert.notInclude(text, TOKEN);
        assert.notInclude(text, BASIC);
      }
      assert.include(e.message, "[redacted]");
    }
  });

  it("reports a redirect as scheme, host and scrubbed path, never the user name, password or query", () => {
    const assertClean = (e: { message: string }) => {
      for (const text of [e.message, JSON.stringify(e), String(e)]) {
        assert.notInclude(text, TOKEN);
        assert.notInclude(text, BASIC);
        assert.notInclude(text, BASIC.replace(/=+$/, ""));
        assert.notInclude(text, encodeURIComponent(BASIC));
        assert.notInclude(text, "bot:");
        assert.notInclude(text, "x=1");
      }
    };
    const userinfo = errorFromResponse(
      failure({ status: 302, headers: { location: `https://bot:${TOKEN}@sso.example.com:8443/login?x=1` } }),
    );
    assertClean(userinfo);
    assert.strictEqual(
      userinfo.confluenceMessage,
      "unexpected HTTP 302 redirect to https://sso.example.com:8443/login",
    );
    const encodedInPath = errorFromResponse(
      failure({
        status: 302,
        headers: { location: `https://sso.example.com/login/${encodeURIComponent(`Basic ${BASIC}`)}?x=1` },
      }),
    );
    assertClean(encodedInPath);
    assert.include(encodedInPath.confluenceMessage ?? "", "https://sso.example.com/login/[redacted]");
    const relative = errorFromResponse(
      failure({ status: 301, headers: { location: `/login.action/${TOKEN}?x=1` } }),
    );
    assertClean(relative);
    assert.strictEqual(
      relative.confluenceMessage,
      "unexpected HTTP 301 redirect to /login.action/[redacted]",
    );
    const opaque = errorFromResponse(failure({ status: 302, headers: { location: `foo:bot:${TOKEN}@x` } }));
    assertClean(opaque);
  });

  it("scrubs the whole message before bounding it, so a secret across the cut is not left half-visible", () => {
    for (const secret of [TOKEN, `Basic ${BASIC}`]) {
      for (let pad = 480; pad <= 500; pad += 4) {
        const e = errorFromResponse(failure({ status: 401, body: v1(401, `${"y".repeat(pad)}${secret}`) }));
        const m = e.confluenceMessage ?? "";
        assert.isAtMost(m.length, 501);
        // No tail of the secret's prefix survives: neither its first 8 characters nor the payload.
        assert.notInclude(m, secret.slice(0, 8));
        assert.notInclude(m, TOKEN.slice(0, 8));
        assert.notInclude(m, BASIC.slice(0, 8));
      }
    }
  });

  it("decodes HTML entities before scrubbing, so an entity-escaped echo of the token is recognised", () => {
    const hex = TOKEN.replace(/[^A-Za-z0-9]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
    const dec = TOKEN.replace(/[^A-Za-z0-9]/g, (c) => `&#${c.charCodeAt(0)};`);
    for (const body of [
      `<html><p>Invalid token ${hex}</p></html>`,
      `<html><p>Invalid token ${dec}</p></html>`,
      `<html><p>Bad header &quot;Basic ${BASIC.replace(/=/g, "&#61;")}&quot; &amp; more</p></html>`,
      v1(401, `Invalid token ${hex}`),
    ]) {
      const e = errorFromResponse(failure({ status: 401, body }));
      const m = e.confluenceMessage ?? "";
      assert.notInclude(m, TOKEN.slice(0, 8), body);
      assert.notInclude(m, BASIC.slice(0, 8), body);
      assert.include(m, "[redacted]", body);
    }
    const named = errorFromResponse(
      failure({ status: 400, body: "<p>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</p>" }),
    );
    assert.strictEqual(named.confluenceMessage, `a <b> & "c" 'd'`);
  });

  it("bounds Confluence's message", () => {
    const e = errorFromResponse(failure({ status: 500, body: "x".repeat(5_000) }));
    assert.isAtMost((e.confluenceMessage ?? "").length, 501);
  });
});

describe("errorFromTransport", () => {
  const reason = (cause: unknown) =>
    errorFromTransport({ method: "GET", path: "/x", cause, locale: "en" }).reason;

  it("names the reason from Node and undici error codes", () => {
    assert.strictEqual(reason({ code: "ENOTFOUND" }), "dns");
    assert.strictEqual(reason({ code: "EAI_AGAIN" }), "dns");
    assert.strictEqual(reason({ code: "ECONNREFUSED" }), "connect");
    assert.strictEqual(reason({ code: "UND_ERR_CONNECT_TIMEOUT" }), "timeout");
    assert.strictEqual(reason({ code: "UND_ERR_HEADERS_TIMEOUT" }), "timeout");
    assert.strictEqual(reason({ code: "ECONNRESET" }), "reset");
    assert.strictEqual(reason({ code: "UND_ERR_SOCKET", cause: { code: "ECONNRESET" } }), "reset");
    assert.strictEqual(reason({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" }), "tls");
    assert.strictEqual(reason({ code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }), "tls");
    assert.strictEqual(reason({ code: "ERR_TLS_CERT_ALTNAME_INVALID" }), "tls");
    assert.strictEqual(reason({ name: "TimeoutError" }), "timeout");
    assert.strictEqual(reason(new Error("boom")), "other");
  });

  it("reads the code of a wrapped cause (fetch failed → ECONNREFUSED)", () => {
    assert.strictEqual(reason({ name: "TypeError", cause: { code: "ECONNREFUSED" } }), "connect");
  });

  it("says a failure may have landed unless the request surely never left", () => {
    const net = (cause: unknown) => errorFromTransport({ method: "POST", path: "/x", cause, locale: "en" });
    assert.isFalse(mayHaveLanded(net({ code: "ENOTFOUND" })));
    assert.isFalse(mayHaveLanded(net({ code: "ECONNREFUSED" })));
    assert.isFalse(mayHaveLanded(net({ code: "UND_ERR_CONNECT_TIMEOUT" })));
    assert.isTrue(mayHaveLanded(net({ code: "ECONNRESET" })));
    assert.isTrue(mayHaveLanded(net({ name: "TimeoutError" })));
    assert.isFalse(mayHaveLanded(errorFromResponse(failure({ status: 429 }))));
    assert.isTrue(mayHaveLanded(errorFromResponse(failure({ status: 504 }))));
  });
});

describe("scrub", () => {
  it("replaces every occurrence of each secret, longest first", () => {
    assert.strictEqual(
      scrub(`a ${TOKEN} b Basic ${BASIC}`, [TOKEN, `Basic ${BASIC}`, BASIC]),
      "a [redacted] b [redacted]",
    );
    assert.isUndefined(scrub(undefined, [TOKEN]));
  });

  it("also finds a secret URL-encoded (either hex case) or base64 without its padding", () => {
    const padded = Buffer.from("bot@example.com:tok").toString("base64");
    assert.isTrue(padded.endsWith("="));
    const text = `${encodeURIComponent(padded)} ${encodeURIComponent(padded).toLowerCase()} ${padded.replace(/=+$/, "")}`;
    assert.notInclude(scrub(text, [padded]) ?? "", padded.slice(0, 8));
  });
});
