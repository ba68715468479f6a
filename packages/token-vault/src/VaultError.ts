// The token vault's expected failures, one class per thing a caller handles differently.
// Messages are built from fields only (paths, URLs, usernames, error codes), so a token or a
// password can never reach a log line through an error; no `cause` is kept for the same reason.
import { Schema } from "effect";

/**
 * The password does not open the vault file: its password check could not be decrypted.
 *
 * A vault has one password for all of its entries; it is set by the first save into a new file.
 */
export class VaultWrongPasswordError extends Schema.TaggedError<VaultWrongPasswordError>()(
  "VaultWrongPasswordError",
  { path: Schema.String },
) {
  override get message(): string {
    return `Wrong password for the token vault ${this.path}.`;
  }
}

/**
 * The vault file is not a valid vault, or an entry failed authentication although the password is
 * right: the file was tampered with (a flipped byte, an entry moved under another URL or username)
 * or damaged.
 */
export class VaultCorruptError extends Schema.TaggedError<VaultCorruptError>()("VaultCorruptError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `The token vault ${this.path} is corrupt or was tampered with: ${this.reason}.`;
  }
}

/** No token is saved for this (URL, username) pair. `url` is the normalised URL. */
export class VaultEntryNotFoundError extends Schema.TaggedError<VaultEntryNotFoundError>()(
  "VaultEntryNotFoundError",
  { path: Schema.String, url: Schema.String, username: Schema.String },
) {
  override get message(): string {
    return `No token saved for ${this.username} at ${this.url} in ${this.path}.`;
  }
}

/**
 * Reading, writing or locking the vault file failed (permissions, disk full, a lock held too long).
 * `reason` is the system error code and message, never a stack trace.
 */
export class VaultIoError extends Schema.TaggedError<VaultIoError>()("VaultIoError", {
  path: Schema.String,
  operation: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Could not ${this.operation} ${this.path}: ${this.reason}.`;
  }
}

/** An argument was rejected before touching the file: a malformed URL, an empty username, token or password. */
export class VaultInvalidInputError extends Schema.TaggedError<VaultInvalidInputError>()(
  "VaultInvalidInputError",
  { field: Schema.String, reason: Schema.String },
) {
  override get message(): string {
    return `Invalid ${this.field}: ${this.reason}.`;
  }
}

/** Every failure of the token vault. */
export type VaultError =
  | VaultWrongPasswordError
  | VaultCorruptError
  | VaultEntryNotFoundError
  | VaultIoError
  | VaultInvalidInputError;
