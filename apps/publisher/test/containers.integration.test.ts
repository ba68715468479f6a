// Containers pushed out of the bounded cache, against the sandbox: resolving one again looks it up
// in Confluence and finds the page made before; nothing is created twice.
import type { ConfluenceClientService } from "@minutes/confluence-core";
import { Effect } from "effect";
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
});
