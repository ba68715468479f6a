import { describe, expect, it } from "vitest";
import * as gateway from "../src/index.js";

describe("public exports", () => {
  it("are exactly these", () => {
    expect(Object.keys(gateway).sort()).toEqual([
      "REDACT_PATHS",
      "buildApp",
      "configFailure",
      "formatConfigIssues",
      "makeConfluenceAccess",
      "noConfluence",
      "readConfig",
      "startServer",
      "stopOnSignals",
      "tryReadConfig",
    ]);
  });
});
