// Confluence Cloud REST v2 (`/wiki/api/v2`): spaces, pages (CRUD, trash/purge, children,
// ancestors, versions), page labels (read-only, as in v2) and page properties.
// Shapes follow REST-API.md §3–§6 and the v2 OpenAPI document; errors use the v2 envelope.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ConfluenceApiError } from "../errors.js";
import { type ApiRoute, mountApi } from "../mount.js";
import {
  acceptStorage,
  assertNextVersion,
  assertTitleFree,
  assertTitleShape,
  moveUnder,
  trash,
} from "../page-ops.js";
import { v2Page } from "../paginate.js";
import { type CallInfo, type SandboxContext, siteBase, tinyui, webui } from "../SandboxContext.js";
import {
  current,
  type PageRecord,
  type PageStatus,
  type PropertyRecord,
  type SpaceRecord,
} from "../SandboxStore.js";

type Json = Record<string, unknown>;

/** Registers the v2 routes (Cloud only; DC has no v2 and answers 404). */
export function registerV2Routes(app: FastifyInstance, ctx: SandboxContext): void {
  if (!ctx.isCloud) return;
  const { store } = ctx;

  const pageOr404 = (id: unknown, statuses: ReadonlyArray<PageStatus> = ["current", "archived", "draft"]) => {
    const page = store.pageMap.get(String(id));
    if (page === undefined || !statuses.includes(page.status)) {
      throw new ConfluenceApiError(404, `Cannot find a page with id [${String(id)}]`);
    }
    return page;
  };
  const spaceOf = (page: PageRecord): SpaceRecord => store.spaceById(page.spaceId)!;

  const spaceJson = (s: SpaceRecord): Json => ({
    id: String(s.id),
    key: s.key,
    name: s.name,
    type: "global",
    status: "current",
    authorId: s.authorId,
    createdAt: s.createdAt,
    homepageId: s.homepageId,
    description: null,
    icon: null,
    _links: { webui: `/spaces/${s.key}` },
  });

  const pageJson = (
    call: CallInfo,
    page: PageRecord,
    opts: { single: boolean; versionNumber?: number },
  ): Json => {
    const query = call.query;
    const space = spaceOf(page);
    const v =
      opts.versionNumber === undefined
        ? current(page)
        : page.versions.find((x) => x.number === opts.versionNumber);
    if (v === undefined)
      throw new ConfluenceApiError(404, `Cannot find version ${opts.versionNumber} of page ${page.id}`);
    const bodyFormat = query["body-format"];
    const out: Json = {
      id: page.id,
      status: page.status,
      title: v.title,
      spaceId: String(page.spaceId),
      parentId: page.parentId,
      parentType: page.parentId === null ? null : "page",
      position: page.position,
      authorId: page.authorId,
      ownerId: page.authorId,
      lastOwnerId: null,
      createdAt: page.createdAt,
      version: {
        number: v.number,
        message: v.message,
        minorEdit: v.minorEdit,
        authorId: v.authorId,
        createdAt: v.createdAt,
      },
      body:
        bodyFormat === "storage"
          ? { storage: { representation: "storage", value: v.body } }
          : bodyFormat === "view" || bodyFormat === "export_view" || bodyFormat === "styled_view"
            ? { [String(bodyFormat)]: { representation: String(bodyFormat), value: v.body } }
            : {},
      _links: {
        webui: webui(ctx, space, page),
        editui: `/pages/resumedraft.action?draftId=${page.id}`,
        edituiv2: `/spaces/${space.key}/pages/edit-v2/${page.id}`,
        tinyui: tinyui(page.id),
        ...(opts.single ? { base: siteBase(ctx, call.origin) } : {}),
      },
    };
    if (opts.single) {
      const selfLink = (p: string) => ({ self: `/wiki/api/v2/pages/${page.id}/${p}` });
      if (query["include-labels"] === true) {
        out.labels = {
          results: page.labels.slice(0, 50).map((l) => ({ id: l.id, name: l.name, prefix: l.prefix })),
          meta: { hasMore: page.labels.length > 50, cursor: "" },
          _links: selfLink("labels"),
        };
      }
      if (query["include-properties"] === true) {
        out.properties = {
          results: page.properties.slice(0, 50).map(propertyJson),
          meta: { hasMore: page.properties.length > 50, cursor: "" },
          _links: selfLink("properties"),
        };
      }
      if (query["include-versions"] === true) {
        out.versions = {
          results: [...page.versions]
            .reverse()
            .slice(0, 50)
            .map((x) => versionJson(page, x.number)),
          meta: { hasMore: page.versions.length > 50, cursor: "" },
          _links: selfLink("versions"),
        };
      }
    }
    return out;
  };

  const versionJson = (page: PageRecord, n: number): Json => {
    const v = page.versions.find((x) => x.number === n)!;
    return {
      number: v.number,
      message: v.message,
      minorEdit: v.minorEdit,
      authorId: v.authorId,
      createdAt: v.createdAt,
      page: { id: page.id, title: v.title },
    };
  };

  const propertyJson = (p: PropertyRecord): Json => ({
    id: p.id,
    key: p.key,
    value: p.value,
    version: {
      number: p.version.number,
      message: p.version.message,
      minorEdit: p.version.minorEdit,
      authorId: p.version.authorId,
      createdAt: p.version.createdAt,
    },
  });

  const statusFilter = (query: Json, fallback: ReadonlyArray<string>): ReadonlyArray<string> => {
    const raw = query.status as string[] | undefined;
    const statuses = raw === undefined || raw.length === 0 ? fallback : raw;
    if (statuses.includes("draft")) {
      // REST-API.md §4.4: `draft` is refused on page listings.
      throw new ConfluenceApiError(400, "Invalid status 'draft'. Use get-draft on Get page by id instead.");
    }
    return statuses;
  };

  const bodyValue = (body: Json): string | undefined => {
    const b = body.body as Json | undefined;
    if (b === undefined) return undefined;
    const flat = (b.storage as Json | undefined) ?? b;
    if (flat.representation !== "storage") {
      throw new ConfluenceApiError(400, `Unsupported body representation: ${String(flat.representation)}`);
    }
    return String(flat.value ?? "");
  };

  const listPages = (
    call: CallInfo,
    req: FastifyRequest,
    reply: FastifyReply,
    spaceIds: ReadonlyArray<string> | undefined,
  ) => {
    const q = call.query;
    const statuses = statusFilter(q, ["current", "archived"]);
    const ids = (q.id as unknown[] | undefined)?.map(String);
    const title = q.title as string | undefined;
    // The indexes narrow the candidates (in store order); the filters below still decide.
    const candidates =
      typeof title === "string"
        ? store.pagesTitled(title, spaceIds)
        : spaceIds !== undefined
          ? store.pagesInSpaces(spaceIds)
          : [...store.pageMap.values()];
    let pages = candidates.filter((p) => statuses.includes(p.status));
    if (spaceIds !== undefined) pages = pages.filter((p) => spaceIds.includes(String(p.spaceId)));
    if (ids !== undefined) pages = pages.filter((p) => ids.includes(p.id));
    // REST-API.md §4.4: `title=` is exact and case-insensitive; an empty title matches nothing.
    if (title !== undefined)
      pages = pages.filter((p) => title !== "" && current(p).title.toLowerCase() === title.toLowerCase());
    pages = sortPages(pages, q.sort as string | undefined);
    const page = v2Page(req, reply, pages, q, siteBase(ctx, call.origin));
    return { results: page.results.map((p) => pageJson(call, p, { single: false })), _links: page._links };
  };

  const routes: ApiRoute[] = [
    {
      method: "GET",
      url: "/spaces",
      spec: "/spaces",
      handler: (call, req, reply) => {
        const q = call.query;
        const keys = (q.keys as string[] | undefined)?.map((k) => k.toLowerCase());
        const ids = (q.ids as unknown[] | undefined)?.map(String);
        let spaces = [...store.spaceList];
        if (keys !== undefined) spaces = spaces.filter((s) => keys.includes(s.key.toLowerCase()));
        if (ids !== undefined) spaces = spaces.filter((s) => ids.includes(String(s.id)));
        const page = v2Page(req, reply, spaces, q, siteBase(ctx, call.origin));
        return { results: page.results.map((s) => spaceJson(s)), _links: page._links };
      },
    },
    {
      method: "GET",
      url: "/spaces/:id",
      spec: "/spaces/{id}",
      handler: (call) => {
        const space = store.spaceById(String(call.params.id));
        if (space === undefined)
          throw new ConfluenceApiError(404, `Cannot find space with id [${String(call.params.id)}]`);
        return spaceJson(space);
      },
    },
    {
      method: "GET",
      url: "/spaces/:id/pages",
      spec: "/spaces/{id}/pages",
      handler: (call, req, reply) => {
        const id = String(call.params.id);
        if (store.spaceById(id) === undefined)
          throw new ConfluenceApiError(404, `Cannot find space with id [${id}]`);
        const depth = call.query.depth;
        const result = listPages(call, req, reply, [id]);
        if (depth === "root") {
          result.results = result.results.filter((p) => p.parentId === null);
        }
        return result;
      },
    },
    {
      method: "GET",
      url: "/pages",
      spec: "/pages",
      handler: (call, req, reply) =>
        listPages(call, req, reply, (call.query["space-id"] as unknown[] | undefined)?.map(String)),
    },
    {
      method: "POST",
      url: "/pages",
      spec: "/pages",
      handler: (call, req) => {
        const body = req.body as Json;
        const q = call.query;
        const space = store.spaceById(String(body.spaceId));
        // REST-API.md §4.1 / §7.2: a missing space is 404 on v2 create.
        if (space === undefined)
          throw new ConfluenceApiError(404, `Cannot find space with id [${String(body.spaceId)}]`);
        const status = (body.status as string | undefined) ?? "current";
        const title = body.title as string | undefined;
        if (status !== "draft") {
          if (title === undefined) throw new ConfluenceApiError(400, "Title is required for published pages");
          assertTitleShape(title);
        }
        const value = acceptStorage(ctx, bodyValue(body) ?? "");
        let parentId: string | null;
        if (body.parentId !== undefined && body.parentId !== null) {
          if (q["root-level"] === true)
            throw new ConfluenceApiError(400, "parentId cannot be supplied together with root-level=true");
          const parent = store.pageMap.get(String(body.parentId));
          if (parent === undefined || parent.status !== "current" || parent.spaceId !== space.id) {
            throw new ConfluenceApiError(404, `Cannot find parent page with id [${String(body.parentId)}]`);
          }
          parentId = parent.id;
        } else {
          // REST-API.md §4.1: no parentId → under the space homepage; root-level=true → space root.
          parentId = q["root-level"] === true ? null : space.homepageId;
        }
        if (status !== "draft") assertTitleFree(ctx, "v2", space, title ?? "", undefined, false);
        const page = store.insertPage({
          spaceId: space.id,
          title: title ?? "",
          body: value,
          parentId,
          authorId: call.user!.accountId,
          now: ctx.now(),
          status: status === "draft" ? "draft" : "current",
        });
        store.changed();
        return pageJson({ ...call, query: { ...call.query, "body-format": "storage" } }, page, {
          single: true,
        });
      },
    },
    {
      method: "GET",
      url: "/pages/:id",
      spec: "/pages/{id}",
      handler: (call) => {
        const statuses = (call.query.status as PageStatus[] | undefined) ?? ["current", "archived", "draft"];
        const page = pageOr404(call.params.id, statuses);
        const version = call.query.version as number | undefined;
        return pageJson(call, page, {
          single: true,
          ...(version === undefined ? {} : { versionNumber: version }),
        });
      },
    },
    {
      method: "PUT",
      url: "/pages/:id",
      spec: "/pages/{id}",
      handler: (call, req) => {
        const body = req.body as Json;
        const page = pageOr404(call.params.id, ["current", "archived", "draft", "trashed"]);
        const version = (body.version as Json | undefined)?.number as number | undefined;
        if (String(body.id) !== page.id)
          throw new ConfluenceApiError(400, "The page id in the body does not match the path");
        if (page.status === "trashed") {
          // REST-API.md §4.3: `status: current` on a trashed page restores it without touching content.
          if (body.status !== "current")
            throw new ConfluenceApiError(404, `Cannot find a page with id [${page.id}]`);
          page.status = "current";
          store.changed();
          return pageJson(call, page, { single: true });
        }
        if (version === undefined) throw new ConfluenceApiError(400, "Version number is required");
        assertNextVersion("v2", page, version);
        if (body.spaceId !== undefined && String(body.spaceId) !== String(page.spaceId)) {
          throw new ConfluenceApiError(400, "Moving a page to a different space is not supported");
        }
        const title = String(body.title);
        assertTitleShape(title);
        const value = acceptStorage(ctx, bodyValue(body) ?? current(page).body);
        const space = spaceOf(page);
        assertTitleFree(ctx, "v2", space, title, page.id, true);
        if (
          body.parentId !== undefined &&
          body.parentId !== null &&
          String(body.parentId) !== page.parentId
        ) {
          const parent = store.pageMap.get(String(body.parentId));
          if (parent === undefined || parent.status !== "current" || parent.spaceId !== page.spaceId) {
            throw new ConfluenceApiError(404, `Cannot find parent page with id [${String(body.parentId)}]`);
          }
          moveUnder(ctx, page, parent.id);
        }
        store.addVersion(page, {
          number: version,
          createdAt: ctx.now(),
          authorId: call.user!.accountId,
          message: String((body.version as Json).message ?? ""),
          minorEdit: (body.version as Json).minorEdit === true,
          title,
          body: value,
        });
        if (body.status === "current" && page.status === "draft") page.status = "current";
        store.changed();
        return pageJson({ ...call, query: { ...call.query, "body-format": "storage" } }, page, {
          single: true,
        });
      },
    },
    {
      method: "DELETE",
      url: "/pages/:id",
      spec: "/pages/{id}",
      handler: (call, _req, reply) => {
        const page = pageOr404(call.params.id, ["current", "archived", "draft", "trashed"]);
        if (call.query.purge === true) {
          // REST-API.md §4.6: purge applies to a trashed page.
          if (page.status !== "trashed")
            throw new ConfluenceApiError(400, "Only trashed pages can be purged");
          store.purge(page);
        } else if (page.status === "trashed") {
          throw new ConfluenceApiError(404, `Cannot find a page with id [${page.id}]`);
        } else if (page.status === "draft" || call.query.draft === true) {
          store.purge(page);
        } else {
          trash(ctx, page);
        }
        store.changed();
        return reply.code(204).send();
      },
    },
    {
      method: "GET",
      url: "/pages/:id/children",
      spec: "/pages/{id}/children",
      handler: (call, req, reply) => {
        const page = pageOr404(call.params.id);
        const kids = store.children(page.id);
        const result = v2Page(req, reply, kids, call.query, siteBase(ctx, call.origin));
        return {
          results: result.results.map((p) => ({
            id: p.id,
            status: p.status,
            title: current(p).title,
            spaceId: String(p.spaceId),
            childPosition: p.position,
          })),
          _links: result._links,
        };
      },
    },
    {
      method: "GET",
      url: "/pages/:id/ancestors",
      spec: "/pages/{id}/ancestors",
      handler: (call) => {
        const page = pageOr404(call.params.id);
        return {
          results: store.ancestors(page).map((a) => ({ id: a.id, type: "page" })),
          _links: { base: siteBase(ctx, call.origin) },
        };
      },
    },
    {
      method: "GET",
      url: "/pages/:id/versions",
      spec: "/pages/{id}/versions",
      handler: (call, req, reply) => {
        const page = pageOr404(call.params.id);
        const sorted = [...page.versions];
        if (call.query.sort !== "modified-date") sorted.reverse();
        const result = v2Page(req, reply, sorted, call.query, siteBase(ctx, call.origin));
        return { results: result.results.map((v) => versionJson(page, v.number)), _links: result._links };
      },
    },
    {
      method: "GET",
      url: "/pages/:pageId/versions/:versionNumber",
      spec: "/pages/{page-id}/versions/{version-number}",
      handler: (call) => {
        const page = pageOr404(call.params.pageId);
        const n = Number(call.params.versionNumber);
        if (!page.versions.some((v) => v.number === n))
          throw new ConfluenceApiError(404, `Cannot find version ${n} of page ${page.id}`);
        return versionJson(page, n);
      },
    },
    {
      method: "GET",
      url: "/pages/:id/labels",
      spec: "/pages/{id}/labels",
      handler: (call, req, reply) => {
        const page = pageOr404(call.params.id);
        const prefix = call.query.prefix as string | undefined;
        const labels = page.labels.filter((l) => prefix === undefined || l.prefix === prefix);
        const result = v2Page(req, reply, labels, call.query, siteBase(ctx, call.origin));
        return {
          results: result.results.map((l) => ({ id: l.id, name: l.name, prefix: l.prefix })),
          _links: result._links,
        };
      },
    },
    {
      method: "GET",
      url: "/pages/:pageId/properties",
      spec: "/pages/{page-id}/properties",
      handler: (call, req, reply) => {
        const page = propertyPage(call.params.pageId);
        const key = call.query.key as string | undefined;
        // REST-API.md §5.2: the key filter is case-sensitive.
        const props = page.properties.filter((p) => key === undefined || p.key === key);
        const result = v2Page(req, reply, props, call.query, siteBase(ctx, call.origin));
        return { results: result.results.map(propertyJson), _links: result._links };
      },
    },
    {
      method: "POST",
      url: "/pages/:pageId/properties",
      spec: "/pages/{page-id}/properties",
      handler: (call, req) => {
        const page = propertyPage(call.params.pageId);
        const body = req.body as Json;
        const key = String(body.key ?? "");
        assertPropertyKey(key);
        assertPropertyValue(body.value);
        // REST-API.md §5.2: an existing key → 409 on v2 ([T2C-334]).
        if (page.properties.some((p) => p.key === key)) {
          throw new ConfluenceApiError(409, `A property with key '${key}' already exists on page ${page.id}`);
        }
        const prop: PropertyRecord = {
          id: store.newId(),
          key,
          value: body.value,
          version: {
            number: 1,
            createdAt: ctx.now(),
            authorId: call.user!.accountId,
            message: "",
            minorEdit: false,
          },
        };
        page.properties.push(prop);
        store.changed();
        return propertyJson(prop);
      },
    },
    {
      method: "GET",
      url: "/pages/:pageId/properties/:propertyId",
      spec: "/pages/{page-id}/properties/{property-id}",
      handler: (call) => propertyJson(findProperty(call.params.pageId, call.params.propertyId)),
    },
    {
      method: "PUT",
      url: "/pages/:pageId/properties/:propertyId",
      spec: "/pages/{page-id}/properties/{property-id}",
      handler: (call, req) => {
        const prop = findProperty(call.params.pageId, call.params.propertyId);
        const body = req.body as Json;
        const version = body.version as Json | undefined;
        const n = version?.number as number | undefined;
        if (body.key !== undefined && body.key !== prop.key) {
          throw new ConfluenceApiError(400, "The property key cannot be changed");
        }
        assertPropertyValue(body.value);
        if (n !== prop.version.number + 1) {
          throw new ConfluenceApiError(
            409,
            `Version must be incremented when updating a property. Current Version: [${prop.version.number}]. Provided version: [${String(n)}]`,
          );
        }
        prop.value = body.value;
        prop.version = {
          number: n,
          createdAt: ctx.now(),
          authorId: call.user!.accountId,
          message: String(version?.message ?? ""),
          minorEdit: version?.minorEdit === true,
        };
        store.changed();
        return propertyJson(prop);
      },
    },
    {
      method: "DELETE",
      url: "/pages/:pageId/properties/:propertyId",
      spec: "/pages/{page-id}/properties/{property-id}",
      handler: (call, _req, reply) => {
        const prop = findProperty(call.params.pageId, call.params.propertyId);
        const page = store.pageMap.get(String(call.params.pageId))!;
        page.properties = page.properties.filter((p) => p.id !== prop.id);
        store.changed();
        return reply.code(204).send();
      },
    },
  ];

  mountApi(app, ctx, "v2", routes);

  function propertyPage(id: unknown): PageRecord {
    const page = store.pageMap.get(String(id));
    if (page === undefined || page.status === "trashed") {
      throw new ConfluenceApiError(404, `Could not find page with id [${String(id)}]`);
    }
    return page;
  }

  function findProperty(pageId: unknown, propertyId: unknown): PropertyRecord {
    const page = propertyPage(pageId);
    const prop = page.properties.find((p) => p.id === String(propertyId));
    if (prop === undefined) {
      throw new ConfluenceApiError(
        404,
        `Could not find property with id [${String(propertyId)}] on page [${page.id}]`,
      );
    }
    return prop;
  }
}

/** REST-API.md §5.2: key ≤ 255 characters and not empty. */
export function assertPropertyKey(key: string): void {
  if (key === "" || key.length > 255) {
    throw new ConfluenceApiError(400, "Property key must be between 1 and 255 characters");
  }
}

/** REST-API.md §5.2: the value is JSON up to 32 KB. */
export function assertPropertyValue(value: unknown): void {
  if (value === undefined) throw new ConfluenceApiError(400, "The property value is missing");
  if (Buffer.byteLength(JSON.stringify(value)) > 32_768) {
    throw new ConfluenceApiError(413, "The property value is too long (maximum 32768 bytes)");
  }
}

// internal

function sortPages(pages: PageRecord[], sort: string | undefined): PageRecord[] {
  const key = (sort ?? "id").replace(/^-/, "");
  const dir = sort?.startsWith("-") ? -1 : 1;
  const value = (p: PageRecord): string | number => {
    switch (key) {
      case "title":
        return current(p).title.toLowerCase();
      case "created-date":
        return p.createdAt;
      case "modified-date":
        return current(p).createdAt;
      default:
        return Number(p.id);
    }
  };
  return [...pages].sort((a, b) => (value(a) < value(b) ? -dir : value(a) > value(b) ? dir : 0));
}
