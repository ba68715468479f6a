/**
 * `archive_old_pages`: pages of meetings older than `archive_after_days` move under an archive
 * page (`archive_page_title`, under the route's parent or at the space root) and their records
 * become `archived`. Idempotent: a page already under the archive page is only recorded, an
 * archived record is not looked at again, and a page that cannot be moved now is reported and
 * tried again on the next run. Runs on a schedule (once per period across the publishers: the
 * one holding the store's schedule lock, see Publisher.ts) and on request (`POST /api/archive/run`
 * through NATS request/reply, one publisher answers); runs in one process never overlap.
 * On Data Center a move is a new page version by Minutes: it is recorded, and a page a person
 * edited since Minutes' last version is left where it is, as moving it would hide that edit.
 * A record's page id proves nothing on its own (a record imported from another site names its
 * pages): each page is moved only once its job property shows it is the record's job's, one read
 * per page archived, which happens once in a page's life.
 */
import type { ConfluenceClientService, ContentProperty, PageInfo } from "@minutes/confluence-core";
import {
  type ArchiveFailure,
  type ArchiveRunResult,
  JOB_PROPERTY_KEY,
  jobOfJobProperty,
  type MinutesConfig,
  type Publication,
} from "@minutes/contracts";
import type { IndexLocation, PublicationStoreShape } from "@minutes/publication-store";
import { Duration, Effect, Option } from "effect";
import { type ContainerCache, ensureContainer } from "./containers.js";
import { type IndexPages, indexLocationIn } from "./index-page.js";
import { isBot, isRecordedPageOurs, placedSpaceOf } from "./PublishPipeline.js";

const DAY_MS = 86_400_000;
/** Records read per round; a run goes on until no record is left that it has not tried. */
const BATCH = 100;
/** How often and how long to watch a Cloud archive long task. */
const TASK_POLL = Duration.millis(500);
const TASK_DEADLINE_MS = 5 * 60_000;

/** What an archive run needs besides the Confluence client. */
export interface ArchiveSettings {
  readonly config: MinutesConfig;
  readonly store: PublicationStoreShape;
  /** The publisher instance (reported in the result). */
  readonly instance: string;
  /** Container pages already found or created (shared with the pipeline). */
  readonly containers: ContainerCache;
  /** Who Minutes is in Confluence: versions by anyone else are manual edits. */
  readonly botIdentity: ReadonlyArray<string>;
  readonly indexPages?: IndexPages | undefined;
}

/** Options of one run. */
export interface ArchiveRunOptions {
  /** Overrides `archive_after_days`. */
  readonly olderThanDays?: number | undefined;
  /** Today, for tests; default now. */
  readonly now?: Date | undefined;
}

/** Archives every published page of a meeting before the cut-off date. */
export const runArchive = (
  settings: ArchiveSettings,
  confluence: ConfluenceClientService,
  options: ArchiveRunOptions = {},
) =>
  Effect.gen(function* () {
    const started = Date.now();
    const now = options.now ?? new Date();
    const days = options.olderThanDays ?? settings.config.confluence.advanced_settings.archive_after_days;
    const before = new Date(now.getTime() - days * DAY_MS).toISOString().slice(0, 10);
    const cloudArchive =
      settings.config.confluence.advanced_settings.archive_method === "cloud_archive" &&
      confluence.deployment === "cloud";
    if (settings.config.confluence.advanced_settings.archive_method === "cloud_archive" && !cloudArchive) {
      yield* Effect.logWarning("archive_method cloud_archive needs Confluence Cloud; moving pages instead");
    }
    const tried = new Set<number>();
    const failed: Array<ArchiveFailure> = [];
    const touched = new Map<string, IndexLocation>();
    let archived = 0;
    for (;;) {
      const batch = (yield* settings.store.listArchivable({ before, limit: BATCH + tried.size })).filter(
        (r) => !tried.has(r.id),
      );
      if (batch.length === 0) break;
      for (const record of batch) {
        tried.add(record.id);
        const reason = yield* (cloudArchive ? archiveInCloud : archiveOne)(settings, confluence, record);
        if (reason === LEFT_ALONE) continue;
        if (reason === undefined) {
          archived++;
          touched.set(`${record.spaceKey}|${record.parentPageId ?? ""}`, {
            spaceKey: record.spaceKey,
            parentPageId: record.parentPageId,
          });
        } else {
          failed.push({ jobId: record.jobId, pageId: record.pageId, reason });
        }
      }
    }
    if (settings.indexPages !== undefined) {
      for (const location of touched.values()) yield* settings.indexPages.refresh(location, confluence);
    }
    const result: ArchiveRunResult = {
      before,
      archived,
      failed,
      instance: settings.instance,
      durationMs: Date.now() - started,
    };
    yield* (failed.length > 0 ? Effect.logWarning : Effect.logInfo)("archive run finished").pipe(
      Effect.annotateLogs({ before, archived, failed: failed.length }),
    );
    return result;
  }).pipe(Effect.withSpan("runArchive"));

