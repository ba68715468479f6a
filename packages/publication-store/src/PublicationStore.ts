/**
 * The publication records behind the publisher and the gateway: one record per job (the
 * database enforces it), leases so concurrent publishers never write the same page, the latest
 * protocol per job for retries, page version history, paging, statistics and JSONL backups.
 * Plain SQL through MikroORM's connection keeps SQLite and PostgreSQL on the same statements.
 */
import type { SqlEntityManager } from "@mikro-orm/libsql";
import {
  canonicalSpaceKey,
  canTransition,
  FINAL_STATUSES,
  type FinalStatus,
  formatParseIssues,
  isFinalStatus,
  nulPath,
  PUBLICATION_STATUSES,
  type Publication,
  type PublicationStats,
  type PublicationStatus,
  type PublicationTrigger,
  type PublicationVersion,
} from "@minutes/contracts";
import {
  type Chunk,
  Clock,
  Context,
  Effect,
  Either,
  Exit,
  Layer,
  Option,
  type ParseResult,
  Redacted,
  Schema,
  type Scope,
  Stream,
} from "effect";
import { decodeCursor, encodeCursor } from "./cursor.js";
import {
  attempt,
  checkSqliteWritable,
  commitStatements,
  type Database,
  instantIso,
  instantMs,
  migrate,
  num,
  openDatabase,
  type Row,
  type StoreConfig,
  type StoreLocation,
  statements,
  str,
} from "./database.js";
import { EXPORT_FORMAT, EXPORT_FORMAT_VERSION, type ExportLine, ExportLineJson } from "./ExportLine.js";
import {
  ImportLineError,
  InvalidCursorError,
  InvalidTransitionError,
  LeaseLostError,
  PublicationNotFoundError,
  StoreUnavailableError,
  type StoreUnusableError,
} from "./PublicationStoreError.js";
import { type ProtocolMetadata, protocolMetadataOf, type StoredProtocol } from "./StoredProtocol.js";
import { makeScheduleLocks } from "./schedule-locks.js";

/** What `saveProtocol` stores. `occurredAt` is the event's ISO timestamp. */
export interface SaveProtocolInput {
  readonly jobId: string;
  readonly markdown: string;
  readonly filename: string;
  readonly metadata: ProtocolMetadata;
  readonly contentHash: string;
  /** JetStream sequence of the event; `null` when it did not come from the stream. */
  readonly streamSequence: number | null;
  readonly occurredAt: string;
  /**
   * When JetStream stored the event (ISO, the NATS server's clock), kept with the protocol. An
   * event stored after the stored protocol's own event is newer whatever the sequences say: they
   * start again at 1 when NATS loses its data and the stream is created anew. Otherwise (stored no
   * later, or at the same instant) sequences decide, so a redelivered older event never replaces
   * a newer protocol, however far this host's clock is from the server's. A stored protocol
   * without the instant (saved before Minutes kept it) is replaced only when this event was stored
   * more than 5 minutes (the clock skew allowed for) after it was saved. Absent: sequences decide.
   */
  readonly storedAt?: string | undefined;
}

/** `saved`: this call's content is now stored; `stale`: a newer protocol was kept instead. */
export interface SaveProtocolResult {
  readonly outcome: "saved" | "stale";
  readonly protocol: StoredProtocol;
}

/** Creates the job's record when it has none. */
export interface EnsurePublicationInput {
  readonly jobId: string;
  readonly spaceKey: string;
  readonly parentPageId: string | null;
  /** Default `event`. */
  readonly trigger?: PublicationTrigger | undefined;
}

/** Takes the job's publishing lease. */
export interface ClaimInput {
  readonly jobId: string;
  /** Who holds the lease (publisher instance id); the same owner may claim again. */
  readonly owner: string;
  /** Lease length; after it another publisher may take the record over. */
  readonly leaseMs: number;
  /** Override the clock (tests, replays). */
  readonly now?: Date | undefined;
  /** Stored on the record; `retry` on a `failed` record also counts a retry. */
  readonly trigger?: PublicationTrigger | undefined;
  /**
   * Creates the record (as `ensurePublication` would, then claimed) when the job has none, in
   * the same statement as the claim.
   */
  readonly create?: { readonly spaceKey: string; readonly parentPageId: string | null } | undefined;
}

/** Extends a lease its owner still holds. */
export interface RenewLeaseInput {
  /** The record's id. */
  readonly id: number;
  /** The `owner` the record was claimed with. */
  readonly owner: string;
  /** The lease lasts this long from now. */
  readonly leaseMs: number;
  /** Override the clock (tests). */
  readonly now?: Date | undefined;
}

/**
 * A record with its lease: who last claimed it, until when, and whether that claim still stands.
 * The lease is not part of `Publication` (it is the publishers' bookkeeping, not what a record says
 * about its page); callers that must tell a running attempt from one that died read it here.
 */
export interface PublicationLease {
  readonly publication: Publication;
  /** The `owner` the record was claimed with (publisher instance and attempt); `null` when none is recorded. */
  readonly owner: string | null;
  /** When the lease runs out (ISO); `null` when the record has none (not publishing, or imported). */
  readonly expiresAt: string | null;
  /**
   * Whether a publisher holds the record now: `publishing` with a lease that has not run out, so
   * `claim` refuses it to any other owner. A `publishing` record that is not held was left by an
   * attempt that stopped (its process was killed): the next claim takes it over.
   */
  readonly held: boolean;
}

/**
 * Fields a transition may change. `undefined` (or absent) keeps the stored value, `null` clears
 * a nullable column.
 */
export interface TransitionPatch {
  readonly pageId?: string | null | undefined;
  readonly pageUrl?: string | null | undefined;
  readonly pageTitle?: string | null | undefined;
  readonly pageVersion?: number | null | undefined;
  readonly contentHash?: string | null | undefined;
  readonly errorMessage?: string | null | undefined;
  readonly errorTag?: string | null | undefined;
  readonly streamSequence?: number | null | undefined;
  /** Event `occurredAt` → published; computed from the stored protocol when omitted on `published`. */
  readonly latencyMs?: number | null | undefined;
  readonly spaceKey?: string | undefined;
  readonly parentPageId?: string | null | undefined;
  /** `retry` on a `failed` record moving to `pending`/`publishing` counts a retry. */
  readonly trigger?: PublicationTrigger | undefined;
  /** The meeting's date, YYYY-MM-DD. */
  readonly meetingDate?: string | null | undefined;
  /** When the page went to the archive (ISO); `null` takes it out. */
  readonly archivedAt?: string | null | undefined;
  /**
   * `published` without a new publication: the page was left as it is (a person's edit kept with
   * `on_manual_edit: skip`). `publishedAt` and `latencyMs` stay those of the last publication, and
   * `errorMessage`/`errorTag` (if given) say why the newer protocol was not published.
   */
  readonly keepPublished?: boolean | undefined;
  /**
   * Write only while this owner (the `owner` of `claim`) still holds the record's lease, in the
   * same statement: else nothing changes and the transition fails with `LeaseLostError`. An
   * attempt whose lease expired and was taken over must not overwrite the new owner's outcome.
   */
  readonly owner?: string | undefined;
  /**
   * The page version this transition records (as `recordVersion` does), in the same transaction:
   * the record and its history change together or not at all. Two separate writes left a record
   * `published` without its version when the process died between them, and the redelivered
   * message, finding the page unchanged, never recorded it.
   */
  readonly version?: Omit<RecordVersionInput, "publicationId"> | undefined;
  /**
   * The Confluence site (its address) on which the publisher saw that `pageId` is the job's page.
   * A transition that sets `pageId` without it forgets where the page was verified: the record's
   * page must prove itself again (its job property) before a publisher trusts it by its version.
   */
  readonly verifiedOn?: string | null | undefined;
}

/**
 * A claimed record, with the site its page was last verified on (`null`: never on any, e.g. the
 * record came from an import). Like the lease, this is the publishers' bookkeeping about this
 * installation's Confluence, not part of `Publication`: it is never exported, so an export can
 * never vouch for a page on another site.
 */
export interface ClaimedPublication extends Publication {
  readonly pageVerifiedOn: string | null;
}

/** Where an index page lists its protocols: one space and one parent (or the space root). */
export interface IndexLocation {
  readonly spaceKey: string;
  readonly parentPageId: string | null;
}

/** What an index page lists: the newest meetings, and how many there are in all. */
export interface IndexListing {
  readonly items: ReadonlyArray<Publication>;
  readonly total: number;
}

/** Which records the archive job takes. */
export interface ArchivableQuery {
  /** Meetings strictly before this date (YYYY-MM-DD). */
  readonly before: string;
  /** At most this many, oldest meetings first (default 500). */
  readonly limit?: number | undefined;
}

/** Which records `cleanup` deletes. */
export interface CleanupQuery {
  /** Records last changed (`updatedAt`) strictly before this instant. */
  readonly before: Date;
  /**
   * Only records in these statuses (default: every one of `FINAL_STATUSES`). `pending` and
   * `publishing` records are never deleted, whatever is asked: a publication is under way or waits.
   */
  readonly statuses?: ReadonlyArray<FinalStatus> | undefined;
  /** Count what would be deleted, and delete nothing. */
  readonly dryRun?: boolean | undefined;
  /** Keep the jobs' stored protocols (by default they go with their records). */
  readonly keepProtocols?: boolean | undefined;
}

/** What `cleanup` deleted (with `dryRun`: what it would delete now). */
export interface CleanupResult {
  readonly dryRun: boolean;
  /** Publication records. */
  readonly deleted: number;
  /** Their page versions. */
  readonly versionsDeleted: number;
  /** Their jobs' stored protocols (0 with `keepProtocols`). */
  readonly protocolsDeleted: number;
  /**
   * Records old enough and in a chosen status that were kept because their job has a newer
   * protocol waiting: one saved at or after the record's last change.
   */
  readonly keptNewerProtocol: number;
  /** Job ids of the deleted records: the first `CLEANUP_MAX_JOB_IDS`, by record id. */
  readonly jobIds: ReadonlyArray<string>;
}

/** Most job ids a `CleanupResult` lists; the counts cover every record. */
export const CLEANUP_MAX_JOB_IDS = 1_000;

/**
 * Records `cleanup` deletes per transaction. Each batch deletes its records with their versions and
 * protocols, or nothing; between batches other writers (publishers, on SQLite the other process)
 * get their turn, so a large cleanup never holds the database for long.
 */
export const CLEANUP_BATCH = 100;

/** A page version Minutes wrote. Idempotent on `(pageId, pageVersion)`. */
export interface RecordVersionInput {
  readonly publicationId: number;
  readonly pageId: string;
  readonly pageVersion: number;
  readonly contentHash: string;
  readonly pageTitle: string;
  readonly trigger: PublicationTrigger;
}

/** Filters and paging for `query`. `since` is inclusive, `until` exclusive (on `updatedAt`). */
export interface PublicationQuery {
  readonly status?: PublicationStatus | ReadonlyArray<PublicationStatus> | undefined;
  readonly spaceKey?: string | undefined;
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
  /** Page size, default 50, clamped to 1..500. */
  readonly limit?: number | undefined;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | null | undefined;
}

/** One page of `query`, newest `updatedAt` first. `nextCursor` is `null` on the last page. */
export interface PublicationPage {
  readonly items: ReadonlyArray<Publication>;
  readonly nextCursor: string | null;
}

/** The window of `stats` on `updatedAt`: `since` inclusive, `until` exclusive. */
export interface StatsWindow {
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
}

/**
 * Records per status, every status of `PUBLICATION_STATUSES` present (0 when it has none). A
 * status the contracts do not know (the column has no CHECK) is left out.
 */
export type PublicationStatusCounts = { readonly [S in PublicationStatus]: number };

/** What `importJsonl` does with a line it cannot use. */
export interface ImportOptions {
  /** `abort` (default): fail with `ImportLineError` and write nothing; `skip`: count, report and go on. */
  readonly onInvalidLine?: "abort" | "skip" | undefined;
}

/**
 * Counts of an import. Every non-blank line is counted once, so
 * `imported + updated + skipped` is the number of non-blank lines read.
 */
