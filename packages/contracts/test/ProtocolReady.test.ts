import { readFileSync } from "node:fs";
import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import {
  canonicalSpaceKey,
  formatParseIssues,
  jobIdOfSubjectToken,
  nulPath,
  ProtocolReady,
  ProtocolReadyJson,
  protocolReadySubject,
  protocolStreamWildcard,
  publishRequestedSubject,
  subjectToken,
  toJsonSchema,
} from "../src/index.js";

const fixture = readFileSync(new URL("./fixtures/protocol-ready.v1.json", import.meta.url), "utf8");
const decode = Schema.decodeUnknownEither(ProtocolReady, { errors: "all", onExcessProperty: "error" });

const issuesOf = (input: unknown) => {
  const r = decode(input);
  if (Either.isRight(r)) throw new Error("expected a decoding failure");
  return formatParseIssues(r.left);
};

describe("ProtocolReady", () => {
  it("decodes the v1 wire fixture and encodes it back unchanged", () => {
    const event = Schema.decodeSync(ProtocolReadyJson)(fixture);
    expect(event.jobId).toBe("job_123");
    expect(JSON.parse(Schema.encodeSync(ProtocolReadyJson)(event))).toEqual(JSON.parse(fixture));
  });

  it("fills the schema version when the meeting processor omits it", () => {
    const event = Schema.decodeUnknownSync(ProtocolReady)({
      jobId: "j1",
      markdown: "# x",
      filename: "x.md",
      occurredAt: "2025-09-02T10:15:00+02:00",
    });
    expect(event.schemaVersion).toBe(1);
  });

  it("names every bad field with what was expected and what was found", () => {
    const issues = issuesOf({
      jobId: "",
      markdown: "  ",
      filename: "x.md",
      occurredAt: "yesterday",
      meetingDate: "2025-02-30",
      spaceKey: "MY SPACE",
    });
    expect(issues).toEqual([
      { path: "jobId", message: "must not be empty" },
      { path: "markdown", message: "must not be empty" },
      { path: "occurredAt", message: 'expected an ISO 8601 timestamp with time zone, got "yesterday"' },
      { path: "meetingDate", message: 'expected a date YYYY-MM-DD, got "2025-02-30"' },
      { path: "spaceKey", message: 'expected a Confluence space key, got "MY SPACE"' },
    ]);
  });

  it("accepts an empty or white-space-only topic, as events stored before may carry one (it counts as none)", () => {
    const event = { jobId: "j", markdown: "# Sync", filename: "x.md", occurredAt: "2025-09-02T10:15:00Z" };
    for (const topic of ["", "  ", "\t\n\u00a0"])
      expect(Either.isRight(decode({ ...event, topic }))).toBe(true);
    expect(Either.isRight(decode(event))).toBe(true);
  });

  it("says in its JSON Schema that markdown must hold more than white space", () => {
    const properties = toJsonSchema(ProtocolReady).properties as Record<string, Record<string, unknown>>;
    for (const field of ["markdown"]) {
      expect(properties[field], field).toMatchObject({ type: "string", minLength: 1, pattern: "\\S" });
      const pattern = new RegExp(properties[field]?.pattern as string, "u");
      // The pattern refuses exactly what the decoder refuses.
      for (const blank of ["", " ", "\t\n", "\u00a0\ufeff"]) expect(pattern.test(blank)).toBe(false);
      expect(pattern.test("  x ")).toBe(true);
    }
    expect(properties.topic?.maxLength).toBe(255);
    expect(properties.topic).not.toHaveProperty("minLength");
  });

  it.each([
    "2026-02-30T10:00:00Z",
    "2025-13-01T10:00:00Z",
    "2025-09-02T24:00:00Z",
    "2025-09-02T10:60:00Z",
    "2025-09-02T10:00:61Z",
    "2025-09-02T10:00:00+25:00",
  ])("refuses %s, a timestamp that does not exist, instead of rolling it over", (occurredAt) => {
    expect(issuesOf({ jobId: "j", markdown: "x", filename: "x.md", occurredAt })).toEqual([
      { path: "occurredAt", message: `expected an ISO 8601 timestamp with time zone, got "${occurredAt}"` },
    ]);
  });

  it.each(["2024-02-29T23:59:59Z", "2025-09-02T10:15+02:00", "2025-09-02T10:15:00.123456-0530"])(
    "accepts %s",
    (occurredAt) => {
      expect(Either.isRight(decode({ jobId: "j", markdown: "x", filename: "x.md", occurredAt }))).toBe(true);
    },
  );

  it("reports missing required fields and unknown fields", () => {
    const issues = issuesOf({ jobId: "j", filename: "x.md", occurredAt: "2025-09-02T10:15:00Z", extra: 1 });
    expect(issues).toContainEqual({ path: "markdown", message: "is missing" });
    expect(issues).toContainEqual({ path: "extra", message: "unknown key" });
  });

  it("rejects job ids with control characters, which would corrupt logs and subjects", () => {
    expect(
      issuesOf({ jobId: "a\nb", markdown: "x", filename: "x.md", occurredAt: "2025-09-02T10:15:00Z" }),
    ).toEqual([{ path: "jobId", message: "must not contain control characters" }]);
  });

  it("rejects a NUL character, which no database stores, naming each field that has one", () => {
    expect(
      issuesOf({
        jobId: "job-nul",
        markdown: "# Sync\u0000",
        filename: "a\u0000.md",
        occurredAt: "2025-09-02T10:15:00Z",
        topic: "t\u0000",
        labels: ["ok", "l\u0000"],
        source: "\u0000",
      }).map((i) => i.path),
    ).toEqual(["markdown", "filename", "topic", "labels[1]", "source"]);
    expect(
      issuesOf({ jobId: "j", markdown: "\u0000", filename: "x.md", occurredAt: "2025-09-02T10:15:00Z" }),
    ).toEqual([{ path: "markdown", message: "must not contain the NUL character (U+0000)" }]);
    // Other control characters in the Markdown are text (a tab, a form feed): kept.
    expect(
      Either.isRight(
        decode({ jobId: "j", markdown: "a\tb\f", filename: "x.md", occurredAt: "2025-09-02T10:15:00Z" }),
      ),
    ).toBe(true);
  });

  it("rejects a lone surrogate, which UTF-8 turns into U+FFFD, naming each field that has one", () => {
    // What JSON.parse makes of an escaped "\ud800": one UTF-16 code unit with no partner.
    const lone = JSON.parse('"\\ud800"') as string;
    expect(
      issuesOf({
        jobId: `job-${lone}`,
        markdown: `# Sync ${lone}`,
        filename: `a${lone}.md`,
        occurredAt: "2025-09-02T10:15:00Z",
        topic: `t\udc00`,
        labels: ["ok", `l${lone}`],
        source: `${lone}x`,
      }),
    ).toEqual(
      ["jobId", "markdown", "filename", "topic", "labels[1]", "source"].map((path) => ({
        path,
        message:
          "must not contain a lone surrogate (an unpaired \\uD800–\\uDFFF escape): it is not Unicode text",
      })),
    );
    // A pair is one character (here U+1F600), escaped or not.
    for (const markdown of ["# Sync \ud83d\ude00", JSON.parse('"# Sync \\ud83d\\ude00"') as string]) {
      expect(
        Either.isRight(
          decode({ jobId: "j", markdown, filename: "x.md", occurredAt: "2025-09-02T10:15:00Z" }),
        ),
      ).toBe(true);
    }
  });

  it("hints at %2B when a timestamp's + offset arrived as a space, as it does unencoded in a query string", () => {
    const message = (occurredAt: string) =>
      issuesOf({ jobId: "j", markdown: "x", filename: "x.md", occurredAt })[0]?.message;
    expect(message("2026-11-27T00:00:00 05:00")).toBe(
      "expected an ISO 8601 timestamp with time zone, got \"2026-11-27T00:00:00 05:00\" (a + in a URL's query string means a space: send the offset's + as %2B)",
    );
    expect(message("2026-11-27T00:00 0530")).toContain("%2B");
    expect(message("yesterday")).toBe('expected an ISO 8601 timestamp with time zone, got "yesterday"');
    expect(message("2026-11-27 00:00:00")).not.toContain("%2B");
  });
});

