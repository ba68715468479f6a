// What the request log keeps of a request, captured from the gateway's own logger over real HTTP:
// no credential in a query string or a header, whatever the route answers.
import { afterEach, describe, expect, it } from "vitest";
import { type Harness, listen, startHarness } from "./helpers/harness.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const QUERY_SECRETS = {
  api_key: "QS-API-KEY-1",
  "X-Api-Token": "QS-TOKEN-2",
  client_secret: "QS-SECRET-3",
  oauth_signature: "QS-SIGNATURE-4",
  sig: "QS-SIG-5",
  Password: "QS-PASSWORD-6",
  credential: "QS-CREDENTIAL-7",
  auth: "QS-AUTH-8",
};

const HEADER_SECRETS = {
  cookie: "session=HS-COOKIE-1",
  "x-api-key": "HS-X-API-KEY-2",
  "x-auth-token": "HS-X-AUTH-TOKEN-3",
  "proxy-authorization": "Basic HS-PROXY-4",
};

describe("the request log", () => {
  it("keeps no credential sent in a query string or a header, on known and unknown routes", async () => {
    h = await startHarness();
    const base = await listen(h);
    const query = new URLSearchParams({ ...QUERY_SECRETS, limit: "5" }).toString();
    const requests = [
      fetch(`${base}/api/publications?${query}`, { headers: { ...HEADER_SECRETS, ...h.auth } }),
      fetch(`${base}/api/publications?${query}`, {
        headers: { ...HEADER_SECRETS, authorization: "Bearer HS-WRONG-KEY-5" },
      }),
      fetch(`${base}/api/nothing-here?${query}`, { headers: HEADER_SECRETS }),
      fetch(`${base}/healthz?${query}`, { headers: HEADER_SECRETS }),
    ];
    for (const res of await Promise.all(requests)) await res.arrayBuffer();
    const lines = h
      .logs()
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as { msg?: string; req?: { url: string } });
    const urls = lines.filter((l) => l.msg === "incoming request").map((l) => l.req?.url);
    expect(urls).toHaveLength(4);
    expect(urls).toContain(
      "/api/publications?api_key=[redacted]&X-Api-Token=[redacted]&client_secret=[redacted]&oauth_signature=[redacted]&sig=[redacted]&Password=[redacted]&credential=[redacted]&auth=[redacted]&limit=5",
    );
    for (const secret of [
      ...Object.values(QUERY_SECRETS),
      ...Object.values(HEADER_SECRETS),
      "HS-COOKIE-1",
      "HS-WRONG-KEY-5",
      h.apiKey,
    ])
      expect(h.logs(), secret).not.toContain(secret);
  });

  it("redacts credential headers where a log line is given a request's headers by hand", async () => {
    h = await startHarness();
    h.app.log.warn(
      {
        headers: { ...HEADER_SECRETS, authorization: "Bearer HS-BEARER-6", "set-cookie": "HS-SET-COOKIE-7" },
      },
      "a request's headers",
    );
    expect(h.logs()).toContain("a request's headers");
    for (const secret of [
      "HS-COOKIE-1",
      "HS-X-API-KEY-2",
      "HS-X-AUTH-TOKEN-3",
      "HS-PROXY-4",
      "HS-BEARER-6",
      "HS-SET-COOKIE-7",
    ])
      expect(h.logs(), secret).not.toContain(secret);
  });
});
