import { describe, expect, it } from "vitest";
import { buildSandboxApp } from "../src/index.js";
import { createV2Page, sandbox } from "./helpers/sandbox.js";

describe("authentication on Cloud", () => {
  // REST-API.md §2.1 table and §7.2: bad credentials are v1 403 and v2 bare 404
  it("answers wrong, revoked or missing credentials with v1 403 and v2 bare 404", async () => {
    const { sb, call } = await sandbox({ mode: "cloud", v1Removed: false });
    const wrong = `Basic ${Buffer.from(`${sb.user.email}:nope`).toString("base64")}`;
    const v2 = await call("GET", "/api/v2/spaces", { auth: wrong });
    expect(v2.status).toBe(404);
    expect(v2.body).toEqual({
      errors: [{ status: 404, code: "NOT_FOUND", title: "Not Found", detail: null }],
    });
    const search = await call("GET", "/rest/api/content/search?cql=type%3Dpage", { user: null });
    expect(search.status).toBe(403);
    expect(search.body).toMatchObject({
      statusCode: 403,
      message: "Current user not permitted to use Confluence",
    });
    const me = await call("GET", "/rest/api/user/current", { auth: wrong });
    expect(me.status).toBe(403);
    expect(me.body.message).toBe("caller cannot access Confluence");
    const token = sb.user.token;
    sb.revokeToken(token);
    expect(sb.user.token).toBe(token);
    const revoked = await call("GET", "/api/v2/spaces", {
      auth: `Basic ${Buffer.from(`minutes-bot@example.com:${token}`).toString("base64")}`,
    });
    expect(revoked.status).toBe(404);
  });

  // REST-API.md §2.1: scoped tokens only work through the gateway
  it("accepts scoped tokens only on the gateway; on the site they get a 401 HTML page", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const scoped = sb.addUser({ email: "scoped@example.com", scoped: true });
    const site = await call("GET", "/api/v2/spaces", { user: scoped });
    expect(site.status).toBe(401);
    expect(site.headers.get("content-type")).toContain("text/html");
    const gateway = await call("GET", "/wiki/api/v2/spaces?keys=MEETINGS", {
      user: scoped,
      base: sb.gatewayBaseUrl,
    });
    expect(gateway.status).toBe(200);
    expect(gateway.body.results[0].key).toBe("MEETINGS");
    expect(gateway.body._links.base).toBe(`${sb.origin}/wiki`);
    const classicOnGateway = await call("GET", "/wiki/api/v2/spaces", { base: sb.gatewayBaseUrl });
    expect(classicOnGateway.status).toBe(401);
  });

  // REST-API.md §2.1: a request outside the token's scopes
  it("answers 401 'scope does not match' when a scoped token lacks the operation's scope", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    const reader = sb.addUser({
      email: "reader@example.com",
      scoped: true,
      scopes: ["read:space:confluence", "read:page:confluence"],
    });
    const page = await createV2Page(call, "Scoped");
    const read = await call("GET", `/wiki/api/v2/pages/${page.body.id}`, {
      user: reader,
      base: sb.gatewayBaseUrl,
    });
    expect(read.status).toBe(200);
    const write = await call("DELETE", `/wiki/api/v2/pages/${page.body.id}`, {
      user: reader,
      base: sb.gatewayBaseUrl,
    });
    expect(write.status).toBe(401);
    expect(write.body).toEqual({ code: 401, message: "Unauthorized; scope does not match" });
  });
});

