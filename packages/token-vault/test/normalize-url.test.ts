import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { normalizeUrl } from "../src/index.js";

describe("normalizeUrl", () => {
  it("maps spellings of the same site to one key", () => {
    for (const input of [
      "https://example.atlassian.net/wiki",
      "https://example.atlassian.net/wiki/",
      "HTTPS://Example.Atlassian.NET/wiki//",
      "  https://example.atlassian.net:443/wiki  ",
    ]) {
      expect(normalizeUrl(input)).toEqual(Either.right("https://example.atlassian.net/wiki"));
    }
    expect(normalizeUrl("http://confluence.local:8090/")).toEqual(
      Either.right("http://confluence.local:8090"),
    );
  });

  it("keeps the case of the path, which servers treat as significant", () => {
    expect(normalizeUrl("https://x.example/Confluence")).toEqual(
      Either.right("https://x.example/Confluence"),
    );
  });

  it("refuses other schemes, credentials, queries, fragments and non-URLs, saying why", () => {
    const refusal = (input: string) =>
      Either.match(normalizeUrl(input), { onLeft: (e) => e.message, onRight: (url) => `accepted ${url}` });
    expect(
      [
        "ftp://x.example",
        "https://user:pw@x.example",
        "https://x.example/?a=1",
        "https://x.example/#f",
        "x.example",
        "",
      ].map(refusal),
    ).toEqual([
      "Invalid url: the scheme must be http or https, not ftp.",
      "Invalid url: the URL must not contain a username or password.",
      "Invalid url: the URL must not have a query or fragment.",
      "Invalid url: the URL must not have a query or fragment.",
      "Invalid url: not an absolute URL (expected e.g. https://example.atlassian.net/wiki).",
      "Invalid url: the URL is empty.",
    ]);
    const withPassword = normalizeUrl("https://user:hunter2@x.example");
    expect(Either.isLeft(withPassword) && withPassword.left.message).not.toContain("hunter2");
  });
});
