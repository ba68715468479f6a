// Wire shapes of the v1 and v2 responses the client reads, and their conversion to our types.
// Only the fields we use are declared (excess fields are ignored), ids accept numbers or strings
// (v1 space ids are integers), and nullable fields accept null, so Confluence can add fields
// without breaking us while a missing id or title still fails loudly.
import { Schema } from "effect";
import type { ContentProperty, JsonValue, PageInfo, PageSummary, SpaceInfo } from "./types.js";

const Id = Schema.Union(Schema.String, Schema.Number);
const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s));

const Links = Schema.Struct({
  webui: opt(Schema.String),
  base: opt(Schema.String),
  next: opt(Schema.String),
});

/** v1 `Content` (page) as returned by `/content`, `/content/{id}` and `/content/search`. */
export const V1Content = Schema.Struct({
  id: Id,
  type: opt(Schema.String),
  status: opt(Schema.String),
  title: Schema.String,
  space: opt(Schema.Struct({ id: opt(Id), key: Schema.String, name: opt(Schema.String) })),
  version: opt(
    Schema.Struct({
      number: Schema.Number,
      when: opt(Schema.String),
      message: opt(Schema.String),
      minorEdit: opt(Schema.Boolean),
      by: opt(
        Schema.Struct({
          type: opt(Schema.String),
          accountId: opt(Schema.String),
          userKey: opt(Schema.String),
          username: opt(Schema.String),
          displayName: opt(Schema.String),
        }),
      ),
    }),
  ),
  ancestors: opt(Schema.Array(Schema.Struct({ id: Id }))),
  body: opt(Schema.Struct({ storage: opt(Schema.Struct({ value: Schema.String })) })),
  _links: opt(Links),
});
export type V1Content = typeof V1Content.Type;

/**
 * A list schema builder that returns the same schema for the same item schema: decoding compiles
 * a parser per schema, so a list schema built per request would be compiled for every response.
 */
const onePerItem = <F extends (item: Schema.Schema.AnyNoContext) => Schema.Schema.AnyNoContext>(
  build: F,
): F => {
  const made = new WeakMap<Schema.Schema.AnyNoContext, Schema.Schema.AnyNoContext>();
  const memoized = (item: Schema.Schema.AnyNoContext): Schema.Schema.AnyNoContext => {
    const hit = made.get(item);
    if (hit !== undefined) return hit;
    const schema = build(item);
    made.set(item, schema);
    return schema;
  };
  return memoized as F;
};

/** v1 paged list (`ContentArray`, `LabelArray`, …). */
export const V1List = onePerItem(<A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ results: Schema.Array(item), size: opt(Schema.Number), _links: opt(Links) }),
);

/** v2 `PageSingle` / `PageBulk`. */
export const V2Page = Schema.Struct({
  id: Id,
  status: opt(Schema.String),
  title: Schema.String,
  spaceId: Id,
  parentId: opt(Id),
  parentType: opt(Schema.String),
  authorId: opt(Schema.String),
  createdAt: opt(Schema.String),
  version: opt(
    Schema.Struct({
      number: Schema.Number,
      message: opt(Schema.String),
      minorEdit: opt(Schema.Boolean),
      authorId: opt(Schema.String),
      createdAt: opt(Schema.String),
    }),
  ),
  body: opt(Schema.Struct({ storage: opt(Schema.Struct({ value: Schema.String })) })),
  _links: opt(Links),
});
export type V2Page = typeof V2Page.Type;

/** v2 cursor-paged list. */
export const V2List = onePerItem(<A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ results: Schema.Array(item), _links: opt(Links) }),
);

/** v2 `ChildPage`. */
export const V2Child = Schema.Struct({
  id: Id,
  status: opt(Schema.String),
  title: Schema.String,
  spaceId: opt(Id),
});

/** v2 `SpaceBulk` / `SpaceSingle`. */
export const V2Space = Schema.Struct({
  id: Id,
  key: Schema.String,
  name: opt(Schema.String),
  homepageId: opt(Id),
});

/** v1 `Space` (with `expand=homepage`). */
export const V1Space = Schema.Struct({
  id: Id,
  key: Schema.String,
  name: opt(Schema.String),
  homepage: opt(Schema.Struct({ id: Id })),
});

/** The 202 answer to Cloud's `POST /content/archive`: the long task archiving the pages. */
export const ArchiveAccepted = Schema.Struct({ id: Id });

/** Cloud's `LongTaskStatusWithLinks` (the fields the client reads). */
export const LongTask = Schema.Struct({
  id: Id,
  finished: Schema.Boolean,
  successful: Schema.Boolean,
  percentageComplete: Schema.Number,
  messages: Schema.Array(Schema.Struct({ translation: opt(Schema.String) })),
  errors: opt(Schema.Array(Schema.Struct({ translation: opt(Schema.String) }))),
});

/** A label in v1 `LabelArray` or v2 label lists. */
export const Label = Schema.Struct({ name: Schema.String, prefix: opt(Schema.String) });

/** A content property, v1 or v2 (`id` is v2's handle; v1's numeric id is ignored). */
export const Property = Schema.Struct({
  id: opt(Id),
  key: Schema.String,
  value: Schema.Unknown,
  version: opt(Schema.Struct({ number: Schema.Number })),
});
export type Property = typeof Property.Type;

/** `GET /rest/api/user/current`: Cloud has `accountId`, Data Center `username`; anonymous has `type: "anonymous"`. */
export const V1User = Schema.Struct({
  type: opt(Schema.String),
  accountId: opt(Schema.String),
  username: opt(Schema.String),
  userKey: opt(Schema.String),
  displayName: opt(Schema.String),
  publicName: opt(Schema.String),
});

