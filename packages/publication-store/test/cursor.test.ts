import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../src/cursor.js";

describe("cursor", () => {
  it("decodes what it encoded", () => {
    const position = { updatedAtMs: Date.parse("2030-01-01T00:00:00.123Z"), id: 42 };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it("refuses strings it did not produce", () => {
    for (const bad of ["", "not base64!", Buffer.from("[1,2]").toString("base64url"), "eyJ4IjoxfQ"]) {
      expect(decodeCursor(bad)).toBeNull();
    }
    expect(decodeCursor(Buffer.from('["p1",1.5,2]').toString("base64url"))).toBeNull();
  });

  it("refuses positions no row can have: a time outside the Date range, an id outside 1…2^31-1", () => {
    const forge = (at: number, id: number) =>
      Buffer.from(JSON.stringify(["p1", at, id])).toString("base64url");
    for (const [at, id] of [
      [Number.MAX_SAFE_INTEGER, 1],
      [-Number.MAX_SAFE_INTEGER, 1],
      [8.64e15 + 1, 5],
      [-8.64e15 - 1, 5],
      [0, 0],
      [0, -1],
      [0, 2_147_483_648],
      [0, Number.MAX_SAFE_INTEGER],
    ] as const) {
      expect(decodeCursor(forge(at, id)), `${at}, ${id}`).toBeNull();
    }
    // the edges themselves are positions a row could have
    expect(decodeCursor(forge(8.64e15, 2_147_483_647))).toEqual({ updatedAtMs: 8.64e15, id: 2_147_483_647 });
    expect(decodeCursor(forge(-8.64e15, 1))).toEqual({ updatedAtMs: -8.64e15, id: 1 });
  });
});
