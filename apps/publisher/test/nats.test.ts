// Where a consumer created on a stream that holds messages starts, from what the publication store
// says (`consumerStartOf`): after the highest handled message, at the lowest a job not yet finished
// may need, or at the beginning whenever the store's word cannot be placed in this stream.
import type { StreamProgress } from "@minutes/publication-store";
import { describe, expect, it } from "vitest";
import { consumerStartOf, type StreamExtent } from "../src/nats.js";

const stream: StreamExtent = { firstSequence: 11, lastSequence: 60, messages: 50 };
const nothing: StreamProgress = { handled: null, unfinished: null, unplaced: null };
const handled = (sequence: number): StreamProgress => ({
  ...nothing,
  handled: { sequence, jobId: "j-handled", storedAt: null },
});

describe("where a consumer created on a stream holding messages starts", () => {
  it("starts after the highest handled message, and counts what it skips from the stream's first", () => {
    expect(consumerStartOf(stream, handled(40), undefined)).toEqual({
      _tag: "From",
      sequence: 41,
      firstSequence: 11,
      skipped: 30,
      reason:
        "the highest message the publication store has handled is 40 (job j-handled), and no job it knows is unfinished below it",
    });
    // Everything handled: it starts after the last message, where the next one will be.
    expect(consumerStartOf(stream, handled(60), undefined)).toMatchObject({ sequence: 61, skipped: 50 });
  });

  it("starts at the lowest message an unfinished job may need, or another consumer's ack floor, when lower", () => {
    const progress: StreamProgress = {
      ...handled(40),
      unfinished: { sequence: 30, jobId: "j-open", reason: "pending", status: "pending" },
    };
    const unfinished = consumerStartOf(stream, progress, undefined);
    expect(unfinished).toMatchObject({ _tag: "From", sequence: 30, skipped: 19 });
    expect(unfinished.reason).toContain("job j-open is pending, its message from 30 on to come again");
    // Higher than what the store says: no effect.
    expect(consumerStartOf(stream, progress, undefined, [{ name: "old", ackFloor: 35 }])).toMatchObject({
      sequence: 30,
    });
    const renamed = consumerStartOf(stream, progress, undefined, [{ name: "old", ackFloor: 20 }]);
    expect(renamed).toMatchObject({ _tag: "From", sequence: 21, skipped: 10 });
    expect(renamed.reason).toContain("consumer old of the same subjects");
    // An unfinished job needing nothing before the next message changes nothing.
    expect(
      consumerStartOf(
        stream,
        { ...handled(40), unfinished: { sequence: 44, jobId: "j", reason: "unrecorded", status: null } },
        undefined,
      ),
    ).toMatchObject({ sequence: 41 });
  });

  it("delivers everything when the store's word cannot be placed in this stream", () => {
    const all = (progress: StreamProgress, check?: string) => consumerStartOf(stream, progress, check);
    expect(all(nothing)).toMatchObject({ _tag: "All", messages: 50 });
    expect(all(nothing).reason).toContain("holds nothing from this stream");
    expect(all({ ...handled(40), unplaced: { jobId: "j-imported", status: "publishing" } }).reason).toContain(
      "the record of job j-imported is publishing without a stream sequence",
    );
    expect(all(handled(61)).reason).toContain("is beyond the stream's last (60)");
    expect(all(handled(40), "the message is another one")).toEqual({
      _tag: "All",
      messages: 50,
      reason: "the message is another one",
    });
    // Nothing before the start to skip: the stream's first message (or an older one) is needed.
    expect(all(handled(10))).toMatchObject({ _tag: "All" });
    expect(
      all({
        ...handled(40),
        unfinished: { sequence: 5, jobId: "j", reason: "publishing", status: "publishing" },
      }),
    ).toMatchObject({ _tag: "All" });
    expect(consumerStartOf({ ...stream, messages: 0 }, handled(40), undefined)).toMatchObject({
      _tag: "All",
      messages: 0,
    });
  });
});
