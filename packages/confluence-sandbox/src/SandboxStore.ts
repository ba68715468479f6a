// The sandbox's state: spaces, pages with their full version history, labels, properties, users.
// One in-memory model serves both APIs (v1 and v2 are views over it); persistence snapshots
// the whole model as JSON, which is simple and fast enough for test and demo sizes. Lookups by
// space, title, parent and label name use indexes instead of scanning every page (a benchmark
// run creates thousands); the price is that a page's title, parent and labels change only here.

import type { SandboxUser } from "./SandboxOptions.js";

/** A space as the sandbox stores it. */
export interface SpaceRecord {
  readonly id: number;
  readonly key: string;
  readonly name: string;
  readonly createdAt: string;
  readonly authorId: string;
  homepageId: string;
}

/** One stored version of a page (the newest is the page's current state). */
export interface VersionRecord {
  readonly number: number;
  readonly createdAt: string;
  readonly authorId: string;
  readonly message: string;
  readonly minorEdit: boolean;
  readonly title: string;
  readonly body: string;
}

/** A label on a page. */
export interface LabelRecord {
  readonly id: string;
  readonly prefix: string;
  readonly name: string;
}

/** A content property on a page. */
export interface PropertyRecord {
  readonly id: string;
  readonly key: string;
  value: unknown;
  version: {
    number: number;
    createdAt: string;
    authorId: string;
    message: string;
    minorEdit: boolean;
  };
}

/** Page status values the sandbox models. */
export type PageStatus = "current" | "draft" | "archived" | "trashed";

/** A page as the sandbox stores it. */
export interface PageRecord {
  readonly id: string;
  readonly spaceId: number;
  status: PageStatus;
  parentId: string | null;
  position: number;
  readonly authorId: string;
  readonly createdAt: string;
  versions: VersionRecord[];
  labels: LabelRecord[];
  properties: PropertyRecord[];
}

/**
 * Read-only inspection of the sandbox (the `state` member of a {@link Sandbox}).
 * Returned objects are deep copies: mutating them does not change the sandbox.
 */
export interface SandboxState {
  /** Every space. */
  spaces(): ReadonlyArray<SpaceRecord>;
  /** Pages that are not purged (any status), optionally only those of one space key. */
  pages(spaceKey?: string): ReadonlyArray<PageRecord>;
  /** One page by id (any status), or undefined once purged or never created. */
  page(id: string): PageRecord | undefined;
  /** The current (non-trashed) page with this exact title in a space, if any. */
  pageByTitle(spaceKey: string, title: string): PageRecord | undefined;
  /** The version history of a page, oldest first. */
  versions(id: string): ReadonlyArray<VersionRecord>;
  /** The labels of a page. */
  labels(id: string): ReadonlyArray<LabelRecord>;
  /** The properties of a page. */
  properties(id: string): ReadonlyArray<PropertyRecord>;
  /** Pages in the trash. */
  trash(): ReadonlyArray<PageRecord>;
  /** The ids of pages purged since start or reset. */
  purged(): ReadonlyArray<string>;
  /** A JSON-safe dump of everything (what `GET /sandbox/admin/state` returns). */
  snapshot(): SandboxSnapshot;
}

/** The JSON form of the whole sandbox state. */
export interface SandboxSnapshot {
  readonly format: 1;
  readonly nextId: number;
  readonly spaces: ReadonlyArray<SpaceRecord>;
  readonly pages: ReadonlyArray<PageRecord>;
  readonly users: ReadonlyArray<SandboxUser>;
  readonly purged: ReadonlyArray<string>;
  /** Tokens revoked with `revokeToken` (absent in older snapshots). */
  readonly revokedTokens?: ReadonlyArray<string>;
}

/**
 * Mutable model behind the REST routes. Not exported from the package.
 *
 * Pages enter and leave only through `insertPage`, `purge` and `restore`; a page's title changes
 * only through `addVersion`, its parent through `setParent`, its labels through `addLabel` and
 * `setLabels`. Those keep the indexes in step. Status and position may be set directly: the
 * indexes hold pages of every status and lookups check status and position themselves.
 */