export interface ImportResult {
  /** Rows created (protocols, publications, versions). */
  readonly imported: number;
  /** Rows replaced by a newer copy. */
  readonly updated: number;
  /**
   * Lines that changed nothing: the header, copies not newer than the stored row, versions
   * already stored, and invalid lines skipped with `onInvalidLine: "skip"`.
   */
  readonly skipped: number;
  /** Invalid lines skipped (`onInvalidLine: "skip"`), all of them; included in `skipped`. */
  readonly invalid: number;
  /**
   * The first `IMPORT_MAX_ERRORS` invalid lines, in file order, each with a short reason. Bounded
   * so that a file of garbage costs counters, not memory.
   */
  readonly errors: ReadonlyArray<ImportLineError>;
  /** Invalid lines not listed in `errors` (`invalid - errors.length`). */
  readonly errorsOmitted: number;
}

/** Most invalid lines an import lists in `ImportResult.errors`; the rest are only counted. */
export const IMPORT_MAX_ERRORS = 100;

/**
 * Most invalid lines an import skips (`onInvalidLine: "skip"`) before it gives up and writes
 * nothing: skipping is for a damaged export, and a file that is mostly not one would otherwise
 * hold the database (SQLite's one connection) for minutes.
 */
export const IMPORT_MAX_INVALID = 10_000;

/**
 * How often `claim` tries its statement when it lost to a record that turned claimable right
 * after (a lease released or expired between the UPDATE and the read): then `None`.
 */
const CLAIM_ROUNDS = 3;

/**
 * How far the publisher host's clock may be behind the NATS server's without an older event
 * replacing a protocol saved without `stream_stored_at` (saved before Minutes kept it): such an
 * event replaces it, whatever its sequence, only when JetStream stored it more than this after
 * the protocol was saved on the host's clock. A stream created anew within this time of that save
 * is missed (its lower sequences look older), once per job: the next save keeps the instant.
 */
const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

/**
 * What `streamProgress` is asked: the protocol stream a consumer is about to be created on, as
 * JetStream describes it (`StreamInfo.created`, `state.first_seq`).
 */
export interface StreamProgressQuery {
  /**
   * When the stream was created (the NATS server's clock). A protocol whose event JetStream stored
   * before it came from a stream deleted since (NATS lost its data, or the stream was deleted by
   * hand): its sequence numbers another stream's messages, as a stream created anew counts from 1.
   */
  readonly streamCreatedAt: Date;
  /**
   * The lowest sequence the stream still holds (`state.first_seq`). A record waiting for a
   * message older than that waits for nothing the stream can deliver (the message aged out), and
   * is left out, except a `publishing` one (its message may be any later one).
   */
  readonly firstSequence: number;
  /**
   * Whether a `pending` record without an error is one waiting for a publish command
   * (`auto_publish` off, or Confluence disabled): its event was handled when the record was made
   * pending. Otherwise (the default) every `pending` record counts as unfinished.
   */
  readonly pendingWaitsForPublish?: boolean | undefined;
}

/** A message of the protocol stream the store knows of: its sequence and the job it is about. */
export interface StreamMark {
  readonly sequence: number;
  readonly jobId: string;
}

/** The highest message the store has handled (see `StreamProgress.handled`). */
export interface HandledMark extends StreamMark {
  /**
   * When JetStream stored the message (ISO, the NATS server's clock) when it is the job's stored
   * protocol's own event; `null` when the mark is the sequence of the job's record (a command, or
   * a record deleted since). A caller can look the message up in the stream and check that it is
   * the job's, stored then.
   */
  readonly storedAt: string | null;
}

/**
 * Why a job's message may still have to be handled: its record is `publishing` (an attempt runs,
 * or its publisher stopped), `pending` (a failed attempt gave its message back), or its protocol
 * was saved after the record's last outcome, or with no record at all (`unrecorded`: the publisher
 * that saved it stopped before the record said so).
 */
export type UnfinishedReason = "publishing" | "pending" | "unrecorded";

/** The lowest message an unfinished job may still need (see `StreamProgress.unfinished`). */
export interface UnfinishedMark extends StreamMark {
  readonly reason: UnfinishedReason;
  readonly status: PublicationStatus | null;
}

/**
 * Where the store says work on the protocol stream stopped: what a consumer created anew on a
 * kept stream should start from (`min(unfinished, handled + 1)`), so that it does not deliver
 * again events and commands that were handled (a deleted record would come back from its old
 * event; a forced publish would write another page version). Only sequences the store can place
 * in this stream count as handled; any doubt makes `handled` lower or `unfinished` present, never
 * the other way.
 */
export interface StreamProgress {
  /**
   * The highest sequence of this stream whose message the store has handled: over the protocols
   * whose event JetStream stored after the stream was created, the protocol's own sequence, and
   * its record's (or its deleted record's) when that is higher. `null`: the store holds nothing it
   * can place in this stream (a first deployment, a stream created anew, or only protocols saved
   * before Minutes kept when JetStream stored their event): deliver everything.
   */
  readonly handled: HandledMark | null;
  /**
   * The lowest sequence a job whose work is not done may still need: a `publishing` record's own
   * sequence or its protocol's, whichever is lower; a `pending` one's (see
   * `StreamProgressQuery.pendingWaitsForPublish`); a protocol saved after its record's last
   * outcome (a lower or no sequence on the record, or a record last changed no later than the
   * protocol was saved), or without a record that was not deleted. Records untouched since before
   * the stream was created (with a 5-minute allowance for the clocks) whose protocol is not from
   * this stream are left out: what they waited for went with the old stream. `null`: none.
   */
  readonly unfinished: UnfinishedMark | null;
  /**
   * An unfinished record with no sequence to place it (neither its own nor its protocol's, e.g.
   * an imported record being published): its message could be anywhere, so everything must be
   * delivered. `null`: none.
   */
  readonly unplaced: { readonly jobId: string; readonly status: PublicationStatus } | null;
}

/** Page size of `query` when the caller gives none. */
export const QUERY_DEFAULT_LIMIT = 50;
/** Largest page `query` returns; bigger limits are clamped to it. */
export const QUERY_MAX_LIMIT = 500;

/** The store's operations. All timestamps are ISO strings; all failures are typed. */
export interface PublicationStoreShape {
  /**
   * The database this store opened (absolute SQLite path; PostgreSQL host, port and database):
   * processes log it at start, so two that should share a file can be seen not to.
   */
  readonly location: StoreLocation;
  /** Stores the job's latest protocol; an older stream sequence never overwrites a newer one. */
  readonly saveProtocol: (
    input: SaveProtocolInput,
  ) => Effect.Effect<SaveProtocolResult, StoreUnavailableError>;
  /** The job's stored protocol. */
  readonly getProtocol: (
    jobId: string,
  ) => Effect.Effect<Option.Option<StoredProtocol>, StoreUnavailableError>;
  /** The job's record, created `pending` if absent (race-safe). */
  readonly ensurePublication: (
    input: EnsurePublicationInput,
  ) => Effect.Effect<Publication, StoreUnavailableError>;
  /**
   * Atomically moves the job's record to `publishing` under a lease. `None` when another owner
   * holds an unexpired lease (also when it kept losing the race for a record that was being
   * released at the same moment: the caller tries again shortly).
   */
  readonly claim: (
    input: ClaimInput,
  ) => Effect.Effect<
    Option.Option<ClaimedPublication>,
    PublicationNotFoundError | InvalidTransitionError | StoreUnavailableError
  >;
  /**
   * Extends the lease to `now + leaseMs` if `owner` still holds it (one conditional UPDATE);
   * `false` when it does not (taken over after it expired, or released by a transition). Does not
   * touch `updatedAt`: a renewal is not a change of the record.
   */
  readonly renewLease: (input: RenewLeaseInput) => Effect.Effect<boolean, StoreUnavailableError>;
  /**
   * Moves a record to `to` (only transitions `canTransition` allows) and applies `patch`; with
   * `patch.owner`, only while that owner holds the lease (`LeaseLostError` otherwise).
   */
  readonly transition: (
    id: number,
    to: PublicationStatus,
    patch?: TransitionPatch,
  ) => Effect.Effect<
    Publication,
    PublicationNotFoundError | InvalidTransitionError | LeaseLostError | StoreUnavailableError
  >;
  /** Counts one retry (`retryCount`, `lastRetryAt`) without changing the status. */
  readonly markRetry: (
    id: number,
  ) => Effect.Effect<Publication, PublicationNotFoundError | StoreUnavailableError>;
  /**
   * Says on a record that is being published why it takes long (Confluence asked to wait, say):
   * `errorTag` and `errorMessage` change, the status stays. Does nothing to a record in any other
   * status (the attempt ended meanwhile, or another one owns it), nor with `owner` to a record
   * another owner has claimed since. The outcome of the attempt replaces the note.
   */
  readonly notePublishing: (
    id: number,
    note: { readonly errorTag: string; readonly errorMessage: string; readonly owner?: string | undefined },
  ) => Effect.Effect<void, StoreUnavailableError>;
  /** Records a page version Minutes wrote; repeating it returns the stored one. */
  readonly recordVersion: (
    input: RecordVersionInput,
  ) => Effect.Effect<PublicationVersion, PublicationNotFoundError | StoreUnavailableError>;
  /** The job's page versions, oldest first. */
  readonly listVersions: (
    jobId: string,
  ) => Effect.Effect<ReadonlyArray<PublicationVersion>, StoreUnavailableError>;
  /** A record by id. */
  readonly get: (id: number) => Effect.Effect<Publication, PublicationNotFoundError | StoreUnavailableError>;
  /**
   * A record by id with its lease (one read), judged as `claim` would judge it at `now` (default:
   * the clock): `held` while a `publishing` record's lease has not run out.
   */
  readonly getLease: (
    id: number,
    now?: Date,
  ) => Effect.Effect<PublicationLease, PublicationNotFoundError | StoreUnavailableError>;
  /** The job's record, if any. */
  readonly findByJob: (jobId: string) => Effect.Effect<Option.Option<Publication>, StoreUnavailableError>;
  /** The job's records (at most one: `job_id` is unique). */
  readonly listByJob: (jobId: string) => Effect.Effect<ReadonlyArray<Publication>, StoreUnavailableError>;
  /**
   * Deletes a record (and its versions); returns what was deleted. The protocol stays, marked as
   * that of a deleted record when the record had handled it (a final status, and a stream sequence
   * no lower than the protocol's): `streamProgress` then counts the job as done, not as a protocol
   * whose record is still to be made. The next protocol saved for the job takes the mark off.
   */
  readonly deletePublication: (
    id: number,
  ) => Effect.Effect<Publication, PublicationNotFoundError | StoreUnavailableError>;
  /** Filtered, keyset-paged records ordered by `(updatedAt desc, id desc)`. */
  readonly query: (
    q?: PublicationQuery,
  ) => Effect.Effect<PublicationPage, InvalidCursorError | StoreUnavailableError>;
  /** Counts, success rate, retries, latency percentiles and per-day numbers over a window. */
  readonly stats: (window?: StatsWindow) => Effect.Effect<PublicationStats, StoreUnavailableError>;
  /**
   * Records per status over the whole table: one `group by` the status index covers. What a
   * frequent reader (the gateway's metrics scrape) should use instead of `stats`, whose percentile
   * and per-day queries read every record.
   */
  readonly countByStatus: () => Effect.Effect<PublicationStatusCounts, StoreUnavailableError>;
  /**
   * Every publication (each batch followed by its versions) and protocol as JSON lines (no
   * newline), between a header and an end line that counts them. Read in batches, not from one
   * snapshot; ordered so that a file exported while publishers write still imports.
   */
  readonly exportJsonl: () => Stream.Stream<string, StoreUnavailableError>;
  /**
   * Restores an export in one transaction; idempotent (newer `updatedAt` wins). Refuses, writing
   * nothing, a file that is not a whole export: no header first, or (version 2) no end line or
   * other lines than it counts.
   */
  readonly importJsonl: <E>(
    lines: Stream.Stream<string, E>,
    options?: ImportOptions,
  ) => Effect.Effect<ImportResult, ImportLineError | StoreUnavailableError | E>;
  /**
   * Records whose page an index at `location` lists (published or archived, with a page), newest
   * meeting first, then by title: the first `limit` (at least 1; all without one), and how many
   * there are in all.
   */
  readonly listIndexed: (
    location: IndexLocation,
    options?: { readonly limit?: number | undefined },
  ) => Effect.Effect<IndexListing, StoreUnavailableError>;
  /** Published records of meetings older than `before`, oldest first: what the archive job moves. */
  readonly listArchivable: (
    q: ArchivableQuery,
  ) => Effect.Effect<ReadonlyArray<Publication>, StoreUnavailableError>;
  /**
   * Deletes old records in final statuses, with their page versions and (unless `keepProtocols`)
   * their jobs' stored protocols, in batches of `CLEANUP_BATCH`, each one transaction: a job is
   * deleted whole or not at all, also when the cleanup stops halfway (a failure leaves the batches
   * before it deleted; running it again finishes the work). Never deletes a `pending` or
   * `publishing` record, nor one whose job has a newer protocol waiting, nor anything in Confluence.
   */
  readonly cleanup: (q: CleanupQuery) => Effect.Effect<CleanupResult, StoreUnavailableError>;
  /**
   * Where work on the protocol stream stopped, as far as the store can tell (see
   * `StreamProgress`): for a consumer created anew on a stream that holds messages. Three reads
   * over the protocols and the records, each ordered and limited to one row; meant for the rare
   * creation of a consumer, not for every message.
   */
  readonly streamProgress: (q: StreamProgressQuery) => Effect.Effect<StreamProgress, StoreUnavailableError>;
  /**
   * Pings the database. On SQLite it also checks that the process can still write the file (its
   * permissions, the `-wal`/`-shm` files and the directory, and a write transaction begun and
   * rolled back without waiting for another process's lock): a database that became read-only
   * fails with a reason naming the path.
   */
  readonly health: () => Effect.Effect<void, StoreUnavailableError>;
  /**
   * Whether this process runs the scheduled job `name` (the publishers' archive runs) now. SQLite:
   * always (one publisher). PostgreSQL: only the process holding the job's session advisory lock,
   * taken at the first ask that finds it free and kept on a connection of its own until the store
   * closes or that connection drops; another publisher takes it over at its next ask then. So
   * publishers that each ask on their own schedule run the job once per period between them.
   */
  readonly holdsSchedule: (name: string) => Effect.Effect<boolean, StoreUnavailableError>;
}

