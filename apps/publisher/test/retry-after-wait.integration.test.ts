// What the record says when Confluence asks for an absurd wait (Cloud has sent 9223372036854775807
// seconds; a proxy may send a date centuries ahead): the wait reads as a person reads one, bounded,
// never as 19 digits, an exponent or a fraction. Real NATS, SQLite and sandbox.
import { describe, expect, it } from "vitest";
import { harnessPerTest, protocol, recordIn } from "./helpers/harness.js";

const open = harnessPerTest();

describe("a 429 asking for an absurd wait", () => {
  it.each([
    ["seconds", "9223372036854775807"],
    ["an HTTP date", "Fri, 31 Dec 9999 23:59:59 GMT"],
  ])(
    "as %s is described on the record as more than a year, and the redelivery bound in hours",
    async (_, retryAfter) => {
      // Kept longer than Minutes waits for a redelivery, so that bound is the one named.
      const h = await open({ config: { nats: { max_age_days: 3 } } });
      h.sandbox.faults.add({ kind: "rateLimit", method: "POST", path: "/pages$", times: 1, retryAfter });
      await h.submit({ jobId: "job-absurd", markdown: protocol("Absurd") });
      const pending = await recordIn(h, "job-absurd", "pending");
      const message = pending.errorMessage ?? "";
      expect(message).toMatch(
        /Confluence asked to wait more than 365 d, longer than Minutes waits for a redelivery \(24 h\): next try at \S+Z \(delivery 2 of 4\)\.$/,
      );
      // No huge number, exponent or fraction anywhere in what the user reads (the ISO time aside).
      const withoutTime = message.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/, "");
      expect(withoutTime).not.toMatch(/\d{5}|\de[+-]?\d|\d\.\d/);
    },
  );
});