/** How human links are built: the configured site base, else the response's `_links.base`. */
export interface LinkBase {
  readonly siteUrl: string | undefined;
  readonly fallback: string;
}

/** The `authorId` of a version written by an anonymous user (no account id, user key or name). */
export const ANONYMOUS_AUTHOR = "(anonymous)";

/** Converts a v1 content to {@link PageInfo}; the parent is the last ancestor (order is root → parent). */
export const pageFromV1 = (c: V1Content, links: LinkBase, responseBase?: string): PageInfo => {
  const id = String(c.id);
  const parent = c.ancestors && c.ancestors.length > 0 ? c.ancestors[c.ancestors.length - 1] : undefined;
  const by = c.version?.by;
  // openapi-v1.json `User.type`: a version by an anonymous user (a space that lets anonymous users
  // edit) names no one. It is someone's all the same, never Minutes': without an author it would
  // count as Minutes' own (an unreported author does), and a person's edit would go unseen.
  const anonymous = by?.type === "anonymous" && !by.accountId && !by.userKey && !by.username;
  const authorId = anonymous ? ANONYMOUS_AUTHOR : (by?.accountId ?? by?.userKey ?? by?.username ?? undefined);
  // Data Center's user key is an opaque id: people know each other by name.
  const authorName = anonymous
    ? "an anonymous user"
    : by?.displayName && by.username
      ? `${by.displayName} (${by.username})`
      : (by?.displayName ?? by?.username);
  return {
    id,
    title: c.title,
    spaceId: c.space?.id != null ? String(c.space.id) : "",
    ...(c.space?.key ? { spaceKey: c.space.key } : {}),
    ...(parent ? { parentId: String(parent.id) } : {}),
    status: c.status ?? "current",
    version: {
      number: c.version?.number ?? 1,
      createdAt: c.version?.when ?? "",
      ...(authorId ? { authorId } : {}),
      ...(authorName ? { authorName } : {}),
      ...(c.version?.message ? { message: c.version.message } : {}),
      ...(c.version?.minorEdit != null ? { minorEdit: c.version.minorEdit } : {}),
    },
    ...(c.body?.storage ? { body: c.body.storage.value } : {}),
    webUrl: webUrl(id, c._links?.webui ?? undefined, links, c._links?.base ?? responseBase),
  };
};

/** Converts a v2 page to {@link PageInfo}. */
export const pageFromV2 = (
  p: V2Page,
  links: LinkBase,
  spaceKey: string | undefined,
  responseBase?: string,
): PageInfo => {
  const id = String(p.id);
  const authorId = p.version?.authorId ?? undefined;
  return {
    id,
    title: p.title,
    spaceId: String(p.spaceId),
    ...(spaceKey ? { spaceKey } : {}),
    // v2 reports a folder or whiteboard parent too; only a page parent is a parent page.
    ...(p.parentId != null && (p.parentType == null || p.parentType === "page")
      ? { parentId: String(p.parentId) }
      : {}),
    status: p.status ?? "current",
    version: {
      number: p.version?.number ?? 1,
      createdAt: p.version?.createdAt ?? p.createdAt ?? "",
      ...(authorId ? { authorId } : {}),
      ...(p.version?.message ? { message: p.version.message } : {}),
      ...(p.version?.minorEdit != null ? { minorEdit: p.version.minorEdit } : {}),
    },
    ...(p.body?.storage ? { body: p.body.storage.value } : {}),
    webUrl: webUrl(id, p._links?.webui ?? undefined, links, p._links?.base ?? responseBase),
  };
};

/** Converts a v2 child row or a v1 content to a {@link PageSummary}. */
export const summaryOf = (p: {
  readonly id: string | number;
  readonly title: string;
  readonly status?: string | null | undefined;
  readonly spaceId?: string | number | null | undefined;
}): PageSummary => ({
  id: String(p.id),
  title: p.title,
  status: p.status ?? "current",
  ...(p.spaceId != null ? { spaceId: String(p.spaceId) } : {}),
});

/** Converts a v2 or v1 space to {@link SpaceInfo}. */
export const spaceOf = (s: typeof V2Space.Type | typeof V1Space.Type): SpaceInfo => {
  const homepage = "homepageId" in s ? s.homepageId : "homepage" in s ? s.homepage?.id : undefined;
  return {
    id: String(s.id),
    key: s.key,
    name: s.name ?? s.key,
    ...(homepage != null ? { homepageId: String(homepage) } : {}),
  };
};

/** Converts a wire property to {@link ContentProperty}. */
export const propertyOf = (p: Property): ContentProperty => ({
  ...(p.id != null ? { id: String(p.id) } : {}),
  key: p.key,
  value: p.value as JsonValue,
  version: p.version?.number ?? 1,
});

/**
 * Absolute human URL: site base + `webui` (both APIs give `webui` relative to the site base
 * `.../wiki` on Cloud, `http://host[/context]` on DC); `viewpage.action?pageId=` when absent.
 */
export const webUrl = (
  id: string,
  webui: string | undefined,
  links: LinkBase,
  responseBase?: string,
): string => {
  const base = (links.siteUrl ?? responseBase ?? links.fallback).replace(/\/+$/, "");
  if (webui && /^https?:\/\//i.test(webui)) return webui;
  if (webui) return base + (webui.startsWith("/") ? webui : `/${webui}`);
  return `${base}/pages/viewpage.action?pageId=${encodeURIComponent(id)}`;
};
