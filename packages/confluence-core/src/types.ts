// The client's own types. Cloud v2 and Data Center v1 shape pages, spaces and properties
// differently (string vs integer ids, `parentId` vs last ancestor, `authorId` vs `by`); callers
// see one shape so that page identity (id, space, parent) never depends on the deployment.

/** Which Confluence product the client talks to: Cloud (v2 + some v1) or Data Center / Server (v1). */
export type ConfluenceDeployment = "cloud" | "datacenter";

/** A JSON value, as stored in a content property. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue };

/** One version of a page. */
export interface PageVersion {
  /** Version number; a page starts at 1 and each update must send current + 1. */
  readonly number: number;
  /**
   * Cloud account id or Data Center user key/username of the version's author, when reported;
   * `(anonymous)` for a version an anonymous user wrote (v1 `by.type: "anonymous"`).
   */
  readonly authorId?: string;
  /** The author as people know them (Data Center: display name and user name), when reported. */
  readonly authorName?: string;
  /** ISO-8601 time the version was created (empty when Confluence did not report it). */
  readonly createdAt: string;
  /** The version comment, when set. */
  readonly message?: string;
  /** Whether watchers were spared a notification. */
  readonly minorEdit?: boolean;
}

/** A page as the client reports it, whatever the deployment. */
export interface PageInfo {
  /** Page id, always a string (v1 and v2 agree on strings for content ids). */
  readonly id: string;
  readonly title: string;
  /** Space id as a string (v1 reports an integer; it is converted). */
  readonly spaceId: string;
  /** Space key, when known (v1 always; Cloud v2 via the client's space cache). */
  readonly spaceKey?: string;
  /** Direct parent page id; absent for a page at the space root. */
  readonly parentId?: string;
  /** `current`, `archived`, `trashed`, `draft`, … as Confluence reports it. */
  readonly status: string;
  readonly version: PageVersion;
  /** Storage-format body, only when asked for (`getPageInfo(id, { body: true })`) or returned by a write. */
  readonly body?: string;
  /** Absolute URL for humans, always built from the site base (never the api.atlassian.com gateway). */
  readonly webUrl: string;
}

/** A page listed as a child: no version or body (Cloud v2 child listings carry neither). */
export interface PageSummary {
  readonly id: string;
  readonly title: string;
  readonly status: string;
  /** Space id when the listing reports it. */
  readonly spaceId?: string;
}

/** A space, with both identities (v2 wants the id, v1 and humans use the key). */
export interface SpaceInfo {
  /** Space id as a string. */
  readonly id: string;
  /** Space key as Confluence stores it (lookups are case-insensitive on Cloud). */
  readonly key: string;
  readonly name: string;
  /** The space homepage id, when reported. */
  readonly homepageId?: string;
}

/** A content property on a page (used to mark a page with the job that owns it). */
export interface ContentProperty {
  /** Property id (Cloud v2 addresses properties by id); absent on Data Center. */
  readonly id?: string;
  readonly key: string;
  readonly value: JsonValue;
  /** Property version; each write must send current + 1. */
  readonly version: number;
}

/** A Confluence Cloud long task (page archiving), as `getLongTask` reports it. */
export interface LongTaskInfo {
  readonly id: string;
  readonly finished: boolean;
  /** Meaningful once `finished`. */
  readonly successful: boolean;
  readonly percentageComplete: number;
  /** Confluence's messages and errors, translated. */
  readonly messages: ReadonlyArray<string>;
}

/** Who the credentials belong to, as `testConnection` reports it. */
export interface ConnectionInfo {
  readonly deployment: ConfluenceDeployment;
  /** Cloud account id. */
  readonly accountId?: string;
  /** Data Center user name. */
  readonly username?: string;
  /** Data Center user key: what page versions name their author by (`version.by.userKey`). */
  readonly userKey?: string;
  readonly displayName: string;
  /** The site base used for human links. */
  readonly siteUrl: string;
}

/** Input of `createPage`. */
export interface CreatePageInput {
  readonly spaceKey: string;
  /** Page title, at most 255 characters; unique per space, case-insensitively. */
  readonly title: string;
  /** Storage-format XHTML. */
  readonly body: string;
  /** Parent page id; without it the page goes under the space homepage (or the space root if there is none). */
  readonly parentId?: string;
  /**
   * A content property that marks the page as ours, written by the very next call after the create on
   * both deployments: Cloud v2 has no such field, and Data Center's v1 create is not documented to
   * take `metadata.properties` (see README, crash window).
   */
  readonly property?: { readonly key: string; readonly value: JsonValue };
  /**
   * Global labels for the new page. Data Center (v1) stores them with the page; on Cloud they are
   * added right after it, at the same time as the property (two requests in flight, one round trip).
   */
  readonly labels?: ReadonlyArray<string>;
}

/** Input of `updatePage`. */
export interface UpdatePageInput {
  readonly id: string;
  readonly title: string;
  /** Storage-format XHTML. */
  readonly body: string;
  /** The new version number: the current one plus one. */
  readonly version: number;
  /** Spare watchers a notification (Data Center only: Cloud's v2 update has no such field). */
  readonly minorEdit?: boolean;
  /** Version comment. */
  readonly message?: string;
  /** Move the page under this parent (same space) while updating. */
  readonly parentId?: string;
  /**
   * On a version conflict, re-read the page and retry with current + 1 (at most twice). Default true:
   * the publisher owns its pages. Set false to fail with `ConfluenceVersionConflictError` instead.
   */
  readonly refreshOnConflict?: boolean;
}

/** Where `movePage` puts the page relative to `targetId`: as its last child, or as its sibling. */
export type MovePosition = "append" | "before" | "after";
