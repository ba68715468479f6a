// The typed Confluence client: the only way the publisher talks to Confluence. One interface over
// two API strategies — Cloud uses v2 wherever v1 was removed and v1 only where v2 has no
// equivalent (CQL, label writes, user/current, move); Data Center uses v1 throughout. Writes are
// made safe to repeat here (create by lookup, update by version re-read), because only this layer
// knows which failures may have landed on the server.
import { readFile } from "node:fs/promises";
import { Context, Duration, Effect, Layer, Option, Schedule, type Schema, type Scope } from "effect";
import { type ConfluenceClientConfig, type ResolvedConfig, resolveConfig } from "./ConfluenceClientConfig.js";
import {
  ConfluenceAuthenticationError,
  ConfluenceConfigError,
  type ConfluenceError,
  ConfluenceNotFoundError,
  ConfluenceTitleConflictError,
  ConfluenceValidationError,
  ConfluenceVersionConflictError,
  isRetryable,
} from "./ConfluenceError.js";
import { anonymousHint, mayHaveLanded } from "./error-from-response.js";
import { type Api, type Http, type HttpRequest, makeHttp, type Query } from "./http.js";
import { confluenceRetrySchedule } from "./retry-schedule.js";
import { sameStorage } from "./storage-equal.js";
import type {
  ConfluenceDeployment,
  ConnectionInfo,
  ContentProperty,
  CreatePageInput,
  JsonValue,
  LongTaskInfo,
  MovePosition,
  PageInfo,
  PageSummary,
  SpaceInfo,
  UpdatePageInput,
} from "./types.js";
import {
  ArchiveAccepted,
  Label,
  type LinkBase,
  LongTask,
  Property,
  pageFromV1,
  pageFromV2,
  propertyOf,
  spaceOf,
  summaryOf,
  V1Content,
  V1List,
  V1Space,
  V1User,
  V2Child,
  V2List,
  V2Page,
  V2Space,
} from "./wire.js";

/** What the client can do. Every failure is a {@link ConfluenceError}; retryable ones are retried internally. */
export interface ConfluenceClientService {
  /** The deployment the client was configured (or detected) for. */
  readonly deployment: ConfluenceDeployment;
  /**
   * Checks that the server is reachable and the credentials work, and says whose they are. Cloud's
   * disguised credential failures (v1 403, v2 bare 404, site 401 for scoped tokens) and Data Center's
   * anonymous fallback for a bad PAT all become one `ConfluenceAuthenticationError` with a hint.
   */
  readonly testConnection: () => Effect.Effect<ConnectionInfo, ConfluenceError>;
  /**
   * Creates a page. Never makes a second page: when an attempt may have reached the server, the page
   * is looked up by title before any retry and adopted if it is provably ours (its property matches;
   * or, without that property, it is a current page at version 1 under the parent we asked for,
   * right after our lost attempt). Otherwise fails with `ConfluenceTitleConflictError` (with
   * `existingPageId` when found, which may be an archived page on Cloud). The property and labels
   * written right after a Cloud create retry a 404 a few times: a page just created may not be
   * visible to every node yet.
   */
  readonly createPage: (input: CreatePageInput) => Effect.Effect<PageInfo, ConfluenceError>;
  /**
   * Updates title and body with `version` = current + 1. A 409 triggers a re-read: if our own earlier
   * attempt landed (the page has our version, title and body, compared the way Confluence rewrites
   * storage), that is success; else (unless `refreshOnConflict: false`) it retries with the current
   * version + 1, at most twice. A page that was in the trash is not written: Cloud's update restores
   * it instead, so the client moves it back to the trash and fails with `ConfluenceNotFoundError`
   * (`hint: "page-was-trashed"`), as for a page that is gone.
   */
  readonly updatePage: (input: UpdatePageInput) => Effect.Effect<PageInfo, ConfluenceError>;
  /** Reads a page (with its storage body when `body: true`). */
  readonly getPageInfo: (
    id: string,
    options?: { readonly body?: boolean },
  ) => Effect.Effect<PageInfo, ConfluenceError>;
  /**
   * Runs a CQL query (v1 `/content/search` on both deployments) and returns every page of results,
   * following `_links.next`. Non-page results are skipped. CQL's index lags writes: do not use it to
   * check whether a page was just created (use `findPageByTitle`).
   */
  readonly searchPages: (cql: string) => Effect.Effect<ReadonlyArray<PageInfo>, ConfluenceError>;
  /**
   * Finds the page that holds this title in the space, the way Confluence's uniqueness check sees
   * it (case-insensitively). Cloud: v2 `title=` over current **and archived** pages, since archived
   * pages keep their title (a current one is preferred); check `status`: an archived page cannot be
   * written or used as a parent until a person restores it. Data Center: current pages only (only
   * they hold a title there), v1 exact title, then a CQL fallback for other casings.
   */
  readonly findPageByTitle: (
    spaceKey: string,
    title: string,
  ) => Effect.Effect<Option.Option<PageInfo>, ConfluenceError>;
  /** Resolves a space by key or by (all-digit) id; results are cached for the client's lifetime. */
  readonly getSpace: (keyOrId: string) => Effect.Effect<SpaceInfo, ConfluenceError>;
  /** Direct child pages, all pages of results (Cloud v2 omits folders). */
  readonly getChildren: (pageId: string) => Effect.Effect<ReadonlyArray<PageSummary>, ConfluenceError>;
  /** Adds global labels (existing ones are kept; v1 on both deployments). Returns the page's label names. */
  readonly addLabels: (
    pageId: string,
    names: ReadonlyArray<string>,
  ) => Effect.Effect<ReadonlyArray<string>, ConfluenceError>;
  /** The page's label names. */
  readonly getLabels: (pageId: string) => Effect.Effect<ReadonlyArray<string>, ConfluenceError>;
  /**
   * Removes one label (v1 `DELETE /content/{id}/label?name=…`, so any name, `..` or one with `/`
   * included, stays a label name). A label the page does not carry fails as not found.
   */
  readonly removeLabel: (pageId: string, name: string) => Effect.Effect<void, ConfluenceError>;
  /** Reads a content property; `None` when the page has no such key (a missing page is an error). */
  readonly getProperty: (
    pageId: string,
    key: string,
  ) => Effect.Effect<Option.Option<ContentProperty>, ConfluenceError>;
  /**
   * Creates or updates a content property (version handled; an equal value is not rewritten).
   * Used to mark a page with the job that owns it. `current` is what the caller just read
   * (`None`: the page has no such property): the first write then skips its own read; a stale
   * `current` costs a version conflict and a fresh read, never a lost update.
   */
  readonly setProperty: (
    pageId: string,
    key: string,
    value: JsonValue,
    current?: Option.Option<ContentProperty>,
  ) => Effect.Effect<ContentProperty, ConfluenceError>;
  /** Moves a page to the trash; `purge: true` then deletes it permanently. */
  readonly deletePage: (
    id: string,
    options?: { readonly purge?: boolean },
  ) => Effect.Effect<void, ConfluenceError>;
  /**
   * Moves a page relative to `targetId` and returns it as it is afterwards. `append` makes it the
   * target's last child, `before`/`after` its sibling.
   *
   * Cloud: v1 `move/{position}/{targetId}`, then a read. Data Center has no move resource: the page
   * is read and written back unchanged (title and storage body) with `ancestors: [{id: targetId}]`
   * as version current + 1, a minor edit with `message` as its comment (REST-API.md §4.3). So on
   * Data Center a move is a new page version by the caller: record the returned version, or the
   * next update will see a version it did not write. Only `append` exists there (a parent can be
   * set, a place among siblings cannot): `before`/`after` fail with `ConfluenceValidationError`.
   * A page already under the target is returned unwritten; a version conflict (someone wrote in
   * between, or a lost answer's write landed) re-reads and tries again, at most twice.
   */
  readonly movePage: (
    id: string,
    options: {
      readonly targetId: string;
      readonly position: MovePosition;
      /** Data Center: the comment of the version the move writes (default `Page moved`). */
      readonly message?: string;
      /**
       * Data Center: the version the caller checked. A page found at another one is not written
       * (`ConfluenceVersionConflictError` with `currentVersion`): the move's version would otherwise
       * land on top of a change the caller has not seen. Ignored on Cloud, whose move writes no version.
       */
      readonly expectedVersion?: number;
    },
  ) => Effect.Effect<PageInfo, ConfluenceError>;
  /**
   * Cloud only: asks Confluence to archive these pages (`POST /wiki/rest/api/content/archive`,
   * a paid-plan feature; below Premium one page per request) and returns the id of the long task
   * doing it. Not retried blindly: a lost answer may have started the task. Data Center has no
   * such API and fails with `ConfluenceValidationError`.
   */
  readonly archivePages: (ids: ReadonlyArray<string>) => Effect.Effect<string, ConfluenceError>;
  /** Cloud only: the state of a long task (`GET /wiki/rest/api/longtask/{id}`). */
  readonly getLongTask: (id: string) => Effect.Effect<LongTaskInfo, ConfluenceError>;
}

