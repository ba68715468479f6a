import { assert, describe, it } from "@effect/vitest";
import * as api from "../src/index.js";

describe("public exports", () => {
  it("pins the package's runtime export list", () => {
    assert.deepStrictEqual(Object.keys(api).sort(), [
      "ConfluenceAuthenticationError",
      "ConfluenceCallStatsRef",
      "ConfluenceClient",
      "ConfluenceConfigError",
      "ConfluenceError",
      "ConfluenceHint",
      "ConfluenceLocale",
      "ConfluenceNetworkError",
      "ConfluenceNetworkReason",
      "ConfluenceNotFoundError",
      "ConfluencePermissionError",
      "ConfluenceRateLimitedError",
      "ConfluenceServerError",
      "ConfluenceTitleConflictError",
      "ConfluenceValidationError",
      "ConfluenceVersionConflictError",
      "ConfluenceWaitReporterRef",
      "DEFAULT_MAX_RETRY_AFTER_MS",
      "asksLongerThanClientWaits",
      "checkCaFile",
      "checkProxyConfig",
      "clientConfigFromSettings",
      "confluenceCredentialOf",
      "confluenceRetrySchedule",
      "countConfluenceRetries",
      "detectDeployment",
      "formatWait",
      "isRetryable",
      "makeConfluenceClient",
      "parseRetryAfter",
      "proxyConfigFromEnv",
      "proxyUrlForDisplay",
      "proxyUrlProblem",
      "reportConfluenceWaits",
      "requestedWaitMs",
    ]);
  });

  it("keys the service as @minutes/confluence-core/ConfluenceClient", () => {
    assert.strictEqual(api.ConfluenceClient.key, "@minutes/confluence-core/ConfluenceClient");
  });
});