export class SandboxStore implements SandboxState {
  readonly spaceList: SpaceRecord[] = [];
  userList: SandboxUser[] = [];
  purgedIds: string[] = [];
  revokedTokens = new Set<string>();
  private nextId = 65_537;
  private listeners: Array<() => void> = [];
  private readonly byId = new Map<string, PageRecord>();
  // Indexes over `byId`: each files pages under a key. Filing order means nothing; `inStoreOrder`
  // puts an answer back in `byId` order (`rank`) where callers see the order.
  private readonly rank = new Map<string, number>();
  private nextRank = 0;
  private readonly bySpace = new Map<string, Map<string, PageRecord>>();
  private readonly byTitle = new Map<string, Map<string, PageRecord>>();
  private readonly byParent = new Map<string, Map<string, PageRecord>>();
  private readonly labelIds = new Map<string, { readonly id: string; uses: number }>();

  /** Every page that is not purged (any status), in creation order. */
  get pageMap(): ReadonlyMap<string, PageRecord> {
    return this.byId;
  }

  /** Registers a callback run after every mutation (persistence). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Signals that a mutation happened. */
  changed(): void {
    for (const l of this.listeners) l();
  }

  /** Users whose token still works (Data Center passwords work whatever became of the token). */
  activeUsers(): SandboxUser[] {
    return this.userList.filter((u) => !this.revokedTokens.has(u.token));
  }

  newId(): string {
    return String(this.nextId++);
  }

  /** Creates a space and its homepage (Confluence creates both together). */
  createSpace(key: string, name: string, authorId: string, now: string): SpaceRecord {
    const space: SpaceRecord = {
      id: Number(this.newId()),
      key,
      name,
      createdAt: now,
      authorId,
      homepageId: "",
    };
    this.spaceList.push(space);
    const home = this.insertPage({
      spaceId: space.id,
      title: `${name} Home`,
      body: `<p>Welcome to the ${escapeXml(name)} space.</p>`,
      parentId: null,
      authorId,
      now,
      status: "current",
    });
    space.homepageId = home.id;
    return space;
  }

  insertPage(input: {
    spaceId: number;
    title: string;
    body: string;
    parentId: string | null;
    authorId: string;
    now: string;
    status: PageStatus;
    message?: string;
  }): PageRecord {
    const page: PageRecord = {
      id: this.newId(),
      spaceId: input.spaceId,
      status: input.status,
      parentId: input.parentId,
      position: this.nextPosition(input.spaceId, input.parentId),
      authorId: input.authorId,
      createdAt: input.now,
      versions: [
        {
          number: 1,
          createdAt: input.now,
          authorId: input.authorId,
          message: input.message ?? "",
          minorEdit: false,
          title: input.title,
          body: input.body,
        },
      ],
      labels: [],
      properties: [],
    };
    this.track(page);
    return page;
  }

  /** Appends a version; it becomes the page's current state (and title). */
  addVersion(page: PageRecord, version: VersionRecord): void {
    removeFrom(this.byTitle, titleKey(page.spaceId, current(page).title), page.id);
    page.versions.push(version);
    addTo(this.byTitle, titleKey(page.spaceId, version.title), page);
  }

  /** Re-parents a page without touching its position. */
  setParent(page: PageRecord, parentId: string | null): void {
    removeFrom(this.byParent, parentKey(page.spaceId, page.parentId), page.id);
    page.parentId = parentId;
    addTo(this.byParent, parentKey(page.spaceId, parentId), page);
  }

  /** Pages (any status) of a space under `parentId` (`null`: the space's root pages). */
  siblings(spaceId: number, parentId: string | null): PageRecord[] {
    const group = this.byParent.get(parentKey(spaceId, parentId));
    return group === undefined ? [] : [...group.values()].filter((p) => p.spaceId === spaceId);
  }

  /** The position of a page appended under `parentId`: 1000 after its last sibling (any status). */
  nextPosition(spaceId: number, parentId: string | null, exceptId?: string): number {
    let max = 0;
    for (const p of this.byParent.get(parentKey(spaceId, parentId))?.values() ?? []) {
      if (p.spaceId === spaceId && p.id !== exceptId) max = Math.max(max, p.position);
    }
    return max + 1000;
  }

  spaceByKey(key: string): SpaceRecord | undefined {
    return this.spaceList.find((s) => s.key.toLowerCase() === key.toLowerCase());
  }

  spaceById(id: number | string): SpaceRecord | undefined {
    return this.spaceList.find((s) => String(s.id) === String(id));
  }

  /** Pages whose title blocks `title` in a space: current or archived, case-insensitive (REST-API.md §7.2, §4.4). */
  titleHolder(spaceId: number, title: string, exceptId?: string): PageRecord | undefined {
    return this.pagesTitled(title, [String(spaceId)]).find(
      (p) => p.id !== exceptId && (p.status === "current" || p.status === "archived"),
    );
  }