/**
 * Builds a client whose pooled HTTP agent is closed when the scope closes. Fails only on an
 * unusable configuration.
 */
export const makeConfluenceClient = (
  config: ConfluenceClientConfig,
): Effect.Effect<ConfluenceClientService, ConfluenceConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    const resolved = resolveConfig(config);
    if (resolved instanceof ConfluenceConfigError) return yield* resolved;
    const ca = yield* loadCa(config, resolved);
    const http = yield* makeHttp(resolved, ca);
    return build(http);
  });

/** The client as an Effect service. */
export class ConfluenceClient extends Context.Tag("@minutes/confluence-core/ConfluenceClient")<
  ConfluenceClient,
  ConfluenceClientService
>() {
  /** A scoped layer: the HTTP agent lives as long as the layer. */
  static readonly layer = (
    config: ConfluenceClientConfig,
  ): Layer.Layer<ConfluenceClient, ConfluenceConfigError> =>
    Layer.scoped(ConfluenceClient, makeConfluenceClient(config));

  /** Like `layer`, with the configuration read by an Effect (e.g. the app's `Config`). */
  static readonly layerConfig = <E, R>(
    config: Effect.Effect<ConfluenceClientConfig, E, R>,
  ): Layer.Layer<ConfluenceClient, ConfluenceConfigError | E, R> =>
    Layer.scoped(ConfluenceClient, Effect.flatMap(config, makeConfluenceClient));
}

// internal

const MAX_PAGES = 1_000;

interface Paged<A> {
  readonly results: ReadonlyArray<A>;
  readonly _links?:
    | { readonly next?: string | null | undefined; readonly base?: string | null | undefined }
    | null
    | undefined;
}
const MAX_REFRESHES = 2;

/** Retries of a 404 on a page this call has just created, and the first wait (doubled each time). */
const NEW_PAGE_RETRIES = 4;
const NEW_PAGE_DELAY_MS = 250;