describe("authentication on Data Center", () => {
  // REST-API.md §2.2: PAT as Bearer; a wrong PAT is treated as anonymous; wrong Basic is 401
  it("accepts a Bearer PAT, treats a wrong PAT as anonymous and rejects wrong Basic credentials with 401", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const me = await call("GET", "/rest/api/user/current");
    expect(me.body).toMatchObject({ type: "known", username: "minutes-bot", displayName: "Minutes Bot" });
    const anon = await call("GET", "/rest/api/user/current", { auth: "Bearer wrong" });
    expect(anon.status).toBe(200);
    expect(anon.body.type).toBe("anonymous");
    expect((await call("GET", "/rest/api/space/MEETINGS", { auth: "Bearer wrong" })).status).toBe(404);
    expect(
      (await call("GET", "/rest/api/content?spaceKey=MEETINGS", { auth: "Bearer wrong" })).body.results,
    ).toEqual([]);
    const write = await call("POST", "/rest/api/content", {
      auth: "Bearer wrong",
      body: { type: "page", title: "x", space: { key: "MEETINGS" } },
    });
    expect(write.status).toBe(403);
    const basic = `Basic ${Buffer.from(`minutes-bot:${sb.user.token}`).toString("base64")}`;
    expect((await call("GET", "/rest/api/user/current", { auth: basic })).body.type).toBe("known");
    const badBasic = await call("GET", "/rest/api/user/current", {
      auth: `Basic ${Buffer.from("minutes-bot:wrong").toString("base64")}`,
    });
    expect(badBasic.status).toBe(401);
  });

  it("checks Basic against a user's own password when it has one, and the PAT only as Bearer", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const user = sb.addUser({
      email: "dc-user@example.com",
      token: "pat-of-dc-user",
      password: "pw-of-dc-user",
    });
    const basic = (secret: string) => `Basic ${Buffer.from(`dc-user:${secret}`).toString("base64")}`;
    const me = await call("GET", "/rest/api/user/current", { auth: basic("pw-of-dc-user") });
    expect(me.body).toMatchObject({ type: "known", username: "dc-user" });
    expect((await call("GET", "/rest/api/user/current", { auth: basic("pat-of-dc-user") })).status).toBe(401);
    expect((await call("GET", "/rest/api/user/current", { auth: `Bearer ${user.token}` })).body.type).toBe(
      "known",
    );
    expect((await call("GET", "/rest/api/user/current", { auth: "Bearer pw-of-dc-user" })).body.type).toBe(
      "anonymous",
    );
    // Never shown back.
    expect(me.text).not.toContain("pw-of-dc-user");
  });

  // REST-API.md §2.2: a PAT (Bearer) and the password (Basic) are separate credentials.
  it("keeps a user's password working after its personal access token was revoked", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter" });
    const user = sb.addUser({
      email: "dc-pat@example.com",
      token: "pat-of-dc-pat",
      password: "pw-of-dc-pat",
    });
    // Without a password of its own, the user's password is the token's value: a separate credential too.
    const plain = sb.addUser({ email: "dc-plain@example.com", token: "pat-of-dc-plain" });
    const basic = (name: string, secret: string) =>
      `Basic ${Buffer.from(`${name}:${secret}`).toString("base64")}`;
    const whoAmI = async (auth: string) => {
      const res = await call("GET", "/rest/api/user/current", { auth });
      return `${res.status} ${res.body?.type ?? ""}`.trim();
    };
    sb.revokeToken(user.token);
    sb.revokeToken(plain.token);
    // The PAT no longer works: anonymous, as any PAT Data Center does not know.
    expect(await whoAmI(`Bearer ${user.token}`)).toBe("200 anonymous");
    expect(await whoAmI(`Bearer ${plain.token}`)).toBe("200 anonymous");
    // The password does.
    expect(await whoAmI(basic("dc-pat", "pw-of-dc-pat"))).toBe("200 known");
    expect(await whoAmI(basic("dc-plain", "pat-of-dc-plain"))).toBe("200 known");
    const write = await call("POST", "/rest/api/content", {
      auth: basic("dc-pat", "pw-of-dc-pat"),
      body: { type: "page", title: "After the PAT was revoked", space: { key: "MEETINGS" } },
    });
    expect(write.status).toBe(200);
    // Revoked through the admin endpoint (as a test in another process would): the same.
    const other = sb.addUser({
      email: "dc-admin@example.com",
      token: "pat-of-dc-admin",
      password: "pw-admin",
    });
    expect(
      (await fetch(`${sb.origin}/sandbox/admin/tokens/${other.token}`, { method: "DELETE" })).status,
    ).toBe(204);
    expect(await whoAmI(`Bearer ${other.token}`)).toBe("200 anonymous");
    expect(await whoAmI(basic("dc-admin", "pw-admin"))).toBe("200 known");
    // A wrong password is still refused.
    expect(await whoAmI(basic("dc-pat", "pat-of-dc-pat"))).toBe("401");
  });
});

