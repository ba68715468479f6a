import type { ContentProperty } from "@minutes/confluence-core";
import { loadConfig, type MinutesConfig } from "@minutes/contracts";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { normaliseLabels, routeProtocol, suffixedTitle } from "../src/index.js";
import { staleLabels } from "../src/PublishPipeline.js";

const config = (overrides: object = {}): MinutesConfig => {
  const r = loadConfig({ overrides });
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

describe("routeProtocol", () => {
  const rules = {
    confluence: {
      routing_rules: [
        { name: "board", match: { topic_pattern: "^architecture" }, space_key: "ARCH", labels: ["board"] },
        {
          name: "hr",
          match: { source: "hr-bot", labels: ["confidential"] },
          space_key: "HR",
          parent_page_id: "42",
        },
      ],
    },
  };

  it("uses the first matching rule's space, parent and extra labels", () => {
    const route = routeProtocol(
      { filename: "x.md", topic: "Architecture Board", metadata: {} },
      config(rules).confluence,
    );
    expect(route).toMatchObject({ spaceKey: "ARCH", parentPageId: null, rule: "board" });
    expect(route.labels).toEqual(["meeting-protocol", "auto-generated", "board"]);
  });

  it("needs every condition of a rule to match", () => {
    const c = config(rules).confluence;
    expect(routeProtocol({ filename: "x.md", topic: "x", metadata: { source: "hr-bot" } }, c).spaceKey).toBe(
      "MEETINGS",
    );
    expect(
      routeProtocol(
        { filename: "x.md", topic: "x", metadata: { source: "hr-bot", labels: ["Confidential"] } },
        c,
      ),
    ).toMatchObject({ spaceKey: "HR", parentPageId: "42", rule: "hr" });
  });

  it("matches sources case-insensitively and labels as the page will carry them", () => {
    const c = config({
      confluence: {
        routing_rules: [
          { name: "board", match: { labels: ["board-meeting"], source: "jira" }, space_key: "TEAM" },
        ],
      },
    }).confluence;
    const route = routeProtocol(
      { filename: "x.md", topic: "x", metadata: { source: "JIRA", labels: ["Board Meeting"] } },
      c,
    );
    expect(route).toMatchObject({ spaceKey: "TEAM", rule: "board" });
    expect(route.labels).toContain("board-meeting");
  });

  it("lets the event's own space and parent win over rules and defaults", () => {
    const route = routeProtocol(
      { filename: "x.md", topic: "Architecture", metadata: { spaceKey: "OWN", parentPageId: "7" } },
      config(rules).confluence,
    );
    expect(route).toMatchObject({ spaceKey: "OWN", parentPageId: "7" });
  });

  it("names a global space as Confluence does (upper case) wherever its key came from, a personal one as given", () => {
    const lower = config({
      confluence: {
        space_key: "meetings",
        routing_rules: [{ name: "board", match: { topic_pattern: "^architecture" }, space_key: "arch" }],
      },
    }).confluence;
    const spaceOf = (topic: string, spaceKey?: string) =>
      routeProtocol({ filename: "x.md", topic, metadata: spaceKey === undefined ? {} : { spaceKey } }, lower)
        .spaceKey;
    expect(spaceOf("x", "meetings")).toBe("MEETINGS");
    expect(spaceOf("architecture")).toBe("ARCH");
    expect(spaceOf("x")).toBe("MEETINGS");
    expect(spaceOf("x", "~alice")).toBe("~alice");
  });

  it("falls back to the configured space and parent", () => {
    expect(
      routeProtocol(
        { filename: "x.md", topic: null, metadata: {} },
        config({ confluence: { parent_page_id: "99" } }).confluence,
      ),
    ).toMatchObject({ spaceKey: "MEETINGS", parentPageId: "99", rule: null });
  });
});

describe("normaliseLabels", () => {
  it("lower-cases, joins words with dashes and drops duplicates", () => {
    expect(normaliseLabels(["Board Review", "board-review", " Q3 "]).labels).toEqual(["board-review", "q3"]);
  });

  it("reports labels Confluence would refuse instead of sending them", () => {
    expect(normaliseLabels(["ok", "bad:label", "", "x".repeat(256), "what?"])).toEqual({
      labels: ["ok"],
      invalid: ["bad:label", "", "x".repeat(256), "what?"],
    });
  });
});

describe("suffixedTitle", () => {
  it("derives the suffix from the job, so every instance picks the same title", () => {
    expect(suffixedTitle("20250902 - Weekly", "job-7")).toBe("20250902 - Weekly (job-7)");
    expect(suffixedTitle("20250902 - Weekly", "team/a b")).toBe(
      suffixedTitle("20250902 - Weekly", "team/a b"),
    );
    expect(suffixedTitle("20250902 - Weekly", "team/a b")).toMatch(/^20250902 - Weekly \([0-9a-f]{8}\)$/);
  });

  it("stays within Confluence's 255 characters without splitting a character", () => {
    const title = suffixedTitle(`${"👩‍👩‍👧".repeat(60)}`, "job-long");
    expect(title.length).toBeLessThanOrEqual(255);
    expect(title.endsWith(" (job-long)")).toBe(true);
    expect(title).not.toMatch(/\uFFFD/);
  });
});

describe("staleLabels", () => {
  const property = (value: ContentProperty["value"]): ContentProperty => ({
    id: "1",
    key: "minutes.job",
    value,
    version: 1,
  });

  it("names the labels Minutes set that the route no longer gives, comparing in lower case", () => {
    const set = property({ jobId: "j", labels: ["meeting-protocol", "alpha", "Beta"] });
    expect(staleLabels(set, ["Meeting-Protocol", "beta", "gamma"])).toEqual({
      stale: ["alpha"],
      ignored: [],
    });
  });

  it("names none when the property does not list labels (written before Minutes recorded them)", () => {
    const none = { stale: [], ignored: [] };
    expect(staleLabels(property({ jobId: "j", contentHash: "h", pageVersion: 2 }), [])).toEqual(none);
    expect(staleLabels(undefined, [])).toEqual(none);
    expect(staleLabels(property({ jobId: "j", labels: "alpha" }), [])).toEqual(none);
  });

  it("ignores names in the property that are not labels Confluence accepts (anyone may edit it)", () => {
    const edited = property({
      jobId: "j",
      labels: ["alpha", "..", ".", "a/b", "", "x".repeat(256), 7, "ok"],
    });
    expect(staleLabels(edited, ["ok"])).toEqual({
      stale: ["alpha", "a/b"],
      ignored: ["..", ".", "", "x".repeat(256)],
    });
  });
});
