// Public surface of @minutes/confluence-core: the typed Confluence client (Cloud v2/v1 and Data
// Center v1), its configuration, its errors and its retry policy. Everything else is internal.

export { ConfluenceClient, type ConfluenceClientService, makeConfluenceClient } from "./ConfluenceClient.js";
export {
  type ConfluenceAuth,
  type ConfluenceClientConfig,
  type ConfluenceProxyConfig,
  detectDeployment,
  proxyUrlForDisplay,
  proxyUrlProblem,
} from "./ConfluenceClientConfig.js";
export {
  asksLongerThanClientWaits,
  ConfluenceAuthenticationError,
  ConfluenceConfigError,
  ConfluenceError,
  ConfluenceHint,
  ConfluenceLocale,
  ConfluenceNetworkError,
  ConfluenceNetworkReason,
  ConfluenceNotFoundError,
  ConfluencePermissionError,
  ConfluenceRateLimitedError,
  ConfluenceServerError,
  ConfluenceTitleConflictError,
  ConfluenceValidationError,
  ConfluenceVersionConflictError,
  isRetryable,
  requestedWaitMs,
} from "./ConfluenceError.js";
export {
  checkCaFile,
  checkProxyConfig,
  clientConfigFromSettings,
  confluenceCredentialOf,
  proxyConfigFromEnv,
} from "./client-config-from-settings.js";
export { DEFAULT_MAX_RETRY_AFTER_MS, formatWait, parseRetryAfter } from "./retry-after.js";
export {
  type ConfluenceCallStats,
  ConfluenceCallStatsRef,
  type ConfluenceRetryOptions,
  type ConfluenceRetryWait,
  ConfluenceWaitReporterRef,
  confluenceRetrySchedule,
  countConfluenceRetries,
  reportConfluenceWaits,
} from "./retry-schedule.js";
export type {
  ConfluenceDeployment,
  ConnectionInfo,
  ContentProperty,
  CreatePageInput,
  JsonValue,
  LongTaskInfo,
  MovePosition,
  PageInfo,
  PageSummary,
  PageVersion,
  SpaceInfo,
  UpdatePageInput,
} from "./types.js";
