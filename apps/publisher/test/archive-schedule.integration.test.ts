// Scheduled archive runs with several publishers on one PostgreSQL store: each period's run happens
// in one of them, so no publisher reports the pages another one archived as failures.
import { describe, expect, it } from "vitest";
import { captureLog, eventually, harnessPerTest, recordIn } from "./helpers/harness.js";

const open = harnessPerTest();

const oldMeeting = (title: string) =>
  `# Meeting Protocol: ${title}\n\nDate: 2021-06-01\n\n## Decisions\n- kept\n`;

describe("scheduled archive runs of several publishers", () => {
  it("run once between two publishers that start together, with no pages reported failed", async () => {
    const h = await open({ database: "postgresql" });
    const jobs = Array.from({ length: 6 }, (_, i) => `job-archive-${i}`);
    for (const jobId of jobs) await h.submit({ jobId, markdown: oldMeeting(`Old ${jobId}`) });
    for (const jobId of jobs) await recordIn(h, jobId, "published");
    const archiving = {
      ...h.config,
      confluence: {
        ...h.config.confluence,
        advanced_settings: {
          ...h.config.confluence.advanced_settings,
          archive_old_pages: true,
          archive_after_days: 365,
        },
      },
    };
    const logs = [captureLog(), captureLog()];
    // Both run their schedule at start, at the same moment.
    await Promise.all(
      logs.map((log, i) =>
        h.startPublisher({ instanceId: `archiver-${i}`, config: archiving, logger: log.logger }),
      ),
    );
    const count = (message: string) => logs.reduce((n, log) => n + log.lines(message), 0);
    // Each publisher has either run or left the run to the other.
    await eventually(
      () =>
        count("archive run finished") + count("scheduled archive run left to the publisher that runs them") >=
        2
          ? true
          : undefined,
      30_000,
      "both publishers' scheduled archive runs",
    );
    for (const jobId of jobs) await recordIn(h, jobId, "archived");
    const finished = logs.flatMap((log) => log.entries("archive run finished"));
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ archived: jobs.length, failed: 0 });
    expect(count("page not archived")).toBe(0);
    expect(count("scheduled archive run left to the publisher that runs them")).toBe(1);
  }, 60_000);
});
