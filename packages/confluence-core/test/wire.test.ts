import { assert, describe, it } from "@effect/vitest";
import { Effect, Schema } from "effect";
import {
  pageFromV1,
  pageFromV2,
  spaceOf,
  V1Content,
  V1List,
  V1Space,
  V2List,
  V2Page,
  webUrl,
} from "../src/wire.js";

const site = {
  siteUrl: "https://acme.atlassian.net/wiki",
  fallback: "https://api.atlassian.com/ex/confluence/c/wiki",
};

describe("wire conversion", () => {
  it.effect(
    "turns a v1 content into our page: string space id, last ancestor as parent, author, absolute link",
    () =>
      Effect.gen(function* () {
        const content = yield* Schema.decodeUnknown(V1Content)({
          id: "2818049",
          type: "page",
          status: "current",
          title: "Weekly",
          space: { id: 98445, key: "DOCS", name: "Docs" },
          version: {
            number: 3,
            when: "2025-11-20T08:22:44.892Z",
            message: "",
            minorEdit: false,
            by: { accountId: "557058:x" },
          },
          ancestors: [{ id: "1" }, { id: "851969" }],
          body: { storage: { value: "<p>x</p>", representation: "storage" } },
          _links: { webui: "/spaces/DOCS/pages/2818049/Weekly", base: "https://acme.atlassian.net/wiki" },
          extra: { ignored: true },
        });
        const page = pageFromV1(content, site);
        assert.deepStrictEqual(page, {
          id: "2818049",
          title: "Weekly",
          spaceId: "98445",
          spaceKey: "DOCS",
          parentId: "851969",
          status: "current",
          version: {
            number: 3,
            createdAt: "2025-11-20T08:22:44.892Z",
            authorId: "557058:x",
            minorEdit: false,
          },
          body: "<p>x</p>",
          webUrl: "https://acme.atlassian.net/wiki/spaces/DOCS/pages/2818049/Weekly",
        });
      }),
  );

  it.effect(
    "names a version an anonymous user wrote as someone's, never as no one's (openapi-v1 User.type)",
    () =>
      Effect.gen(function* () {
        const content = yield* Schema.decodeUnknown(V1Content)({
          id: "5",
          type: "page",
          title: "Weekly",
          space: { id: 1, key: "DOCS" },
          version: { number: 4, by: { type: "anonymous", displayName: "Anonymous" } },
        });
        const page = pageFromV1(content, site);
        // An absent author counts as Minutes' own in the publisher's manual-edit check.
        assert.strictEqual(page.version.authorId, "(anonymous)");
        assert.strictEqual(page.version.authorName, "an anonymous user");
      }),
  );

  it.effect("turns a v2 page into our page, ignoring a folder parent and null fields", () =>
    Effect.gen(function* () {
      const raw = yield* Schema.decodeUnknown(V2Page)({
        id: "2719745",
        status: "current",
        title: "created new",
        spaceId: "458757",
        parentId: "851969",
        parentType: "folder",
        authorId: "557058:a",
        createdAt: "2025-11-19T05:44:33.959Z",
        version: {
          number: 1,
          message: "",
          minorEdit: false,
          authorId: "557058:a",
          createdAt: "2025-11-19T05:44:33.959Z",
        },
        lastOwnerId: null,
        _links: { webui: "/spaces/docs/pages/2719745/created+new", base: "https://gateway.invalid/wiki" },
      });
      const page = pageFromV2(raw, site, "DOCS");
      assert.isUndefined(page.parentId);
      assert.strictEqual(page.spaceKey, "DOCS");
      assert.strictEqual(
        page.webUrl,
        "https://acme.atlassian.net/wiki/spaces/docs/pages/2719745/created+new",
      );
    }),
  );

  it("builds links from the site base, then the response base, and falls back to viewpage.action", () => {
    assert.strictEqual(
      webUrl("5", "/display/KEY/Title", { siteUrl: "https://wiki.acme.local/confluence", fallback: "x" }),
      "https://wiki.acme.local/confluence/display/KEY/Title",
    );
    assert.strictEqual(
      webUrl(
        "5",
        "/spaces/K/pages/5",
        { siteUrl: undefined, fallback: "https://gw/wiki" },
        "https://acme.atlassian.net/wiki",
      ),
      "https://acme.atlassian.net/wiki/spaces/K/pages/5",
    );
    assert.strictEqual(
      webUrl("5", undefined, { siteUrl: "https://wiki.acme.local", fallback: "x" }),
      "https://wiki.acme.local/pages/viewpage.action?pageId=5",
    );
  });

  it.effect("reads both space shapes with the homepage id as a string", () =>
    Effect.gen(function* () {
      const v1 = yield* Schema.decodeUnknown(V1Space)({
        id: 98445,
        key: "DOCS",
        name: "Docs",
        homepage: { id: 65538 },
      });
      assert.deepStrictEqual(spaceOf(v1), { id: "98445", key: "DOCS", name: "Docs", homepageId: "65538" });
    }),
  );

  it.effect("rejects a page without an id", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(Schema.decodeUnknown(V2Page)({ title: "x", spaceId: "1" }));
      assert.strictEqual(result._tag, "Left");
    }),
  );

  it.effect("builds one list schema per item schema, so each response reuses a compiled decoder", () =>
    Effect.gen(function* () {
      assert.strictEqual(V2List(V2Page), V2List(V2Page));
      assert.strictEqual(V1List(V1Content), V1List(V1Content));
      assert.notStrictEqual<unknown>(V1List(V1Content), V1List(V1Space));
      const list = yield* Schema.decodeUnknown(V2List(V2Page))({
        results: [{ id: "1", title: "t", spaceId: 2 }],
      });
      assert.strictEqual(list.results[0]?.title, "t");
    }),
  );
});