// internal

/** Moves one page under its archive page and records it; the reason when it could not. */
const archiveOne = (settings: ArchiveSettings, confluence: ConfluenceClientService, record: Publication) =>
  recorded(
    settings,
    record,
    Effect.gen(function* () {
      const pageId = record.pageId as string;
      const page = yield* confluence.getPageInfo(pageId);
      // Before the archive page: a run that archives nothing creates nothing.
      const property = yield* requireOwnPage(settings, confluence, record, page);
      if (movedAwayByPerson(settings, record, property)) return LEFT_ALONE;
      const findArchivePage = () =>
        ensureContainer(
          confluence,
          settings.containers,
          record.spaceKey,
          record.parentPageId,
          settings.config.confluence.advanced_settings.archive_page_title,
        );
      const archivePage = yield* findArchivePage();
      if (page.parentId === archivePage) return undefined;
      if (
        confluence.deployment === "datacenter" &&
        record.pageVersion !== null &&
        page.version.number !== record.pageVersion &&
        !isBot(page.version.authorId, settings.botIdentity)
      ) {
        // Data Center moves by writing a version as Minutes; on top of a person's edit it would
        // make the page look like Minutes' own, and the next publication would overwrite the edit.
        // (A record with no version of Minutes' own, an imported mapping, has no edit to hide:
        // its first publication does not check for one either.)
        return yield* Effect.fail({
          _tag: "PageEditedError",
          message: `page ${pageId} was edited in Confluence by ${page.version.authorName ?? page.version.authorId ?? "someone"} (version ${page.version.number}; Minutes recorded version ${record.pageVersion}). On Data Center a move writes a new page version, which would hide that edit from Minutes' manual-edit check, so the page stays where it is: publish the protocol with force=true (overwriting the edit), or move the page by hand`,
        });
      }
      const moveUnder = (targetId: string) =>
        confluence.movePage(pageId, {
          targetId,
          position: "append",
          message: "Moved to the archive by Minutes",
          // Not on top of a version written since the check above (the next run looks again).
          expectedVersion: page.version.number,
        });
      const moved = yield* moveUnder(archivePage).pipe(
        // The archive page this publisher remembered is gone (a person deleted it): look it up
        // again (made anew) and move once more, rather than fail this page until the next run.
        Effect.catchIf(
          (e) => e._tag === "ConfluenceNotFoundError" && e.hint !== "endpoint-removed",
          (gone) =>
            Effect.suspend(() => {
              settings.containers.clear();
              return findArchivePage();
            }).pipe(
              // Still the same archive page: the 404 was the page's own.
              Effect.flatMap((again) => (again === archivePage ? Effect.fail(gone) : moveUnder(again))),
            ),
        ),
      );
      // Data Center: the move is a version of Minutes' own, recorded so the page stays in sync.
      return moved.version.number !== page.version.number ? moved : undefined;
    }),
  );

/**
 * Archives one page with Confluence Cloud's archive: one page per request (what every paid plan
 * accepts), then the long task is watched until it finished, so the next request does not find
 * "an archival job already running".
 */
const archiveInCloud = (
  settings: ArchiveSettings,
  confluence: ConfluenceClientService,
  record: Publication,
) =>
  recorded(
    settings,
    record,
    Effect.gen(function* () {
      const pageId = record.pageId as string;
      const page = yield* confluence.getPageInfo(pageId);
      const property = yield* requireOwnPage(settings, confluence, record, page);
      if (movedAwayByPerson(settings, record, property)) return LEFT_ALONE;
      if (page.status === "archived") return undefined; // an earlier run's task archived it
      const taskId = yield* confluence.archivePages([pageId]);
      const deadline = Date.now() + TASK_DEADLINE_MS;
      for (;;) {
        const task = yield* confluence.getLongTask(taskId);
        if (task.finished) {
          if (task.successful) return undefined;
          return yield* Effect.fail({
            _tag: "ArchiveTaskFailed",
            message: `Confluence could not archive page ${pageId}: ${task.messages.join("; ") || "no reason given"}`,
          });
        }
        if (Date.now() > deadline) {
          return yield* Effect.fail({
            _tag: "ArchiveTaskTimeout",
            message: `Confluence's archive task ${taskId} for page ${pageId} was still running after ${TASK_DEADLINE_MS / 60_000} minutes; the next run records it`,
          });
        }
        yield* Effect.sleep(TASK_POLL);
      }
    }),
  );

