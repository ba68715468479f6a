// Page rules shared by v1 and v2: storage check, title uniqueness, version rule, moves, labels,
// trash. Each rule throws the status and message REST-API.md §7.2 gives for the calling API.

import { checkStorage } from "./check-storage.js";
import { ConfluenceApiError, Exceptions } from "./errors.js";
import { normalizeStorage } from "./normalize-storage.js";
import type { SandboxContext } from "./SandboxContext.js";
import { current, type LabelRecord, type PageRecord, type SpaceRecord } from "./SandboxStore.js";

/**
 * REST-API.md §7.2: malformed storage → 400 `Error parsing xhtml: ...`. Returns the body as
 * Confluence stores it (Cloud's rewrites, STORAGE-FORMAT.md §1.1).
 */
export function acceptStorage(ctx: SandboxContext, value: string): string {
  const check = checkStorage(value, { cloud: ctx.options.rejectUnconvertible });
  if (!check.ok) throw new ConfluenceApiError(400, check.message, { exception: Exceptions.badRequest });
  return ctx.options.rewriteStorage ? normalizeStorage(value) : value;
}

/** REST-API.md §7.2 / §9: titles are unique per space among current and archived pages, case-insensitively. */
export function assertTitleFree(
  ctx: SandboxContext,
  api: "v1" | "v2",
  space: SpaceRecord,
  title: string,
  exceptId: string | undefined,
  onUpdate: boolean,
): void {
  if (ctx.store.titleHolder(space.id, title, exceptId) === undefined) return;
  if (api === "v2") {
    throw new ConfluenceApiError(
      400,
      "A page with this title already exists: A page already exists with the same TITLE in this space",
    );
  }
  if (onUpdate && ctx.isCloud) {
    // Cloud v1's misleading rename-collision message (REST-API.md §7.2, [TROUB-35]).
    throw new ConfluenceApiError(
      400,
      "No space or no content type, or setup a wrong version type set to content, or status param is not draft and status content is current",
      { exception: Exceptions.badRequest },
    );
  }
  throw new ConfluenceApiError(
    400,
    `A page with this title already exists: A page already exists with the title ${title} in the space with key ${space.key}`,
    { exception: Exceptions.badRequest },
  );
}

/** REST-API.md §9: title length ≤ 255; empty titles are refused. */
export function assertTitleShape(title: string): void {
  if (title.trim() === "")
    throw new ConfluenceApiError(400, "Title cannot be empty", { exception: Exceptions.badRequest });
  if (title.length > 255) {
    throw new ConfluenceApiError(400, "Title cannot be longer than 255 characters.", {
      exception: Exceptions.badRequest,
    });
  }
}

/** REST-API.md §7.2: the next version must be exactly current + 1, else 409. */
export function assertNextVersion(api: "v1" | "v2", page: PageRecord, provided: number): void {
  const now = current(page).number;
  if (provided === now + 1) return;
  if (api === "v2") {
    throw new ConfluenceApiError(
      409,
      `Version must be incremented when updating a page. Current Version: [${now}]. Provided version: [${provided}]`,
    );
  }
  throw new ConfluenceApiError(409, `Version must be incremented on update. Current version is: ${now}`, {
    exception: Exceptions.conflict,
  });
}

/** Whether making `parentId` the parent of `pageId` would create a cycle. */
export function createsCycle(ctx: SandboxContext, pageId: string, parentId: string): boolean {
  let cursor: string | null = parentId;
  const seen = new Set<string>();
  while (cursor !== null && !seen.has(cursor)) {
    if (cursor === pageId) return true;
    seen.add(cursor);
    cursor = ctx.store.pageMap.get(cursor)?.parentId ?? null;
  }
  return false;
}

/** Re-parents a page (REST-API.md §7.2: own descendant → 400 `Cannot add an existing ancestor as a child!`). */
export function moveUnder(ctx: SandboxContext, page: PageRecord, parentId: string | null): void {
  if (parentId !== null && createsCycle(ctx, page.id, parentId)) {
    throw new ConfluenceApiError(400, "Cannot add an existing ancestor as a child!", {
      exception: Exceptions.badRequest,
    });
  }
  if (page.parentId === parentId) return;
  ctx.store.setParent(page, parentId);
  page.position = ctx.store.nextPosition(page.spaceId, parentId, page.id);
}

/** Moves a page to the trash: its children move up to its parent; it reports no parent (REST-API.md §4.6). */
export function trash(ctx: SandboxContext, page: PageRecord): void {
  for (const child of ctx.store.pagesUnder(page.id)) ctx.store.setParent(child, page.parentId);
  page.status = "trashed";
  ctx.store.setParent(page, null);
}

// Confluence's LabelParser refuses whitespace and these characters; `/` is allowed (REST-API.md §5.1).
const INVALID_LABEL = /[\s:;,.?&[\]()#^*@!]/;

/**
 * Validates and adds labels; Confluence stores names in lower case (REST-API.md §5.1:
 * invalid characters / too long → 400). Returns the page's labels.
 */
export function addLabels(
  ctx: SandboxContext,
  page: PageRecord,
  input: ReadonlyArray<{ prefix?: string; name: string }>,
): LabelRecord[] {
  for (const l of input) {
    const name = String(l.name ?? "");
    if (name === "" || INVALID_LABEL.test(name)) {
      throw new ConfluenceApiError(400, `Label '${name}' contains invalid characters or is empty`, {
        exception: Exceptions.badRequest,
      });
    }
    if (name.length > 255) {
      throw new ConfluenceApiError(400, `Label '${name}' is too long (maximum 255 characters)`, {
        exception: Exceptions.badRequest,
      });
    }
    const prefix = l.prefix ?? "global";
    if (!["global", "my", "team"].includes(prefix)) {
      throw new ConfluenceApiError(400, `Invalid label prefix: ${prefix}`, {
        exception: Exceptions.badRequest,
      });
    }
  }
  if (page.labels.length + input.length > 500) {
    throw new ConfluenceApiError(400, "Too many labels on this content", {
      exception: Exceptions.badRequest,
    });
  }
  for (const l of input) {
    const name = l.name.toLowerCase();
    const prefix = l.prefix ?? "global";
    if (page.labels.some((x) => x.name === name && x.prefix === prefix)) continue;
    ctx.store.addLabel(page, prefix, name);
  }
  return page.labels;
}