  /**
   * Pages (any status) whose current title equals `title` ignoring case, in the given spaces
   * (ids as strings; default all), in creation order.
   */
  pagesTitled(title: string, spaceIds?: ReadonlyArray<string>): PageRecord[] {
    const out: PageRecord[] = [];
    for (const spaceId of new Set(spaceIds ?? this.bySpace.keys())) {
      const group = this.byTitle.get(titleKey(spaceId, title));
      for (const p of group?.values() ?? []) out.push(p);
    }
    return this.inStoreOrder(out);
  }

  /** Pages (any status) of the given spaces (ids as strings), in creation order. */
  pagesInSpaces(spaceIds: ReadonlyArray<string>): PageRecord[] {
    const out: PageRecord[] = [];
    for (const spaceId of new Set(spaceIds)) {
      for (const p of this.bySpace.get(spaceId)?.values() ?? []) out.push(p);
    }
    return this.inStoreOrder(out);
  }

  /** Ancestors of a page, root first. */
  ancestors(page: PageRecord): PageRecord[] {
    const out: PageRecord[] = [];
    let parentId = page.parentId;
    const seen = new Set<string>();
    while (parentId !== null && !seen.has(parentId)) {
      seen.add(parentId);
      const parent = this.byId.get(parentId);
      if (parent === undefined) break;
      out.unshift(parent);
      parentId = parent.parentId;
    }
    return out;
  }

  /** Pages (any status) whose parent is `pageId`. */
  pagesUnder(pageId: string): PageRecord[] {
    return [...(this.byParent.get(childrenKey(pageId))?.values() ?? [])];
  }

  children(pageId: string): PageRecord[] {
    return this.pagesUnder(pageId)
      .filter((p) => p.status === "current")
      .sort((a, b) => a.position - b.position || Number(a.id) - Number(b.id));
  }

  /**
   * Moves a page, with every page below it, to another space under `parentId` (Cloud's move
   * resource across spaces, openapi-v1.json `movePage`). Ids, versions, labels and properties stay.
   */
  moveToSpace(page: PageRecord, spaceId: number, parentId: string | null): void {
    const tree: PageRecord[] = [];
    const walk = (p: PageRecord) => {
      tree.push(p);
      for (const child of this.pagesUnder(p.id)) walk(child);
    };
    walk(page);
    for (const p of tree) {
      const rank = this.rank.get(p.id);
      this.untrack(p);
      (p as { spaceId: number }).spaceId = spaceId;
      if (p === page) p.parentId = parentId;
      this.track(p);
      if (rank !== undefined) this.rank.set(p.id, rank);
    }
  }

  purge(page: PageRecord): void {
    this.untrack(page);
    this.purgedIds.push(page.id);
    for (const p of this.pagesUnder(page.id)) this.setParent(p, null);
  }

  /** Adds a label; a name has the same id on every page, as in Confluence. */
  addLabel(page: PageRecord, prefix: string, name: string): void {
    const label: LabelRecord = { id: this.labelIds.get(name)?.id ?? this.newId(), prefix, name };
    page.labels.push(label);
    this.addLabelUse(label);
  }

  /** Replaces a page's labels. */
  setLabels(page: PageRecord, labels: LabelRecord[]): void {
    for (const l of page.labels) this.dropLabelUse(l);
    page.labels = labels;
    for (const l of labels) this.addLabelUse(l);
  }

  // SandboxState (read-only, deep copies)

  spaces(): ReadonlyArray<SpaceRecord> {
    return clone(this.spaceList);
  }

  pages(spaceKey?: string): ReadonlyArray<PageRecord> {
    if (spaceKey === undefined) return clone([...this.byId.values()]);
    const space = this.spaceByKey(spaceKey);
    return space === undefined ? [] : clone(this.pagesInSpaces([String(space.id)]));
  }

  page(id: string): PageRecord | undefined {
    const p = this.byId.get(id);
    return p === undefined ? undefined : clone(p);
  }

  pageByTitle(spaceKey: string, title: string): PageRecord | undefined {
    const space = this.spaceByKey(spaceKey);
    if (space === undefined) return undefined;
    const p = this.pagesTitled(title, [String(space.id)]).find(
      (x) => x.status === "current" && current(x).title === title,
    );
    return p === undefined ? undefined : clone(p);
  }

