/**
 * Publication lifecycle. The store refuses any transition not listed here, so a record can
 * never jump from `rejected` to `published` or lose its final state to a late redelivery.
 */
import { Schema } from "effect";

/** Every status a publication record can have. */
export const PUBLICATION_STATUSES = [
  "pending",
  "publishing",
  "published",
  "failed",
  "rejected",
  "archived",
] as const;

/**
 * - `pending`: stored, waiting to be published (or `auto_publish` is off).
 * - `publishing`: a publisher is writing the page.
 * - `published`: the page holds this protocol.
 * - `failed`: publishing failed; the error says why and it can be retried.
 * - `rejected`: the event itself was invalid; retrying it cannot help, only a new valid event.
 * - `archived`: the page was moved to the archive.
 */
export const PublicationStatus = Schema.Literal(...PUBLICATION_STATUSES).annotations({
  identifier: "PublicationStatus",
});
export type PublicationStatus = typeof PublicationStatus.Type;

const TRANSITIONS: Readonly<Record<PublicationStatus, ReadonlyArray<PublicationStatus>>> = {
  pending: ["publishing", "published", "failed", "rejected"],
  // `archived`: a newer protocol of an archived meeting updates the page where it is, in the archive.
  publishing: ["published", "failed", "pending", "archived"],
  published: ["publishing", "pending", "archived", "failed"],
  failed: ["pending", "publishing", "published", "failed"],
  rejected: ["pending", "publishing"],
  archived: ["publishing", "pending"],
};

/** Whether a record in status `from` may move to `to`. */
export const canTransition = (from: PublicationStatus, to: PublicationStatus): boolean =>
  TRANSITIONS[from].includes(to);

/** Statuses after which no publisher works on the record until someone asks again. */
export const FINAL_STATUSES = [
  "published",
  "failed",
  "rejected",
  "archived",
] as const satisfies ReadonlyArray<Exclude<PublicationStatus, "pending" | "publishing">>;

/** One of `FINAL_STATUSES`. */
export const FinalStatus = Schema.Literal(...FINAL_STATUSES).annotations({ identifier: "FinalStatus" });
export type FinalStatus = typeof FinalStatus.Type;

/** Whether no publisher works on a record in this status until someone asks again (`FINAL_STATUSES`). */
export const isFinalStatus = (s: PublicationStatus): s is FinalStatus =>
  (FINAL_STATUSES as ReadonlyArray<PublicationStatus>).includes(s);