describe("OpenAPI validation", () => {
  it("refuses a v2 create without spaceId with 400 in the v2 envelope", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const res = await call("POST", "/api/v2/pages", {
      body: { title: "No space", body: { representation: "storage", value: "" } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ status: 400, code: "BAD_REQUEST" });
    expect(res.body.errors[0].title).toContain("spaceId");
  });

  it("refuses a v1 update without version, a non-numeric v2 id and an unknown body-format", async () => {
    const { call } = await sandbox({ mode: "datacenter" });
    const res = await call("PUT", "/rest/api/content/123", { body: { type: "page", title: "t" } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, reason: "Bad Request" });
    expect(res.body.message).toContain("version");
    const cloud = await sandbox({ mode: "cloud" });
    expect((await cloud.call("GET", "/api/v2/pages/abc")).status).toBe(400);
    expect((await cloud.call("GET", "/api/v2/pages/1?body-format=markdown")).status).toBe(400);
  });

  it("answers unknown API paths with 404 and known paths with a wrong method with 405", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    expect((await call("GET", "/api/v2/nothing-here")).status).toBe(404);
    expect((await call("PATCH", "/api/v2/pages/1")).status).toBe(405);
  });

  it("answers invalid JSON with 400 in the envelope of the API", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const res = await call("POST", "/api/v2/pages", { rawBody: "{nope" });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe("BAD_REQUEST");
  });
});

describe("buildSandboxApp", () => {
  it("serves the same API through app.inject without listening", async () => {
    const { app, store } = buildSandboxApp({ mode: "datacenter" });
    const user = store.userList[0]!;
    const res = await app.inject({
      method: "GET",
      url: "/rest/api/space/MEETINGS",
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().key).toBe("MEETINGS");
    await app.close();
  });
});

describe("Cloud v1 details", () => {
  // REST-API.md §1.1: deprecated endpoints that still answer carry Deprecation and Warning headers
  it("marks deprecated v1 endpoints with deprecation and warning headers while they still work", async () => {
    const { call } = await sandbox({ mode: "cloud", v1Removed: false });
    const res = await call("GET", "/rest/api/space/MEETINGS");
    expect(res.status).toBe(200);
    expect(res.headers.get("deprecation")).toBe("Wed, 1 Mar 2023 00:00:00 GMT");
    expect(res.headers.get("warning")).toContain("Deprecated API, will be removed on Mon, 31 Mar 2025");
  });

  // REST-API.md §9, §7.2: more than 8 expansions → 400
  it("refuses more than eight expansions", async () => {
    const { call } = await sandbox({ mode: "cloud", v1Removed: false });
    const page = await call("POST", "/rest/api/content", {
      body: {
        type: "page",
        title: "Expand",
        space: { key: "MEETINGS" },
        body: { storage: { value: "<p/>", representation: "storage" } },
      },
    });
    const nine =
      "space,history,version,ancestors,body.storage,container,metadata.labels,children.page,body.view";
    expect((await call("GET", `/rest/api/content/${page.body.id}?expand=${nine}`)).status).toBe(400);
    expect(
      (await call("GET", `/rest/api/content/${page.body.id}?expand=space,version,ancestors`)).status,
    ).toBe(200);
  });

  // REST-API.md §9: request body limit 5,242,880 bytes on Cloud
  it("answers 413 for a request body over 5 MB", async () => {
    const { call } = await sandbox({ mode: "cloud" });
    const res = await call("POST", "/api/v2/pages", {
      body: {
        spaceId: "1",
        title: "Big",
        body: { representation: "storage", value: `<p>${"x".repeat(5_300_000)}</p>` },
      },
    });
    expect(res.status).toBe(413);
    expect(res.body.errors[0].title).toBe("Requests for this resource can be at most 5242880 bytes");
  });
});

describe("Seraph on Data Center", () => {
  // REST-API.md §2.2: repeated failed logins put the account into CAPTCHA mode
  it("answers 403 with the CAPTCHA headers after three failed Basic logins, even for the right password, until reset", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    const basic = (password: string) => `Basic ${Buffer.from(`minutes-bot:${password}`).toString("base64")}`;
    for (let i = 0; i < 3; i++)
      expect((await call("GET", "/rest/api/user/current", { auth: basic("wrong") })).status).toBe(401);
    const denied = await call("GET", "/rest/api/user/current", { auth: basic(sb.user.token) });
    expect(denied.status).toBe(403);
    expect(denied.headers.get("x-seraph-loginreason")).toBe("AUTHENTICATION_DENIED");
    expect(denied.headers.get("x-authentication-denied-reason")).toBe(
      `CAPTCHA_CHALLENGE; login-url=${sb.origin}/confluence/login.action`,
    );
    expect((await call("GET", "/rest/api/user/current")).body.type).toBe("known");
    sb.reset();
    expect((await call("GET", "/rest/api/user/current", { auth: basic(sb.user.token) })).status).toBe(200);
  });
});

