/**
 * `create_index_page`: one page per space and parent listing every protocol published there
 * (date, linked title, last updated), rewritten from the store after each publication.
 *
 * Publications race, within one publisher and across several. Within a process, refreshes of one
 * index are coalesced: a request waits for a run that starts after it was made, so a burst of
 * publications costs a couple of writes, not one each. Across processes, Confluence's page
 * versions decide: each write reads the page version first, then renders from the store, and
 * sends version + 1. A conflict means someone wrote in between; the write is rendered again from
 * the store — which by then holds that writer's record — so no publication goes missing.
 */
import { createHash } from "node:crypto";
import type { ConfluenceClientService, ConfluenceError, PageInfo } from "@minutes/confluence-core";
import { canonicalSpaceKey, JOB_PROPERTY_KEY, type MinutesConfig } from "@minutes/contracts";
import type {
  IndexListing,
  IndexLocation,
  PublicationStoreShape,
  StoreUnavailableError,
} from "@minutes/publication-store";
import { Cause, Data, Duration, Effect, Option, Runtime } from "effect";
import { isAdoptable } from "./PublishPipeline.js";

/** Key of the content property that marks a page as the index of a space and parent. */
export const INDEX_PROPERTY_KEY = "minutes.index";

/** How often one refresh re-renders after version conflicts before it gives up (and logs). */
const MAX_CONFLICTS = 25;

/** The index title and its fallback was taken by pages Minutes does not own. */
export class IndexTitleTakenError extends Data.TaggedError("IndexTitleTakenError")<{
  readonly spaceKey: string;
  readonly title: string;
}> {
  override get message(): string {
    return `cannot create the index page: "${this.title}" in space ${this.spaceKey} is another page's title`;
  }
}

/** Keeps index pages current. */
export interface IndexPages {
  /**
   * Rewrites the index of `location` from the store, if it changed; returns once a refresh that
   * started after this call has finished. Never fails: problems are logged and the next
   * publication there tries again.
   */
  readonly refresh: (location: IndexLocation, confluence: ConfluenceClientService) => Effect.Effect<void>;
}

/**
 * The places Minutes keeps index pages by its routing rules: each rule's space and parent (a rule
 * without them takes `space_key`/`parent_page_id`, as routing does), then the defaults, in that
 * order. An event may name a space and parent of its own; those are not known in advance.
 */
export const routedLocations = (
  confluence: Pick<MinutesConfig["confluence"], "routing_rules" | "space_key" | "parent_page_id">,
): ReadonlyArray<IndexLocation> => [
  ...confluence.routing_rules.map((rule) => ({
    spaceKey: canonicalSpaceKey(rule.space_key ?? confluence.space_key),
    parentPageId: rule.parent_page_id !== undefined ? rule.parent_page_id : confluence.parent_page_id,
  })),
  { spaceKey: canonicalSpaceKey(confluence.space_key), parentPageId: confluence.parent_page_id },
];

/**
 * The index that lists a meeting whose page a person moved to `spaceKey` (Cloud can move pages
 * across spaces): the first of {@link routedLocations} in that space. None when no rule routes
 * there: Minutes makes no index page in a space nobody routed to, and such a meeting is listed by
 * no index (the one of its route's space would link to a title that is not in that space).
 */
export const indexLocationIn = (
  confluence: Pick<MinutesConfig["confluence"], "routing_rules" | "space_key" | "parent_page_id">,
  spaceKey: string,
): Option.Option<IndexLocation> =>
  Option.fromNullable(
    routedLocations(confluence).find((l) => l.spaceKey.toUpperCase() === spaceKey.toUpperCase()),
  );

/** Whether `location` is one of {@link routedLocations}. */
export const isRoutedLocation = (
  confluence: Pick<MinutesConfig["confluence"], "routing_rules" | "space_key" | "parent_page_id">,
  location: IndexLocation,
): boolean =>
  routedLocations(confluence).some(
    (l) =>
      l.spaceKey.toUpperCase() === location.spaceKey.toUpperCase() &&
      l.parentPageId === location.parentPageId,
  );