  versions(id: string): ReadonlyArray<VersionRecord> {
    return clone(this.byId.get(id)?.versions ?? []);
  }

  labels(id: string): ReadonlyArray<LabelRecord> {
    return clone(this.byId.get(id)?.labels ?? []);
  }

  properties(id: string): ReadonlyArray<PropertyRecord> {
    return clone(this.byId.get(id)?.properties ?? []);
  }

  trash(): ReadonlyArray<PageRecord> {
    return clone([...this.byId.values()].filter((p) => p.status === "trashed"));
  }

  purged(): ReadonlyArray<string> {
    return [...this.purgedIds];
  }

  snapshot(): SandboxSnapshot {
    return clone({
      format: 1 as const,
      nextId: this.nextId,
      spaces: this.spaceList,
      pages: [...this.byId.values()],
      users: this.userList,
      purged: this.purgedIds,
      revokedTokens: [...this.revokedTokens],
    });
  }

  /** Replaces the whole state with a snapshot (persistence load, reset). */
  restore(snapshot: SandboxSnapshot): void {
    const s = clone(snapshot);
    this.spaceList.splice(0, this.spaceList.length, ...s.spaces);
    this.byId.clear();
    this.rank.clear();
    this.bySpace.clear();
    this.byTitle.clear();
    this.byParent.clear();
    this.labelIds.clear();
    for (const p of s.pages) this.track(p);
    this.userList = [...s.users];
    this.purgedIds = [...s.purged];
    this.revokedTokens = new Set(s.revokedTokens ?? []);
    this.nextId = s.nextId;
  }

  // internal

  private track(page: PageRecord): void {
    this.byId.set(page.id, page);
    this.rank.set(page.id, this.nextRank++);
    addTo(this.bySpace, String(page.spaceId), page);
    addTo(this.byTitle, titleKey(page.spaceId, current(page).title), page);
    addTo(this.byParent, parentKey(page.spaceId, page.parentId), page);
    for (const l of page.labels) this.addLabelUse(l);
  }

  private untrack(page: PageRecord): void {
    this.byId.delete(page.id);
    this.rank.delete(page.id);
    removeFrom(this.bySpace, String(page.spaceId), page.id);
    removeFrom(this.byTitle, titleKey(page.spaceId, current(page).title), page.id);
    removeFrom(this.byParent, parentKey(page.spaceId, page.parentId), page.id);
    for (const l of page.labels) this.dropLabelUse(l);
  }

  // A label name keeps its id while some page (any status) carries it; after that a new id.
  private addLabelUse(label: LabelRecord): void {
    const entry = this.labelIds.get(label.name);
    if (entry === undefined) this.labelIds.set(label.name, { id: label.id, uses: 1 });
    else entry.uses++;
  }

  private dropLabelUse(label: LabelRecord): void {
    const entry = this.labelIds.get(label.name);
    if (entry === undefined) return;
    entry.uses--;
    if (entry.uses === 0) this.labelIds.delete(label.name);
  }

  private inStoreOrder(pages: PageRecord[]): PageRecord[] {
    if (pages.length < 2) return pages;
    return pages.sort((a, b) => this.rank.get(a.id)! - this.rank.get(b.id)!);
  }
}

/** The newest version of a page. */
export function current(page: PageRecord): VersionRecord {
  return page.versions[page.versions.length - 1]!;
}

// internal

function clone<T>(value: T): T {
  return structuredClone(value);
}

// Keyed on the lower-cased title: answers the case-insensitive lookups (v2, uniqueness) and
// narrows the exact ones (v1, `pageByTitle`), which compare the title again.
function titleKey(spaceId: number | string, title: string): string {
  return `${spaceId}\u0000${title.toLowerCase()}`;
}

// A page's children whatever their space (as `children` always answered); root pages per space.
function parentKey(spaceId: number, parentId: string | null): string {
  return parentId === null ? `space:${spaceId}` : childrenKey(parentId);
}

function childrenKey(pageId: string): string {
  return `page:${pageId}`;
}

function addTo(index: Map<string, Map<string, PageRecord>>, key: string, page: PageRecord): void {
  const group = index.get(key);
  if (group === undefined) index.set(key, new Map([[page.id, page]]));
  else group.set(page.id, page);
}

function removeFrom(index: Map<string, Map<string, PageRecord>>, key: string, id: string): void {
  const group = index.get(key);
  if (group === undefined) return;
  group.delete(id);
  if (group.size === 0) index.delete(key);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
