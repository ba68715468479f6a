/**
 * Pages Minutes keeps to organise others — year and month pages, the archive page: found by title
 * or created on demand, exactly once. Many publications may need the same new page at the same
 * moment: a title conflict means another one just created it, and that page is used.
 */
import type { ConfluenceClientService, ConfluenceError } from "@minutes/confluence-core";
import { Effect, Option } from "effect";

/** A page that lists its children (Confluence's `children` macro). */
export const CHILDREN_BODY =
  '<ac:structured-macro ac:name="children"><ac:parameter ac:name="all">true</ac:parameter></ac:structured-macro>';

/** Container pages found or created, by space, parent and title; shared by every message of a publisher. */
export type ContainerCache = Map<string, string>;

/** The id of the page titled `title` in the space (under `parentId` when created), creating it if needed. */
export const ensureContainer = (
  confluence: ConfluenceClientService,
  cache: ContainerCache,
  spaceKey: string,
  parentId: string | null,
  title: string,
): Effect.Effect<string, ConfluenceError> => {
  const key = `${spaceKey}|${parentId ?? ""}|${title}`;
  const cached = cache.get(key);
  // Nearly every publication asks for a container already known: no fiber work for those.
  if (cached !== undefined) return Effect.succeed(cached);
  return Effect.gen(function* () {
    const found = yield* confluence.findPageByTitle(spaceKey, title);
    const id = Option.isSome(found)
      ? found.value.id
      : yield* confluence
          .createPage({ spaceKey, title, body: CHILDREN_BODY, ...(parentId !== null ? { parentId } : {}) })
          .pipe(
            Effect.map((page) => page.id),
            Effect.catchTag("ConfluenceTitleConflictError", (conflict) =>
              conflict.existingPageId !== undefined
                ? Effect.succeed(conflict.existingPageId)
                : confluence.findPageByTitle(spaceKey, title).pipe(
                    Effect.flatMap(
                      Option.match({
                        onNone: () => Effect.fail(conflict),
                        onSome: (p) => Effect.succeed(p.id),
                      }),
                    ),
                  ),
            ),
          );
    cache.set(key, id);
    return id;
  });
};
