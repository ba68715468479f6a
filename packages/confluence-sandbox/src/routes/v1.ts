// Confluence REST v1 (Cloud `/wiki/rest/api`, DC `[/context]/rest/api`): content CRUD with
// expansions, children, labels, properties, CQL search, spaces and `user/current`; Cloud also
// the move resource and page archiving.
// On Cloud the endpoints REST-API.md §1.1 lists as removed answer 410 (option `v1Removed`).

import type { FastifyInstance, FastifyRequest } from "fastify";
import { type CqlContext, parseCql, runCql } from "../cql.js";
import { ConfluenceApiError, Exceptions } from "../errors.js";
import { type ApiRoute, mountApi } from "../mount.js";
import {
  acceptStorage,
  addLabels,
  assertNextVersion,
  assertTitleFree,
  assertTitleShape,
  moveUnder,
  trash,
} from "../page-ops.js";
import { decodeCursor, toInt, v1Page } from "../paginate.js";
import {
  type CallInfo,
  type SandboxContext,
  siteBase,
  siteContext,
  tinyui,
  v1User,
  webui,
} from "../SandboxContext.js";
import { current, type PageRecord, type PropertyRecord, type SpaceRecord } from "../SandboxStore.js";
import { assertPropertyKey, assertPropertyValue } from "./v2.js";

type Json = Record<string, unknown>;

const DEFAULT_EXPAND = "space,history,version";

