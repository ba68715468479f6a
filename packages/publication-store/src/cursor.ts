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

/** Decodes a cursor; `null` when it was not produced by `encodeCursor`. */
export const decodeCursor = (cursor: string): CursorPosition | null => {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 3 || value[0] !== "p1") return null;
    const [, updatedAtMs, id] = value as [unknown, unknown, unknown];
    if (!Number.isSafeInteger(updatedAtMs) || !Number.isSafeInteger(id)) return null;
    return { updatedAtMs: updatedAtMs as number, id: id as number };
  } catch {
    return null;
  }
};