/**
 * The publication store service. Build it with `PublicationStore.layer(config)`: the layer opens
 * the database, applies pending migrations and closes the connection pool when its scope ends.
 *
 * @example
 * const program = Effect.gen(function* () {
 *   const store = yield* PublicationStore
 *   const record = yield* store.ensurePublication({ jobId: "job-1", spaceKey: "MEET", parentPageId: null })
 *   const claimed = yield* store.claim({ jobId: "job-1", owner: "publisher-a", leaseMs: 60_000 })
 * })
 * program.pipe(Effect.provide(PublicationStore.layer({ type: "sqlite", sqlitePath: "minutes.sqlite" })))
 */
export class PublicationStore extends Context.Tag("@minutes/publication-store/PublicationStore")<
  PublicationStore,
  PublicationStoreShape
>() {
  /**
   * Opens the store in the current scope: opens the database, applies pending migrations (unless
   * `migrate: false`) and closes the pool when the scope closes. `layer` wraps it; use it directly
   * to hold two stores at once (e.g. export from one, import into another). Fails with
   * `StoreUnusableError` when the database cannot be used as configured (see its doc), with
   * `StoreUnavailableError` when it cannot be reached.
   */
  static readonly make = (
    config: StoreConfig,
  ): Effect.Effect<PublicationStoreShape, StoreUnavailableError | StoreUnusableError, Scope.Scope> =>
    Effect.gen(function* () {
      const db = yield* Effect.acquireRelease(openDatabase(config), (d) =>
        Effect.promise(() => d.orm.close(true)).pipe(Effect.ignore),
      );
      if (config.migrate !== false) yield* migrate(db);
      const shape = makeShape(db);
      if (db.dialect !== "postgresql") return { ...shape, holdsSchedule: () => Effect.succeed(true) };
      const url = typeof config.url === "string" ? config.url : Redacted.value(config.url!);
      const locks = yield* Effect.acquireRelease(
        Effect.sync(() => makeScheduleLocks(url)),
        (l) => Effect.promise(l.close),
      );
      return {
        ...shape,
        holdsSchedule: (name: string) =>
          Effect.tryPromise({
            try: () => locks.holds(name),
            catch: (cause) =>
              new StoreUnavailableError({
                operation: "holdsSchedule",
                reason: cause instanceof Error ? cause.message : String(cause),
              }),
          }),
      };
    });

  /** The live layer. */
  static readonly layer = (
    config: StoreConfig,
  ): Layer.Layer<PublicationStore, StoreUnavailableError | StoreUnusableError> =>
    Layer.scoped(PublicationStore, PublicationStore.make(config));
}

// internal

