import { afterEach, describe, expect, it, vi } from "vitest";
import { coalescedRepair } from "../src/index.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("coalescedRepair", () => {
  it("lets callers at the same moment share one attempt", async () => {
    let attempts = 0;
    let finish: () => void = () => undefined;
    const repair = coalescedRepair(
      () => {
        attempts++;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      () => undefined,
    );
    const first = repair();
    const second = repair();
    finish();
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(attempts).toBe(1);
  });

  it("answers a caller inside the interval with the last result, without an attempt", async () => {
    vi.useFakeTimers();
    let attempts = 0;
    const repair = coalescedRepair(
      async () => {
        attempts++;
      },
      () => undefined,
      1_000,
    );
    expect(await repair()).toBe(true);
    vi.advanceTimersByTime(999);
    expect(await repair()).toBe(true);
    expect(attempts).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await repair()).toBe(true);
    expect(attempts).toBe(2);
  });

  it("resolves false and reports a failed attempt instead of rejecting", async () => {
    const failures: Array<unknown> = [];
    const boom = new Error("no JetStream");
    const repair = coalescedRepair(
      () => Promise.reject(boom),
      (error) => failures.push(error),
      0,
    );
    expect(await repair()).toBe(false);
    expect(failures).toEqual([boom]);
  });
});
