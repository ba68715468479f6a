// A protocol routed to a space that does not exist: Confluence is asked for the space once, and
// the not-found answer is final (no in-process retry, no second delivery). On Cloud the publisher's
// start-up connection check also lists `/api/v2/spaces` (`limit=1`): that request is why a counter
// started with the publisher sees two; it is counted out here by publishing once before counting.
import { describe, expect, it } from "vitest";
import { harnessPerTest, protocol, recordIn } from "./helpers/harness.js";

const open = harnessPerTest();

describe.each(["cloud", "datacenter"] as const)(
  "a protocol routed to a missing space on Confluence %s",
  (mode) => {
    it("asks Confluence for the space once and fails for good at once", async () => {
      const h = await open({ mode });
      // The publisher is up and past its start-up checks, and the existing space is remembered.
      await h.submit({ jobId: "job-known", markdown: protocol("Known") });
      await recordIn(h, "job-known", "published");
      const lookups = h.sandbox.faults.add({
        kind: "latency",
        latencyMs: 0,
        method: "GET",
        path: mode === "cloud" ? "/api/v2/spaces" : "/rest/api/space",
      });
      await h.submit({ jobId: "job-nowhere", markdown: protocol("Nowhere"), spaceKey: "NOPE" });
      const failed = await recordIn(h, "job-nowhere", "failed");
      expect(failed.errorTag).toBe("ConfluenceNotFoundError");
      expect(failed.attempts).toBe(1);
      expect(h.sandbox.faults.list().find((f) => f.id === lookups)?.fired).toBe(1);
    });
  },
);
