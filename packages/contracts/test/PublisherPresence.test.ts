import { readFileSync } from "node:fs";
import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import {
  formatParseIssues,
  PublisherPresenceJson,
  publisherPresenceSubject,
  publisherPresenceWildcard,
  publisherRegistryStreamName,
} from "../src/index.js";

const fixture = readFileSync(new URL("./fixtures/publisher-presence.v1.json", import.meta.url), "utf8");

describe("PublisherPresence", () => {
  it("decodes the v1 wire fixture and encodes it back unchanged", () => {
    const presence = Schema.decodeSync(PublisherPresenceJson)(fixture);
    expect(presence.instanceId).toBe("publisher-3f2a9c1d");
    expect(JSON.parse(Schema.encodeSync(PublisherPresenceJson)(presence))).toEqual(JSON.parse(fixture));
  });

  it("refuses a heartbeat interval that is not a positive whole number, naming the field", () => {
    const bad = JSON.stringify({ ...JSON.parse(fixture), heartbeatIntervalMs: 0 });
    const decoded = Schema.decodeUnknownEither(PublisherPresenceJson)(bad);
    if (Either.isRight(decoded)) throw new Error("expected a decoding failure");
    // The rule in words, not only the base type the value (0) already is.
    expect(formatParseIssues(decoded.left)).toEqual([
      { path: "heartbeatIntervalMs", message: "expected a positive number, got 0" },
    ]);
    const fraction = JSON.stringify({ ...JSON.parse(fixture), heartbeatIntervalMs: 1.5 });
    const notWhole = Schema.decodeUnknownEither(PublisherPresenceJson)(fraction);
    if (Either.isRight(notWhole)) throw new Error("expected a decoding failure");
    expect(formatParseIssues(notWhole.left)).toEqual([
      { path: "heartbeatIntervalMs", message: "expected an integer, got 1.5" },
    ]);
  });

  it("lives on a subject of its own under the prefix, in a registry named after the stream", () => {
    expect(publisherRegistryStreamName("MINUTES_PROTOCOLS")).toBe("MINUTES_PROTOCOLS_PUBLISHERS");
    expect(publisherPresenceSubject("publisher-1", "minutes")).toBe("minutes.publishers.v1.publisher-1");
    expect(publisherPresenceSubject("a.b", "minutes")).toMatch(/^minutes\.publishers\.v1\.~/);
    expect(publisherPresenceWildcard("minutes")).toBe("minutes.publishers.v1.>");
  });
});
