import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";

describe("public exports", () => {
  it("pins the package's runtime export list", () => {
    expect(Object.keys(api).sort()).toEqual([
      "coalescedRepair",
      "createMissingStreams",
      "ensureStreams",
      "isAlreadyThere",
      "isNotFound",
    ]);
  });
});