/** Index pages over the store; `botIdentity` tells Minutes' own pages from people's. */
export const makeIndexPages = (
  config: MinutesConfig,
  store: PublicationStoreShape,
  botIdentity: () => ReadonlyArray<string>,
  options: {
    /**
     * Runs one (shared) refresh. The publisher runs them in a `FiberSet` its stop closes before
     * the Confluence client: a refresh outlives the caller that started it (others may wait for
     * it), so interrupting the caller alone would leave it writing after the stop.
     */
    readonly run?: (refresh: Effect.Effect<void>) => Promise<void>;
  } = {},
): IndexPages => {
  const title = config.confluence.advanced_settings.index_page_title;
  const labels = {
    ru: {
      date: "Дата",
      meeting: "Встреча",
      updated: "Обновлено",
      archived: "в архиве",
      intro: RU_INTRO,
      older: (n: number, shown: number) =>
        `Более старые встречи (${n}) здесь не перечислены: список показывает ${shown} последних. Они в дереве страниц и находятся поиском.`,
    },
    en: {
      date: "Date",
      meeting: "Meeting",
      updated: "Last updated",
      archived: "archived",
      intro: EN_INTRO,
      older: (n: number, shown: number) =>
        `${n} older ${n === 1 ? "meeting is" : "meetings are"} not listed here: the list shows the newest ${shown}. Find them in the page tree or with search.`,
    },
  }[config.confluence.locale];
  const pageIds = new Map<string, string>();
  /** What this process last wrote to each index page: skip identical rewrites. */
  const written = new Map<string, { readonly version: number; readonly hash: string }>();
  const runs = new Coalescer();

  const maxEntries = config.confluence.advanced_settings.index_max_entries;
  /** The newest meetings of `location`, as many as an index lists. */
  const listing = (location: IndexLocation) => store.listIndexed(location, { limit: maxEntries });

  const render = ({ items, total }: IndexListing): string => {
    const rows = items.map((r) => {
      const link = `<ac:link><ri:page ri:content-title="${xml(r.pageTitle ?? "")}" /><ac:plain-text-link-body><![CDATA[${cdata(r.pageTitle ?? "")}]]></ac:plain-text-link-body></ac:link>`;
      const archived = r.archivedAt !== null ? ` <em>(${labels.archived})</em>` : "";
      const date = r.meetingDate !== null ? `<time datetime="${xml(r.meetingDate)}" />` : "—";
      const updated = r.publishedAt !== null ? `${r.publishedAt.slice(0, 16).replace("T", " ")} UTC` : "—";
      return `<tr><td><p>${date}</p></td><td><p>${link}${archived}</p></td><td><p>${updated}</p></td></tr>`;
    });
    return [
      `<p>${labels.intro}</p>`,
      "<table><tbody>",
      `<tr><th><p>${labels.date}</p></th><th><p>${labels.meeting}</p></th><th><p>${labels.updated}</p></th></tr>`,
      ...rows,
      "</tbody></table>",
      // A page has a size limit (5 MB on Cloud), and every publication rewrites it.
      total > items.length ? `<p><em>${xml(labels.older(total - items.length, items.length))}</em></p>` : "",
    ].join("");
  };

  const keyOf = (location: IndexLocation) => `${location.spaceKey}|${location.parentPageId ?? ""}`;
  const propertyOf = (location: IndexLocation) => ({
    spaceKey: location.spaceKey,
    parentPageId: location.parentPageId,
  });
  const isIndexOf = (value: unknown, location: IndexLocation): boolean =>
    typeof value === "object" &&
    value !== null &&
    (value as { spaceKey?: unknown }).spaceKey === location.spaceKey &&
    ((value as { parentPageId?: unknown }).parentPageId ?? null) === location.parentPageId;

  /** The index page of `location` with its body: the known one, else found by title, else created. */
  const locate = (
    location: IndexLocation,
    confluence: ConfluenceClientService,
  ): Effect.Effect<PageInfo, ConfluenceError | StoreUnavailableError | IndexTitleTakenError> =>
    Effect.gen(function* () {
      const key = keyOf(location);
      const known = pageIds.get(key);
      if (known !== undefined) {
        const page = yield* confluence
          .getPageInfo(known, { body: true })
          .pipe(Effect.catchTag("ConfluenceNotFoundError", () => Effect.succeed(undefined)));
        if (page !== undefined && page.status === "current") return page;
        pageIds.delete(key); // deleted or trashed in Confluence: find or make it again
      }
      // The plain title first; when that is another page's (say another parent's index in the same
      // space), a title naming the parent.
      const titles = [title, `${title} (${location.parentPageId ?? location.spaceKey})`];
      for (const candidate of titles) {
        const found = yield* confluence.findPageByTitle(location.spaceKey, candidate);
        const id = Option.isSome(found)
          ? yield* owned(found.value, location, confluence)
          : yield* create(location, candidate, confluence);
        if (id !== undefined) {
          pageIds.set(key, id);
          return yield* confluence.getPageInfo(id, { body: true });
        }
      }
      return yield* new IndexTitleTakenError({ spaceKey: location.spaceKey, title });
    });

  /**
   * The page's id when it is this location's index (marked, or Minutes' own unedited page). An
   * archived page (Cloud) keeps its title but cannot be written: it is no one's index any more.
   */
  const owned = (page: PageInfo, location: IndexLocation, confluence: ConfluenceClientService) =>
    page.status !== "current"
      ? Effect.succeed(undefined)
      : confluence.getProperty(page.id, INDEX_PROPERTY_KEY).pipe(
          Effect.map((property) => {
            if (Option.isSome(property))
              return Effect.succeed(isIndexOf(property.value.value, location) ? page.id : undefined);
            // Created by a publisher that crashed before marking it; never a job's page (Minutes'
            // own version 1 too, when a meeting's title is the index's), which its property names.
            if (!isAdoptable(page, botIdentity())) return Effect.succeed(undefined);
            return confluence
              .getProperty(page.id, JOB_PROPERTY_KEY)
              .pipe(Effect.map((job) => (Option.isNone(job) ? page.id : undefined)));
          }),
          Effect.flatten,
        );

  /** Creates the index; another publisher creating it at the same moment wins, and its page is used. */
  const create = (location: IndexLocation, candidate: string, confluence: ConfluenceClientService) =>
    Effect.gen(function* () {
      const body = render(yield* listing(location));
      return yield* confluence
        .createPage({
          spaceKey: location.spaceKey,
          title: candidate,
          body,
          ...(location.parentPageId !== null ? { parentId: location.parentPageId } : {}),
          property: { key: INDEX_PROPERTY_KEY, value: propertyOf(location) },
        })
        .pipe(
          Effect.map((page): string | undefined => {
            // Confluence may store the body rewritten: remember what was sent, so the refresh
            // right after does not write the same index again as version 2.
            written.set(page.id, { version: page.version.number, hash: hashOf(body) });
            return page.id;
          }),
          Effect.catchTag("ConfluenceTitleConflictError", (conflict) =>
            conflict.existingPageId === undefined
              ? Effect.succeed(undefined)
              : confluence
                  .getPageInfo(conflict.existingPageId)
                  .pipe(Effect.flatMap((page) => owned(page, location, confluence))),
          ),
        );
    });

  /** One refresh: read the page, render from the store, write version + 1; again on a conflict. */
  const refreshOnce = (location: IndexLocation, confluence: ConfluenceClientService) =>
    Effect.gen(function* () {
      for (let conflicts = 0; ; conflicts++) {
        const page = yield* locate(location, confluence);
        // The store is read after the page version: a record committed before that version was
        // written is in it, and a later one makes our write conflict and render again.
        const body = render(yield* listing(location));
        const hash = hashOf(body);
        const last = written.get(page.id);
        if ((last?.version === page.version.number && last.hash === hash) || page.body === body) return;
        const result = yield* confluence
          .updatePage({
            id: page.id,
            title: page.title,
            body,
            version: page.version.number + 1,
            minorEdit: true,
            message: "Index updated by Minutes",
            refreshOnConflict: false,
          })
          .pipe(Effect.either);
        if (result._tag === "Right") {
          written.set(page.id, { version: result.right.version.number, hash });
          return;
        }
        if (result.left._tag !== "ConfluenceVersionConflictError" || conflicts >= MAX_CONFLICTS) {
          return yield* result.left;
        }
        // Someone else wrote the index meanwhile: back off a little (jittered) and render again.
        yield* Effect.sleep(Duration.millis(Math.round(Math.random() * 20 * Math.min(conflicts + 1, 10))));
      }
    }).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning("index page not updated; the next publication there tries again").pipe(
          Effect.annotateLogs({
            spaceKey: location.spaceKey,
            parentPageId: location.parentPageId ?? "",
            error: error._tag,
            reason: error.message,
          }),
        ),
      ),
      Effect.withSpan("IndexPages.refresh"),
    );

  return {
    refresh: (location, confluence) =>
      Effect.gen(function* () {
        const runtime = yield* Effect.runtime<never>();
        const run = options.run ?? Runtime.runPromise(runtime);
        // A refresh logs its own failures; a rejection is a stop's interruption (nothing to
        // report then) or a defect, which is logged rather than failing the caller's publication.
        yield* Effect.tryPromise({
          try: () => runs.request(keyOf(location), () => run(refreshOnce(location, confluence))),
          catch: (rejection) => rejection,
        }).pipe(
          Effect.catchAll((rejection) =>
            Runtime.isFiberFailure(rejection) &&
            Cause.isInterruptedOnly(rejection[Runtime.FiberFailureCauseId])
              ? Effect.void
              : Effect.logError("index page refresh failed").pipe(
                  Effect.annotateLogs({
                    reason: rejection instanceof Error ? rejection.message : String(rejection),
                  }),
                ),
          ),
        );
      }),
  };
};

