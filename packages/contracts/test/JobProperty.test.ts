import { describe, expect, it } from "vitest";
import { JOB_PROPERTY_KEY, jobOfJobProperty } from "../src/JobProperty.js";

describe("jobOfJobProperty", () => {
  it("names the job of Minutes' property value and nothing for any other value", () => {
    expect(JOB_PROPERTY_KEY).toBe("minutes.job");
    expect(jobOfJobProperty({ jobId: "job-7", contentHash: "sha256:x", pageVersion: 2 })).toBe("job-7");
    for (const value of [null, "job-7", ["job-7"], { jobId: 7 }, {}, undefined])
      expect(jobOfJobProperty(value)).toBeUndefined();
  });
});
