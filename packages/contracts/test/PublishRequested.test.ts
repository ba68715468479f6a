import { readFileSync } from "node:fs";
import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import {
  isFinalOutcome,
  PUBLICATION_EVENT_KINDS,
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

  it("refuses an outcome kind it does not know", () => {
    const text = fixture("publication-outcome.deferred.json").replace('"deferred"', '"postponed"');
    expect(Either.isLeft(Schema.decodeEither(PublicationOutcomeJson)(text))).toBe(true);
  });

  it("treats every kind but deferred as final", () => {
    expect(PUBLICATION_EVENT_KINDS.filter(isFinalOutcome)).toEqual(PublicationOutcomeKind.literals);
    expect(PUBLICATION_EVENT_KINDS.filter((k) => !isFinalOutcome(k))).toEqual(["deferred"]);
  });
});
