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
});
