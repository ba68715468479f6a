import { describe, expect, it } from "vitest";
import * as contracts from "../src/index.js";

describe("@minutes/contracts", () => {
  it("exports exactly its public API", () => {
    expect(Object.keys(contracts).sort()).toMatchInlineSnapshot(`
      [
        "ConfigError",
        "ConfluenceConfig",
        "DatabaseConfig",
        "ENV_ALIASES",
        "ENV_PREFIX",
        "GatewayConfig",
        "HttpsUrl",
        "IsoTimestamp",
        "JobId",
        "LoggingConfig",
        "MeetingDate",
        "MinutesConfig",
        "NatsConfig",
        "OnManualEdit",
        "PROTOCOL_READY_PREFIX",
        "PROTOCOL_READY_SCHEMA_VERSION",
        "PROTOCOL_STREAM",
        "PUBLICATION_EVENT_PREFIX",
        "PUBLICATION_STATUSES",
        "ProtocolReady",
        "ProtocolReadyJson",
        "Publication",
        "PublicationStats",
        "PublicationStatus",
        "PublicationTrigger",
        "PublicationVersion",
        "PublisherConfig",
        "RoutingRule",
        "VaultConfig",
        "canTransition",
        "defaultConfig",
        "envVarForKey",
        "formatParseIssues",
        "isCalendarDate",
        "isFinalStatus",
        "loadConfig",
        "protocolReadySubject",
        "protocolReadyWildcard",
        "publicationEventSubject",
        "subjectToken",
        "toJsonSchema",
      ]
    `);
  });
});
