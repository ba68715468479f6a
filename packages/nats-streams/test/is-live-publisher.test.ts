import { describe, expect, it } from "vitest";
import { isLivePublisher, type RegisteredPublisher } from "../src/index.js";

const publisher = (lastHeartbeatAt: number, heartbeatIntervalMs: number): RegisteredPublisher =>
  ({
    presence: { instanceId: "p-1", heartbeatIntervalMs },
    lastHeartbeatAt: new Date(lastHeartbeatAt),
  }) as unknown as RegisteredPublisher;

describe("isLivePublisher", () => {
  it("counts a publisher alive until it missed three of its own heartbeats, by the clock given", () => {
    const last = Date.parse("2026-01-05T10:00:00Z");
    expect(isLivePublisher(publisher(last, 5_000), last)).toBe(true);
    expect(isLivePublisher(publisher(last, 5_000), last + 15_000)).toBe(true);
    expect(isLivePublisher(publisher(last, 5_000), last + 15_001)).toBe(false);
    // Its own interval, not a fixed one.
    expect(isLivePublisher(publisher(last, 60_000), last + 179_000)).toBe(true);
  });
});