const makeShape = (db: Database): Omit<PublicationStoreShape, "holdsSchedule"> => {
  const { rows, run } = statements(db);
  // One EntityManager for every operation (a fork costs more than most statements): they only
  // run SQL through it, outside any transaction, and raw SQL leaves no entity state behind. An
  // import begins a transaction on its EntityManager, so it forks its own.
  const em = db.orm.em.fork() as SqlEntityManager;
  const now = Clock.currentTimeMillis;
  const pg = db.dialect === "postgresql";
  // Day of an instant in UTC, in each dialect.
  /**
   * When a record counts in statistics: a published or archived one when it was published (an
   * archive run, or any later change of the record, does not move it to that day), any other when
   * it last changed.
   */
  const statsAt =
    "(case when publication_status in ('published', 'archived') and published_at is not null then published_at else updated_at end)";
  const dayExpr = pg
    ? `to_char(${statsAt} at time zone 'UTC', 'YYYY-MM-DD')`
    : `strftime('%Y-%m-%d', ${statsAt} / 1000, 'unixepoch')`;

  const selectById = (em: SqlEntityManager, id: number) =>
    attempt("get", () => rows(em, "select * from confluence_publications where id = ?", [id])).pipe(
      Effect.map((r) => (r[0] ? Option.some(toPublication(r[0])) : Option.none())),
    );
  const selectByJob = (em: SqlEntityManager, jobId: string) =>
    attempt("findByJob", () =>
      rows(em, "select * from confluence_publications where job_id = ?", [jobId]),
    ).pipe(Effect.map((r) => (r[0] ? Option.some(toPublication(r[0])) : Option.none())));
  const requireById = (em: SqlEntityManager, id: number) =>
    selectById(em, id).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.fail(new PublicationNotFoundError({ id })),
          onSome: Effect.succeed,
        }),
      ),
    );
  const selectProtocol = (em: SqlEntityManager, jobId: string) =>
    attempt("getProtocol", () => rows(em, "select * from minutes_protocols where job_id = ?", [jobId])).pipe(
      Effect.map((r) => (r[0] ? Option.some(toProtocol(r[0])) : Option.none())),
    );

  // Operations are `Effect.fnUntraced`: a named `Effect.fn` captures a call-site stack trace on
  // every call (~20 µs), and these run several times for every protocol published.
  const saveProtocol = Effect.fnUntraced(function* (input: SaveProtocolInput) {
    const t = new Date(yield* now);
    const occurredAt = new Date(input.occurredAt);
    const storedAt = input.storedAt === undefined ? null : new Date(input.storedAt);
    // Which event is newer: see `SaveProtocolInput.storedAt` (NATS time against NATS time, then
    // sequences) and `CLOCK_SKEW_ALLOWANCE_MS` (rows saved before the instant was kept).
    // RETURNING hands back the row this call stored (SQLite ≥ 3.35 and PostgreSQL): no second read
    // unless the stored protocol was newer and kept.
    const written = yield* attempt("saveProtocol", () =>
      rows(
        em,
        `insert into minutes_protocols
           (job_id, markdown, filename, metadata, content_hash, stream_sequence, stream_stored_at, occurred_at,
            received_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (job_id) do update set
           markdown = excluded.markdown, filename = excluded.filename, metadata = excluded.metadata,
           content_hash = excluded.content_hash, stream_sequence = excluded.stream_sequence,
           stream_stored_at = excluded.stream_stored_at, occurred_at = excluded.occurred_at,
           updated_at = excluded.updated_at, record_deleted_at = null, record_deleted_sequence = null
         where case${
           storedAt === null
             ? ""
             : `
           when minutes_protocols.stream_stored_at is not null
             and excluded.stream_stored_at > minutes_protocols.stream_stored_at then true
           when minutes_protocols.stream_stored_at is null and minutes_protocols.updated_at < ? then true`
         }
           when minutes_protocols.stream_sequence is not null and excluded.stream_sequence is not null
             then excluded.stream_sequence >= minutes_protocols.stream_sequence
           else excluded.occurred_at >= minutes_protocols.occurred_at
         end returning *`,
        [
          input.jobId,
          input.markdown,
          input.filename,
          JSON.stringify(protocolMetadataOf(input.metadata)),
          input.contentHash,
          input.streamSequence,
          storedAt,
          occurredAt,
          t,
          t,
          ...(storedAt === null ? [] : [new Date(storedAt.getTime() - CLOCK_SKEW_ALLOWANCE_MS)]),
        ],
      ),
    );
    if (written[0])
      return { outcome: "saved", protocol: toProtocol(written[0]) } satisfies SaveProtocolResult;
    const stored = yield* selectProtocol(em, input.jobId);
    if (Option.isNone(stored)) return yield* Effect.dieMessage(`protocol ${input.jobId} vanished after save`);
    return { outcome: "stale", protocol: stored.value } satisfies SaveProtocolResult;
  });

  const getProtocol = Effect.fnUntraced(function* (jobId: string) {
    return yield* selectProtocol(em, jobId);
  });

  const ensurePublication = Effect.fnUntraced(function* (input: EnsurePublicationInput) {
    const t = new Date(yield* now);
    // ON CONFLICT DO NOTHING is the race-safe "insert, or read the winner's row" in both dialects;
    // RETURNING gives the inserted row, so only an existing record needs a read.
    const inserted = yield* attempt("ensurePublication", () =>
      rows(
        em,
        `insert into confluence_publications
           (job_id, confluence_space_key, parent_page_id, publication_status, "trigger", created_at, updated_at,
            retry_count, attempts)
         values (?, ?, ?, 'pending', ?, ?, ?, 0, 0)
         on conflict (job_id) do nothing returning *`,
        [input.jobId, canonicalSpaceKey(input.spaceKey), input.parentPageId, input.trigger ?? "event", t, t],
      ),
    );
    if (inserted[0]) return toPublication(inserted[0]);
    const found = yield* selectByJob(em, input.jobId);
    if (Option.isNone(found)) return yield* Effect.dieMessage(`publication for ${input.jobId} vanished`);
    return found.value;
  });

  const claimable = PUBLICATION_STATUSES.filter((s) => s !== "publishing" && canTransition(s, "publishing"));

  const claim = Effect.fnUntraced(function* (input: ClaimInput) {
    // The UPDATE can lose to a lease that is released right after it looked (the other attempt
    // published in between): the record read afterwards is claimable again. That is a race lost
    // by a moment, not an invalid transition: claim again, a few times, then leave it to the
    // caller's retry (`None`), which spends no delivery.
    for (let round = 0; round < CLAIM_ROUNDS; round++) {
      const t = input.now ?? new Date(yield* now);
      const won = yield* claimOnce(input, t);
      if (Option.isSome(won)) return won;
      const found = yield* attempt("claim", () =>
        rows(em, "select * from confluence_publications where job_id = ?", [input.jobId]),
      );
      const row = found[0];
      if (row === undefined) return yield* new PublicationNotFoundError({ jobId: input.jobId });
      const current = toPublication(row);
      if (current.status === "publishing") {
        // Held by someone else until later: lost fair and square. (Otherwise the lease changed
        // hands or expired between the two statements: look again.)
        const lease = leaseOf(row);
        const held =
          lease.claimedBy !== input.owner && lease.claimedUntil !== null && lease.claimedUntil > t.getTime();
        if (held) return Option.none<ClaimedPublication>();
        continue;
      }
      if (!claimable.includes(current.status)) {
        return yield* new InvalidTransitionError({ id: current.id, from: current.status, to: "publishing" });
      }
    }
    return Option.none<ClaimedPublication>();
  });

  /** One try of `claim`: the conditional statement alone. */
  const claimOnce = Effect.fnUntraced(function* (input: ClaimInput, t: Date) {
    const until = new Date(t.getTime() + Math.max(0, input.leaseMs));
    const trigger = input.trigger ?? null;
    const isRetry = trigger === "retry" ? 1 : 0;
    const create = input.create;
    // One conditional UPDATE decides the race: the affected-row count says who won. With
    // `create` it is the conflict branch of an INSERT, so a new job's record is created claimed.
    const won = yield* attempt("claim", () =>
      create !== undefined
        ? rows(
            em,
            `insert into confluence_publications as p
               (job_id, confluence_space_key, parent_page_id, publication_status, "trigger", created_at,
                updated_at, retry_count, attempts, claimed_by, claimed_until)
             values (?, ?, ?, 'publishing', ?, ?, ?, 0, 1, ?, ?)
             on conflict (job_id) do update set
               publication_status = 'publishing', claimed_by = excluded.claimed_by,
               claimed_until = excluded.claimed_until, attempts = p.attempts + 1,
               retry_count = p.retry_count + (case when p.publication_status = 'failed' and ? = 1 then 1 else 0 end),
               last_retry_at = case when p.publication_status = 'failed' and ? = 1 then ? else p.last_retry_at end,
               "trigger" = coalesce(?, p."trigger"), updated_at = excluded.updated_at
             where p.publication_status in (${claimable.map(() => "?").join(", ")})
               or (p.publication_status = 'publishing'
                   and (p.claimed_until is null or p.claimed_until <= ? or p.claimed_by = ?)) returning *`,
            [
              input.jobId,
              canonicalSpaceKey(create.spaceKey),
              create.parentPageId,
              trigger ?? "event",
              t,
              t,
              input.owner,
              until,
              isRetry,
              isRetry,
              t,
              trigger,
              ...claimable,
              t,
              input.owner,
            ],
          )
        : rows(
            em,
            `update confluence_publications set
           publication_status = 'publishing', claimed_by = ?, claimed_until = ?, attempts = attempts + 1,
           retry_count = retry_count + (case when publication_status = 'failed' and ? = 1 then 1 else 0 end),
           last_retry_at = case when publication_status = 'failed' and ? = 1 then ? else last_retry_at end,
           "trigger" = coalesce(?, "trigger"), updated_at = ?
         where job_id = ? and (
           publication_status in (${claimable.map(() => "?").join(", ")})
           or (publication_status = 'publishing'
               and (claimed_until is null or claimed_until <= ? or claimed_by = ?))) returning *`,
            [input.owner, until, isRetry, isRetry, t, trigger, t, input.jobId, ...claimable, t, input.owner],
          ),
    );
    return won[0] ? Option.some(toClaimed(won[0])) : Option.none<ClaimedPublication>();
  });

  const renewLease = Effect.fnUntraced(function* (input: RenewLeaseInput) {
    const t = input.now ?? new Date(yield* now);
    const until = new Date(t.getTime() + Math.max(0, input.leaseMs));
    const affected = yield* attempt("renewLease", () =>
      run(
        em,
        `update confluence_publications set claimed_until = ?
         where id = ? and claimed_by = ? and publication_status = 'publishing'`,
        [until, input.id, input.owner],
      ),
    );
    return affected > 0;
  });

  const transition = (id: number, to: PublicationStatus, patch: TransitionPatch = {}) => {
    const version = patch.version;
    if (version === undefined) return transitionOn(em, id, to, patch);
    return inTransaction("transition", (tx) =>
      Effect.gen(function* () {
        const recorded = yield* transitionOn(tx, id, to, patch, { lockFirst: true });
        yield* insertVersion(tx, { ...version, publicationId: id });
        return recorded;
      }),
    );
  };

  /**
   * `transition` on `em` (the store's, or a transaction's). `lockFirst`: in a SQLite transaction,
   * take the write lock before the checked path reads (the direct path's first statement writes).
   */
  const transitionOn = Effect.fnUntraced(function* (
    em: SqlEntityManager,
    id: number,
    to: PublicationStatus,
    patch: TransitionPatch,
    options: { readonly lockFirst?: boolean } = {},
  ) {
    const direct = yield* directTransition(em, id, to, patch);
    if (Option.isSome(direct)) return direct.value;
    if (options.lockFirst === true) yield* takeSqliteWriteLock("transition", em);
    // Optimistic: the UPDATE only applies if the status is still the one we checked.
    const owner = patch.owner;
    for (let round = 0; round < 5; round++) {
      const found = yield* attempt("transition", () =>
        rows(em, "select * from confluence_publications where id = ?", [id]),
      );
      const row = found[0];
      if (row === undefined) return yield* new PublicationNotFoundError({ id });
      const current = toPublication(row);
      // Before the status: a record another attempt took over (and maybe published) is its record.
      if (owner !== undefined && leaseOf(row).claimedBy !== owner) {
        return yield* new LeaseLostError({ id, owner });
      }
      if (!canTransition(current.status, to)) {
        return yield* new InvalidTransitionError({ id, from: current.status, to });
      }
      const t = new Date(yield* now);
      let latency = patch.latencyMs;
      if (to === "published" && latency === undefined && !patch.keepPublished) {
        const protocol = yield* selectProtocol(em, current.jobId);
        latency = Option.isSome(protocol)
          ? Math.max(0, t.getTime() - Date.parse(protocol.value.occurredAt))
          : undefined;
      }
      const sets = transitionColumns(to, patch, t, latency);
      const countsRetry =
        current.status === "failed" && (to === "pending" || to === "publishing") && patch.trigger === "retry";
      const extra = countsRetry ? ", retry_count = retry_count + 1" : "";
      if (countsRetry) sets.push(["last_retry_at", t]);
      const updated = yield* attempt("transition", () =>
        rows(
          em,
          `update confluence_publications set ${sets.map(([c]) => `${c} = ?`).join(", ")}${extra}
           where id = ? and publication_status = ?${owner !== undefined ? " and claimed_by = ?" : ""} returning *`,
          [...sets.map(([, v]) => v), id, current.status, ...(owner !== undefined ? [owner] : [])],
        ),
      );
      if (updated[0]) return toPublication(updated[0]);
    }
    return yield* new StoreUnavailableError({
      operation: "transition",
      reason: "too much contention on the record",
    });
  });

  /**
   * The common transition in one statement: an UPDATE guarded by every status that may move to
   * `to`. Not for what depends on the current row (a retry count, a latency read from the
   * protocol); `None` also when the guard did not match, and the checked path then says why.
   */
  const directTransition = (
    em: SqlEntityManager,
    id: number,
    to: PublicationStatus,
    patch: TransitionPatch,
  ) =>
    Effect.gen(function* () {
      const countsRetry = patch.trigger === "retry" && (to === "pending" || to === "publishing");
      const needsProtocol = to === "published" && patch.latencyMs === undefined && !patch.keepPublished;
      const from = PUBLICATION_STATUSES.filter((s) => canTransition(s, to));
      if (countsRetry || needsProtocol || from.length === 0) return Option.none<Publication>();
      const sets = transitionColumns(to, patch, new Date(yield* now), patch.latencyMs);
      const owner = patch.owner;
      const updated = yield* attempt("transition", () =>
        rows(
          em,
          `update confluence_publications set ${sets.map(([c]) => `${c} = ?`).join(", ")}
           where id = ? and publication_status in (${from.map(() => "?").join(", ")})${owner !== undefined ? " and claimed_by = ?" : ""} returning *`,
          [...sets.map(([, v]) => v), id, ...from, ...(owner !== undefined ? [owner] : [])],
        ),
      );
      return updated[0] ? Option.some(toPublication(updated[0])) : Option.none<Publication>();
    });

  const markRetry = Effect.fnUntraced(function* (id: number) {
    const t = new Date(yield* now);
    const affected = yield* attempt("markRetry", () =>
      run(
        em,
        "update confluence_publications set retry_count = retry_count + 1, last_retry_at = ?, updated_at = ? where id = ?",
        [t, t, id],
      ),
    );
    if (affected === 0) return yield* new PublicationNotFoundError({ id });
    return yield* requireById(em, id);
  });

  const notePublishing = Effect.fnUntraced(function* (
    id: number,
    note: { readonly errorTag: string; readonly errorMessage: string; readonly owner?: string | undefined },
  ) {
    const t = new Date(yield* now);
    const owner = note.owner;
    yield* attempt("notePublishing", () =>
      run(
        em,
        `update confluence_publications set error_tag = ?, error_message = ?, updated_at = ?
         where id = ? and publication_status = 'publishing'${owner !== undefined ? " and claimed_by = ?" : ""}`,
        [note.errorTag, note.errorMessage, t, id, ...(owner !== undefined ? [owner] : [])],
      ),
    );
  });

  const selectVersion = (em: SqlEntityManager, pageId: string, pageVersion: number) =>
    attempt("recordVersion", () =>
      rows(em, "select * from confluence_publication_versions where page_id = ? and page_version = ?", [
        pageId,
        pageVersion,
      ]),
    );

  const recordVersion = (input: RecordVersionInput) => insertVersion(em, input);

  const insertVersion = Effect.fnUntraced(function* (em: SqlEntityManager, input: RecordVersionInput) {
    const t = new Date(yield* now);
    // The job id comes from the record in the same statement; RETURNING gives the inserted row.
    // (SQLite needs the WHERE to tell the SELECT from the upsert clause.)
    const inserted = yield* attempt("recordVersion", () =>
      rows(
        em,
        `insert into confluence_publication_versions
           (publication_id, job_id, page_id, page_version, content_hash, page_title, "trigger", created_at)
         select id, job_id, ?, ?, ?, ?, ?, ? from confluence_publications where id = ?
         on conflict (page_id, page_version) do nothing returning *`,
        [
          input.pageId,
          input.pageVersion,
          input.contentHash,
          input.pageTitle,
          input.trigger,
          t,
          input.publicationId,
        ],
      ),
    );
    if (inserted[0]) return toVersion(inserted[0]);
    // Nothing inserted: the record does not exist, or the version was recorded before.
    yield* requireById(em, input.publicationId);
    const found = yield* selectVersion(em, input.pageId, input.pageVersion);
    if (!found[0]) return yield* Effect.dieMessage("version vanished after insert");
    return toVersion(found[0]);
  });

  const listVersions = Effect.fnUntraced(function* (jobId: string) {
    const r = yield* attempt("listVersions", () =>
      rows(em, "select * from confluence_publication_versions where job_id = ? order by page_version, id", [
        jobId,
      ]),
    );
    return r.map(toVersion);
  });

  const get = Effect.fnUntraced(function* (id: number) {
    return yield* requireById(em, id);
  });

  const getLease = Effect.fnUntraced(function* (id: number, at?: Date) {
    const found = yield* attempt("getLease", () =>
      rows(em, "select * from confluence_publications where id = ?", [id]),
    );
    const row = found[0];
    if (row === undefined) return yield* new PublicationNotFoundError({ id });
    const t = at?.getTime() ?? (yield* now);
    const publication = toPublication(row);
    const lease = leaseOf(row);
    // The rule of `claim`'s statement: a lease that has run out (or was never set) is anyone's.
    const held = publication.status === "publishing" && lease.claimedUntil !== null && lease.claimedUntil > t;
    return {
      publication,
      owner: lease.claimedBy,
      expiresAt: lease.claimedUntil === null ? null : new Date(lease.claimedUntil).toISOString(),
      held,
    } satisfies PublicationLease;
  });

  const findByJob = Effect.fnUntraced(function* (jobId: string) {
    return yield* selectByJob(em, jobId);
  });

  const listByJob = Effect.fnUntraced(function* (jobId: string) {
    const found = yield* selectByJob(em, jobId);
    return Option.toArray(found);
  });

  const deletePublication = Effect.fnUntraced(function* (id: number) {
    const current = yield* requireById(em, id);
    // The job's protocol stays; it says that its record was deleted once the record had handled
    // it (a final outcome from its event or a later message), so that a consumer created anew
    // does not count its old event as still to come (`streamProgress`). First: a failure between
    // the two statements leaves the record, which makes the mark count for nothing.
    if (isFinalStatus(current.status) && current.streamSequence !== null) {
      const t = new Date(yield* now);
      yield* attempt("deletePublication", () =>
        run(
          em,
          `update minutes_protocols set record_deleted_at = ?, record_deleted_sequence = ?
           where job_id = ? and updated_at < ? and (stream_sequence is null or stream_sequence <= ?)`,
          [t, current.streamSequence, current.jobId, new Date(current.updatedAt), current.streamSequence],
        ),
      );
    }
    const affected = yield* attempt("deletePublication", () =>
      run(em, "delete from confluence_publications where id = ?", [id]),
    );
    if (affected === 0) return yield* new PublicationNotFoundError({ id });
    return current;
  });

  const query = Effect.fnUntraced(function* (q: PublicationQuery = {}) {
    const where: string[] = [];
    const params: unknown[] = [];
    const statuses = q.status === undefined ? [] : typeof q.status === "string" ? [q.status] : [...q.status];
    if (statuses.length > 0) {
      where.push(`publication_status in (${statuses.map(() => "?").join(", ")})`);
      params.push(...statuses);
    }
    if (q.spaceKey !== undefined) {
      // Stored canonical (a global space's key upper case), so `meetings` finds space MEETINGS.
      where.push("confluence_space_key = ?");
      params.push(canonicalSpaceKey(q.spaceKey));
    }
    if (q.since !== undefined) {
      where.push("updated_at >= ?");
      params.push(q.since);
    }
    if (q.until !== undefined) {
      where.push("updated_at < ?");
      params.push(q.until);
    }
    if (q.cursor) {
      const position = decodeCursor(q.cursor);
      if (!position) return yield* new InvalidCursorError({ cursor: q.cursor });
      const at = new Date(position.updatedAtMs);
      where.push("(updated_at < ? or (updated_at = ? and id < ?))");
      params.push(at, at, position.id);
    }
    const limit = clampLimit(q.limit);
    const sql = `select * from confluence_publications ${where.length ? `where ${where.join(" and ")}` : ""}
      order by updated_at desc, id desc limit ?`;
    const found = yield* attempt("query", () => rows(em, sql, [...params, limit + 1]));
    const items = found.slice(0, limit).map(toPublication);
    const last = items[items.length - 1];
    const nextCursor =
      found.length > limit && last
        ? encodeCursor({ updatedAtMs: Date.parse(last.updatedAt), id: last.id })
        : null;
    return { items, nextCursor } satisfies PublicationPage;
  });

  const stats = Effect.fnUntraced(function* (window: StatsWindow = {}) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (window.since !== undefined) {
      where.push(`${statsAt} >= ?`);
      params.push(window.since);
    }
    if (window.until !== undefined) {
      where.push(`${statsAt} < ?`);
      params.push(window.until);
    }
    const w = (extra?: string): string => {
      const all = extra ? [...where, extra] : where;
      return all.length ? `where ${all.join(" and ")}` : "";
    };
    const byStatusRows = yield* attempt("stats", () =>
      rows(
        em,
        `select publication_status as k, count(*) as n, sum(retry_count) as r from confluence_publications ${w()}
         group by publication_status`,
        params,
      ),
    );
    const bySpaceRows = yield* attempt("stats", () =>
      rows(
        em,
        `select confluence_space_key as k, count(*) as n from confluence_publications ${w()}
         group by confluence_space_key`,
        params,
      ),
    );
    // A day's `failed` counts rejected protocols too, as the success rate does: neither was published.
    const perDayRows = yield* attempt("stats", () =>
      rows(
        em,
        `select ${dayExpr} as d,
           sum(case when publication_status in ('published', 'archived') then 1 else 0 end) as p,
           sum(case when publication_status in ('failed', 'rejected') then 1 else 0 end) as f,
           count(*) as n
         from confluence_publications ${w()} group by ${dayExpr} order by 1`,
        params,
      ),
    );
    // An archived meeting's page was published as much as a current one: both are successes.
    const latencyWhere = w("publication_status in ('published', 'archived') and latency_ms is not null");
    const latencyCount = yield* attempt("stats", () =>
      rows(em, `select count(*) as n from confluence_publications ${latencyWhere}`, params),
    );
    const n = Number(latencyCount[0]?.n ?? 0);
    // Nearest-rank percentile, read with ORDER BY … OFFSET so no dialect needs percentile_cont.
    const percentile = (p: number) =>
      n === 0
        ? Effect.succeed<number | null>(null)
        : attempt("stats", () =>
            rows(
              em,
              `select latency_ms as v from confluence_publications ${latencyWhere}
               order by latency_ms limit 1 offset ?`,
              [...params, Math.max(0, Math.ceil(p * n) - 1)],
            ),
          ).pipe(Effect.map((r) => num(r[0]?.v)));
    const p50 = yield* percentile(0.5);
    const p95 = yield* percentile(0.95);

    const byStatus: Record<string, number> = {};
    let total = 0;
    let retries = 0;
    for (const r of byStatusRows) {
      const count = Number(r.n);
      byStatus[String(r.k)] = count;
      total += count;
      retries += Number(r.r ?? 0);
    }
    const bySpace: Record<string, number> = {};
    for (const r of bySpaceRows) bySpace[String(r.k)] = Number(r.n);
    const published = (byStatus.published ?? 0) + (byStatus.archived ?? 0);
    // A rejected protocol was not published either: it counts against the rate like a failed one.
    const failed = (byStatus.failed ?? 0) + (byStatus.rejected ?? 0);
    return {
      since: window.since?.toISOString() ?? null,
      until: window.until?.toISOString() ?? null,
      total,
      byStatus,
      bySpace,
      successRate: published + failed === 0 ? null : published / (published + failed),
      retries,
      latencyMs: { p50, p95 },
      perDay: perDayRows.map((r) => ({
        day: String(r.d),
        published: Number(r.p ?? 0),
        failed: Number(r.f ?? 0),
        total: Number(r.n),
      })),
    } satisfies PublicationStats;
  });

  const countByStatus = Effect.fnUntraced(function* () {
    const found = yield* attempt("countByStatus", () =>
      rows(
        em,
        "select publication_status as k, count(*) as n from confluence_publications group by publication_status",
      ),
    );
    const counts = Object.fromEntries(PUBLICATION_STATUSES.map((status) => [status, 0])) as Record<
      PublicationStatus,
      number
    >;
    for (const r of found) {
      const status = String(r.k);
      if (isStatus(status)) counts[status] = Number(r.n);
    }
    return counts satisfies PublicationStatusCounts;
  });

  /**
   * Not one snapshot (SQLite has one connection, which a transaction held across the whole
   * download would take from everyone else), so the order is what keeps the file importable:
   *
   * - Publications in id batches, each batch followed by the versions of its own publications,
   *   matched by id and job. A version's publication line always comes first (the import needs
   *   it); the version of a record created after its batch was read (or, on PostgreSQL, committed
   *   late with an id in a batch already read) is left out with its record.
   * - Protocols after every publication: a record is made after its job's protocol was saved, so
   *   an exported record has its protocol in the file, unless a cleanup deleted both meanwhile.
   *
   * A record deleted during the export may still have its line, without the versions read after
   * it; one created during it may be in the file or not, whole either way. The end line counts the
   * lines, so a file cut short is refused at import.
   */
  const exportJsonl = (): Stream.Stream<string, StoreUnavailableError> =>
    Stream.suspend(() => {
      // This run's counts, for its end line (a stream may be run more than once).
      const written = { protocols: 0, publications: 0, versions: 0 };
      const header = JSON.stringify({
        kind: "header",
        format: EXPORT_FORMAT,
        version: EXPORT_FORMAT_VERSION,
      });
      const publications = keyset<number>(
        (after) =>
          after === null
            ? rows(em, "select * from confluence_publications order by id limit ?", [EXPORT_BATCH])
            : rows(em, "select * from confluence_publications where id > ? order by id limit ?", [
                after,
                EXPORT_BATCH,
              ]),
        (r) => Number(r.id),
      ).pipe(
        Stream.flatMap((batch) =>
          Stream.concat(
            Stream.fromIterable(batch).pipe(
              Stream.map((r) => {
                written.publications += 1;
                return JSON.stringify({ kind: "publication", ...toPublication(r) });
              }),
            ),
            versionsOf(batch).pipe(
              Stream.map((r) => {
                written.versions += 1;
                return JSON.stringify({ kind: "version", ...toVersion(r) });
              }),
            ),
          ),
        ),
      );
      const protocols = keyset<string>(
        (after) =>
          after === null
            ? rows(em, "select * from minutes_protocols order by job_id limit ?", [EXPORT_BATCH])
            : rows(em, "select * from minutes_protocols where job_id > ? order by job_id limit ?", [
                after,
                EXPORT_BATCH,
              ]),
        (r) => String(r.job_id),
      ).pipe(
        Stream.mapConcat((batch) => batch),
        Stream.map((r) => {
          written.protocols += 1;
          return JSON.stringify({ kind: "protocol", ...toProtocol(r) });
        }),
      );
      const end = Stream.sync(() => JSON.stringify({ kind: "end", ...written }));
      return Stream.make(header).pipe(
        Stream.concat(publications),
        Stream.concat(protocols),
        Stream.concat(end),
      );
    });

  /**
   * The version rows of a batch of exported publication rows, by publication and id, in pages of
   * `EXPORT_BATCH`. Joined on the job (its index) and kept only when the batch holds their
   * publication: a record in the batch's id range but not in the batch has no line in the file.
   */
  const versionsOf = (batch: ReadonlyArray<Row>): Stream.Stream<Row, StoreUnavailableError> => {
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (first === undefined || last === undefined) return Stream.empty;
    const exported = new Map(batch.map((r) => [Number(r.id), String(r.job_id)]));
    const select = `select v.* from confluence_publication_versions v
      join confluence_publications p on p.job_id = v.job_id and p.id = v.publication_id
      where p.id >= ? and p.id <= ?`;
    const order = "order by v.publication_id, v.id limit ?";
    return keyset<readonly [number, number]>(
      (after) =>
        after === null
          ? rows(em, `${select} ${order}`, [Number(first.id), Number(last.id), EXPORT_BATCH])
          : rows(em, `${select} and (v.publication_id > ? or (v.publication_id = ? and v.id > ?)) ${order}`, [
              after[0],
              Number(last.id),
              after[0],
              after[0],
              after[1],
              EXPORT_BATCH,
            ]),
      (r) => [Number(r.publication_id), Number(r.id)] as const,
    ).pipe(
      Stream.mapConcat((page) =>
        page.filter((r) => exported.get(Number(r.publication_id)) === String(r.job_id)),
      ),
    );
  };

  /** Pages of rows read by `read(after)` after the key of the last row of the page before. */
  const keyset = <K>(
    read: (after: K | null) => Promise<ReadonlyArray<Row>>,
    key: (r: Row) => K,
  ): Stream.Stream<ReadonlyArray<Row>, StoreUnavailableError> =>
    Stream.paginateEffect<K | null, ReadonlyArray<Row>, StoreUnavailableError, never>(null, (after) =>
      attempt("exportJsonl", () => read(after)).pipe(
        Effect.map((page) => {
          const last = page[page.length - 1];
          const next = page.length === EXPORT_BATCH && last ? Option.some(key(last)) : Option.none();
          return [page, next] as const;
        }),
      ),
    );

  const importJsonl = <E>(
    lines: Stream.Stream<string, E>,
    options: ImportOptions = {},
  ): Effect.Effect<ImportResult, ImportLineError | StoreUnavailableError | E> =>
    Effect.gen(function* () {
      // Its own EntityManager: the import's transaction is begun on it.
      const em = db.orm.em.fork() as SqlEntityManager;
      const skipInvalid = options.onInvalidLine === "skip";
      // Tallies local to this call, updated in place: constant work per line, and the error list
      // is capped, so a file of garbage costs time linear in its size and no memory per line.
      const counts = { imported: 0, updated: 0, skipped: 0, invalid: 0 };
      const errors: Array<ImportLineError> = [];
      const rejectLine = (line: number, reason: () => string) => {
        counts.invalid += 1;
        counts.skipped += 1;
        // The reason is only worked out for lines that are listed.
        if (errors.length < IMPORT_MAX_ERRORS) errors.push(new ImportLineError({ line, reason: reason() }));
      };
      const tooManyInvalid = (line: number) =>
        new ImportLineError({
          line,
          reason: `more than ${IMPORT_MAX_INVALID} invalid lines: this is not a Minutes export; nothing was imported`,
        });
      const pacer = makePacer();
      let lineNo = 0;
      // What the file says about itself: the header's version (the first non-blank line must be
      // the header), the end line's number once read, and the lines of each kind read (and those
      // skipped as unreadable, of no known kind), to check against the end line's counts.
      let version: number | undefined;
      let headerLine = 0;
      let endLine: number | undefined;
      let lastLine = 0;
      const read = { protocols: 0, publications: 0, versions: 0 };
      let unreadable = 0;
      const importChunk = (chunk: Chunk.Chunk<string>) =>
        Effect.gen(function* () {
          for (const line of chunk) {
            lineNo += 1;
            if (pacer.due()) yield* pacer.pause;
            const trimmed = line.trim();
            if (trimmed === "") continue;
            lastLine = lineNo;
            if (endLine !== undefined) {
              return yield* new ImportLineError({
                line: lineNo,
                reason: `a line after the end line (line ${endLine}): an export ends with its end line, and one file holds one export`,
              });
            }
            const decoded = decodeLine(trimmed);
            if (version === undefined) {
              // Never skipped: without its header nothing says the file is an export, nor which
              // version (whether it must end with an end line).
              if (Either.isLeft(decoded))
                return yield* new ImportLineError({ line: lineNo, reason: decoded.left() });
              if (decoded.right.kind !== "header") {
                return yield* new ImportLineError({
                  line: lineNo,
                  reason: `expected the header line first, got a ${decoded.right.kind} line: a Minutes export starts with {"kind":"header","format":"${EXPORT_FORMAT}",…}`,
                });
              }
              version = decoded.right.version;
              headerLine = lineNo;
              counts.skipped += 1;
              continue;
            }
            if (Either.isLeft(decoded)) {
              if (!skipInvalid) return yield* new ImportLineError({ line: lineNo, reason: decoded.left() });
              rejectLine(lineNo, decoded.left);
              unreadable += 1;
              if (counts.invalid > IMPORT_MAX_INVALID) return yield* tooManyInvalid(lineNo);
              continue;
            }
            const parsed = decoded.right;
            let outcome: LineOutcome;
            switch (parsed.kind) {
              case "header":
                outcome = {
                  invalid: `a second header line (the first is line ${headerLine}): one file holds one export`,
                };
                break;
              case "end": {
                // Refused whatever `onInvalidLine` says: lines missing or added are not bad lines
                // to skip. Only the unreadable lines skipped before may account for lines it counts.
                const mismatch = endLineMismatch(parsed, read, unreadable);
                if (mismatch !== undefined)
                  return yield* new ImportLineError({ line: lineNo, reason: mismatch });
                endLine = lineNo;
                outcome = "skipped";
                break;
              }
              default:
                // Counted whether the line imports or not: the end line counts what was written.
                read[`${parsed.kind}s`] += 1;
                outcome = yield* importLine(em, parsed);
            }
            if (typeof outcome === "object") {
              if (!skipInvalid) return yield* new ImportLineError({ line: lineNo, reason: outcome.invalid });
              rejectLine(lineNo, () => outcome.invalid);
              if (counts.invalid > IMPORT_MAX_INVALID) return yield* tooManyInvalid(lineNo);
              continue;
            }
            counts[outcome] += 1;
          }
        });
      // After the last line: a file without its header, or (from version 2) without its end line,
      // is not a whole export, also when every line it has is valid.
      const checkWhole = Effect.suspend(() => {
        if (version === undefined) {
          return Effect.fail(
            new ImportLineError({
              line: 1,
              reason: "the file is empty: a Minutes export has at least its header line",
            }),
          );
        }
        if (version >= 2 && endLine === undefined) {
          return Effect.fail(
            new ImportLineError({
              line: lastLine + 1,
              reason: `the file ends after line ${lastLine} without its end line: the export was cut short`,
            }),
          );
        }
        return Effect.void;
      });
      const body = Stream.runForEachChunk(lines, importChunk).pipe(
        Effect.zipRight(checkWhole),
        Effect.zipRight(pg ? resyncSequences(em) : Effect.void),
        Effect.zipRight(attempt("importJsonl", () => commitStatements(em))),
        Effect.zipRight(
          Effect.sync(
            (): ImportResult => ({ ...counts, errors, errorsOmitted: counts.invalid - errors.length }),
          ),
        ),
      );
      return yield* Effect.acquireUseRelease(
        attempt("importJsonl", () => em.begin()),
        // It reads before it writes: the write lock first (see `takeSqliteWriteLock`).
        () => Effect.zipRight(takeSqliteWriteLock("importJsonl", em), body),
        (_, exit) =>
          Exit.isSuccess(exit) ? Effect.void : Effect.promise(() => em.rollback()).pipe(Effect.ignore),
      );
    }).pipe(Effect.withSpan("PublicationStore.importJsonl"));

  /** Writes one decoded line; `{ invalid }` for a line that decodes but cannot be used. */
  const importLine = (
    em: SqlEntityManager,
    line: ExportLine,
  ): Effect.Effect<LineOutcome, StoreUnavailableError> =>
    Effect.gen(function* () {
      switch (line.kind) {
        // The caller reads these; a file's own lines import nothing.
        case "header":
        case "end":
          return "skipped" as const;
        case "protocol": {
          const existing = yield* attempt("importJsonl", () =>
            rows(em, "select updated_at from minutes_protocols where job_id = ?", [line.jobId]),
          );
          const values = [
            line.markdown,
            line.filename,
            JSON.stringify(protocolMetadataOf(line.metadata)),
            line.contentHash,
            line.streamSequence,
            line.streamStoredAt === null ? null : new Date(line.streamStoredAt),
            new Date(line.occurredAt),
            new Date(line.receivedAt),
            new Date(line.updatedAt),
          ];
          const row = existing[0];
          if (!row) {
            yield* attempt("importJsonl", () =>
              run(
                em,
                `insert into minutes_protocols (markdown, filename, metadata, content_hash, stream_sequence,
                   stream_stored_at, occurred_at, received_at, updated_at, job_id)
                 values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
                [...values, line.jobId],
              ),
            );
            return "imported" as const;
          }
          if (Date.parse(line.updatedAt) <= (instantMs(row.updated_at) ?? 0)) return "skipped" as const;
          yield* attempt("importJsonl", () =>
            run(
              em,
              `update minutes_protocols set markdown = ?, filename = ?, metadata = ?, content_hash = ?,
                 stream_sequence = ?, stream_stored_at = ?, occurred_at = ?, received_at = ?, updated_at = ?,
                 record_deleted_at = null, record_deleted_sequence = null
               where job_id = ?`,
              [...values, line.jobId],
            ),
          );
          return "updated" as const;
        }
        case "publication": {
          const existing = yield* attempt("importJsonl", () =>
            rows(em, "select id, updated_at from confluence_publications where job_id = ?", [line.jobId]),
          );
          const columns: Array<[string, unknown]> = [
            ["publication_status", line.status],
            ["confluence_page_id", line.pageId],
            ["confluence_page_url", line.pageUrl],
            ["confluence_space_key", canonicalSpaceKey(line.spaceKey)],
            ["parent_page_id", line.parentPageId],
            ["page_title", line.pageTitle],
            ["content_hash", line.contentHash],
            ["page_version", line.pageVersion],
            ["stream_sequence", line.streamSequence],
            ["attempts", line.attempts],
            ["retry_count", line.retryCount],
            ["error_message", line.errorMessage],
            ["error_tag", line.errorTag],
            ['"trigger"', line.trigger],
            ["created_at", new Date(line.createdAt)],
            ["updated_at", new Date(line.updatedAt)],
            ["last_retry_at", line.lastRetryAt === null ? null : new Date(line.lastRetryAt)],
            ["published_at", line.publishedAt === null ? null : new Date(line.publishedAt)],
            ["latency_ms", line.latencyMs],
            ["meeting_date", line.meetingDate],
            ["archived_at", line.archivedAt === null ? null : new Date(line.archivedAt)],
            ["claimed_by", null],
            ["claimed_until", null],
            // Page ids restart in every Confluence site: whatever the exporting installation saw,
            // the page must prove itself on this one before a publisher trusts the record.
            ["page_verified_on", null],
          ];
          const row = existing[0];
          if (!row) {
            // Keep the exported id when it is free, so a restore keeps the gateway's URLs.
            const taken = yield* attempt("importJsonl", () =>
              rows(em, "select id from confluence_publications where id = ?", [line.id]),
            );
            const all: Array<[string, unknown]> = [
              ["job_id", line.jobId],
              ...(taken.length === 0 ? ([["id", line.id]] as Array<[string, unknown]>) : []),
              ...columns,
            ];
            yield* attempt("importJsonl", () =>
              run(
                em,
                `insert into confluence_publications (${all.map(([c]) => c).join(", ")})
                 values (${all.map(() => "?").join(", ")})`,
                all.map(([, v]) => v),
              ),
            );
            return "imported" as const;
          }
          if (Date.parse(line.updatedAt) <= (instantMs(row.updated_at) ?? 0)) return "skipped" as const;
          yield* attempt("importJsonl", () =>
            run(
              em,
              `update confluence_publications set ${columns.map(([c]) => `${c} = ?`).join(", ")} where job_id = ?`,
              [...columns.map(([, v]) => v), line.jobId],
            ),
          );
          return "updated" as const;
        }
        case "version": {
          const owner = yield* attempt("importJsonl", () =>
            rows(em, "select id from confluence_publications where job_id = ?", [line.jobId]),
          );
          const publication = owner[0];
          if (!publication) {
            return {
              invalid: `no publication for job ${clip(JSON.stringify(line.jobId), MAX_ISSUE_CHARS)} (its publication line must come first)`,
            };
          }
          const existing = yield* selectVersion(em, line.pageId, line.pageVersion);
          if (existing.length > 0) return "skipped" as const;
          yield* attempt("importJsonl", () =>
            run(
              em,
              `insert into confluence_publication_versions
                 (publication_id, job_id, page_id, page_version, content_hash, page_title, "trigger", created_at)
               values (?, ?, ?, ?, ?, ?, ?, ?)`,
              [
                Number(publication.id),
                line.jobId,
                line.pageId,
                line.pageVersion,
                line.contentHash,
                line.pageTitle,
                line.trigger,
                new Date(line.createdAt),
              ],
            ),
          );
          return "imported" as const;
        }
      }
    });

  // Explicit ids bypass PostgreSQL sequences; move them past the highest id again.
  const resyncSequences = (em: SqlEntityManager) =>
    Effect.forEach(["confluence_publications", "confluence_publication_versions"], (table) =>
      attempt("importJsonl", () =>
        rows(
          em,
          `select setval(pg_get_serial_sequence('${table}', 'id'),
             coalesce((select max(id) from ${table}), 1), (select max(id) from ${table}) is not null)`,
        ),
      ),
    );

  const health = Effect.fnUntraced(function* () {
    yield* attempt("health", () =>
      db.dialect === "sqlite" && db.location.type === "sqlite" && db.location.path !== ":memory:"
        ? checkSqliteWritable(db)
        : rows(em, "select 1 as ok").then(() => undefined),
    );
  });

  const listIndexed = Effect.fnUntraced(function* (
    location: IndexLocation,
    options: { readonly limit?: number | undefined } = {},
  ) {
    const parent = location.parentPageId === null ? "parent_page_id is null" : "parent_page_id = ?";
    const limit = options.limit === undefined ? null : Math.max(1, Math.trunc(options.limit));
    const params: Array<unknown> =
      location.parentPageId === null
        ? [canonicalSpaceKey(location.spaceKey)]
        : [canonicalSpaceKey(location.spaceKey), location.parentPageId];
    // The total comes with the rows (a window count over every match, before the limit).
    const found = yield* attempt("listIndexed", () =>
      rows(
        em,
        `select *, count(*) over () as listed_total from confluence_publications
         where confluence_space_key = ? and ${parent}
           and publication_status in ('published', 'archived') and confluence_page_id is not null
         order by meeting_date is null, meeting_date desc, page_title, id${limit === null ? "" : " limit ?"}`,
        limit === null ? params : [...params, limit],
      ),
    );
    // `meeting_date is null` first in the order: the dialects disagree on where nulls sort.
    const total = found[0] === undefined ? 0 : Number(found[0].listed_total);
    return { items: found.map(toPublication), total } satisfies IndexListing;
  });

  const listArchivable = Effect.fnUntraced(function* (q: ArchivableQuery) {
    const found = yield* attempt("listArchivable", () =>
      rows(
        em,
        `select * from confluence_publications
         where publication_status = 'published' and meeting_date is not null and meeting_date < ?
           and confluence_page_id is not null
         order by meeting_date, id limit ?`,
        [q.before, Math.max(1, Math.trunc(q.limit ?? 500))],
      ),
    );
    return found.map(toPublication);
  });

  /**
   * Runs `body` in a transaction on an EntityManager of its own: committed when `body` succeeds,
   * rolled back when it fails or is interrupted.
   */
  /**
   * SQLite: knex's BEGIN is deferred, and a transaction that reads before it writes fails with
   * SQLITE_BUSY_SNAPSHOT when another process (a publisher) commits in between. A first statement
   * that writes (nothing) takes the write lock, waiting up to busy_timeout like any write. Nothing
   * on PostgreSQL.
   */
  const takeSqliteWriteLock = (
    operation: string,
    tx: SqlEntityManager,
  ): Effect.Effect<void, StoreUnavailableError> =>
    pg
      ? Effect.void
      : Effect.asVoid(attempt(operation, () => run(tx, "delete from confluence_publications where 0 = 1")));

  const inTransaction = <A, E>(
    operation: string,
    body: (tx: SqlEntityManager) => Effect.Effect<A, E>,
  ): Effect.Effect<A, E | StoreUnavailableError> =>
    Effect.suspend(() => {
      const tx = db.orm.em.fork() as SqlEntityManager;
      return Effect.acquireUseRelease(
        attempt(operation, () => tx.begin()),
        () => Effect.tap(body(tx), () => attempt(operation, () => commitStatements(tx))),
        (_, exit) =>
          Exit.isSuccess(exit) ? Effect.void : Effect.promise(() => tx.rollback()).pipe(Effect.ignore),
      );
    });

  const cleanup = (q: CleanupQuery): Effect.Effect<CleanupResult, StoreUnavailableError> =>
    Effect.gen(function* () {
      const dryRun = q.dryRun === true;
      // Final statuses only, whatever the caller passed.
      const asked: ReadonlyArray<string> = q.statuses ?? FINAL_STATUSES;
      const statuses = FINAL_STATUSES.filter((s) => asked.includes(s));
      if (statuses.length === 0) {
        return {
          dryRun,
          deleted: 0,
          versionsDeleted: 0,
          protocolsDeleted: 0,
          keptNewerProtocol: 0,
          jobIds: [],
        };
      }
      const params: ReadonlyArray<unknown> = [...statuses, q.before];
      const oldEnough = `p.publication_status in (${statuses.map(() => "?").join(", ")}) and p.updated_at < ?`;
      // A protocol saved after the record's last change waits for its publication (the record
      // would say so a moment later). The same millisecond counts as after: when in doubt, keep.
      const newerProtocol =
        "exists (select 1 from minutes_protocols m where m.job_id = p.job_id and m.updated_at >= p.updated_at)";
      const deletable = `${oldEnough} and not ${newerProtocol}`;
      const count = (sql: string) =>
        attempt("cleanup", () => rows(em, sql, params)).pipe(Effect.map((r) => Number(r[0]?.n ?? 0)));
      const keptNewerProtocol = count(
        `select count(*) as n from confluence_publications p where ${oldEnough} and ${newerProtocol}`,
      );

      if (dryRun) {
        const deleted = yield* count(
          `select count(*) as n from confluence_publications p where ${deletable}`,
        );
        const versionsDeleted = yield* count(
          `select count(*) as n from confluence_publication_versions
           where publication_id in (select p.id from confluence_publications p where ${deletable})`,
        );
        const protocolsDeleted =
          q.keepProtocols === true
            ? 0
            : yield* count(
                `select count(*) as n from minutes_protocols
                 where job_id in (select p.job_id from confluence_publications p where ${deletable})`,
              );
        const sample = yield* attempt("cleanup", () =>
          rows(
            em,
            `select p.job_id from confluence_publications p where ${deletable} order by p.id limit ?`,
            [...params, CLEANUP_MAX_JOB_IDS],
          ),
        );
        return {
          dryRun,
          deleted,
          versionsDeleted,
          protocolsDeleted,
          keptNewerProtocol: yield* keptNewerProtocol,
          jobIds: sample.map((r) => String(r.job_id)),
        } satisfies CleanupResult;
      }

      const deleteBatch = (afterId: number) =>
        inTransaction("cleanup", (tx) =>
          Effect.gen(function* () {
            // SQLite: the write lock first (see `takeSqliteWriteLock`), so no one changes what the
            // batch reads until it commits. PostgreSQL: the batch's records are locked (a claim
            // waits, then finds them gone) and rechecked once a concurrent change commits, so a
            // record that became `publishing` meanwhile is kept.
            yield* takeSqliteWriteLock("cleanup", tx);
            const picked = yield* attempt("cleanup", () =>
              rows(
                tx,
                `select p.id, p.job_id from confluence_publications p where ${deletable} and p.id > ?
                 order by p.id limit ?${pg ? " for update of p" : ""}`,
                [...params, afterId, CLEANUP_BATCH],
              ),
            );
            if (picked.length === 0) return { picked, versions: 0, protocols: 0, records: 0 };
            const ids = picked.map((r) => Number(r.id));
            const list = ids.map(() => "?").join(", ");
            const versions = yield* attempt("cleanup", () =>
              run(tx, `delete from confluence_publication_versions where publication_id in (${list})`, ids),
            );
            // Only protocols older than their record: one saved since (PostgreSQL: a concurrent save
            // the records' locks do not hold back) is a newer protocol, and stays.
            const protocols =
              q.keepProtocols === true
                ? 0
                : yield* attempt("cleanup", () =>
                    run(
                      tx,
                      `delete from minutes_protocols
                       where job_id in (select p.job_id from confluence_publications p where p.id in (${list}))
                         and updated_at < (select p.updated_at from confluence_publications p
                                           where p.job_id = minutes_protocols.job_id)`,
                      ids,
                    ),
                  );
            // A protocol that stays (`keepProtocols`) says that its record was deleted, when the
            // record had handled it (see `deletePublication`). (Without it the protocols left are
            // ones saved since the record's last change: waiting, not done with.)
            const t = new Date(yield* now);
            if (q.keepProtocols === true)
              yield* attempt("cleanup", () =>
                run(
                  tx,
                  `update minutes_protocols set record_deleted_at = ?,
                   record_deleted_sequence = (select p.stream_sequence from confluence_publications p
                                              where p.job_id = minutes_protocols.job_id)
                 where job_id in (select p.job_id from confluence_publications p where p.id in (${list})
                                    and p.stream_sequence is not null)
                   and updated_at < (select p.updated_at from confluence_publications p
                                     where p.job_id = minutes_protocols.job_id)
                   and (stream_sequence is null
                        or stream_sequence <= (select p.stream_sequence from confluence_publications p
                                               where p.job_id = minutes_protocols.job_id))`,
                  [t, ...ids],
                ),
              );
            const records = yield* attempt("cleanup", () =>
              run(tx, `delete from confluence_publications where id in (${list})`, ids),
            );
            return { picked, versions, protocols, records };
          }),
        );

      const totals = { deleted: 0, versionsDeleted: 0, protocolsDeleted: 0 };
      const jobIds: Array<string> = [];
      let afterId = 0;
      for (;;) {
        const batch = yield* deleteBatch(afterId);
        totals.deleted += batch.records;
        totals.versionsDeleted += batch.versions;
        totals.protocolsDeleted += batch.protocols;
        for (const r of batch.picked) if (jobIds.length < CLEANUP_MAX_JOB_IDS) jobIds.push(String(r.job_id));
        // Only an empty batch ends it: on PostgreSQL a short one may be short of records that
        // changed under their lock, with more to delete after them.
        const last = batch.picked[batch.picked.length - 1];
        if (last === undefined) break;
        afterId = Number(last.id);
        // Other operations of this store (on SQLite: its one connection) run between batches.
        yield* nextTurn;
      }
      return {
        dryRun,
        ...totals,
        keptNewerProtocol: yield* keptNewerProtocol,
        jobIds,
      } satisfies CleanupResult;
    }).pipe(Effect.withSpan("PublicationStore.cleanup"));

  /**
   * Three reads, each one row: the highest handled sequence this stream's protocols vouch for,
   * the lowest an unfinished record may need, and the lowest protocol saved after its record's
   * last outcome (or without a record that was not deleted). A sequence that may be from a stream
   * deleted since only ever lowers the start: it is never taken as handled.
   */
  const streamProgress = Effect.fnUntraced(function* (q: StreamProgressQuery) {
    const created = q.streamCreatedAt;
    // Record times are this host's clock, the stream's creation the NATS server's.
    const createdByHostClock = new Date(created.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
    // Written into the statement (it is repeated there): an integer, whatever the caller passed.
    const first = Number.isSafeInteger(q.firstSequence) ? Math.max(0, q.firstSequence) : 0;
    const finals = FINAL_STATUSES.map(() => "?").join(", ");
    /** `a` or `b`, whichever is lower, ignoring nulls. */
    const lower = (a: string, b: string) =>
      `(case when ${a} is null then ${b} when ${b} is null then ${a} when ${a} < ${b} then ${a} else ${b} end)`;
    /** `x` when the stream still holds it, else null. */
    const held = (x: string) => `(case when ${x} >= ${first} then ${x} end)`;

    const handledRows = yield* attempt("streamProgress", () =>
      rows(
        em,
        `select job_id, s, own, stored from (
           select m.job_id, m.stream_stored_at as stored,
             case when r.id is not null and r.stream_sequence > m.stream_sequence then r.stream_sequence
                  when r.id is null and m.record_deleted_at is not null
                    and m.record_deleted_sequence > m.stream_sequence then m.record_deleted_sequence
                  else m.stream_sequence end as s,
             case when (r.id is not null and r.stream_sequence > m.stream_sequence)
                    or (r.id is null and m.record_deleted_at is not null
                        and m.record_deleted_sequence > m.stream_sequence) then 0 else 1 end as own
           from minutes_protocols m left join confluence_publications r on r.job_id = m.job_id
           where m.stream_sequence is not null and m.stream_stored_at is not null and m.stream_stored_at >= ?
         ) h order by s desc limit 1`,
        [created],
      ),
    );
    const handledRow = handledRows[0];
    const handled: HandledMark | null =
      handledRow === undefined
        ? null
        : {
            sequence: Number(handledRow.s),
            jobId: String(handledRow.job_id),
            storedAt: Number(handledRow.own) === 1 ? instantIso(handledRow.stored) : null,
          };

    // Unfinished records. A protocol from an older stream gives no sequence of this one.
    const waiting = q.pendingWaitsForPublish === true ? " and r.error_tag is not null" : "";
    const recordRows = yield* attempt("streamProgress", () =>
      rows(
        em,
        `select job_id, status, unplaced, s from (
           select job_id, status,
             case when rs is null and ps is null then 1 else 0 end as unplaced,
             case when status = 'publishing' then ${lower("rs", "ps")}
                  else ${lower(held("rs"), held("ps"))} end as s
           from (
             select r.job_id, r.publication_status as status, r.stream_sequence as rs,
               case when m.stream_stored_at is not null and m.stream_stored_at < ? then null
                    else m.stream_sequence end as ps
             from confluence_publications r left join minutes_protocols m on m.job_id = r.job_id
             where (r.publication_status = 'publishing' or (r.publication_status = 'pending'${waiting}))
               and (r.updated_at >= ? or m.stream_stored_at >= ?)
           ) u
         ) c where unplaced = 1 or s is not null
         order by unplaced desc, s asc limit 1`,
        [created, createdByHostClock, created],
      ),
    );
    const recordRow = recordRows[0];
    if (recordRow !== undefined && Number(recordRow.unplaced) === 1)
      return {
        handled,
        unfinished: null,
        unplaced: { jobId: String(recordRow.job_id), status: String(recordRow.status) as PublicationStatus },
      } satisfies StreamProgress;

    // Protocols whose publication is not recorded: saved after the record's last outcome, or
    // without a record (a publisher stopped between saving it and making the record) unless the
    // protocol is marked as that of a record deleted after it handled it.
    const protocolRows = yield* attempt("streamProgress", () =>
      rows(
        em,
        `select m.job_id, m.stream_sequence as s, r.publication_status as status
         from minutes_protocols m left join confluence_publications r on r.job_id = m.job_id
         where m.stream_sequence is not null and m.stream_sequence >= ?
           and (m.stream_stored_at is null or m.stream_stored_at >= ?)
           and ((r.id is null and m.record_deleted_at is null)
             or (r.publication_status in (${finals})
                 and (r.stream_sequence is null or r.stream_sequence < m.stream_sequence
                      or r.updated_at <= m.updated_at)))
         order by m.stream_sequence limit 1`,
        [first, created, ...FINAL_STATUSES],
      ),
    );
    const protocolRow = protocolRows[0];
    const candidates: Array<UnfinishedMark> = [];
    if (recordRow !== undefined) {
      const status = String(recordRow.status) as PublicationStatus;
      candidates.push({
        sequence: Number(recordRow.s),
        jobId: String(recordRow.job_id),
        reason: status === "publishing" ? "publishing" : "pending",
        status,
      });
    }
    if (protocolRow !== undefined)
      candidates.push({
        sequence: Number(protocolRow.s),
        jobId: String(protocolRow.job_id),
        reason: "unrecorded",
        status:
          protocolRow.status === null || protocolRow.status === undefined
            ? null
            : (String(protocolRow.status) as PublicationStatus),
      });
    const unfinished = candidates.reduce<UnfinishedMark | null>(
      (lowest, c) => (lowest === null || c.sequence < lowest.sequence ? c : lowest),
      null,
    );
    return { handled, unfinished, unplaced: null } satisfies StreamProgress;
  });

  return {
    saveProtocol,
    getProtocol,
    ensurePublication,
    claim,
    renewLease,
    transition,
    markRetry,
    notePublishing,
    recordVersion,
    listVersions,
    get,
    getLease,
    findByJob,
    listByJob,
    deletePublication,
    query,
    stats,
    countByStatus,
    exportJsonl,
    importJsonl,
    listIndexed,
    listArchivable,
    cleanup,
    streamProgress,
    health,
    location: db.location,
  };
};

const EXPORT_BATCH = 200;

/** What one import line did: a count to bump, or why the line cannot be used. */
type LineOutcome = "imported" | "updated" | "skipped" | { readonly invalid: string };

/** Lines of each kind, as an end line counts them. */
interface LineCounts {
  readonly protocols: number;
  readonly publications: number;
  readonly versions: number;
}

/**
 * Why an end line does not match the lines read before it, if it does not. Lines of a kind it
 * counts may be missing only as many as were skipped as unreadable (`onInvalidLine: "skip"`: a
 * damaged line is still there, its kind unknown); any other difference means lines were left out
 * or added, anywhere in the file.
 */
const endLineMismatch = (end: LineCounts, read: LineCounts, unreadable: number): string | undefined => {
  const missing = [
    end.protocols - read.protocols,
    end.publications - read.publications,
    end.versions - read.versions,
  ];
  const added = missing.some((m) => m < 0);
  const short = missing.reduce((sum, m) => sum + Math.max(0, m), 0);
  if (!added && short <= unreadable) return undefined;
  const n = (count: number, what: string) => `${count} ${what}${count === 1 ? "" : "s"}`;
  const describe = (c: LineCounts) =>
    `${n(c.protocols, "protocol")}, ${n(c.publications, "publication")} and ${n(c.versions, "version")}`;
  const skipped = unreadable > 0 ? ` (and ${n(unreadable, "unreadable line")}, skipped)` : "";
  const what = !added
    ? "lines are missing"
    : short > 0
      ? "lines are missing and others were added"
      : "lines were added";
  return `the end line counts ${describe(end)}, but the file has ${describe(read)}${skipped}: ${what}, it is not the export as written`;
};

const decodeQuietly = Schema.decodeUnknownOption(ExportLineJson);
// Collects every issue, so a reason can name more than the first thing a line gets wrong.
const decodeWithIssues = Schema.decodeUnknownEither(ExportLineJson, { errors: "all" });

/**
 * Decodes one (trimmed, non-blank) import line, or says why it cannot: the reason is worked out
 * only when asked for. A file of garbage has millions of lines, nearly all of them only counted:
 * a line that is not `{…}` is refused without `JSON.parse` throwing, and the others decode without
 * building a `ParseError` (each of those costs microseconds, mostly capturing a stack trace).
 */
const decodeLine = (line: string): Either.Either<ExportLine, () => string> => {
  if (line.startsWith("{") && line.endsWith("}")) {
    const decoded = decodeQuietly(line);
    if (Option.isSome(decoded)) {
      // Text with U+0000 cannot be stored (nor compared) by either database: the line is
      // invalid like any other, not a database failure of the whole import.
      const nul = line.includes("\\u0000") ? nulPath(decoded.value) : undefined;
      if (nul === undefined) return Either.right(decoded.value);
      return Either.left(() => `${nul}: must not contain the NUL character (U+0000)`);
    }
  }
  return Either.left(() =>
    Either.match(decodeWithIssues(line), {
      onLeft: describeParseError,
      // Not reached: the quiet decode accepts whatever this one accepts.
      onRight: () => "not an export line",
    }),
  );
};

// An import line's reason names at most this many issues, each cut to this many characters: a
// reason quotes the offending value, which may be megabytes long.
const MAX_ISSUES = 3;
const MAX_ISSUE_CHARS = 160;

/** `version: expected 1, got 2; kind: is missing; and 4 more`: short whatever the line held. */
const describeParseError = (error: ParseResult.ParseError): string => {
  const issues = formatParseIssues(error);
  const shown = issues
    .slice(0, MAX_ISSUES)
    .map((i) => clip(i.path ? `${i.path}: ${i.message}` : i.message, MAX_ISSUE_CHARS));
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join("; ")}; and ${more} more` : shown.join("; ");
};

/** `text` cut to at most `max` characters, ending in "…" when cut (never inside a surrogate pair). */
const clip = (text: string, max: number): string => {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
};

// An import runs many lines per turn of the event loop (libsql is synchronous, so on SQLite even
// its statements never give the loop a turn). It pauses once this much time or this many lines
// have passed, so health checks, timers and other requests are served during a long import.
const PACE_MS = 10;
const PACE_LINES = 1000;

/**
 * Waits for `setImmediate`: unlike `Effect.yieldNow` (a microtask) it lets pending I/O and timers
 * run first.
 */
const nextTurn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void));
  return Effect.sync(() => clearImmediate(handle));
});

/**
 * Tells an import loop when to give the event loop a turn; `pause` is `nextTurn`.
 */
const makePacer = () => {
  let lines = 0;
  // The clock starts at the first line, so the first line never waits (e.g. for a slow BEGIN).
  let since: number | undefined;
  return {
    due: (): boolean => {
      lines += 1;
      const now = performance.now();
      since ??= now;
      return lines >= PACE_LINES || now - since >= PACE_MS;
    },
    pause: nextTurn.pipe(
      Effect.tap(() => {
        lines = 0;
        since = performance.now();
      }),
    ),
  };
};

/**
 * Every column a transition to `to` writes: status and time, the patch, the error (cleared on
 * `published`, which also stamps `published_at`), the latency when known, and the lease (released
 * unless publishing).
 */
const transitionColumns = (
  to: PublicationStatus,
  patch: TransitionPatch,
  t: Date,
  latencyMs: number | null | undefined,
): Array<[string, unknown]> => {
  const sets: Array<[string, unknown]> = [
    ["publication_status", to],
    ["updated_at", t],
    ...patchColumns(patch),
  ];
  if (to === "published" && !patch.keepPublished)
    sets.push(["published_at", t], ["error_message", null], ["error_tag", null]);
  else {
    if (patch.errorMessage !== undefined) sets.push(["error_message", patch.errorMessage]);
    if (patch.errorTag !== undefined) sets.push(["error_tag", patch.errorTag]);
  }
  if (latencyMs !== undefined) sets.push(["latency_ms", latencyMs]);
  if (to !== "publishing") sets.push(["claimed_by", null], ["claimed_until", null]);
  return sets;
};

/** The columns a transition patch sets besides status, timestamps, errors, latency and lease. */
const patchColumns = (patch: TransitionPatch): Array<[string, unknown]> => {
  const columns: Array<[string, unknown]> = [];
  const set = (column: string, value: unknown) => {
    if (value !== undefined) columns.push([column, value]);
  };
  set("confluence_page_id", patch.pageId);
  set("confluence_page_url", patch.pageUrl);
  set("page_title", patch.pageTitle);
  set("page_version", patch.pageVersion);
  set("content_hash", patch.contentHash);
  set("stream_sequence", patch.streamSequence);
  set("confluence_space_key", patch.spaceKey === undefined ? undefined : canonicalSpaceKey(patch.spaceKey));
  set("parent_page_id", patch.parentPageId);
  set('"trigger"', patch.trigger);
  set("meeting_date", patch.meetingDate);
  set("archived_at", typeof patch.archivedAt === "string" ? new Date(patch.archivedAt) : patch.archivedAt);
  // A page id set without saying where it was verified is not verified anywhere.
  set(
    "page_verified_on",
    patch.verifiedOn !== undefined ? patch.verifiedOn : patch.pageId !== undefined ? null : undefined,
  );
  return columns;
};

const clampLimit = (limit: number | undefined): number => {
  if (limit === undefined || !Number.isFinite(limit)) return QUERY_DEFAULT_LIMIT;
  return Math.min(QUERY_MAX_LIMIT, Math.max(1, Math.trunc(limit)));
};

/** The lease columns of a record row (not part of `Publication`): who holds it, until when (ms). */
const leaseOf = (r: Row): { readonly claimedBy: string | null; readonly claimedUntil: number | null } => ({
  claimedBy: str(r.claimed_by),
  claimedUntil: instantMs(r.claimed_until),
});

const isStatus = (s: string): s is PublicationStatus =>
  (PUBLICATION_STATUSES as ReadonlyArray<string>).includes(s);

const toPublication = (r: Row): Publication => ({
  id: Number(r.id),
  jobId: String(r.job_id),
  status: String(r.publication_status) as PublicationStatus,
  pageId: str(r.confluence_page_id),
  pageUrl: str(r.confluence_page_url),
  spaceKey: String(r.confluence_space_key),
  parentPageId: str(r.parent_page_id),
  pageTitle: str(r.page_title),
  contentHash: str(r.content_hash),
  pageVersion: num(r.page_version),
  streamSequence: num(r.stream_sequence),
  attempts: Number(r.attempts),
  retryCount: Number(r.retry_count),
  errorMessage: str(r.error_message),
  errorTag: str(r.error_tag),
  trigger: String(r.trigger) as PublicationTrigger,
  createdAt: instantIso(r.created_at) ?? "",
  updatedAt: instantIso(r.updated_at) ?? "",
  lastRetryAt: instantIso(r.last_retry_at),
  publishedAt: instantIso(r.published_at),
  latencyMs: num(r.latency_ms),
  meetingDate: str(r.meeting_date),
  archivedAt: instantIso(r.archived_at),
});

const toClaimed = (r: Row): ClaimedPublication => ({
  ...toPublication(r),
  pageVerifiedOn: str(r.page_verified_on),
});

const toProtocol = (r: Row): StoredProtocol => ({
  jobId: String(r.job_id),
  markdown: String(r.markdown),
  filename: String(r.filename),
  metadata: JSON.parse(String(r.metadata)) as ProtocolMetadata,
  contentHash: String(r.content_hash),
  streamSequence: num(r.stream_sequence),
  streamStoredAt: instantIso(r.stream_stored_at),
  occurredAt: instantIso(r.occurred_at) ?? "",
  receivedAt: instantIso(r.received_at) ?? "",
  updatedAt: instantIso(r.updated_at) ?? "",
});

const toVersion = (r: Row): PublicationVersion => ({
  jobId: String(r.job_id),
  publicationId: Number(r.publication_id),
  pageId: String(r.page_id),
  pageVersion: Number(r.page_version),
  contentHash: String(r.content_hash),
  pageTitle: String(r.page_title),
  trigger: String(r.trigger) as PublicationTrigger,
  createdAt: instantIso(r.created_at) ?? "",
});
