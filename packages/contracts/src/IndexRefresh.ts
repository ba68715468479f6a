/**
 * Index refreshes on request: a publication refreshes its index page itself, but a record deleted
 * through the gateway's `DELETE /api/publications/:id` has no publication to do it. The gateway
 * then asks one publisher (NATS request/reply on `indexRefreshSubject`, queue group) to rewrite
 * the index page of the record's space and parent from the store, which no longer lists it.
 */
import { Schema } from "effect";

/** Which index page to rewrite: the one of this space and parent (null: the space's own). */
export const IndexRefreshRequest = Schema.Struct({
  spaceKey: Schema.String.pipe(Schema.minLength(1)),
  parentPageId: Schema.NullOr(Schema.String),
}).annotations({ identifier: "IndexRefreshRequest" });
export type IndexRefreshRequest = typeof IndexRefreshRequest.Type;

/** The publisher's answer once the refresh ran (a Confluence failure is in its log, as after a publication). */
export const IndexRefreshResult = Schema.Struct({
  /** The publisher instance that ran it. */
  instance: Schema.String,
}).annotations({ identifier: "IndexRefreshResult" });
export type IndexRefreshResult = typeof IndexRefreshResult.Type;

/** The request and reply as JSON text on the NATS subject. */
export const IndexRefreshRequestJson = Schema.parseJson(IndexRefreshRequest);
export const IndexRefreshResultJson = Schema.parseJson(IndexRefreshResult);
