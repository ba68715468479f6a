import { loadConfig, type MinutesConfig } from "@minutes/contracts";
import { protocolMetadataOf } from "@minutes/publication-store";
import { Either } from "effect";
import { describe, expect, it } from "vitest";
import { fillTemplate, meetingOf, renderProtocol as renderWith } from "../src/render.js";
import { renderSettingsOf } from "../src/render-pool.js";

/** Renders with a configuration's settings, as the publisher does (the deployment detected from its URL). */
const renderProtocol = (
  protocol: Parameters<typeof renderWith>[0],
  confluence: MinutesConfig["confluence"],
  ...rest: Parameters<typeof renderWith> extends [unknown, unknown, ...infer R] ? R : never
) => renderWith(protocol, renderSettingsOf(confluence), ...rest);

const confluence = (() => {
  const r = loadConfig({ env: {} });
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right.confluence;
})();

const protocol = {
  jobId: "job-1",
  markdown:
    "# Meeting Notes: Budget <2026>\n\nDate: 2025-09-02\n\n## Participants\n\n- **Alice**\n- Bob\n\n## Decisions\n- go\n",
  filename: "budget.md",
  occurredAt: "2025-09-02T10:00:00Z",
  metadata: {},
};

describe("page templates", () => {
  it("puts the converted protocol, date, topic, participants and metadata where the template says", () => {
    const page = renderProtocol(
      protocol,
      confluence,
      [],
      "<h1>{{topic}}</h1><p>{{ date }}</p><p>Present: {{participants}}</p>{{content}}{{metadata}}",
    );
    expect(page.body.startsWith("<h1>Budget &lt;2026&gt;</h1>")).toBe(true);
    expect(page.body).toContain('<p><time datetime="2025-09-02" /></p>');
    expect(page.body).toContain("<p>Present: Alice, Bob</p>");
    expect(page.body).toContain("go");
    expect(page.body).toContain("job-1");
  });

  it("changes the content hash when the template changes, so pages are republished", () => {
    const a = renderProtocol(protocol, confluence, [], "{{content}}");
    const b = renderProtocol(protocol, confluence, [], "<p>Minutes</p>{{content}}");
    expect(a.contentHash).not.toBe(b.contentHash);
  });

  it("fills placeholders in one pass, leaving placeholders inside values alone", () => {
    expect(
      fillTemplate("{{topic}}|{{content}}", {
        topic: "{{content}}",
        content: "x",
        date: "",
        metadata: "",
        participants: "",
      }),
    ).toBe("{{content}}|x");
  });
});

describe("meeting info", () => {
  it("reads date and topic from the text only where the event leaves them out", () => {
    expect(meetingOf(protocol)).toMatchObject({
      meetingDate: "2025-09-02",
      dateFrom: "text",
      topic: "Budget <2026>",
    });
    const named = { ...protocol, metadata: { topic: "From the event", meetingDate: "2025-09-03" } };
    expect(meetingOf(named)).toMatchObject({
      meetingDate: "2025-09-03",
      dateFrom: "event",
      topic: "From the event",
    });
    const undated = { ...protocol, markdown: "Notes only.\n", metadata: {} };
    // No date anywhere: the day the event was sent.
    expect(meetingOf(undated)).toMatchObject({
      meetingDate: "2025-09-02",
      dateFrom: "sent",
      topic: "budget",
    });
    const fileDated = { ...undated, filename: "budget_20250901.md" };
    expect(meetingOf(fileDated)).toMatchObject({ meetingDate: "2025-09-01", dateFrom: "text" });
  });

  it("takes the topic from the text when the event's is empty or blank, not a title without one", () => {
    for (const topic of ["", "   "]) {
      const blank = { ...protocol, metadata: { topic, meetingDate: "2025-09-03" } };
      expect(meetingOf(blank).topic, JSON.stringify(topic)).toBe("Budget <2026>");
    }
  });

  it("dates an undated protocol by the day its event was sent, in the sender's time zone", () => {
    // 23:30 in New York on 20 November is already 21 November in UTC, which is how it is stored.
    const metadata = protocolMetadataOf({ occurredAt: "2026-11-20T23:30:00-05:00" });
    expect(metadata).toEqual({ occurredOn: "2026-11-20" });
    const late = { ...protocol, markdown: "Notes only.\n", occurredAt: "2026-11-21T04:30:00.000Z", metadata };
    expect(meetingOf(late).meetingDate).toBe("2026-11-20");
    // Kept through a store round trip (metadata is stored as it is).
    expect(protocolMetadataOf(metadata)).toEqual(metadata);
  });

  it("renders the same page from the parse meetingOf made as from the protocol alone", () => {
    for (const template of [undefined, "<h1>{{topic}}</h1>{{content}}{{metadata}}"]) {
      const meeting = meetingOf(protocol);
      expect(renderProtocol(protocol, confluence, ["b", "a"], template, meeting)).toEqual(
        renderProtocol(protocol, confluence, ["b", "a"], template),
      );
    }
  });
});

