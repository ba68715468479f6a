// Turns a Confluence base URL into the key the vault stores, so `HTTPS://Wiki.Example.com/`
// and `https://wiki.example.com` find the same token. The path keeps its case (servers treat
// it as case-sensitive); credentials, queries and fragments are refused, not silently dropped.
import { Either } from "effect";
import { VaultInvalidInputError } from "./VaultError.js";

/**
 * Normalises a Confluence base URL: trims whitespace, lowercases scheme and host, drops a default
 * port and trailing slashes. Only `http:` and `https:` URLs without credentials, query or fragment
 * are accepted.
 *
 * @example
 * normalizeUrl("HTTPS://Example.Atlassian.NET/wiki/") // Either.right("https://example.atlassian.net/wiki")
 */
export const normalizeUrl = (input: string): Either.Either<string, VaultInvalidInputError> => {
  const invalid = (reason: string) => Either.left(new VaultInvalidInputError({ field: "url", reason }));
  const trimmed = input.trim();
  if (trimmed === "") return invalid("the URL is empty");
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return invalid("not an absolute URL (expected e.g. https://example.atlassian.net/wiki)");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    return invalid(`the scheme must be http or https, not ${parsed.protocol.replace(/:$/, "")}`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    return invalid("the URL must not contain a username or password");
  }
  if (parsed.search !== "" || parsed.hash !== "") return invalid("the URL must not have a query or fragment");
  const path = parsed.pathname.replace(/\/+$/, "");
  return Either.right(`${parsed.protocol}//${parsed.host}${path}`);
};
