/**
 * @minutes/publication-store — publication records, stored protocols and page version history
 * on SQLite (default) or PostgreSQL, behind the `PublicationStore` Effect service.
 */
export type { Dialect, StoreConfig, StoreLocation } from "./database.js";
export {
  EndLine,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  ExportLine,
  ExportLineJson,
  HeaderLine,
  ProtocolLine,
  PublicationLine,
  VersionLine,
} from "./ExportLine.js";
export { MIGRATIONS } from "./migrations-list.js";
export { type ImportOriginalIo, runImportOriginal } from "./original-cli.js";
export {
  type OriginalImport,
  type OriginalPublicationRow,
  type OriginalRowIssue,
  originalImportLines,
} from "./original-integration.js";
export {
  type ArchivableQuery,
  CLEANUP_BATCH,
  CLEANUP_MAX_JOB_IDS,
  type ClaimedPublication,
  type ClaimInput,
  type CleanupQuery,
  type CleanupResult,
  type EnsurePublicationInput,
  type HandledMark,
  IMPORT_MAX_ERRORS,
  IMPORT_MAX_INVALID,
  type ImportOptions,
  type ImportResult,
  type IndexListing,
  type IndexLocation,
  type PublicationLease,
  type PublicationPage,
  type PublicationQuery,
  type PublicationStatusCounts,
  PublicationStore,
  type PublicationStoreShape,
  QUERY_DEFAULT_LIMIT,
  QUERY_MAX_LIMIT,
  type RecordVersionInput,
  type RenewLeaseInput,
  type SaveProtocolInput,
  type SaveProtocolResult,
  type StatsWindow,
  type StreamMark,
  type StreamProgress,
  type StreamProgressQuery,
  type TransitionPatch,
  type UnfinishedMark,
  type UnfinishedReason,
} from "./PublicationStore.js";
export {
  ImportLineError,
  InvalidCursorError,
  InvalidTransitionError,
  isRetryable,
  LeaseLostError,
  PublicationNotFoundError,
  type PublicationStoreError,
  StoreUnavailableError,
  StoreUnusableError,
} from "./PublicationStoreError.js";
export { ProtocolMetadata, protocolMetadataOf, StoredProtocol } from "./StoredProtocol.js";
export { storeConfigFromDatabaseConfig } from "./store-config.js";
