/**
 * @minutes/contracts — every shape that crosses a process boundary in Minutes: the
 * `ProtocolReady` event, publication statuses, NATS names, the configuration and its loader.
 */

export {
  ArchiveFailure,
  ArchiveRunRequest,
  ArchiveRunRequestJson,
  ArchiveRunResult,
  ArchiveRunResultJson,
} from "./Archive.js";
export {
  ConfluenceAuthMethod,
  ConfluenceConfig,
  DatabaseConfig,
  defaultConfig,
  GatewayConfig,
  HttpsUrl,
  ignoredSettingWarnings,
  isWebhookRecipient,
  LoggingConfig,
  MinutesConfig,
  type MinutesConfigInput,
  NatsConfig,
  OnManualEdit,
  PublisherConfig,
  RoutingRule,
  tokenExpiryFromText,
  VaultConfig,
} from "./Config.js";
export { withoutNatsCredentials } from "./config-text.js";
export {
  IndexRefreshRequest,
  IndexRefreshRequestJson,
  IndexRefreshResult,
  IndexRefreshResultJson,
} from "./IndexRefresh.js";
export { JOB_PROPERTY_KEY, jobOfJobProperty } from "./JobProperty.js";
export { type JsonSchemaObject, toJsonSchema } from "./json-schema.js";
export {
  CONFIG_USAGE,
  type ConfigArgs,
  ConfigError,
  type ConfigIssue,
  ConfigUsageError,
  configHelp,
  type DeepPartial,
  ENV_ALIASES,
  ENV_PREFIX,
  envVarForKey,
  formatParseIssues,
  invocationDirectory,
  type LoadConfigOptions,
  loadConfig,
  parseConfigArgs,
} from "./load-config.js";
export {
  canonicalSpaceKey,
  IsoTimestamp,
  isCalendarDate,
  JobId,
  MeetingDate,
  nulPath,
  PROTOCOL_READY_SCHEMA_VERSION,
  ProtocolReady,
  type ProtocolReadyInput,
  ProtocolReadyJson,
} from "./ProtocolReady.js";
export {
  Publication,
  PublicationStats,
  PublicationTrigger,
  PublicationVersion,
} from "./Publication.js";
export {
  canTransition,
  FINAL_STATUSES,
  FinalStatus,
  isFinalStatus,
  PUBLICATION_STATUSES,
  PublicationStatus,
} from "./PublicationStatus.js";
export {
  PUBLISHER_MISSED_HEARTBEATS,
  PUBLISHER_REGISTRY_MAX_AGE_MS,
  PublisherPresence,
  PublisherPresenceJson,
} from "./PublisherPresence.js";
export {
  isFinalOutcome,
  PUBLICATION_EVENT_KINDS,
  PublicationEventKind,
  PublicationOutcome,
  PublicationOutcomeJson,
  PublicationOutcomeKind,
  PublishRequested,
  PublishRequestedJson,
} from "./PublishRequested.js";
export {
  archiveRunSubject,
  DEFAULT_SUBJECT_PREFIX,
  gaveUpStreamName,
  indexRefreshSubject,
  jobIdOfSubjectToken,
  outcomeStreamSettings,
  PUBLICATION_STREAM_SUFFIX,
  protocolReadyPrefix,
  protocolReadySubject,
  protocolReadyWildcard,
  protocolStreamSettings,
  protocolStreamWildcard,
  protocolSubjectRoot,
  publicationEventPrefix,
  publicationEventSubject,
  publicationEventWildcard,
  publisherPresenceSubject,
  publisherPresenceWildcard,
  publisherRegistryStreamName,
  publishRequestedPrefix,
  publishRequestedSubject,
  type StreamConfigKeys,
  type StreamSettings,
  subjectToken,
} from "./subjects.js";
