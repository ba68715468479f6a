import { ProtocolReady } from "@minutes/contracts";
import { PublicationListQuery, PublishNowQuery, ReplayRequest } from "@minutes/contracts/api";
import { Either, Schema } from "effect";
import { describe, expect, it } from "vitest";
import { requestIssues } from "../src/request-issues.js";

/** The issues of decoding `input` the way the validator does. */
const issuesOf = <A, I>(schema: Schema.Schema<A, I, never>, input: unknown, unknownKey = "field") => {
  const result = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })(input);
  if (Either.isRight(result)) throw new Error("decoded");
  return requestIssues(result.left, { unknownKey });
};

const valid = { jobId: "j", markdown: "# x", filename: "x.md", occurredAt: "2026-11-26T10:00:00Z" };

describe("requestIssues", () => {
  it("names an unknown key and the known one it differs from by case, _ or -, or one typo", () => {
    const wrong = {
      since: "2026-11-01T00:00:00Z",
      dryrun: true,
      Force: true,
      "job-ids": [],
      spaceky: "A",
      xyz: 1,
    };
    expect(issuesOf(ReplayRequest, wrong)).toEqual([
      { path: "dryrun", message: 'unknown field; did you mean "dryRun"?' },
      { path: "Force", message: 'unknown field; did you mean "force"?' },
      { path: "job-ids", message: 'unknown field; did you mean "jobIds"?' },
      { path: "spaceky", message: 'unknown field; did you mean "spaceKey"?' },
      { path: "xyz", message: "unknown field" },
    ]);
    // Short names are too easily one typo from something else; a swap counts as one typo.
    expect(issuesOf(PublicationListQuery, { stauts: "failed", lmit: "2", sice: "x" }, "parameter")).toEqual([
      { path: "stauts", message: 'unknown parameter; did you mean "status"?' },
      { path: "lmit", message: 'unknown parameter; did you mean "limit"?' },
      { path: "sice", message: 'unknown parameter; did you mean "since"?' },
    ]);
    expect(issuesOf(PublishNowQuery, { f: "1" }, "parameter")).toEqual([
      { path: "f", message: "unknown parameter" },
    ]);
  });

  it("names every allowed value of a union, without the undefined of an optional field", () => {
    expect(issuesOf(PublishNowQuery, { force: "yes" })).toEqual([
      { path: "force", message: 'expected one of "true", "false", "1", "0", got "yes"' },
    ]);
    expect(issuesOf(Schema.Struct({ a: Schema.Literal("x", "y") }), { a: 1 })).toEqual([
      { path: "a", message: 'expected "x" or "y", got 1' },
    ]);
  });

  it("says what kind of value was expected and previews what came, briefly", () => {
    expect(issuesOf(ProtocolReady, [])).toEqual([
      { path: "", message: "expected a JSON object, got an array" },
    ]);
    expect(issuesOf(ProtocolReady, undefined)).toEqual([
      { path: "", message: "expected a JSON object, got nothing" },
    ]);
    expect(
      issuesOf(ProtocolReady, { ...valid, jobId: 7, labels: ["a", { b: 1 }], source: "s".repeat(300) }),
    ).toEqual([
      { path: "jobId", message: "expected a string, got 7" },
      { path: "labels[1]", message: "expected a string, got an object" },
      {
        path: "source",
        message: `expected a string at most 255 character(s) long, got "${"s".repeat(40)}"… (300 characters)`,
      },
    ]);
  });

  it("keeps the contracts' own messages and says what is missing", () => {
    const { filename: _, ...withoutFilename } = valid;
    expect(issuesOf(ProtocolReady, { ...withoutFilename, jobId: "", occurredAt: "yesterday" })).toEqual([
      { path: "jobId", message: "must not be empty" },
      { path: "filename", message: "is missing" },
      { path: "occurredAt", message: 'expected an ISO 8601 timestamp with time zone, got "yesterday"' },
    ]);
  });

  it("does not overflow the stack on a value nested 200 000 levels deep", () => {
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(issuesOf(ProtocolReady, deep)).toEqual([
      { path: "", message: "expected a JSON object, got an array" },
    ]);
    expect(issuesOf(ProtocolReady, { ...valid, topic: deep, labels: deep })).toEqual([
      { path: "topic", message: "expected a string at most 255 character(s) long, got an array" },
      { path: "labels[0]", message: "expected a string, got an array" },
    ]);
  });
});