describe("subjects", () => {
  it("keeps safe job ids readable and encodes the rest as one token", () => {
    expect(protocolReadySubject("job_123")).toBe("minutes.protocol.ready.v1.job_123");
    const token = subjectToken("team.a/job 7*>");
    expect(token).toMatch(/^~[A-Za-z0-9_-]+$/);
    expect(subjectToken("team.a/job 7")).not.toBe(subjectToken("team.a/job 8"));
  });

  it("decodes a token back to the job id it encodes, and nothing else", () => {
    for (const id of ["job_123", "team.a/job 7*>", "протокол 1", "~tilde"])
      expect(jobIdOfSubjectToken(subjectToken(id))).toBe(id);
    expect(jobIdOfSubjectToken("*")).toBeUndefined();
    expect(jobIdOfSubjectToken("~")).toBeUndefined();
    expect(jobIdOfSubjectToken("~!!")).toBeUndefined();
    // Base64 of an id that `subjectToken` keeps readable: not a token it makes.
    expect(jobIdOfSubjectToken(`~${Buffer.from("job_1").toString("base64url")}`)).toBeUndefined();
  });
});

describe("PublishRequested subjects", () => {
  it("puts commands and events under the one prefix a single durable consumer can filter on", () => {
    expect(publishRequestedSubject("job_1").startsWith(`${protocolStreamWildcard().slice(0, -1)}`)).toBe(
      true,
    );
    expect(protocolReadySubject("job_1").startsWith(`${protocolStreamWildcard().slice(0, -1)}`)).toBe(true);
    expect(publishRequestedSubject("job_1")).not.toBe(protocolReadySubject("job_1"));
  });
});

describe("nulPath", () => {
  it("names where a value holds the NUL character, in strings, keys and nested values", () => {
    expect(nulPath("plain")).toBeUndefined();
    expect(nulPath({ a: 1, b: [true, null, "x"], c: { d: "ok" } })).toBeUndefined();
    expect(nulPath("a\u0000b")).toBe("");
    expect(nulPath({ spaceKey: "MEET\u0000" })).toBe("spaceKey");
    expect(nulPath({ labels: ["a", "b\u0000"] })).toBe("labels[1]");
    expect(nulPath({ metadata: { topic: "\u0000" } })).toBe("metadata.topic");
    expect(nulPath({ metadata: { "to\u0000pic": "x" } })).toBe("metadata.to\u0000pic");
  });
});

describe("canonicalSpaceKey", () => {
  it("upper-cases a global space's key and keeps a personal space's as given", () => {
    expect(canonicalSpaceKey("meetings")).toBe("MEETINGS");
    expect(canonicalSpaceKey("Team_2")).toBe("TEAM_2");
    expect(canonicalSpaceKey("MEETINGS")).toBe("MEETINGS");
    expect(canonicalSpaceKey("~alice")).toBe("~alice");
    expect(canonicalSpaceKey("~5b10ac8d82e05b22cc7d4ef5")).toBe("~5b10ac8d82e05b22cc7d4ef5");
  });
});