/**
 * Fails unless the page the record names is the record's job's (`isRecordedPageOurs`: its job
 * property names the job, or without one the adoption rules for a page with the record's title).
 * A page of another job, or a year or index page, is not archived; the run reports it.
 */
const requireOwnPage = (
  settings: ArchiveSettings,
  confluence: ConfluenceClientService,
  record: Publication,
  page: PageInfo,
) =>
  Effect.gen(function* () {
    const property = yield* confluence.getProperty(page.id, JOB_PROPERTY_KEY);
    const owner = Option.isSome(property) ? jobOfJobProperty(property.value.value) : undefined;
    if (isRecordedPageOurs(record.jobId, record, page, owner, false, [], settings.botIdentity))
      return Option.getOrUndefined(property);
    return yield* Effect.fail({
      _tag: "NotTheJobsPageError" as const,
      message:
        owner !== undefined
          ? `page ${page.id} belongs to job ${owner} (its ${JOB_PROPERTY_KEY} property), not to this record's job; it was not archived. The record may come from another installation (page ids restart in every Confluence site): publish the job to give it a page of its own`
          : `page ${page.id} ("${page.title}") has no ${JOB_PROPERTY_KEY} property naming this record's job and is not a page Minutes may take for it; it was not archived. Publish the job to give it a page of its own`,
    });
  });

/** What a run does with a page a person moved to a space no rule routes to: nothing. */
const LEFT_ALONE = Symbol("left alone");

/**
 * Whether a person moved the page to another space (Cloud) where no routing rule puts meetings:
 * its record names that space, but no archive page of Minutes' belongs there, and making one would
 * create structure in a space nobody routed to (and take the page from where the person put it);
 * Cloud's archive would hide it, read-only, from the people of a space Minutes does not manage.
 * It stays as it is: not archived, not a failure, looked at again by the next run. The job property
 * says where Minutes placed the page; one from before it said so cannot tell, and the record's
 * space is then the route's anyway.
 */
const movedAwayByPerson = (
  settings: ArchiveSettings,
  record: Publication,
  property: ContentProperty | undefined,
): boolean => {
  const placed = placedSpaceOf(property);
  return (
    placed !== undefined &&
    placed.toUpperCase() !== record.spaceKey.toUpperCase() &&
    Option.isNone(indexLocationIn(settings.config.confluence, record.spaceKey))
  );
};

/**
 * Runs `archive` (which puts the page in the archive and returns the page when that wrote a new
 * version) and records the job `archived`, with that version; the reason when either could not be done.
 */
const recorded = <
  E extends { readonly _tag: string; readonly message: string; readonly hint?: string | undefined },
>(
  settings: ArchiveSettings,
  record: Publication,
  archive: Effect.Effect<PageInfo | undefined | typeof LEFT_ALONE, E>,
) =>
  Effect.gen(function* () {
    const written = yield* archive;
    if (written === LEFT_ALONE) return LEFT_ALONE;
    // Only from `published`: a job being published right now keeps its page, and the next run
    // finds it (already archived or not) again.
    // The record and the archive's page version change together.
    yield* settings.store.transition(record.id, "archived", {
      archivedAt: new Date().toISOString(),
      ...(written !== undefined ? { pageVersion: written.version.number } : {}),
      version:
        written !== undefined && record.contentHash !== null
          ? {
              pageId: written.id,
              pageVersion: written.version.number,
              contentHash: record.contentHash,
              pageTitle: written.title,
              trigger: "archive",
            }
          : undefined,
    });
    return undefined;
  }).pipe(
    Effect.catchAll((error): Effect.Effect<string> => {
      // An archive page deleted in Confluence must be looked up again.
      settings.containers.clear();
      const reason =
        error._tag === "ConfluenceNotFoundError" && error.hint !== "endpoint-removed"
          ? `page ${record.pageId} or its archive page was not found in Confluence`
          : error._tag === "InvalidTransitionError"
            ? "the job is being published; it is archived on the next run"
            : error.message;
      return Effect.logWarning("page not archived").pipe(
        Effect.annotateLogs({ jobId: record.jobId, pageId: record.pageId ?? "", error: error._tag, reason }),
        Effect.as(reason),
      );
    }),
  );
