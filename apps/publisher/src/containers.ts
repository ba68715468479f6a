/**
 * Pages Minutes keeps to organise others — year and month pages, the archive page: found by title
 * or created on demand, exactly once. Many publications may need the same new page at the same
 * moment: a title conflict means another one just created it, and that page is used.
 *
 * Titles are unique per space, but a container belongs to one place in the tree: two routes in one
 * space each have their own "2025" under their own parent, and a person's page called "2025-09"
 * elsewhere in the space is not a month page. A page with the title that sits under another parent
 * is left alone, and the container takes the title naming its tree, `2025 (<route parent id or
 * space key>)` (the index page's rule): deterministic, so every publisher picks the same one.
 *
 * The pages found are remembered in a bounded cache (least recently used first out): a publisher
 * running for months over many spaces and routes must not keep every month it ever saw. A
 * container pushed out is found again by title in Confluence, one lookup, never created twice.
 *
 * Publications that need the same container while it is being looked up or created (a burst of
 * protocols at the start, or for a new month) wait for that one lookup instead of each looking it
 * up, trying to create it, and getting a title conflict: one lookup and at most one create per
 * container, not one per message in flight.
 */
import type { ConfluenceClientService, ConfluenceError, PageInfo } from "@minutes/confluence-core";
import { Cause, Deferred, Effect, FiberId, Option } from "effect";
import { TitleTakenError } from "./errors.js";

/** A page that lists its children (Confluence's `children` macro). */
export const CHILDREN_BODY =
  '<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro>';

/** How many container pages a publisher remembers by default. */
export const CONTAINER_CACHE_SIZE = 1_000;

/**
 * Container pages found or created (their ids), by space, parent and title; shared by every
 * message of a publisher. Holds at most `maxEntries`: past that, the least recently used entry
 * goes (a Map keeps insertion order, so a hit is moved to the end).
 */
export class ContainerCache {
  readonly #entries = new Map<string, string>();
  /** Lookups under way, by key: whoever needs the same container meanwhile waits for its outcome. */
  readonly inFlight = new Map<string, Deferred.Deferred<string, ConfluenceError | TitleTakenError>>();
  readonly #maxEntries: number;

  constructor(maxEntries: number = CONTAINER_CACHE_SIZE) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`a container cache holds at least one entry, not ${maxEntries}`);
    this.#maxEntries = maxEntries;
  }

  /** How many containers are remembered now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The id remembered for `key`, which becomes the most recently used. */
  get(key: string): string | undefined {
    const id = this.#entries.get(key);
    if (id !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, id);
    }
    return id;
  }

  /** Remembers `id` for `key`, forgetting the least recently used entry past the bound. */
  set(key: string, id: string): void {
    this.#entries.delete(key);
    this.#entries.set(key, id);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  /**
   * Forgets every container found (one may have been deleted or moved in Confluence). Lookups under
   * way go on: they look in Confluence now.
   */
  clear(): void {
    this.#entries.clear();
  }
}

/** The titles a container may take, in order: its own, then the one naming its tree. */
export const containerTitles = (
  spaceKey: string,
  tree: string | null,
  title: string,
): readonly [string, string] => [title, `${title} (${tree ?? spaceKey})`];

/**
 * The id of the container titled `title` under `parentId` (the space homepage when null, where
 * Confluence puts a page created without a parent), creating it if needed. `tree` is the route's
 * parent the container belongs to (for a month page, its year page's route parent), which names
 * the fallback title.
 */