// internal

const EN_INTRO =
  "Meeting protocols published by Minutes, newest meeting first. This page is kept up to date automatically: edits to it are overwritten.";
const RU_INTRO =
  "Протоколы встреч, опубликованные Minutes, новые сверху. Страница обновляется автоматически: правки в ней будут перезаписаны.";

const hashOf = (body: string): string => createHash("sha256").update(body).digest("hex");

const xml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** CDATA cannot contain `]]>`: split it across two sections. */
const cdata = (s: string): string => s.replace(/]]>/g, "]]]]><![CDATA[>");

/**
 * Runs at most one task per key at a time. A request made while a run is in progress waits for
 * the next run, which starts after the current one and serves every request made meanwhile.
 */
class Coalescer {
  private readonly states = new Map<string, { tail: Promise<void>; queued: Promise<void> | undefined }>();

  request(key: string, task: () => Promise<void>): Promise<void> {
    const state = this.states.get(key);
    if (state?.queued !== undefined) return state.queued;
    const current = state ?? { tail: Promise.resolve(), queued: undefined };
    const run: Promise<void> = current.tail.then(() => {
      // Started: later requests must wait for a run after this one.
      if (current.queued === run) current.queued = undefined;
      return task().catch(() => undefined);
    });
    current.queued = run;
    current.tail = run;
    this.states.set(key, current);
    void run.then(() => {
      if (current.tail === run) this.states.delete(key);
    });
    return run;
  }
}
