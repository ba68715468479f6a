// The sandbox's state: spaces, pages with their full version history, labels, properties, users.
// One in-memory model serves both APIs (v1 and v2 are views over it); persistence snapshots
// the whole model as JSON, which is simple and fast enough for test and demo sizes.

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

/** Mutable model behind the REST routes. Not exported from the package. */
export class SandboxStore implements SandboxState {
  readonly spaceList: SpaceRecord[] = [];
  readonly pageMap = new Map<string, PageRecord>();
  userList: SandboxUser[] = [];
  purgedIds: string[] = [];
  revokedTokens = new Set<string>();
  private nextId = 65_537;
  private listeners: Array<() => void> = [];

  /** Registers a callback run after every mutation (persistence). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Signals that a mutation happened. */
  changed(): void {
    for (const l of this.listeners) l();
  }

  /** Users whose token still works. */
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
    const siblings = [...this.pageMap.values()].filter(
      (p) => p.spaceId === input.spaceId && p.parentId === input.parentId,
    );
    const page: PageRecord = {
      id: this.newId(),
      spaceId: input.spaceId,
      status: input.status,
      parentId: input.parentId,
      position: siblings.reduce((m, p) => Math.max(m, p.position), 0) + 1000,
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
    this.pageMap.set(page.id, page);
    return page;
  }

  spaceByKey(key: string): SpaceRecord | undefined {
    return this.spaceList.find((s) => s.key.toLowerCase() === key.toLowerCase());
  }

  spaceById(id: number | string): SpaceRecord | undefined {
    return this.spaceList.find((s) => String(s.id) === String(id));
  }

  /** Pages whose title blocks `title` in a space: current or archived, case-insensitive (REST-API.md §7.2, §4.4). */
  titleHolder(spaceId: number, title: string, exceptId?: string): PageRecord | undefined {
    const t = title.toLowerCase();
    for (const p of this.pageMap.values()) {
      if (p.spaceId !== spaceId || p.id === exceptId) continue;
      if (p.status !== "current" && p.status !== "archived") continue;
      if (current(p).title.toLowerCase() === t) return p;
    }
    return undefined;
  }

  /** Ancestors of a page, root first. */
  ancestors(page: PageRecord): PageRecord[] {
    const out: PageRecord[] = [];
    let parentId = page.parentId;
    const seen = new Set<string>();
    while (parentId !== null && !seen.has(parentId)) {
      seen.add(parentId);
      const parent = this.pageMap.get(parentId);
      if (parent === undefined) break;
      out.unshift(parent);
      parentId = parent.parentId;
    }
    return out;
  }

  children(pageId: string): PageRecord[] {
    return [...this.pageMap.values()]
      .filter((p) => p.parentId === pageId && p.status === "current")
      .sort((a, b) => a.position - b.position || Number(a.id) - Number(b.id));
  }

  purge(page: PageRecord): void {
    this.pageMap.delete(page.id);
    this.purgedIds.push(page.id);
    for (const p of this.pageMap.values()) if (p.parentId === page.id) p.parentId = null;
  }

  // SandboxState (read-only, deep copies)

  spaces(): ReadonlyArray<SpaceRecord> {
    return clone(this.spaceList);
  }

  pages(spaceKey?: string): ReadonlyArray<PageRecord> {
    const space = spaceKey === undefined ? undefined : this.spaceByKey(spaceKey);
    if (spaceKey !== undefined && space === undefined) return [];
    return clone([...this.pageMap.values()].filter((p) => space === undefined || p.spaceId === space.id));
  }

  page(id: string): PageRecord | undefined {
    const p = this.pageMap.get(id);
    return p === undefined ? undefined : clone(p);
  }

  pageByTitle(spaceKey: string, title: string): PageRecord | undefined {
    const space = this.spaceByKey(spaceKey);
    if (space === undefined) return undefined;
    const p = [...this.pageMap.values()].find(
      (x) => x.spaceId === space.id && x.status === "current" && current(x).title === title,
    );
    return p === undefined ? undefined : clone(p);
  }

  versions(id: string): ReadonlyArray<VersionRecord> {
    return clone(this.pageMap.get(id)?.versions ?? []);
  }

  labels(id: string): ReadonlyArray<LabelRecord> {
    return clone(this.pageMap.get(id)?.labels ?? []);
  }

  properties(id: string): ReadonlyArray<PropertyRecord> {
    return clone(this.pageMap.get(id)?.properties ?? []);
  }

  trash(): ReadonlyArray<PageRecord> {
    return clone([...this.pageMap.values()].filter((p) => p.status === "trashed"));
  }

  purged(): ReadonlyArray<string> {
    return [...this.purgedIds];
  }

  snapshot(): SandboxSnapshot {
    return clone({
      format: 1 as const,
      nextId: this.nextId,
      spaces: this.spaceList,
      pages: [...this.pageMap.values()],
      users: this.userList,
      purged: this.purgedIds,
      revokedTokens: [...this.revokedTokens],
    });
  }

  /** Replaces the whole state with a snapshot (persistence load, reset). */
  restore(snapshot: SandboxSnapshot): void {
    const s = clone(snapshot);
    this.spaceList.splice(0, this.spaceList.length, ...s.spaces);
    this.pageMap.clear();
    for (const p of s.pages) this.pageMap.set(p.id, p);
    this.userList = [...s.users];
    this.purgedIds = [...s.purged];
    this.revokedTokens = new Set(s.revokedTokens ?? []);
    this.nextId = s.nextId;
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

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
