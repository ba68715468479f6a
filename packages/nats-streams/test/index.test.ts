import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";

describe("public exports", () => {
  it("pins the package's runtime export list", () => {
    expect(Object.keys(api).sort()).toEqual([
      "PUBLISHER_REGISTRY_READ_LIMIT",
      "coalescedRepair",
      "connectNats",
      "createMissingStreams",
      "ensurePublisherRegistry",
      "ensureStreams",
      "isAlreadyThere",
      "isLivePublisher",
      "isNotFound",
      "natsServers",
      "natsUrlForDisplay",
      "readPublisherRegistry",
      "registerPublisher",
    ]);
  });
});