describe("cloud id discovery", () => {
  // REST-API.md §1: `_edge/tenant_info` and `oauth/token/accessible-resources`
  it("tells the cloud id unauthenticated at /_edge/tenant_info and to a Bearer token at accessible-resources", async () => {
    const { sb } = await sandbox({ mode: "cloud", cloudId: "11111111-2222-3333-4444-555555555555" });
    expect(await (await fetch(`${sb.origin}/_edge/tenant_info`)).json()).toEqual({
      cloudId: "11111111-2222-3333-4444-555555555555",
    });
    expect(sb.gatewayBaseUrl).toBe(`${sb.origin}/ex/confluence/11111111-2222-3333-4444-555555555555`);
    const resources = await fetch(`${sb.origin}/oauth/token/accessible-resources`, {
      headers: { authorization: `Bearer ${sb.user.token}` },
    });
    expect(((await resources.json()) as Array<{ id: string }>)[0]?.id).toBe(
      "11111111-2222-3333-4444-555555555555",
    );
    expect((await fetch(`${sb.origin}/oauth/token/accessible-resources`)).status).toBe(401);
  });
});

describe("paths outside the mount root", () => {
  // REST-API.md §1 (roots) and §7.1 (non-JSON bodies): outside the web application there is no REST
  // envelope and no 405; Tomcat (DC) or the edge (Cloud) answers a plain 404.
  it("answers a plain HTML 404 for API-like paths outside the Data Center context path", async () => {
    const { sb, call } = await sandbox({ mode: "datacenter", contextPath: "/confluence" });
    for (const [method, path] of [
      ["GET", "/rest/api/space/MEETINGS"],
      ["GET", "/wiki/rest/api/space/MEETINGS"],
      ["POST", "/rest/api/content"],
      ["GET", "/other/rest/api/space/MEETINGS"],
      ["GET", "/confluencex/rest/api/space/MEETINGS"],
    ] as const) {
      const res = await call(method, path, { base: sb.origin, ...(method === "POST" ? { body: {} } : {}) });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.body).toBeNull();
      expect(res.text).toContain("HTTP Status 404 – Not Found");
    }
    // Inside the context path the API answers, 405s a wrong method and 404s in the v1 envelope.
    expect((await call("GET", "/rest/api/space/MEETINGS")).status).toBe(200);
    const patch = await call("PATCH", "/rest/api/content/1");
    expect(patch.status).toBe(405);
    expect(patch.body).toMatchObject({ statusCode: 405, message: "Method PATCH not allowed" });
    const unknown = await call("GET", "/rest/api/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404 });
  });

  it("answers a plain HTML 404 for API-like paths outside /wiki and the gateway on Cloud", async () => {
    const { sb, call } = await sandbox({ mode: "cloud" });
    for (const [method, path] of [
      ["GET", "/rest/api/space/MEETINGS"],
      ["GET", "/api/v2/spaces"],
      ["PATCH", "/api/v2/pages/1"],
      ["GET", `/ex/confluence/${sb.cloudId}/rest/api/space/MEETINGS`],
      ["GET", "/ex/confluence/00000000-0000-0000-0000-000000000000/wiki/api/v2/spaces"],
    ] as const) {
      const res = await call(method, path, { base: sb.origin });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(res.headers.get("content-type")).toContain("text/html");
    }
    expect((await call("PATCH", "/wiki/api/v2/pages/1", { base: sb.gatewayBaseUrl })).status).toBe(405);
    expect((await call("PATCH", "/rest/api/content/1/label")).status).toBe(405);
  });
});
