/**
 * The store's expected failures, one tagged class per thing a caller handles differently:
 * 404 (not found), 409 (invalid transition), 503 (store unavailable), 400 (bad cursor or
 * import line), a lost lease (only the publisher asks for that check), and a database the store
 * cannot start on. Schema-based so the gateway can send them as they are.
 */

import { PublicationStatus } from "@minutes/contracts";
import { Schema } from "effect";

/** No publication record has this id (or job id). */
export class PublicationNotFoundError extends Schema.TaggedError<PublicationNotFoundError>()(
  "PublicationNotFoundError",
  { id: Schema.optional(Schema.Number), jobId: Schema.optional(Schema.String) },
) {
  override get message(): string {
    return this.id !== undefined
      ? `publication ${this.id} not found`
      : `publication for job ${this.jobId} not found`;
  }
}

/** The record's status may not move to the requested one (see `canTransition` in contracts). */
export class InvalidTransitionError extends Schema.TaggedError<InvalidTransitionError>()(
  "InvalidTransitionError",
  { id: Schema.Number, from: PublicationStatus, to: PublicationStatus },
) {
  override get message(): string {
    return `publication ${this.id} cannot move from ${this.from} to ${this.to}`;
  }
}

/**
 * The attempt no longer holds the record's lease: another publisher (or attempt) claimed it since,
 * or it was released. Nothing was written. The caller's work is not lost, only no longer its to
 * record: it tries the whole publication again later, under a lease of its own.
 */
export class LeaseLostError extends Schema.TaggedError<LeaseLostError>()("LeaseLostError", {
  id: Schema.Number,
  owner: Schema.String,
}) {
  override get message(): string {
    return `publication ${this.id} is no longer claimed by ${this.owner}: another attempt took it over`;
  }
}

/**
 * The database cannot be reached or is busy (connection refused, pool timeout, SQLite busy).
 * Retryable; the gateway answers 503. Other database errors are bugs and become defects.
 */
export class StoreUnavailableError extends Schema.TaggedError<StoreUnavailableError>()(
  "StoreUnavailableError",
  {
    operation: Schema.String,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `publication store unavailable during ${this.operation}: ${this.reason}`;
  }
}

/**
 * The store cannot start on this database, and trying again will not help until someone acts:
 * a PostgreSQL database that does not exist, a SQLite file or directory the process may not
 * write, a database migrated by a newer Minutes, a missing setting. Only `PublicationStore.make`
 * and `layer` fail with it. `message` is the reason alone, one line that names the database (a
 * SQLite path; PostgreSQL host, port and database, never the URL) and what to do.
 */
export class StoreUnusableError extends Schema.TaggedError<StoreUnusableError>()("StoreUnusableError", {
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason;
  }
}

/** A JSON Lines import line could not be used; `line` is 1-based and counts blank lines. */
export class ImportLineError extends Schema.TaggedError<ImportLineError>()("ImportLineError", {
  line: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    return `import line ${this.line}: ${this.reason}`;
  }
}

/** A paging cursor that this store did not issue (or that was altered). */
export class InvalidCursorError extends Schema.TaggedError<InvalidCursorError>()("InvalidCursorError", {
  cursor: Schema.String,
}) {
  override get message(): string {
    return "invalid paging cursor";
  }
}

/** Every failure the store reports. */
export type PublicationStoreError =
  | PublicationNotFoundError
  | InvalidTransitionError
  | LeaseLostError
  | StoreUnavailableError
  | StoreUnusableError
  | ImportLineError
  | InvalidCursorError;

/** Whether retrying the same call later can succeed. */
export const isRetryable = (e: PublicationStoreError): boolean => e._tag === "StoreUnavailableError";
