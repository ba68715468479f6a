/**
 * Opaque keyset cursors for `PublicationStore.query`: the (updated_at, id) of the last row of a
 * page, base64url-encoded. Keyset (not offset) paging stays stable while rows are inserted.
 */

/** Position after which the next page starts (exclusive), in `(updated_at desc, id desc)` order. */
export interface CursorPosition {
  readonly updatedAtMs: number;
  readonly id: number;
}

/** Encodes a position as an opaque base64url string. */
export const encodeCursor = (p: CursorPosition): string =>
  Buffer.from(JSON.stringify(["p1", p.updatedAtMs, p.id]), "utf8").toString("base64url");

/** The largest distance from the epoch, in ms, that a `Date` can hold (ECMA-262 time values). */
const MAX_DATE_MS = 8.64e15;

/** Row ids are SQL `integer` / `serial` keys: 1 up to PostgreSQL's int4 maximum. */
const MAX_ID = 2_147_483_647;

/**
 * Decodes a cursor; `null` when it was not produced by `encodeCursor`. A position no row can have
 * (a time no `Date` holds, an id no key takes) is refused here too: it would otherwise reach the
 * SQL as an Invalid Date or an out-of-range integer and fail there as a 500, not as the caller's
 * bad cursor.
 */
export const decodeCursor = (cursor: string): CursorPosition | null => {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 3 || value[0] !== "p1") return null;
    const [, updatedAtMs, id] = value as [unknown, unknown, unknown];
    if (!Number.isSafeInteger(updatedAtMs) || !Number.isSafeInteger(id)) return null;
    if (Math.abs(updatedAtMs as number) > MAX_DATE_MS) return null;
    if ((id as number) < 1 || (id as number) > MAX_ID) return null;
    return { updatedAtMs: updatedAtMs as number, id: id as number };
  } catch {
    return null;
  }
};
