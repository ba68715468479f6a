// Containers pushed out of the bounded cache, against the sandbox: resolving one again looks it up
// in Confluence and finds the page made before; nothing is created twice.
import type { ConfluenceClientService } from "@minutes/confluence-core";
import { Effect, Exit, Fiber } from "effect";
import { describe, expect, it } from "vitest";
import { ContainerCache, ensureContainer } from "../src/containers.js";
import { harnessPerTest, withClient } from "./helpers/harness.js";

const open = harnessPerTest();

describe("ensureContainer with a bounded cache", () => {
  it("finds an evicted container again by title in Confluence instead of creating a second page", async () => {
    const h = await open();
    await withClient(h, async (client) => {
      const lookups: Array<string> = [];
      // The real client on the sandbox, with its title lookups noted.
      const seen: ConfluenceClientService = {
        ...client,
        findPageByTitle: (spaceKey, title) => {
          lookups.push(title);
          return client.findPageByTitle(spaceKey, title);
        },
      };
      const cache = new ContainerCache(2);
      const ensure = (title: string) =>
        Effect.runPromise(ensureContainer(seen, cache, "MEETINGS", null, title, null));
      const pagesNow = () => h.sandbox.state.pages("MEETINGS").filter((p) => p.status === "current");

      const first = await ensure("2023");
      await ensure("2024");
      await ensure("2025");
      const created = pagesNow().length;
      // Still remembered: no lookup.
      lookups.length = 0;
      await ensure("2025");
      expect(lookups).toEqual([]);

      // "2023" was pushed out by "2025": it is looked up, found, and not created again.
      expect(await ensure("2023")).toBe(first);
      expect(lookups).toEqual(["2023"]);
      expect(pagesNow()).toHaveLength(created);
      expect(pagesNow().filter((p) => p.versions.at(-1)?.title === "2023")).toHaveLength(1);
    });
  });

  it("looks a new container up once for a burst of publications that need it, creating one page", async () => {
    const h = await open();
    await withClient(h, async (client) => {
      const lookups: Array<string> = [];
      const creates: Array<string> = [];
      const seen: ConfluenceClientService = {
        ...client,
        findPageByTitle: (spaceKey, title) => {
          lookups.push(title);
          return client.findPageByTitle(spaceKey, title);
        },
        createPage: (input) => {
          creates.push(input.title);
          return client.createPage(input);
        },
      };
      const cache = new ContainerCache();
      // Sixteen publications in flight reach the month page none of them has seen yet.
      const ids = await Effect.runPromise(
        Effect.all(
          Array.from({ length: 16 }, () => ensureContainer(seen, cache, "MEETINGS", null, "2026-05", null)),
          { concurrency: "unbounded" },
        ),
      );
      expect(new Set(ids).size).toBe(1);
      // One lookup and one create, not one each (and fifteen title conflicts looked up again).
      expect(lookups).toEqual(["2026-05"]);
      expect(creates).toEqual(["2026-05"]);
      const pages = h.sandbox.state
        .pages("MEETINGS")
        .filter((p) => p.status === "current" && p.versions.at(-1)?.title === "2026-05");
      expect(pages.map((p) => p.id)).toEqual(ids.slice(0, 1));
      expect(cache.inFlight.size).toBe(0);
    });
  });

  it("looks on its own when the lookup it waited for was interrupted", async () => {
    const h = await open();
    await withClient(h, async (client) => {
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let creates = 0;
      const seen: ConfluenceClientService = {
        ...client,
        // The first create hangs (a slow Confluence) until the test lets it go.
        createPage: (input) =>
          ++creates === 1
            ? Effect.promise(() => held).pipe(Effect.zipRight(client.createPage(input)))
            : client.createPage(input),
      };
      const cache = new ContainerCache();
      const ensure = () => ensureContainer(seen, cache, "MEETINGS", null, "2026-06", null);
      const first = Effect.runFork(ensure());
      // The first publication is creating the page when the second needs it: the second waits.
      await expect.poll(() => creates, { timeout: 10_000 }).toBe(1);
      const second = Effect.runFork(ensure());
      expect(cache.inFlight.size).toBe(1);
      // The first one's handling stops (its message is given up here): the second looks itself.
      const stopped = await Effect.runPromise(Fiber.interrupt(first));
      expect(Exit.isInterrupted(stopped)).toBe(true);
      const id = await Effect.runPromise(Fiber.join(second));
      release();
      const pages = h.sandbox.state
        .pages("MEETINGS")
        .filter((p) => p.status === "current" && p.versions.at(-1)?.title === "2026-06");
      expect(pages.map((p) => p.id)).toEqual([id]);
      expect(creates).toBe(2);
      expect(cache.inFlight.size).toBe(0);
    });
  });
});