describe("participants", () => {
  const withPanel = {
    ...confluence,
    advanced_settings: {
      ...confluence.advanced_settings,
      content_macros: { ...confluence.advanced_settings.content_macros, add_info_panel: true },
    },
  };
  const panelOf = (markdown: string) =>
    /<p><strong>Participants:<\/strong> (.*?)<\/p>/.exec(
      renderProtocol({ ...protocol, markdown }, withPanel, []).body,
    )?.[1];

  it("lists the participants in the info panel when add_info_panel is on", () => {
    const page = renderProtocol(protocol, withPanel, []);
    expect(page.body).toContain("<p><strong>Participants:</strong> Alice, Bob</p>");
  });

  it("shows the names as the page body shows them, not their Markdown", () => {
    expect(panelOf("## Attendees\n- [Alice Smith](mailto:alice@example.com)\n- bob_jones\n")).toBe(
      "Alice Smith, bob_jones",
    );
    expect(panelOf("**Attendees:** Müller &amp; Co, A\\_B\n")).toBe("Müller &amp; Co, A_B");
    expect(panelOf("## Participants\n1. Ann\n2. Ben\n")).toBe("Ann, Ben");
    expect(panelOf("```\nParticipants: Mallory\n```\n")).toBeUndefined();
  });

  it("fills the participants placeholder the same way", () => {
    const page = renderProtocol(
      { ...protocol, markdown: "**Attendees:** Müller &amp; Co, [Ann](https://x.test)\n" },
      confluence,
      [],
      "<p>{{participants}}</p>",
    );
    expect(page.body).toBe("<p>Müller &amp; Co, Ann</p>");
  });
});

describe("deployment", () => {
  const withCode = {
    ...protocol,
    markdown: `${protocol.markdown}\n\`\`\`json\n{"a": 1}\n\`\`\`\n\n\`\`\`ts\nconst t = 1;\n\`\`\`\n\n\`\`\`js\nconst j = 2;\n\`\`\`\n`,
  };
  const language = (body: string) =>
    [...body.matchAll(/<ac:parameter ac:name="language">([^<]*)<\/ac:parameter>/g)].map((m) => m[1]);
  const dataCenter = { ...confluence, base_url: "https://confluence.example.com", deployment: null };

  it("gives Data Center only code languages it knows (STORAGE-FORMAT.md §4.1), Cloud its own", () => {
    expect(language(renderProtocol(withCode, confluence, []).body)).toEqual(["json", "typescript", "js"]);
    for (const settings of [dataCenter, { ...confluence, deployment: "datacenter" as const }]) {
      expect(language(renderProtocol(withCode, settings, []).body)).toEqual(["none", "none", "js"]);
      expect(language(renderProtocol(withCode, settings, [], "{{content}}").body)).toEqual([
        "none",
        "none",
        "js",
      ]);
    }
  });

  it("changes the content hash of Data Center pages only, so a replay rewrites those and no Cloud page", () => {
    const cloud = renderProtocol(protocol, confluence, []);
    expect(renderProtocol(protocol, { ...confluence, deployment: "cloud" }, []).contentHash).toBe(
      cloud.contentHash,
    );
    // The hash this protocol has on Cloud at RENDER_REVISION 3. The deployment stays out of Cloud's
    // settings, whose bodies did not change when the converter learned it, so knowing it must not
    // make Cloud pages be written again (update the hash together with RENDER_REVISION).
    expect(cloud.contentHash).toBe("7c9b947d17f6465c27da17b985be63115be86df423c017d3fc30dc49370fccee");
    expect(renderProtocol(protocol, dataCenter, []).contentHash).not.toBe(cloud.contentHash);
  });
});