export const ensureContainer = (
  confluence: ConfluenceClientService,
  cache: ContainerCache,
  spaceKey: string,
  parentId: string | null,
  title: string,
  tree: string | null = parentId,
): Effect.Effect<string, ConfluenceError | TitleTakenError> => {
  const key = `${spaceKey}|${parentId ?? ""}|${title}`;
  const cached = cache.get(key);
  // Nearly every publication asks for a container already known: no fiber work for those.
  if (cached !== undefined) return Effect.succeed(cached);
  const remember = (id: string): string => {
    cache.set(key, id);
    return id;
  };
  const lookup = findOrCreate(confluence, spaceKey, parentId, title, tree, remember);
  // Decided when it runs, in one synchronous step: found meanwhile, being looked up by another
  // publication (wait for that), or this call looks it up and hands the outcome to whoever waits.
  // Registering and installing the hand-over are uninterruptible, so a registered lookup always
  // settles its waiters; the waiting itself is not (a waiter's own stop interrupts it).
  return Effect.uninterruptibleMask((restore) =>
    Effect.suspend((): Effect.Effect<Found, ConfluenceError | TitleTakenError> => {
      const known = cache.get(key);
      if (known !== undefined) return Effect.succeed({ id: known });
      const running = cache.inFlight.get(key);
      if (running !== undefined) return Effect.succeed({ wait: running });
      const outcome = Deferred.unsafeMake<string, ConfluenceError | TitleTakenError>(FiberId.none);
      cache.inFlight.set(key, outcome);
      return restore(lookup).pipe(
        Effect.onExit((exit) =>
          Effect.suspend(() => {
            cache.inFlight.delete(key);
            return Deferred.done(outcome, exit);
          }),
        ),
        Effect.map((id) => ({ id })),
      );
    }),
  ).pipe(
    Effect.flatMap((found) =>
      "id" in found
        ? Effect.succeed(found.id)
        : Deferred.await(found.wait).pipe(
            // That lookup was interrupted (its own message's handling stopped), not answered: look
            // again here. This call's own interruption does not come here.
            Effect.catchAllCause((cause) =>
              Cause.isInterruptedOnly(cause)
                ? ensureContainer(confluence, cache, spaceKey, parentId, title, tree)
                : Effect.failCause(cause),
            ),
          ),
    ),
  );
};

/** What the decision step found: the container's id, or a lookup under way to wait for. */
type Found =
  | { readonly id: string }
  | { readonly wait: Deferred.Deferred<string, ConfluenceError | TitleTakenError> };

/** Looks the container up by its titles, creating it under `parentId` if none is placed there. */
const findOrCreate = (
  confluence: ConfluenceClientService,
  spaceKey: string,
  parentId: string | null,
  title: string,
  tree: string | null,
  remember: (id: string) => string,
): Effect.Effect<string, ConfluenceError | TitleTakenError> =>
  Effect.gen(function* () {
    const expectedParent =
      parentId ?? (yield* confluence.getSpace(spaceKey).pipe(Effect.map((s) => s.homepageId)));
    /**
     * The container's page with this title: ours if it sits under the expected parent and is
     * current. An archived page (Cloud) keeps its title but is read-only, nothing to file under:
     * its title counts as taken.
     */
    const placed = (found: Option.Option<PageInfo>) =>
      Option.filter(found, (page) => page.parentId === expectedParent && page.status === "current");
    let taken: PageInfo | undefined;
    for (const candidate of containerTitles(spaceKey, tree, title)) {
      const found = yield* confluence.findPageByTitle(spaceKey, candidate);
      if (Option.isSome(found)) {
        if (Option.isSome(placed(found))) return remember(found.value.id);
        taken = found.value;
        continue;
      }
      const created = yield* confluence
        .createPage({
          spaceKey,
          title: candidate,
          body: CHILDREN_BODY,
          ...(parentId !== null ? { parentId } : {}),
        })
        .pipe(
          Effect.map((page) => Option.some(page.id)),
          // Another publisher created it a moment ago (ours, under the same parent), or a page
          // this lookup could not see holds the title (another casing, say): look again.
          Effect.catchTag("ConfluenceTitleConflictError", (conflict) =>
            confluence.findPageByTitle(spaceKey, candidate).pipe(
              Effect.flatMap((again) => {
                if (Option.isNone(again)) return Effect.fail(conflict);
                if (Option.isSome(placed(again))) return Effect.succeed(Option.some(again.value.id));
                taken = again.value;
                return Effect.succeed(Option.none<string>());
              }),
            ),
          ),
        );
      if (Option.isSome(created)) return remember(created.value);
    }
    return yield* new TitleTakenError({ spaceKey, title, pageId: taken?.id ?? "?" });
  });