/** Registers the v1 routes for the deployment's roots. */
export function registerV1Routes(app: FastifyInstance, ctx: SandboxContext): void {
  const { store } = ctx;
  const NF = Exceptions.notFound;

  const links = (call: CallInfo) => ({ base: siteBase(ctx, call.origin), context: siteContext(ctx) });

  const contentOr404 = (id: unknown, statuses: ReadonlyArray<string> = ["current"]) => {
    const sid = String(id);
    if (!/^\d+$/.test(sid))
      throw new ConfluenceApiError(400, `Invalid content id: ${sid}`, { exception: Exceptions.badRequest });
    const page = store.pageMap.get(sid);
    if (page === undefined || !(statuses.includes("any") || statuses.includes(page.status))) {
      throw new ConfluenceApiError(404, `No content found with id: ContentId{id=${sid}}`, { exception: NF });
    }
    return page;
  };

  const spaceJson = (call: CallInfo, s: SpaceRecord, expand: ReadonlySet<string> = new Set()): Json => {
    const l = links(call);
    const out: Json = {
      id: s.id,
      key: s.key,
      name: s.name,
      type: "global",
      status: "current",
      _expandable: {
        settings: "",
        metadata: "",
        operations: "",
        lookAndFeel: "",
        identifiers: "",
        permissions: "",
        icon: "",
        description: "",
        theme: "",
        history: "",
        homepage: `/rest/api/content/${s.homepageId}`,
      },
      _links: {
        webui: ctx.isCloud ? `/spaces/${s.key}` : `/display/${s.key}`,
        self: `${l.base}/rest/api/space/${s.key}`,
        ...l,
      },
    };
    if (expand.has("homepage")) {
      const home = store.pageMap.get(s.homepageId);
      if (home !== undefined) out.homepage = contentJson(call, home, new Set(), { single: false });
    }
    return out;
  };

  const versionJson = (call: CallInfo, page: PageRecord, n: number): Json => {
    const v = page.versions.find((x) => x.number === n)!;
    return {
      by: v1User(ctx, call.origin, store.userList.find((u) => u.accountId === v.authorId) ?? null),
      when: v.createdAt,
      friendlyWhen: "just a moment ago",
      message: v.message,
      number: v.number,
      minorEdit: v.minorEdit,
      contentTypeModified: false,
      _expandable: { collaborators: "", content: `/rest/api/content/${page.id}` },
      _links: { self: `${links(call).base}/rest/api/content/${page.id}/version/${v.number}` },
    };
  };

  const contentJson = (
    call: CallInfo,
    page: PageRecord,
    expand: ReadonlySet<string>,
    opts: { single: boolean; versionNumber?: number },
  ): Json => {
    const l = links(call);
    const space = store.spaceById(page.spaceId)!;
    const v =
      opts.versionNumber === undefined
        ? current(page)
        : page.versions.find((x) => x.number === opts.versionNumber);
    if (v === undefined)
      throw new ConfluenceApiError(404, `No content found with id: ContentId{id=${page.id}}`, {
        exception: NF,
      });
    const out: Json = { id: page.id, type: "page", status: page.status, title: v.title };
    const expandable: Json = {
      container: `/rest/api/space/${space.key}`,
      metadata: "",
      operations: "",
      children: `/rest/api/content/${page.id}/child`,
      restrictions: `/rest/api/content/${page.id}/restriction/byOperation`,
      history: `/rest/api/content/${page.id}/history`,
      ancestors: "",
      body: "",
      version: "",
      descendants: `/rest/api/content/${page.id}/descendant`,
      space: `/rest/api/space/${space.key}`,
    };
    const has = (k: string) => expand.has(k) || [...expand].some((e) => e.startsWith(`${k}.`));
    if (has("space")) {
      out.space = spaceJson(call, space);
      delete expandable.space;
    }
    if (has("history")) {
      const first = page.versions[0]!;
      const history: Json = {
        latest: v.number === current(page).number,
        createdBy: v1User(
          ctx,
          call.origin,
          store.userList.find((u) => u.accountId === first.authorId) ?? null,
        ),
        createdDate: first.createdAt,
        _expandable: { lastUpdated: "", previousVersion: "", contributors: "", nextVersion: "" },
        _links: { self: `${l.base}/rest/api/content/${page.id}/history` },
      };
      if (expand.has("history.lastUpdated"))
        history.lastUpdated = versionJson(call, page, current(page).number);
      out.history = history;
      delete expandable.history;
    }
    if (has("version")) {
      out.version = versionJson(call, page, v.number);
      delete expandable.version;
    }
    if (has("ancestors")) {
      out.ancestors = store.ancestors(page).map((a) => contentJson(call, a, new Set(), { single: false }));
      delete expandable.ancestors;
    }
    if (has("container")) {
      out.container = spaceJson(call, space);
      delete expandable.container;
    }
    if (has("body")) {
      const body: Json = { _expandable: {} };
      for (const fmt of ["storage", "view", "export_view", "styled_view", "editor"]) {
        if (expand.has(`body.${fmt}`)) {
          body[fmt] = {
            value: v.body,
            representation: fmt,
            embeddedContent: [],
            _expandable: { content: `/rest/api/content/${page.id}` },
          };
        }
      }
      out.body = body;
      delete expandable.body;
    }
    if (has("metadata")) {
      const metadata: Json = { _expandable: {} };
      if (expand.has("metadata.labels")) {
        metadata.labels = {
          results: page.labels.map(labelJson),
          start: 0,
          limit: 200,
          size: page.labels.length,
          _links: { self: `${l.base}/rest/api/content/${page.id}/label` },
        };
      }
      const props: Json = {};
      for (const e of expand) {
        const m = /^metadata\.properties\.(.+)$/.exec(e);
        const prop = m === null ? undefined : page.properties.find((p) => p.key === m[1]);
        if (prop !== undefined) props[prop.key] = propertyJson(call, page, prop);
      }
      if (Object.keys(props).length > 0) metadata.properties = props;
      out.metadata = metadata;
      delete expandable.metadata;
    }
    if (has("children")) {
      const kids = store.children(page.id);
      out.children = {
        page: {
          results: kids.map((k) => contentJson(call, k, new Set(), { single: false })),
          start: 0,
          limit: 25,
          size: kids.length,
          _links: { self: `${l.base}/rest/api/content/${page.id}/child/page` },
        },
        _links: { self: `${l.base}/rest/api/content/${page.id}/child` },
      };
      delete expandable.children;
    }
    out.extensions = { position: page.position };
    out._expandable = expandable;
    const pageLinks: Json = { webui: webui(ctx, space, page) };
    if (ctx.isCloud) pageLinks.editui = `/pages/resumedraft.action?draftId=${page.id}`;
    else pageLinks.edit = `/pages/resumedraft.action?draftId=${page.id}`;
    pageLinks.tinyui = tinyui(page.id);
    pageLinks.self = `${l.base}/rest/api/content/${page.id}`;
    if (opts.single) Object.assign(pageLinks, { collection: "/rest/api/content", ...l });
    out._links = pageLinks;
    return out;
  };

  const labelJson = (l: { id: string; prefix: string; name: string }): Json => ({
    prefix: l.prefix,
    name: l.name,
    id: l.id,
    label: l.name,
  });

  const propertyJson = (call: CallInfo, page: PageRecord, p: PropertyRecord): Json => {
    const l = links(call);
    return {
      id: p.id,
      key: p.key,
      value: p.value,
      version: {
        when: p.version.createdAt,
        message: p.version.message,
        number: p.version.number,
        minorEdit: p.version.minorEdit,
        contentTypeModified: false,
      },
      _expandable: { content: `/rest/api/content/${page.id}`, additionalProperties: "" },
      _links: { self: `${l.base}/rest/api/content/${page.id}/property/${encodeURIComponent(p.key)}`, ...l },
    };
  };

  const expandOf = (call: CallInfo, fallback = ""): Set<string> => {
    const raw = call.query.expand;
    const text = Array.isArray(raw) ? raw.join(",") : typeof raw === "string" ? raw : fallback;
    return new Set(
      text
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    );
  };

  const statusesOf = (call: CallInfo, fallback: string[]): string[] => {
    const raw = call.query.status;
    const list = Array.isArray(raw) ? raw.map(String) : raw === undefined ? fallback : String(raw).split(",");
    return list.length === 0 ? fallback : list;
  };

  const listJson = (
    call: CallInfo,
    req: FastifyRequest,
    pages: PageRecord[],
    expand: Set<string>,
    defaultLimit = 25,
  ) => {
    const result = v1Page(req, pages, call.query, links(call), defaultLimit);
    return { ...result, results: result.results.map((p) => contentJson(call, p, expand, { single: false })) };
  };

  const requireWriter = (call: CallInfo) => call.user!.accountId;

  const storageOf = (body: Json): string | undefined => {
    const b = body.body as Json | undefined;
    if (b === undefined) return undefined;
    const storage = b.storage as Json | undefined;
    if (storage === undefined) {
      throw new ConfluenceApiError(400, "Only the storage representation is supported by this sandbox", {
        exception: Exceptions.badRequest,
      });
    }
    if (storage.representation !== undefined && storage.representation !== "storage") {
      throw new ConfluenceApiError(400, `Unsupported representation: ${String(storage.representation)}`, {
        exception: Exceptions.badRequest,
      });
    }
    return String(storage.value ?? "");
  };

  const parentFrom = (body: Json, space: SpaceRecord): string | null | undefined => {
    const ancestors = body.ancestors as Json[] | undefined;
    if (ancestors === undefined) return undefined;
    // REST-API.md §4.1: the parent is the (last) ancestor entry you send.
    const last = ancestors[ancestors.length - 1];
    if (last === undefined) return null;
    const parent = store.pageMap.get(String(last.id));
    if (parent === undefined || parent.status !== "current" || parent.spaceId !== space.id) {
      throw new ConfluenceApiError(404, `No parent content found with id: ContentId{id=${String(last.id)}}`, {
        exception: NF,
      });
    }
    return parent.id;
  };

  const routes: Array<ApiRoute> = [
    {
      method: "GET",
      url: "/user/current",
      spec: "/user/current",
      anonymous: true,
      authMessage: "caller cannot access Confluence",
      handler: (call) => v1User(ctx, call.origin, call.user),
    },
    {
      method: "GET",
      url: "/space",
      spec: "/space",
      removed: true,
      list: true,
      handler: (call, req) => {
        const keys = (call.query.spaceKey as string[] | undefined)?.map((k) => k.toLowerCase());
        const spaces = store.spaceList.filter(
          (s) => keys === undefined || keys.includes(s.key.toLowerCase()),
        );
        const result = v1Page(req, spaces, call.query, links(call), 25);
        return { ...result, results: result.results.map((s) => spaceJson(call, s, expandOf(call))) };
      },
    },
    {
      method: "GET",
      url: "/space/:spaceKey",
      spec: "/space/{spaceKey}",
      removed: true,
      handler: (call) => {
        const key = String(call.params.spaceKey);
        const space = store.spaceList.find((s) => s.key === key);
        // REST-API.md §3: Cloud's 404 message for an unknown key.
        if (space === undefined) {
          throw new ConfluenceApiError(
            404,
            ctx.isCloud
              ? `org.springframework.web.server.ResponseStatusException: 404 NOT_FOUND "No space found with key : ${key}"`
              : `No space found with key : ${key}`,
          );
        }
        return spaceJson(call, space, expandOf(call));
      },
    },
    {
      method: "GET",
      url: "/content",
      spec: "/content",
      removed: true,
      list: true,
      handler: (call, req) => {
        const q = call.query;
        const type = (q.type as string | undefined) ?? "page";
        if (type !== "page") return listJson(call, req, [], expandOf(call));
        const statuses = statusesOf(call, ["current"]);
        const spaceKey = q.spaceKey as string | undefined;
        const space = spaceKey === undefined ? undefined : store.spaceList.find((s) => s.key === spaceKey);
        if (spaceKey !== undefined && space === undefined) return listJson(call, req, [], expandOf(call));
        const title = q.title as string | undefined;
        // REST-API.md §4.4: v1 title lookup is an exact match.
        // The indexes narrow the candidates; the filters below still decide.
        const candidates =
          typeof title === "string"
            ? store.pagesTitled(title, space === undefined ? undefined : [String(space.id)])
            : space !== undefined
              ? store.pagesInSpaces([String(space.id)])
              : [...store.pageMap.values()];
        const pages = candidates
          .filter((p) => statuses.includes("any") || statuses.includes(p.status))
          .filter((p) => space === undefined || p.spaceId === space.id)
          .filter((p) => title === undefined || current(p).title === title)
          .sort((a, b) => Number(a.id) - Number(b.id));
        return listJson(call, req, pages, expandOf(call));
      },
    },
    {
      method: "POST",
      url: "/content",
      spec: "/content",
      removed: true,
      handler: (call, req) => {
        const body = req.body as Json;
        if (body.type !== "page") {
          throw new ConfluenceApiError(400, `Unsupported content type: ${String(body.type)}`, {
            exception: Exceptions.badRequest,
          });
        }
        const key = String((body.space as Json | undefined)?.key ?? "");
        const space = store.spaceList.find((s) => s.key === key);
        // REST-API.md §7.2: create in a missing space is 403 on v1.
        if (space === undefined) {
          throw new ConfluenceApiError(
            403,
            `Space does not exist or you do not have permission to create content in it: ${key}`,
            {
              exception: Exceptions.permission,
            },
          );
        }
        const title = String(body.title ?? "");
        assertTitleShape(title);
        const value = acceptStorage(ctx, storageOf(body) ?? "");
        const parentId = parentFrom(body, space) ?? null;
        assertTitleFree(ctx, "v1", space, title, undefined, false);
        const metadata = (body.metadata as Json | undefined) ?? {};
        // `metadata.properties` on create is documented for Cloud v1 only (REST-API.md §4.1; not in
        // openapi-v1.json's ContentCreate): Data Center mode ignores it, as a DC server may.
        const props =
          ctx.options.mode === "cloud"
            ? ((metadata.properties as Record<string, Json> | undefined) ?? {})
            : {};
        for (const [k, p] of Object.entries(props)) {
          assertPropertyKey(p.key === undefined ? k : String(p.key));
          assertPropertyValue(p.value);
        }
        const page = store.insertPage({
          spaceId: space.id,
          title,
          body: value,
          parentId,
          authorId: requireWriter(call),
          now: ctx.now(),
          status: body.status === "draft" ? "draft" : "current",
        });
        // REST-API.md §4.1: metadata.properties (Cloud) / labels exist atomically with the page.
        for (const [k, p] of Object.entries(props)) {
          page.properties.push({
            id: store.newId(),
            key: p.key === undefined ? k : String(p.key),
            value: p.value,
            version: {
              number: 1,
              createdAt: ctx.now(),
              authorId: requireWriter(call),
              message: "",
              minorEdit: false,
            },
          });
        }
        const labels = metadata.labels as Json[] | undefined;
        if (labels !== undefined) addLabels(ctx, page, labels as Array<{ prefix?: string; name: string }>);
        store.changed();
        return contentJson(call, page, expandOf(call, DEFAULT_EXPAND), { single: true });
      },
    },
    {
      method: "GET",
      url: "/content/search",
      spec: "/content/search",
      list: true,
      handler: (call, req) => {
        const { pages, limit, start } = searchPages(call);
        const result = v1Page(req, pages, { ...call.query, start, limit }, links(call), 25, 200, "cursor");
        return {
          ...result,
          results: result.results.map((p) => contentJson(call, p, expandOf(call), { single: false })),
        };
      },
    },
    {
      method: "GET",
      url: "/search",
      spec: "/search",
      list: true,
      handler: (call, req) => {
        const { pages, limit, start } = searchPages(call);
        const result = v1Page(
          req,
          pages,
          { ...call.query, start, limit },
          links(call),
          25,
          200,
          "search-cursor",
        );
        const next = result._links.next;
        return {
          results: result.results.map((p) => ({
            content: contentJson(call, p, expandOf(call), { single: false }),
            title: current(p).title,
            excerpt: "",
            url: webui(ctx, store.spaceById(p.spaceId)!, p),
            resultGlobalContainer: {
              title: store.spaceById(p.spaceId)!.name,
              displayUrl: `/spaces/${store.spaceById(p.spaceId)!.key}`,
            },
            breadcrumbs: [],
            entityType: "content",
            iconCssClass: "aui-icon content-type-page",
            lastModified: current(p).createdAt,
            friendlyLastModified: "just a moment ago",
            score: 0,
          })),
          start: result.start,
          limit: result.limit,
          size: result.size,
          totalSize: pages.length,
          cqlQuery: String(call.query.cql ?? ""),
          searchDuration: 1,
          _links: {
            base: result._links.base,
            context: result._links.context,
            ...(next === undefined ? {} : { next }),
          },
        };
      },
    },
    {
      method: "GET",
      url: "/content/:id",
      spec: "/content/{id}",
      removed: true,
      handler: (call) => {
        const page = contentOr404(call.params.id, statusesOf(call, ["current"]));
        const version = call.query.version as number | undefined;
        return contentJson(call, page, expandOf(call, DEFAULT_EXPAND), {
          single: true,
          ...(version === undefined ? {} : { versionNumber: version }),
        });
      },
    },
    {
      method: "PUT",
      url: "/content/:id",
      spec: "/content/{id}",
      removed: true,
      handler: (call, req) => {
        const body = req.body as Json;
        const page = contentOr404(call.params.id, ["current", "trashed", "draft", "archived"]);
        if (body.type !== "page") {
          throw new ConfluenceApiError(400, `Content type cannot be changed to ${String(body.type)}`, {
            exception: Exceptions.badRequest,
          });
        }
        const space = store.spaceById(page.spaceId)!;
        if (page.status === "trashed") {
          // Restoring from the trash: `status: current` with the next version.
          if (body.status !== "current") {
            throw new ConfluenceApiError(404, `No content found with id: ContentId{id=${page.id}}`, {
              exception: NF,
            });
          }
          page.status = "current";
        }
        const version = (body.version as Json).number as number;
        assertNextVersion("v1", page, version);
        const title = String(body.title);
        assertTitleShape(title);
        const value = acceptStorage(ctx, storageOf(body) ?? current(page).body);
        assertTitleFree(ctx, "v1", space, title, page.id, true);
        // REST-API.md §4.3: `ancestors` only when moving.
        const parentId = parentFrom(body, space);
        if (parentId !== undefined) moveUnder(ctx, page, parentId);
        const metadata = body.metadata as Json | undefined;
        if (metadata?.labels !== undefined) {
          // REST-API.md §5.1: a PUT with metadata.labels replaces the label set.
          const old = page.labels;
          store.setLabels(page, []);
          try {
            addLabels(ctx, page, metadata.labels as Array<{ prefix?: string; name: string }>);
          } catch (e) {
            store.setLabels(page, old);
            throw e;
          }
        }
        const v = body.version as Json;
        store.addVersion(page, {
          number: version,
          createdAt: ctx.now(),
          authorId: requireWriter(call),
          message: String(v.message ?? ""),
          minorEdit: v.minorEdit === true,
          title,
          body: value,
        });
        store.changed();
        return contentJson(call, page, expandOf(call, DEFAULT_EXPAND), { single: true });
      },
    },
    {
      method: "DELETE",
      url: "/content/:id",
      spec: "/content/{id}",
      removed: true,
      handler: (call, _req, reply) => {
        const status = call.query.status as string | undefined;
        const page = contentOr404(
          call.params.id,
          status === "trashed" ? ["trashed"] : ["current", "draft", "archived"],
        );
        // REST-API.md §4.6: first DELETE trashes, DELETE ?status=trashed purges.
        if (page.status === "trashed" || page.status === "draft") store.purge(page);
        else trash(ctx, page);
        store.changed();
        return reply.code(204).send();
      },
    },
    {
      method: "GET",
      url: "/content/:id/child",
      spec: "/content/{id}/child",
      removed: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const l = links(call);
        return {
          page: listJson(call, req, store.children(page.id), new Set()),
          _links: { self: `${l.base}/rest/api/content/${page.id}/child`, ...l },
          _expandable: {
            attachment: `/rest/api/content/${page.id}/child/attachment`,
            comment: `/rest/api/content/${page.id}/child/comment`,
          },
        };
      },
    },
    {
      method: "GET",
      url: "/content/:id/child/:type",
      spec: "/content/{id}/child/{type}",
      removed: true,
      list: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const type = String(call.params.type);
        if (type !== "page" && type !== "attachment" && type !== "comment") {
          throw new ConfluenceApiError(400, `Content of type page cannot have children of type ${type}`, {
            exception: Exceptions.badRequest,
          });
        }
        return listJson(call, req, type === "page" ? store.children(page.id) : [], expandOf(call));
      },
    },
    {
      method: "GET",
      url: "/content/:id/descendant/:type",
      spec: "/content/{id}/descendant/{type}",
      removed: true,
      list: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const out: PageRecord[] = [];
        const walk = (id: string) => {
          for (const c of store.children(id)) {
            out.push(c);
            walk(c.id);
          }
        };
        if (call.params.type === "page") walk(page.id);
        return listJson(call, req, out, expandOf(call));
      },
    },
    {
      method: "GET",
      url: "/content/:id/history",
      spec: "/content/{id}/history",
      removed: true,
      handler: (call) => {
        const page = contentOr404(call.params.id);
        return contentJson(call, page, new Set(["history", "history.lastUpdated"]), { single: false })
          .history as Json;
      },
    },
    {
      method: "GET",
      url: "/content/:id/version",
      spec: "/content/{id}/version",
      removed: true,
      list: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const versions = [...page.versions].reverse();
        const result = v1Page(req, versions, call.query, links(call), 200);
        return { ...result, results: result.results.map((v) => versionJson(call, page, v.number)) };
      },
    },
    {
      method: "GET",
      url: "/content/:id/label",
      spec: "/content/{id}/label",
      removed: true,
      list: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const prefix = call.query.prefix as string | undefined;
        const labels = page.labels.filter((l) => prefix === undefined || l.prefix === prefix);
        const result = v1Page(req, labels, call.query, links(call), 200);
        return { ...result, results: result.results.map(labelJson) };
      },
    },
    {
      method: "POST",
      url: "/content/:id/label",
      spec: "/content/{id}/label",
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const body = req.body as Json | Json[];
        const input = (Array.isArray(body) ? body : [body]) as Array<{ prefix?: string; name: string }>;
        // REST-API.md §5.1: existing labels are kept; the answer is the full LabelArray.
        const labels = addLabels(ctx, page, input);
        store.changed();
        const l = links(call);
        return {
          results: labels.map(labelJson),
          start: 0,
          limit: 200,
          size: labels.length,
          _links: { self: `${l.base}/rest/api/content/${page.id}/label`, ...l },
        };
      },
    },
    {
      method: "DELETE",
      url: "/content/:id/label",
      spec: "/content/{id}/label",
      handler: (call, _req, reply) => removeLabel(call, String(call.query.name ?? ""), reply),
    },
    {
      method: "DELETE",
      url: "/content/:id/label/:label",
      spec: "/content/{id}/label/{label}",
      handler: (call, _req, reply) => removeLabel(call, String(call.params.label), reply),
    },
    {
      method: "GET",
      url: "/content/:id/property",
      spec: "/content/{id}/property",
      removed: true,
      list: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const key = call.query.key as string | string[] | undefined;
        const keys = key === undefined ? undefined : Array.isArray(key) ? key : [key];
        const props = page.properties.filter((p) => keys === undefined || keys.includes(p.key));
        const result = v1Page(req, props, call.query, links(call), 10);
        return { ...result, results: result.results.map((p) => propertyJson(call, page, p)) };
      },
    },
    {
      method: "POST",
      url: "/content/:id/property",
      spec: "/content/{id}/property",
      removed: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const body = req.body as Json;
        return createProperty(call, page, String(body.key ?? ""), body.value);
      },
    },
    {
      method: "GET",
      url: "/content/:id/property/:key",
      spec: "/content/{id}/property/{key}",
      removed: true,
      handler: (call) => {
        const page = contentOr404(call.params.id);
        const prop = page.properties.find((p) => p.key === String(call.params.key));
        if (prop === undefined) {
          throw new ConfluenceApiError(
            404,
            `Cannot find property ${String(call.params.key)} on content with id ${page.id}`,
            { exception: NF },
          );
        }
        return propertyJson(call, page, prop);
      },
    },
    {
      method: "POST",
      url: "/content/:id/property/:key",
      spec: "/content/{id}/property/{key}",
      removed: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const body = req.body as Json;
        return createProperty(call, page, String(call.params.key), body.value);
      },
    },
    {
      method: "PUT",
      url: "/content/:id/property/:key",
      spec: "/content/{id}/property/{key}",
      removed: true,
      handler: (call, req) => {
        const page = contentOr404(call.params.id);
        const key = String(call.params.key);
        const body = req.body as Json;
        const version = body.version as Json;
        const n = version.number as number;
        assertPropertyValue(body.value);
        const prop = page.properties.find((p) => p.key === key);
        if (prop === undefined) {
          // REST-API.md §5.2: PUT creates the property when version.number is 1, else 404.
          if (n !== 1) {
            throw new ConfluenceApiError(404, `Cannot find property ${key} on content with id ${page.id}`, {
              exception: NF,
            });
          }
          return createProperty(call, page, key, body.value, version);
        }
        if (n !== prop.version.number + 1) {
          throw new ConfluenceApiError(
            409,
            `Version must be incremented on update. Current version is: ${prop.version.number}`,
            { exception: Exceptions.conflict },
          );
        }
        prop.value = body.value;
        prop.version = {
          number: n,
          createdAt: ctx.now(),
          authorId: requireWriter(call),
          message: String(version.message ?? ""),
          minorEdit: version.minorEdit !== false,
        };
        store.changed();
        return propertyJson(call, page, prop);
      },
    },
    {
      method: "DELETE",
      url: "/content/:id/property/:key",
      spec: "/content/{id}/property/{key}",
      removed: true,
      handler: (call, _req, reply) => {
        const page = contentOr404(call.params.id);
        const key = String(call.params.key);
        if (!page.properties.some((p) => p.key === key)) {
          throw new ConfluenceApiError(404, `Cannot find property ${key} on content with id ${page.id}`, {
            exception: NF,
          });
        }
        page.properties = page.properties.filter((p) => p.key !== key);
        store.changed();
        return reply.code(204).send();
      },
    },
  ];

  if (ctx.isCloud) routes.push(moveRoute(), ...archiveRoutes());
  mountApi(app, ctx, "v1", routes);

  /**
   * Cloud's `PUT /content/{pageId}/move/{position}/{targetId}` (openapi-v1.json, the Cloud spec).
   * REST-API.md documents no such resource for Data Center, which moves a page by `ancestors` on
   * `PUT /content/{id}` (§4.3); there the path is unknown and answers 404 (see `app.ts`).
   */
  function moveRoute(): ApiRoute {
    return {
      method: "PUT",
      url: "/content/:pageId/move/:position/:targetId",
      spec: "/content/{pageId}/move/{position}/{targetId}",
      handler: (call) => {
        const page = contentOr404(call.params.pageId);
        const target = contentOr404(call.params.targetId);
        const position = String(call.params.position);
        if (target.spaceId !== page.spaceId) {
          // openapi-v1.json `movePage`: a page may move to another space, with the pages below it;
          // 400 when a page of that name already exists in the target space.
          const parentId = position === "append" ? target.id : target.parentId;
          const moving: PageRecord[] = [];
          const walk = (p: PageRecord) => {
            moving.push(p);
            for (const child of store.pagesUnder(p.id)) walk(child);
          };
          walk(page);
          for (const p of moving) {
            if (store.titleHolder(target.spaceId, current(p).title) !== undefined)
              throw new ConfluenceApiError(
                400,
                `A page already exists in the target space with the same name: ${current(p).title}. Rename the page before moving it.`,
                { exception: Exceptions.badRequest },
              );
          }
          store.moveToSpace(page, target.spaceId, parentId);
          page.position = store.nextPosition(page.spaceId, parentId, page.id);
          store.changed();
          return { pageId: page.id };
        }
        if (position === "append") {
          moveUnder(ctx, page, target.id);
        } else {
          if (target.id === page.id)
            throw new ConfluenceApiError(400, "Cannot move a page relative to itself", {
              exception: Exceptions.badRequest,
            });
          moveUnder(ctx, page, target.parentId);
          // Re-number siblings so the page sits right before/after the target.
          const siblings = store
            .siblings(page.spaceId, target.parentId)
            .filter((p) => p.id !== page.id)
            .sort((a, b) => a.position - b.position || Number(a.id) - Number(b.id));
          const i = siblings.findIndex((p) => p.id === target.id);
          siblings.splice(position === "before" ? i : i + 1, 0, page);
          siblings.forEach((p, n) => {
            p.position = (n + 1) * 1000;
          });
        }
        store.changed();
        return { pageId: page.id };
      },
    };
  }

  /**
   * Cloud's page archiving: `POST /content/archive` accepts the request (202) and a long task
   * archives the pages; `GET /longtask/{id}` reports it. The 400 cases are the spec's: a job
   * already running, more than 300 pages (or more than one below Premium, none on Free), an id
   * that is no page, a page already archived.
   */
  function archiveRoutes(): Array<ApiRoute> {
    interface Task {
      readonly id: string;
      readonly pageIds: ReadonlyArray<string>;
      readonly started: number;
      finished: boolean;
    }
    const tasks = new Map<string, Task>();
    const refuse = (message: string) =>
      new ConfluenceApiError(400, message, { exception: Exceptions.badRequest });
    const taskJson = (call: CallInfo, task: Task): Json => ({
      id: task.id,
      name: { key: "com.atlassian.confluence.pages.archive.longtask", args: [] },
      elapsedTime: Date.now() - task.started,
      percentageComplete: task.finished ? 100 : 0,
      successful: task.finished,
      finished: task.finished,
      messages: task.finished
        ? [{ translation: `Archived ${task.pageIds.length} page(s)`, args: [] }]
        : [{ translation: "Archiving pages", args: [] }],
      status: task.finished ? "STATUS_ARCHIVED_PAGES" : "INITIALIZING_TASK",
      _links: { self: `${links(call).base}/rest/api/longtask/${task.id}`, ...links(call) },
    });
    return [
      {
        method: "POST",
        url: "/content/archive",
        spec: "/content/archive",
        handler: (call, req, reply) => {
          requireWriter(call);
          const pages = ((req.body as Json).pages as Array<{ id: number }> | undefined) ?? [];
          const plan = ctx.options.archivePlan;
          if (plan === "free") throw refuse("Archiving pages is not available on the Free plan");
          if (pages.length === 0) throw refuse("No pages to archive were specified");
          if (pages.length > 300) throw refuse("Cannot archive more than 300 pages in one request");
          if (plan === "standard" && pages.length > 1) {
            throw refuse("Archiving more than one page in one request requires Confluence Premium");
          }
          if ([...tasks.values()].some((t) => !t.finished)) {
            throw refuse("An archival job is already running for this site; try again when it has finished");
          }
          const ids = pages.map((p) => String(p.id));
          for (const id of ids) {
            const page = store.pageMap.get(id);
            if (page === undefined || (page.status !== "current" && page.status !== "archived")) {
              throw refuse(`Content id ${id} does not resolve to a page`);
            }
            if (page.status === "archived") throw refuse(`Page ${id} is already archived`);
          }
          const task: Task = { id: store.newId(), pageIds: ids, started: Date.now(), finished: false };
          tasks.set(task.id, task);
          const finish = () => {
            for (const id of ids) {
              const page = store.pageMap.get(id);
              if (page?.status === "current") page.status = "archived";
            }
            task.finished = true;
            store.changed();
          };
          if (ctx.options.archiveTaskMs > 0) setTimeout(finish, ctx.options.archiveTaskMs).unref();
          else finish();
          return reply.code(202).send({ id: task.id, links: { status: `/rest/api/longtask/${task.id}` } });
        },
      },
      {
        method: "GET",
        url: "/longtask/:id",
        spec: "/longtask/{id}",
        handler: (call) => {
          const task = tasks.get(String(call.params.id));
          if (task === undefined) {
            throw new ConfluenceApiError(404, `No task found with id: ${String(call.params.id)}`, {
              exception: NF,
            });
          }
          return taskJson(call, task);
        },
      },
    ];
  }

  function removeLabel(call: CallInfo, name: string, reply: import("fastify").FastifyReply) {
    const page = contentOr404(call.params.id);
    const lower = name.toLowerCase();
    if (!page.labels.some((l) => l.name === lower)) {
      throw new ConfluenceApiError(404, `Label ${name} not found on content ${page.id}`, { exception: NF });
    }
    store.setLabels(
      page,
      page.labels.filter((l) => l.name !== lower),
    );
    store.changed();
    return reply.code(204).send();
  }

  function createProperty(
    call: CallInfo,
    page: PageRecord,
    key: string,
    value: unknown,
    version?: Json,
  ): Json {
    assertPropertyKey(key);
    assertPropertyValue(value);
    if (page.properties.some((p) => p.key === key)) {
      // REST-API.md §5.2: POST of an existing key → 400 (DC's message, [APY-869]).
      throw new ConfluenceApiError(
        400,
        "The given property has a different content id to the one in the path, or the content already has a value with the given key, or the value is missing, or the value is too long",
        { exception: Exceptions.badRequest },
      );
    }
    const prop: PropertyRecord = {
      id: store.newId(),
      key,
      value,
      version: {
        number: 1,
        createdAt: ctx.now(),
        authorId: requireWriter(call),
        message: String(version?.message ?? ""),
        minorEdit: version?.minorEdit === true,
      },
    };
    page.properties.push(prop);
    store.changed();
    return propertyJson(call, page, prop);
  }

  function searchPages(call: CallInfo): { pages: PageRecord[]; limit: number; start: number } {
    const cql = call.query.cql;
    if (typeof cql !== "string" || cql.trim() === "") {
      throw new ConfluenceApiError(400, "CQL query parameter 'cql' is required", {
        exception: Exceptions.badRequest,
      });
    }
    const query = parseCql(cql);
    const cqlCtx: CqlContext = {
      pages: [...store.pageMap.values()].filter((p) => p.status === "current"),
      spaceOf: (p) => store.spaceById(p.spaceId)!,
      ancestorsOf: (p) => store.ancestors(p),
      currentUser: call.user?.accountId ?? null,
      now: new Date(),
    };
    const pages = runCql(query, cqlCtx);
    // Cloud pages search results only with the cursor and ignores `start` (REST-API.md §4.5): a
    // client paging by `start` would read the first page again and again there.
    const start =
      call.query.cursor !== undefined
        ? decodeCursor(String(call.query.cursor))
        : ctx.isCloud
          ? 0
          : toInt(call.query.start, 0);
    return { pages, limit: toInt(call.query.limit, 25), start };
  }
}
