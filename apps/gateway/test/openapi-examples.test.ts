import { ProtocolReady, Publication } from "@minutes/contracts";
import {
  CommandAccepted,
  ConfluenceStatus,
  JobPublications,
  PageOwnershipProblem,
  Problem,
  ProtocolAccepted,
  PublicationList,
} from "@minutes/contracts/api";
import { tokenExpiryNotice } from "@minutes/token-vault";
import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import {
  commandAcceptedExample,
  confluenceStatusTokenExpiringExample,
  jobPublicationsExample,
  pageOfAnotherJobExample,
  protocolAcceptedExample,
  protocolInvalidExample,
  protocolReadyExample,
  publicationExample,
  publicationListExample,
} from "../src/routes/openapi-examples.js";
import { eventIdOf } from "../src/routes/protocols.js";

const examples: ReadonlyArray<readonly [string, Schema.Schema.AnyNoContext, unknown]> = [
  ["protocolReadyExample", ProtocolReady, protocolReadyExample],
  ["protocolAcceptedExample", ProtocolAccepted, protocolAcceptedExample],
  ["protocolInvalidExample", Problem, protocolInvalidExample],
  ["publicationExample", Publication, publicationExample],
  ["publicationListExample", PublicationList, publicationListExample],
  ["jobPublicationsExample", JobPublications, jobPublicationsExample],
  ["commandAcceptedExample", CommandAccepted, commandAcceptedExample],
  ["confluenceStatusTokenExpiringExample", ConfluenceStatus, confluenceStatusTokenExpiringExample],
  ["pageOfAnotherJobExample", PageOwnershipProblem, pageOfAnotherJobExample],
];

describe("OpenAPI examples", () => {
  it.each(examples)("%s is accepted by the schema its route uses", (_name, schema, example) => {
    const decoded = Schema.decodeUnknownEither(schema, { onExcessProperty: "error" })(example);
    expect(Either.isRight(decoded)).toBe(true);
  });

  it("the status example's warning is the one the gateway gives for its token and time", () => {
    expect(confluenceStatusTokenExpiringExample.warnings).toEqual([
      tokenExpiryNotice(
        {
          source: "vault",
          url: "https://acme.atlassian.net/wiki",
          username: "minutes-bot@acme.example",
          vaultConfigured: true,
          expiresAt: new Date(confluenceStatusTokenExpiringExample.tokenExpiresAt ?? ""),
        },
        Date.parse("2026-11-27T10:00:00Z"),
        14,
      ),
    ]);
  });

  it("the 202 example carries the real event id of the request example", () => {
    const event = Schema.decodeUnknownSync(ProtocolReady)(protocolReadyExample);
    expect(protocolAcceptedExample.eventId).toBe(eventIdOf(event));
    expect(protocolAcceptedExample.jobId).toBe(protocolReadyExample.jobId);
  });
});
