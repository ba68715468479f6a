import { readFileSync } from "node:fs";
import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import {
  formatParseIssues,
  isFinalOutcome,
  PUBLICATION_EVENT_KINDS,
  PublicationOutcome,
  PublicationOutcomeJson,
  PublicationOutcomeKind,
} from "../src/index.js";

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

describe("PublicationOutcome", () => {
  it("decodes the deferred wire fixture and encodes it back unchanged", () => {
    const text = fixture("publication-outcome.deferred.json");
    const event = Schema.decodeSync(PublicationOutcomeJson)(text);
    expect(event.outcome).toBe("deferred");
    expect(event.deliveryCount).toBe(1);
    expect(event.redeliveryDelayMs).toBe(5000);
    expect(JSON.parse(Schema.encodeSync(PublicationOutcomeJson)(event))).toEqual(JSON.parse(text));
  });

  it("still decodes an event written before deferred events, retries and delivery counts existed", () => {
    const event = Schema.decodeSync(PublicationOutcomeJson)(fixture("publication-outcome.published.v1.json"));
    expect(event.outcome).toBe("published");
    expect(event).toMatchObject({ latencyMs: null, retries: 0, rateLimited: 0 });
    expect(event.deliveryCount).toBeUndefined();
  });

  it("decodes the published wire fixture with the attempt's Confluence requests and time, and encodes it back", () => {
    const text = fixture("publication-outcome.published.json");
    const event = Schema.decodeSync(PublicationOutcomeJson)(text);
    expect(event).toMatchObject({ confluenceRequests: 6, confluenceMs: 1310 });
    expect(JSON.parse(Schema.encodeSync(PublicationOutcomeJson)(event))).toEqual(JSON.parse(text));
  });

  it("leaves the Confluence requests and time out of an event that does not carry them, instead of claiming 0", () => {
    const event = Schema.decodeSync(PublicationOutcomeJson)(fixture("publication-outcome.deferred.json"));
    expect(event.confluenceRequests).toBeUndefined();
    expect(event.confluenceMs).toBeUndefined();
    expect(Schema.encodeSync(PublicationOutcomeJson)(event)).not.toContain('"confluenceMs"');
  });

  it("is still read by a consumer whose schema predates the Confluence requests and time", () => {
    const before = Schema.parseJson(PublicationOutcome.omit("confluenceRequests", "confluenceMs"));
    const event = Schema.decodeSync(before)(fixture("publication-outcome.published.json"));
    expect(event).toMatchObject({ outcome: "published", retries: 1 });
  });

  it("refuses an outcome kind it does not know, naming the field and the kinds it knows", () => {
    const text = fixture("publication-outcome.deferred.json").replace('"deferred"', '"postponed"');
    const decoded = Schema.decodeEither(PublicationOutcomeJson)(text);
    expect(Either.isLeft(decoded) && formatParseIssues(decoded.left)).toEqual([
      {
        path: "outcome",
        message:
          'expected one of "published", "unchanged", "skipped", "failed", "rejected", "deferred", got "postponed"',
      },
    ]);
  });

  it("treats every kind but deferred as final", () => {
    expect(PUBLICATION_EVENT_KINDS.filter(isFinalOutcome)).toEqual(PublicationOutcomeKind.literals);
    expect(PUBLICATION_EVENT_KINDS.filter((k) => !isFinalOutcome(k))).toEqual(["deferred"]);
  });
});
