// The container cache's bound: a long-running publisher remembers the containers it uses most
// recently, up to a fixed number, and forgets the rest (found again in Confluence when needed).
import { describe, expect, it } from "vitest";
import { CONTAINER_CACHE_SIZE, ContainerCache } from "../src/containers.js";

describe("ContainerCache", () => {
  it("forgets the least recently used container once it holds more than its bound", () => {
    const cache = new ContainerCache(2);
    cache.set("MEETINGS||2024", "1");
    cache.set("MEETINGS||2025", "2");
    // A hit makes 2024 the most recently used: 2025 is the one to go.
    expect(cache.get("MEETINGS||2024")).toBe("1");
    cache.set("MEETINGS||2026", "3");
    expect(cache.size).toBe(2);
    expect(cache.get("MEETINGS||2025")).toBeUndefined();
    expect(cache.get("MEETINGS||2024")).toBe("1");
    expect(cache.get("MEETINGS||2026")).toBe("3");
  });

  it("holds a thousand containers by default", () => {
    const cache = new ContainerCache();
    for (let i = 0; i <= CONTAINER_CACHE_SIZE; i++) cache.set(`MEETINGS||${i}`, String(i));
    expect(CONTAINER_CACHE_SIZE).toBe(1_000);
    expect(cache.size).toBe(CONTAINER_CACHE_SIZE);
    expect(cache.get("MEETINGS||0")).toBeUndefined();
    expect(cache.get(`MEETINGS||${CONTAINER_CACHE_SIZE}`)).toBe(String(CONTAINER_CACHE_SIZE));
  });

  it("refuses a bound below one", () => {
    expect(() => new ContainerCache(0)).toThrow(RangeError);
  });
});