const build = (http: Http): ConfluenceClientService => {
  const cfg = http.config;
  const cloud = cfg.deployment === "cloud";
  const schedule = confluenceRetrySchedule({ maxRetries: cfg.maxRetries, retryDelayMs: cfg.retryDelayMs });
  const retried = <A>(eff: Effect.Effect<A, ConfluenceError>): Effect.Effect<A, ConfluenceError> =>
    Effect.retry(eff, schedule);
  const links: LinkBase = { siteUrl: cfg.siteUrl, fallback: cfg.apiBase };
  const pathOf = (api: Api, path: string) => new URL(http.urlOf(api, path)).pathname;
  const get = <A, I>(api: Api, path: string, schema: Schema.Schema<A, I>, query?: Query) =>
    http.json({ method: "GET", api, path, ...(query ? { query } : {}) }, schema);

  const spacesByKey = new Map<string, SpaceInfo>();
  const spacesById = new Map<string, SpaceInfo>();
  const remember = (s: SpaceInfo): SpaceInfo => {
    spacesByKey.set(s.key.toUpperCase(), s);
    spacesById.set(s.id, s);
    return s;
  };

  /** Follows `_links.next` until it is absent (a short or empty page is not the end on Cloud). */
  const collect = <A, I>(api: Api, first: HttpRequest, item: Schema.Schema<A, I>) =>
    Effect.gen(function* () {
      const out: Array<{ readonly item: A; readonly base: string | undefined }> = [];
      const seen = new Set<string>();
      let req: HttpRequest | undefined = first;
      for (let n = 0; req !== undefined && n < MAX_PAGES; n++) {
        const page: Paged<A> = yield* retried(http.json(req, api === "v1" ? V1List(item) : V2List(item)));
        for (const r of page.results) out.push({ item: r, base: page._links?.base ?? undefined });
        const next = page._links?.next;
        if (!next) break;
        const url = http.resolveNext(api, next);
        if (seen.has(url)) break;
        seen.add(url);
        req = { method: "GET", api, path: "", url };
      }
      return out;
    });

  const spaceKeyOf = (spaceId: string): Effect.Effect<string | undefined> =>
    spacesById.has(spaceId)
      ? Effect.succeed(spacesById.get(spaceId)?.key)
      : Effect.map(Effect.option(getSpace(spaceId)), (s) => (Option.isSome(s) ? s.value.key : undefined));

  const fromV2 = (p: V2Page) => Effect.map(spaceKeyOf(String(p.spaceId)), (key) => pageFromV2(p, links, key));

  // -- spaces

  // Operations are `Effect.fnUntraced`: a named `Effect.fn` captures a call-site stack trace on
  // every call (~20 µs), and these run several times for every protocol published.
  const getSpace = Effect.fnUntraced(function* (keyOrId: string) {
    const cached = spacesByKey.get(keyOrId.toUpperCase()) ?? spacesById.get(keyOrId);
    if (cached) return cached;
    const numeric = /^\d+$/.test(keyOrId);
    if (cloud) {
      if (numeric) {
        const byId = yield* retried(get("v2", `/spaces/${keyOrId}`, V2Space)).pipe(
          Effect.map(Option.some),
          Effect.catchTag("ConfluenceNotFoundError", () => Effect.succeed(Option.none())),
        );
        if (Option.isSome(byId)) return remember(spaceOf(byId.value));
      }
      const list = yield* retried(get("v2", "/spaces", V2List(V2Space), { keys: keyOrId, limit: 25 }));
      const match = list.results.find((s) => s.key.toUpperCase() === keyOrId.toUpperCase());
      if (match) return remember(spaceOf(match));
      return yield* notFound("v2", "/spaces", `no space with key ${keyOrId}`);
    }
    const spaceByKey = (key: string) =>
      retried(get("v1", `/space/${encodeURIComponent(key)}`, V1Space, { expand: "homepage" }));
    // Cloud matches keys in any case; whether a Data Center server does is not documented. A
    // global space's key is upper case, so a key given in another case is asked for as such too
    // (personal space keys, "~user", are left as they are).
    const upper = keyOrId.toUpperCase();
    const byKey = yield* spaceByKey(keyOrId).pipe(
      Effect.catchTag("ConfluenceNotFoundError", (e) =>
        !numeric && !keyOrId.startsWith("~") && upper !== keyOrId ? spaceByKey(upper) : Effect.fail(e),
      ),
      Effect.map(Option.some),
      Effect.catchTag("ConfluenceNotFoundError", (e) =>
        numeric ? Effect.succeed(Option.none()) : Effect.fail(e),
      ),
    );
    if (Option.isSome(byKey)) return remember(spaceOf(byKey.value));
    const list = yield* retried(
      get("v1", "/space", V1List(V1Space), { spaceId: keyOrId, expand: "homepage" }),
    );
    // A server that ignores `spaceId` lists every space: only an id match counts.
    const match = list.results.find((sp) => String(sp.id) === keyOrId);
    if (match) return remember(spaceOf(match));
    return yield* notFound("v1", "/space", `no space with key or id ${keyOrId}`);
  });

  const notFound = (api: Api, path: string, message: string) =>
    Effect.fail(
      new ConfluenceNotFoundError({
        method: "GET",
        path: pathOf(api, path),
        confluenceMessage: message,
        locale: cfg.locale,
      }),
    );

  // -- pages

  const readPage = (id: string, body: boolean): Effect.Effect<PageInfo, ConfluenceError> =>
    cloud
      ? Effect.flatMap(
          get(
            "v2",
            `/pages/${encodeURIComponent(id)}`,
            V2Page,
            body ? { "body-format": "storage" } : undefined,
          ),
          fromV2,
        )
      : Effect.map(
          get("v1", `/content/${encodeURIComponent(id)}`, V1Content, {
            expand: `space,version,ancestors${body ? ",body.storage" : ""}`,
          }),
          (c) => pageFromV1(c, links),
        );

  const getPageInfo = Effect.fnUntraced(function* (id: string, options?: { readonly body?: boolean }) {
    return yield* retried(readPage(id, options?.body === true));
  });

  const lookupByTitle = (
    space: SpaceInfo,
    title: string,
  ): Effect.Effect<Option.Option<PageInfo>, ConfluenceError> =>
    Effect.gen(function* () {
      if (cloud) {
        const list = yield* get("v2", "/pages", V2List(V2Page), {
          "space-id": space.id,
          title,
          // Archived pages keep their title (REST-API.md §4.4, §9): a title-exists 400 may name one.
          status: ["current", "archived"],
          limit: 25,
        });
        // The exact casing first, and a current page before an archived one.
        const rank = (p: V2Page) =>
          (p.title === title ? 0 : 2) + ((p.status ?? "current") === "current" ? 0 : 1);
        const pick = list.results
          .filter((p) => sameTitle(p.title, title))
          .reduce<V2Page | undefined>(
            (best, p) => (best === undefined || rank(p) < rank(best) ? p : best),
            undefined,
          );
        // A list's rows carry no site base; the list's own `_links.base` is the one (REST-API.md §6.2).
        return pick
          ? Option.some(pageFromV2(pick, links, space.key, list._links?.base ?? undefined))
          : Option.none();
      }
      const list = yield* get("v1", "/content", V1List(V1Content), {
        type: "page",
        spaceKey: space.key,
        title,
        status: "current",
        expand: "space,version,ancestors",
      });
      const exact = list.results.find((c) => c.title === title);
      if (exact) return Option.some(pageFromV1(exact, links));
      // v1 `title=` is case-sensitive but the uniqueness check is not: look for other casings via CQL
      // (best effort: CQL lags writes, and an unsupported query must not hide the exact lookup's answer).
      const cql = `space = ${cqlString(space.key)} and type = page and title ~ ${cqlString(title)}`;
      const fuzzy = yield* Effect.either(searchAll(cql));
      if (fuzzy._tag === "Left") {
        if (isRetryable(fuzzy.left)) return yield* Effect.fail(fuzzy.left);
        return Option.none();
      }
      const match = fuzzy.right.find((p) => sameTitle(p.title, title));
      return match ? Option.some(match) : Option.none();
    });

  const findPageByTitle = Effect.fnUntraced(function* (spaceKey: string, title: string) {
    const space = yield* getSpace(spaceKey);
    return yield* retried(lookupByTitle(space, title));
  });

  const searchAll = (cql: string) =>
    Effect.map(
      collect(
        "v1",
        {
          method: "GET",
          api: "v1",
          path: "/content/search",
          query: { cql, limit: cfg.pageSize ?? 50, expand: "space,version,ancestors" },
        },
        V1Content,
      ),
      (rows) =>
        rows
          .filter((r) => r.item.type == null || r.item.type === "page")
          .map((r) => pageFromV1(r.item, links, r.base)),
    );

  const searchPages = Effect.fnUntraced(function* (cql: string) {
    return yield* searchAll(cql);
  });

  const getChildren = Effect.fnUntraced(function* (pageId: string) {
    if (cloud) {
      const rows = yield* collect(
        "v2",
        {
          method: "GET",
          api: "v2",
          path: `/pages/${encodeURIComponent(pageId)}/children`,
          query: { limit: cfg.pageSize ?? 250 },
        },
        V2Child,
      );
      return rows.map((r) => summaryOf(r.item));
    }
    const rows = yield* collect(
      "v1",
      {
        method: "GET",
        api: "v1",
        path: `/content/${encodeURIComponent(pageId)}/child/page`,
        query: { limit: cfg.pageSize ?? 100, expand: "space" },
      },
      V1Content,
    );
    return rows.map((r) => summaryOf({ ...r.item, spaceId: r.item.space?.id ?? null }));
  });

  const postCreate = (space: SpaceInfo, input: CreatePageInput): Effect.Effect<PageInfo, ConfluenceError> => {
    if (cloud) {
      const body = {
        spaceId: space.id,
        status: "current",
        title: input.title,
        ...(input.parentId ? { parentId: input.parentId } : {}),
        body: { representation: "storage", value: input.body },
      };
      return Effect.map(http.json({ method: "POST", api: "v2", path: "/pages", body }, V2Page), (p) =>
        pageFromV2(p, links, space.key),
      );
    }
    const parent = input.parentId ?? space.homepageId;
    const body = {
      type: "page",
      title: input.title,
      space: { key: space.key },
      status: "current",
      ...(parent ? { ancestors: [{ id: parent }] } : {}),
      body: { storage: { value: input.body, representation: "storage" } },
      // Labels go with the page. The property does not: `metadata.properties` on create is documented
      // for Cloud v1 only (REST-API.md §4.1; openapi-v1.json's ContentCreate has no `metadata`), and a
      // Data Center that ignores it would leave the page unmarked. It is written right after, as on Cloud.
      ...(hasLabels(input) ? { metadata: { labels: labelBodies(input.labels) } } : {}),
    };
    return Effect.map(
      http.json(
        { method: "POST", api: "v1", path: "/content", query: { expand: "space,version,ancestors" }, body },
        V1Content,
      ),
      (c) => pageFromV1(c, links),
    );
  };

  const createPage = Effect.fnUntraced(function* (input: CreatePageInput) {
    const space = yield* getSpace(input.spaceKey);
    let landed = false;
    let adopted = false;

    const conflict = (cause: ConfluenceTitleConflictError | undefined, existingPageId: string | undefined) =>
      new ConfluenceTitleConflictError({
        method: cause?.method ?? "POST",
        path: cause?.path ?? pathOf(cloud ? "v2" : "v1", cloud ? "/pages" : "/content"),
        ...(cause?.status !== undefined ? { status: cause.status } : {}),
        ...(cause?.confluenceMessage !== undefined ? { confluenceMessage: cause.confluenceMessage } : {}),
        locale: cfg.locale,
        title: input.title,
        spaceKey: space.key,
        ...(existingPageId !== undefined ? { existingPageId } : {}),
      });

    /** Adopts `found` if it is provably the page this call (or the job owning `property`) created. */
    const adoptOrConflict = (found: PageInfo, cause: ConfluenceTitleConflictError | undefined) =>
      Effect.flatMap(isOurs(found, input, space, landed), (mine) => {
        if (!mine) return Effect.fail(conflict(cause, found.id));
        adopted = true;
        return Effect.succeed(found);
      });

    const attempt = Effect.gen(function* () {
      if (landed) {
        // An earlier attempt may have created the page although we saw no answer: look before sending again.
        const found = yield* lookupByTitle(space, input.title);
        if (Option.isSome(found)) return yield* adoptOrConflict(found.value, undefined);
      }
      return yield* postCreate(space, input).pipe(
        Effect.tapError((e) =>
          Effect.sync(() => {
            if (mayHaveLanded(e)) landed = true;
          }),
        ),
        Effect.catchTag("ConfluenceTitleConflictError", (cause) =>
          Effect.flatMap(lookupByTitle(space, input.title), (found) =>
            Option.isSome(found)
              ? adoptOrConflict(found.value, cause)
              : Effect.fail(conflict(cause, undefined)),
          ),
        ),
      );
    });

    const page = yield* Effect.retry(attempt, schedule);
    const after: Array<Effect.Effect<unknown, ConfluenceError>> = [];
    if (input.property) {
      // Neither v2 nor Data Center's v1 sets a property at creation: this is the crash window (see
      // README). An adopted page gets it too (a no-op read when it is already there); a page this call created has none
      // yet, so it is written without reading first.
      after.push(
        onNewPage(
          setPropertyOnce(
            page.id,
            input.property.key,
            input.property.value,
            adopted ? undefined : Option.none(),
          ),
        ),
      );
    }
    // Labels are added to what the page has, so writing them again (adopted page) changes nothing.
    if (hasLabels(input) && (cloud || adopted)) after.push(onNewPage(addLabelsOnce(page.id, input.labels)));
    // Independent writes to the new page: both in flight at once, one round trip instead of two.
    yield* Effect.all(after, { concurrency: "unbounded", discard: true });
    return page;
  });

  /**
   * Writes to a page this call has just created answer 404 for a moment on Cloud (REST-API.md §8.1,
   * eventual consistency right after a create): a few short, unjittered retries, then the 404.
   */
  const onNewPage = <A>(write: Effect.Effect<A, ConfluenceError>): Effect.Effect<A, ConfluenceError> =>
    Effect.retry(write, {
      schedule: Schedule.exponential(Duration.millis(Math.min(cfg.retryDelayMs, NEW_PAGE_DELAY_MS)), 2).pipe(
        Schedule.intersect(Schedule.recurs(NEW_PAGE_RETRIES)),
      ),
      while: (e) => e._tag === "ConfluenceNotFoundError",
    });

  /**
   * Whether `found`, holding the title we just tried to create, is provably ours (REST-API.md §10
   * step 3): its property matches; or, without one, our attempt may have landed and the page is
   * exactly what it would have made — version 1, where we asked for it. Only a current page: an
   * archived one keeps its title but is no one's to write.
   */
  const isOurs = (found: PageInfo, input: CreatePageInput, space: SpaceInfo, landed: boolean) =>
    Effect.gen(function* () {
      if (found.status !== "current") return false;
      // A page created without a parent goes under the space homepage (v2's rule; v1 is sent it).
      const placed = found.parentId === (input.parentId ?? space.homepageId);
      const unproven = landed && found.version.number === 1 && placed;
      if (input.property) {
        const prop = yield* getPropertyOnce(found.id, input.property.key);
        if (Option.isSome(prop)) return jsonEqual(prop.value.value, input.property.value);
      }
      return unproven;
    });

  /**
   * One update request, and whether it wrote `version`. A page in the trash answers 200 without
   * being written: v2 takes `status: current` as a restore that leaves content and version alone
   * (openapi-v2.json `PageUpdateRequest.status`).
   */
  const putUpdate = (
    input: UpdatePageInput,
    version: number,
  ): Effect.Effect<{ readonly page: PageInfo; readonly written: boolean }, ConfluenceError> => {
    const id = encodeURIComponent(input.id);
    const written = (reported: number | undefined) => reported === undefined || reported === version;
    if (cloud) {
      const body = {
        id: input.id,
        status: "current",
        title: input.title,
        ...(input.parentId ? { parentId: input.parentId } : {}),
        body: { representation: "storage", value: input.body },
        // v2's update schema has no minorEdit (OpenAPI PageUpdateRequest.version = number + message).
        version: { number: version, ...(input.message !== undefined ? { message: input.message } : {}) },
      };
      return Effect.flatMap(
        http.json({ method: "PUT", api: "v2", path: `/pages/${id}`, body }, V2Page),
        (p) => Effect.map(fromV2(p), (page) => ({ page, written: written(p.version?.number) })),
      );
    }
    const body = {
      id: input.id,
      type: "page",
      title: input.title,
      version: {
        number: version,
        ...(input.message !== undefined ? { message: input.message } : {}),
        ...(input.minorEdit !== undefined ? { minorEdit: input.minorEdit } : {}),
      },
      ...(input.parentId ? { ancestors: [{ id: input.parentId }] } : {}),
      body: { storage: { value: input.body, representation: "storage" } },
    };
    return Effect.map(
      http.json(
        {
          method: "PUT",
          api: "v1",
          path: `/content/${id}`,
          query: { expand: "space,version,ancestors" },
          body,
        },
        V1Content,
      ),
      (c) => ({ page: pageFromV1(c, links), written: written(c.version?.number) }),
    );
  };

  const updatePage = Effect.fnUntraced(function* (input: UpdatePageInput) {
    let version = input.version;
    for (let refresh = 0; ; refresh++) {
      let landed = false;
      const result = yield* Effect.either(
        Effect.retry(
          putUpdate(input, version).pipe(
            Effect.tapError((e) =>
              Effect.sync(() => {
                if (mayHaveLanded(e)) landed = true;
              }),
            ),
          ),
          schedule,
        ),
      );
      if (result._tag === "Right") {
        if (result.right.written) return result.right.page;
        return yield* putBackInTrash(input.id, version, result.right.page);
      }
      const error = result.left;
      if (error._tag !== "ConfluenceVersionConflictError") return yield* Effect.fail(error);
      // The body only when it decides: our earlier attempt may have landed (REST-API.md §7.2 notes).
      const current = yield* retried(readPage(input.id, landed));
      // A retried PUT whose first attempt landed meets its own version: that is success, not a
      // conflict, if the page is what we sent — someone else's version with our title is not ours.
      if (
        landed &&
        current.version.number === version &&
        current.title === input.title &&
        current.body !== undefined &&
        sameStorage(current.body, input.body)
      )
        return current;
      if (input.refreshOnConflict === false || refresh >= MAX_REFRESHES) return yield* Effect.fail(error);
      version = current.version.number + 1;
    }
  });

  /**
   * Our update restored a trashed page instead of writing it: the page goes back to the trash, where
   * a person put it, and the caller learns the page is gone (as it would for a deleted one).
   */
  const putBackInTrash = (id: string, version: number, restored: PageInfo) =>
    Effect.gen(function* () {
      const path = cloud ? `/pages/${encodeURIComponent(id)}` : `/content/${encodeURIComponent(id)}`;
      const api: Api = cloud ? "v2" : "v1";
      const back = yield* Effect.either(
        idempotentDelete({ method: "DELETE", api, path }).pipe(
          // Trashed again meanwhile: where it belongs.
          Effect.catchTag("ConfluenceNotFoundError", () => Effect.void),
        ),
      );
      const outcome =
        back._tag === "Right"
          ? "it was moved back to the trash"
          : `moving it back to the trash failed (${back.left._tag}), so it is current again`;
      return yield* new ConfluenceNotFoundError({
        method: "PUT",
        path: pathOf(api, path),
        status: 200,
        confluenceMessage: `page ${id} was in the trash: the update restored it at version ${restored.version.number} instead of writing version ${version}; ${outcome}`,
        hint: "page-was-trashed",
        locale: cfg.locale,
      });
    });

  const deletePage = Effect.fnUntraced(function* (id: string, options?: { readonly purge?: boolean }) {
    const path = cloud ? `/pages/${encodeURIComponent(id)}` : `/content/${encodeURIComponent(id)}`;
    const api: Api = cloud ? "v2" : "v1";
    const del = (query?: Query) =>
      idempotentDelete({ method: "DELETE", api, path, ...(query ? { query } : {}) });
    const trashed = yield* Effect.either(del());
    if (!options?.purge) {
      if (trashed._tag === "Left") return yield* Effect.fail(trashed.left);
      return;
    }
    // Purge works on a trashed page; a page already in the trash makes the first call 404.
    if (trashed._tag === "Left" && trashed.left._tag !== "ConfluenceNotFoundError")
      return yield* Effect.fail(trashed.left);
    yield* del(cloud ? { purge: true } : { status: "trashed" }).pipe(
      Effect.catchTag("ConfluenceNotFoundError", (e) =>
        trashed._tag === "Left" ? Effect.fail(trashed.left) : Effect.fail(e),
      ),
    );
  });

  /** A DELETE retried after a lost answer meets 404: that is the first attempt's success. */
  const idempotentDelete = (req: HttpRequest): Effect.Effect<void, ConfluenceError> =>
    Effect.suspend(() => {
      let landed = false;
      return Effect.retry(
        http.send(req).pipe(
          Effect.tapError((e) =>
            Effect.sync(() => {
              if (mayHaveLanded(e)) landed = true;
            }),
          ),
        ),
        schedule,
      ).pipe(
        Effect.asVoid,
        Effect.catchTag("ConfluenceNotFoundError", (e) => (landed ? Effect.void : Effect.fail(e))),
      );
    });

  const movePage = Effect.fnUntraced(function* (
    id: string,
    options: {
      readonly targetId: string;
      readonly position: MovePosition;
      readonly message?: string;
      readonly expectedVersion?: number;
    },
  ) {
    if (!cloud) return yield* moveByAncestors(id, options);
    const path = `/content/${encodeURIComponent(id)}/move/${options.position}/${encodeURIComponent(options.targetId)}`;
    yield* retried(http.send({ method: "PUT", api: "v1", path }));
    return yield* retried(readPage(id, false));
  });

  /**
   * Data Center's move (REST-API.md §4.3: v1 moves a page by `ancestors` on PUT; the `move`
   * resource is documented for Cloud only): the page is written back as it is, under the new parent.
   */
  const moveByAncestors = (
    id: string,
    options: {
      readonly targetId: string;
      readonly position: MovePosition;
      readonly message?: string;
      readonly expectedVersion?: number;
    },
  ): Effect.Effect<PageInfo, ConfluenceError> =>
    Effect.gen(function* () {
      const path = `/content/${encodeURIComponent(id)}`;
      if (options.position !== "append") {
        return yield* new ConfluenceValidationError({
          method: "PUT",
          path: pathOf("v1", path),
          confluenceMessage: `Data Center moves a page only under a parent (append), not ${options.position} a sibling`,
          locale: cfg.locale,
        });
      }
      for (let refresh = 0; ; refresh++) {
        const page = yield* retried(readPage(id, true));
        // Already there: nothing to write (also a retry whose earlier write landed).
        if (page.parentId === options.targetId) return page;
        if (options.expectedVersion !== undefined && page.version.number !== options.expectedVersion) {
          return yield* new ConfluenceVersionConflictError({
            method: "PUT",
            path: pathOf("v1", path),
            confluenceMessage: `page ${id} is at version ${page.version.number}, not ${options.expectedVersion}; it was not moved`,
            currentVersion: page.version.number,
            locale: cfg.locale,
          });
        }
        if (page.body === undefined) {
          // Writing the page back without its body would empty it.
          return yield* new ConfluenceValidationError({
            method: "GET",
            path: pathOf("v1", path),
            confluenceMessage: `Confluence returned page ${id} without its storage body; it was not moved`,
            locale: cfg.locale,
          });
        }
        const body = {
          id,
          type: "page",
          title: page.title,
          version: {
            number: page.version.number + 1,
            message: options.message ?? "Page moved",
            minorEdit: true,
          },
          ancestors: [{ id: options.targetId }],
          body: { storage: { value: page.body, representation: "storage" } },
        };
        const written = yield* Effect.either(
          retried(
            http.json(
              { method: "PUT", api: "v1", path, query: { expand: "space,version,ancestors" }, body },
              V1Content,
            ),
          ),
        );
        if (written._tag === "Right") return pageFromV1(written.right, links);
        if (written.left._tag !== "ConfluenceVersionConflictError" || refresh >= MAX_REFRESHES)
          return yield* Effect.fail(written.left);
      }
    });

  // -- archiving (Cloud only)

  const cloudOnly = (method: string, path: string) =>
    Effect.fail(
      new ConfluenceValidationError({
        method,
        path: pathOf("v1", path),
        confluenceMessage: "page archiving through the REST API exists only on Confluence Cloud",
        locale: cfg.locale,
      }),
    );

  const archivePages = Effect.fnUntraced(function* (ids: ReadonlyArray<string>) {
    if (!cloud) return yield* cloudOnly("POST", "/content/archive");
    const body = { pages: ids.map((id) => ({ id: Number(id) })) };
    const accepted = yield* http.json(
      { method: "POST", api: "v1", path: "/content/archive", body },
      ArchiveAccepted,
    );
    return String(accepted.id);
  });

  const getLongTask = Effect.fnUntraced(function* (id: string) {
    if (!cloud) return yield* cloudOnly("GET", `/longtask/${id}`);
    const task = yield* retried(get("v1", `/longtask/${encodeURIComponent(id)}`, LongTask));
    return {
      id: String(task.id),
      finished: task.finished,
      successful: task.successful,
      percentageComplete: task.percentageComplete,
      messages: [...task.messages, ...(task.errors ?? [])].flatMap((m) =>
        typeof m.translation === "string" ? [m.translation] : [],
      ),
    } satisfies LongTaskInfo;
  });

  // -- labels (writes are v1-only on Cloud too)

  const getLabels = Effect.fnUntraced(function* (pageId: string) {
    const id = encodeURIComponent(pageId);
    const rows = cloud
      ? yield* collect(
          "v2",
          { method: "GET", api: "v2", path: `/pages/${id}/labels`, query: { limit: cfg.pageSize ?? 250 } },
          Label,
        )
      : yield* collect(
          "v1",
          { method: "GET", api: "v1", path: `/content/${id}/label`, query: { limit: cfg.pageSize ?? 200 } },
          Label,
        );
    return rows.map((r) => r.item.name);
  });

  const addLabelsOnce = (pageId: string, names: ReadonlyArray<string>) =>
    retried(
      http.json(
        {
          method: "POST",
          api: "v1",
          path: `/content/${encodeURIComponent(pageId)}/label`,
          body: labelBodies(names),
        },
        V1List(Label),
      ),
    ).pipe(Effect.map((res) => res.results.map((l) => l.name)));

  const addLabels = Effect.fnUntraced(function* (pageId: string, names: ReadonlyArray<string>) {
    if (names.length === 0) return yield* getLabels(pageId);
    return yield* addLabelsOnce(pageId, names);
  });

  const removeLabel = Effect.fnUntraced(function* (pageId: string, name: string) {
    // Always the query form (Cloud and Data Center both have it): as a path segment a name "/"
    // cannot be, and "." or ".." would be resolved away, turning the request into one on the page.
    yield* retried(
      http.send({
        method: "DELETE",
        api: "v1",
        path: `/content/${encodeURIComponent(pageId)}/label`,
        query: { name },
      }),
    );
  });

  // -- content properties

  const getPropertyOnce = (
    pageId: string,
    key: string,
  ): Effect.Effect<Option.Option<ContentProperty>, ConfluenceError> => {
    const id = encodeURIComponent(pageId);
    if (cloud)
      return Effect.map(get("v2", `/pages/${id}/properties`, V2List(Property), { key }), (list) => {
        const found = list.results.find((p) => p.key === key);
        return found ? Option.some(propertyOf(found)) : Option.none();
      });
    return get("v1", `/content/${id}/property/${encodeURIComponent(key)}`, Property, {
      expand: "version",
    }).pipe(
      Effect.map((p) => Option.some(propertyOf(p))),
      // v1 answers 404 both for a missing key and a missing page: tell them apart.
      Effect.catchTag("ConfluenceNotFoundError", (e) =>
        Effect.as(
          http
            .send({ method: "GET", api: "v1", path: `/content/${id}` })
            .pipe(Effect.catchTag("ConfluenceNotFoundError", () => Effect.fail(e))),
          Option.none(),
        ),
      ),
    );
  };

  const getProperty = Effect.fnUntraced(function* (pageId: string, key: string) {
    return yield* retried(getPropertyOnce(pageId, key));
  });

  /**
   * One read-then-write round (the read skipped when `known`); a concurrent writer makes it fail
   * with a version conflict.
   */
  const writeProperty = (
    pageId: string,
    key: string,
    value: JsonValue,
    known?: Option.Option<ContentProperty>,
  ): Effect.Effect<ContentProperty, ConfluenceError> =>
    Effect.gen(function* () {
      const id = encodeURIComponent(pageId);
      const current = known ?? (yield* getPropertyOnce(pageId, key));
      if (Option.isSome(current) && jsonEqual(current.value.value, value)) return current.value;
      const next = Option.isSome(current) ? current.value.version + 1 : 1;
      if (cloud) {
        if (Option.isNone(current) || current.value.id === undefined)
          return propertyOf(
            yield* http.json(
              { method: "POST", api: "v2", path: `/pages/${id}/properties`, body: { key, value } },
              Property,
            ),
          );
        const body = { key, value, version: { number: next } };
        const path = `/pages/${id}/properties/${encodeURIComponent(current.value.id)}`;
        return propertyOf(yield* http.json({ method: "PUT", api: "v2", path, body }, Property));
      }
      // v1 PUT with version 1 creates the property when absent; a racing creator gets 409.
      const body = { key, value, version: { number: next, minorEdit: true } };
      const path = `/content/${id}/property/${encodeURIComponent(key)}`;
      return propertyOf(yield* http.json({ method: "PUT", api: "v1", path, body }, Property));
    });

  const setPropertyOnce = (
    pageId: string,
    key: string,
    value: JsonValue,
    known?: Option.Option<ContentProperty>,
  ): Effect.Effect<ContentProperty, ConfluenceError> =>
    Effect.suspend(() => {
      // Only the first round trusts `known`; every retry reads the property again.
      let trusted = known;
      const round = Effect.suspend(() => {
        const k = trusted;
        trusted = undefined;
        return writeProperty(pageId, key, value, k).pipe(
          // A property deleted since it was read: read again (and create it) in the next round.
          Effect.catchTag("ConfluenceNotFoundError", (e) =>
            k !== undefined && Option.isSome(k) ? writeProperty(pageId, key, value) : Effect.fail(e),
          ),
        );
      });
      return Effect.retry(retried(round), {
        times: MAX_REFRESHES,
        while: (e) =>
          e._tag === "ConfluenceVersionConflictError" ||
          (e._tag === "ConfluenceValidationError" && /already/i.test(e.confluenceMessage ?? "")),
      });
    });

  const setProperty = Effect.fnUntraced(function* (
    pageId: string,
    key: string,
    value: JsonValue,
    current?: Option.Option<ContentProperty>,
  ) {
    return yield* setPropertyOnce(pageId, key, value, current);
  });

  // -- connection

  const testConnection = Effect.fnUntraced(function* () {
    const user = yield* retried(get("v1", "/user/current", V1User)).pipe(Effect.mapError(asAuthFailure));
    const accountId = user.accountId ?? undefined;
    const username = user.username ?? undefined;
    if (user.type === "anonymous" || (accountId === undefined && username === undefined)) {
      return yield* new ConfluenceAuthenticationError({
        method: "GET",
        path: pathOf("v1", "/user/current"),
        status: 200,
        confluenceMessage: "the server answered as the anonymous user",
        hint: cloud ? "cloud-credentials" : anonymousHint(cfg.deploymentDetected, cfg.auth.type),
        locale: cfg.locale,
      });
    }
    if (cloud) {
      // Classic scopes authorise v1 but not v2; a credential problem shows on v2 as a bare 404.
      yield* retried(get("v2", "/spaces", V2List(V2Space), { limit: 1 })).pipe(
        Effect.mapError(asAuthFailure),
      );
    }
    const info: ConnectionInfo = {
      deployment: cfg.deployment,
      ...(accountId !== undefined ? { accountId } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(user.userKey != null ? { userKey: user.userKey } : {}),
      displayName: user.displayName ?? user.publicName ?? username ?? accountId ?? "",
      siteUrl: cfg.siteUrl ?? cfg.apiBase,
    };
    return info;
  });

  const asAuthFailure = (e: ConfluenceError): ConfluenceError => {
    if (e._tag === "ConfluenceNotFoundError" && e.hint === "cloud-v2-not-found-may-be-credentials")
      return new ConfluenceAuthenticationError({ ...stripTag(e), hint: "cloud-credentials" });
    return e;
  };

  return {
    deployment: cfg.deployment,
    testConnection,
    createPage,
    updatePage,
    getPageInfo,
    searchPages,
    findPageByTitle,
    getSpace,
    getChildren,
    addLabels,
    getLabels,
    removeLabel,
    getProperty,
    setProperty,
    deletePage,
    movePage,
    archivePages,
    getLongTask,
  };
};

const loadCa = (config: ConfluenceClientConfig, resolved: ResolvedConfig) =>
  Effect.gen(function* () {
    const inline =
      config.ca === undefined ? [] : typeof config.ca === "string" ? [config.ca] : [...config.ca];
    const file =
      config.caFile === undefined
        ? []
        : [
            yield* Effect.tryPromise({
              try: () => readFile(config.caFile as string, "utf8"),
              catch: (cause) =>
                new ConfluenceConfigError({
                  field: "caFile",
                  reason: `cannot be read (${(cause as { code?: string }).code ?? "error"})`,
                  locale: resolved.locale,
                }),
            }),
          ];
    const all = [...inline, ...file];
    for (const pem of all)
      if (!pem.includes("-----BEGIN CERTIFICATE-----"))
        return yield* new ConfluenceConfigError({
          field: "ca",
          reason: "is not a PEM certificate",
          locale: resolved.locale,
        });
    return all;
  });

/** Whether a new page comes with labels. */
const hasLabels = (
  input: CreatePageInput,
): input is CreatePageInput & { readonly labels: ReadonlyArray<string> } =>
  input.labels !== undefined && input.labels.length > 0;

/** Labels as v1 takes them (global ones: what `addLabels` documents). */
const labelBodies = (names: ReadonlyArray<string>) => names.map((name) => ({ prefix: "global", name }));

const sameTitle = (a: string, b: string): boolean => a.toLocaleLowerCase("en") === b.toLocaleLowerCase("en");

/** A CQL string literal: `"` and `\` escaped, so a title cannot rewrite the query. */
const cqlString = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

const jsonEqual = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
};

const stripTag = (e: ConfluenceNotFoundError) => ({
  method: e.method,
  path: e.path,
  ...(e.status !== undefined ? { status: e.status } : {}),
  ...(e.confluenceMessage !== undefined ? { confluenceMessage: e.confluenceMessage } : {}),
  ...(e.locale !== undefined ? { locale: e.locale } : {}),
});
