import { describe, expect, it } from "vitest";
import { redactUrl } from "../src/log-url.js";

describe("redactUrl", () => {
  it("replaces the values of credential-looking query parameters, whatever their case", () => {
    expect(redactUrl("/api/publications?api_key=SECRET&limit=5")).toBe(
      "/api/publications?api_key=[redacted]&limit=5",
    );
    for (const name of [
      "api_key",
      "APIKEY",
      "key",
      "Token",
      "access_token",
      "password",
      "secret",
      "api%5Fkey",
    ])
      expect(redactUrl(`/x?${name}=SECRET`)).toBe(`/x?${name}=[redacted]`);
    expect(redactUrl("/x?a=1&token=SECRET&token=SECRET2&b=2")).toBe(
      "/x?a=1&token=[redacted]&token=[redacted]&b=2",
    );
  });

  it("replaces the values of parameters whose names contain a credential word anywhere", () => {
    for (const name of [
      "X-Api-Token",
      "x_api_key",
      "clientSecret",
      "db_password",
      "PASSWD",
      "oauth_signature",
      "sig",
      "AuthCode",
      "credentials",
      "id_token_hint",
    ])
      expect(redactUrl(`/x?${name}=SECRET&limit=5`), name).toBe(`/x?${name}=[redacted]&limit=5`);
  });

  it("replaces credential names in any case and separator style, camelCase split or run together", () => {
    for (const name of [
      "passWord",
      "PassWord",
      "pass_word",
      "pass",
      "passwd",
      "pwd",
      "apiKey",
      "APIKEY",
      "api_key",
      "api-key",
      "accessToken",
      "ACCESSTOKEN",
      "access.token",
      "clientSecret",
      "CLIENT_SECRET",
      "clientsecret",
      "Authorization",
      "authorization",
      "session",
      "sessionId",
      "SESSIONID",
      "session_id",
      "private_key",
      "privateKey",
      "privatekey",
      "PRIVATE-KEY",
      "passphrase",
    ])
      expect(redactUrl(`/x?${name}=s3cr3t3&limit=5`), name).toBe(`/x?${name}=[redacted]&limit=5`);
  });

  it("keeps parameters whose names only contain a credential word, such as the API's own spaceKey", () => {
    expect(redactUrl("/api/publications?spaceKey=MEET&author=bob&design=x&monkey=1&status=published")).toBe(
      "/api/publications?spaceKey=MEET&author=bob&design=x&monkey=1&status=published",
    );
    const readable =
      "space=MEET&topic=Budget&jobId=j-1&cursor=abc&limit=5&since=x&until=y&deletePage=true&passage=3";
    expect(redactUrl(`/api/publications?${readable}`)).toBe(`/api/publications?${readable}`);
    for (const name of ["key", "KEY", "api_key", "X-Api-Key", "secretKey", "accessKey", "private.key"])
      expect(redactUrl(`/x?${name}=SECRET`), name).toBe(`/x?${name}=[redacted]`);
  });

  it("keeps other parameters and URLs without a query as they are", () => {
    expect(redactUrl("/api/publications")).toBe("/api/publications");
    expect(redactUrl("/api/publications?jobId=job-1&status=failed")).toBe(
      "/api/publications?jobId=job-1&status=failed",
    );
    expect(redactUrl("/x?%E0%A4%A=1")).toBe("/x?%E0%A4%A=1");
  });
});
