import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";

describe("public API", () => {
  it("exports exactly these names", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "CLEANUP_BATCH",
        "CLEANUP_MAX_JOB_IDS",
        "EXPORT_FORMAT",
        "EXPORT_FORMAT_VERSION",
        "EndLine",
        "ExportLine",
        "ExportLineJson",
        "HeaderLine",
        "IMPORT_MAX_ERRORS",
        "IMPORT_MAX_INVALID",
        "ImportLineError",
        "InvalidCursorError",
        "InvalidTransitionError",
        "LeaseLostError",
        "MIGRATIONS",
        "ProtocolLine",
        "ProtocolMetadata",
        "PublicationLine",
        "PublicationNotFoundError",
        "PublicationStore",
        "QUERY_DEFAULT_LIMIT",
        "QUERY_MAX_LIMIT",
        "StoreUnavailableError",
        "StoreUnusableError",
        "StoredProtocol",
        "VersionLine",
        "isRetryable",
        "originalImportLines",
        "protocolMetadataOf",
        "runImportOriginal",
        "storeConfigFromDatabaseConfig",
      ].sort(),
    );
  });

  it("maps the database section of the configuration", () => {
    expect(api.storeConfigFromDatabaseConfig({ type: "sqlite", sqlite_path: "x.sqlite", url: null })).toEqual(
      {
        type: "sqlite",
        sqlitePath: "x.sqlite",
      },
    );
  });

  it("treats only an unavailable store as retryable", () => {
    expect(api.isRetryable(new api.StoreUnavailableError({ operation: "get", reason: "ECONNREFUSED" }))).toBe(
      true,
    );
    expect(api.isRetryable(new api.PublicationNotFoundError({ id: 1 }))).toBe(false);
    // Retrying the start does not create the database or fix its permissions.
    expect(api.isRetryable(new api.StoreUnusableError({ reason: "database.url is required" }))).toBe(false);
    expect(new api.InvalidTransitionError({ id: 3, from: "rejected", to: "published" }).message).toBe(
      "publication 3 cannot move from rejected to published",
    );
  });
});
