/**
 * One Effect pipeline per message: decode → store the protocol → claim the job → meeting info,
 * route and render → find the job's own page → create or update → labels → record → outcome.
 * A job owns its page: identity comes from the publication record, then the `minutes.job`
 * content property on the page, and only then the title — so a crash at any step leaves at most
 * one page, which the redelivered message adopts. Nothing here acks: the result tells the
 * consumer whether to ack, nak or terminate.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  ConfluenceCallStatsRef,
  type ConfluenceClientService,
  type ConfluenceError,
  ConfluenceNotFoundError,
  type ConfluenceRetryWait,
  type ContentProperty,
  countConfluenceRetries,
  formatWait,
  type JsonValue,
  type PageInfo,
  reportConfluenceWaits,
  requestedWaitMs,
} from "@minutes/confluence-core";
import {
  canonicalSpaceKey,
  formatParseIssues,
  JOB_PROPERTY_KEY,
  jobIdOfSubjectToken,
  jobOfJobProperty,
  type MinutesConfig,
  ProtocolReadyJson,
  type Publication,
  type PublicationEventKind,
  type PublicationOutcome,
  type PublicationOutcomeKind,
  type PublicationTrigger,
  PublishRequestedJson,
  protocolReadyPrefix,
  publishRequestedPrefix,
} from "@minutes/contracts";
import {
  type IndexLocation,
  LeaseLostError,
  type PublicationStoreShape,
  protocolMetadataOf,
  type StoredProtocol,
  type StoreUnavailableError,
} from "@minutes/publication-store";
import { Context, Data, Effect, Either, FiberRef, Option, Schema } from "effect";
import { ContainerCache, ensureContainer } from "./containers.js";
import {
  DeliveriesExhaustedError,
  EventRejectedError,
  isRetryableFailure,
  ManualEditError,
  PageArchivedError,
  ProtocolMissingError,
  type RenderTimeoutError,
  TitleTakenError,
} from "./errors.js";
import { type IndexPages, indexLocationIn, isRoutedLocation } from "./index-page.js";
import { logDebugLazily } from "./logger.js";
import type { PreparedProtocol } from "./render.js";
import { inlineRenderer, type Renderer, renderSettingsOf } from "./render-pool.js";
import { normaliseLabels, type Route, routeProtocol } from "./routing.js";

/** Key of the content property that names the job owning a page (defined in `@minutes/contracts`). */
export { JOB_PROPERTY_KEY };

/** What the consumer does with the message after the pipeline. */
export type Disposition =
  | { readonly _tag: "Ack" }
  | { readonly _tag: "Nak"; readonly delayMs: number }
  /**
   * Keep the message and handle it again after `delayMs` (growing on each try), without a new
   * delivery: for waits that must not use up `max_deliver` (the database is down, another attempt
   * holds the job's lease). Only a stopping publisher gives the message back.
   */
  | {
      readonly _tag: "Retry";
      readonly delayMs: number;
      /**
       * `"database-answers"`: the wait failed database work; it also ends as soon as the database
       * answers again after not answering (see database-watch.ts), whatever is left of `delayMs`.
       */
      readonly until?: "database-answers";
    }
  | { readonly _tag: "Term" };

/** Steps after which a test hook may run (and kill the pipeline to simulate a crash). */
export type PipelineStep = "claimed" | "page-written" | "property-written" | "labels-written" | "recorded";

/** The message as the consumer hands it over. */
export interface IncomingMessage {
  readonly subject: string;
  readonly data: string;
  readonly streamSequence: number;
  readonly deliveryCount: number;
  /**
   * When JetStream stored the message (ms since the epoch): the start of the publication latency,
   * from the moment Minutes had the event or command, whatever `occurredAt` the sender claims.
   */
  readonly storedAt?: number;
}

/** Everything the pipeline needs besides the message. */
export interface PipelineSettings {
  readonly config: MinutesConfig;
  /** This publisher instance (lease owner). */
  readonly owner: string;
  /** Who Minutes is in Confluence: versions by anyone else are manual edits. */
  readonly botIdentity: () => ReadonlyArray<string>;
  /**
   * How long a claim lasts unless renewed; an attempt renews it every third of this while it runs,
   * so it runs out only when its holder stopped. At least the consumer's ack wait: a crashed
   * attempt's message comes back about when its lease has run out.
   */
  readonly leaseMs: number;
  /** Delay before a message whose job another instance is publishing comes back. */
  readonly busyDelayMs: number;
  /** Year/month pages already found or created, by space, parent and title (shared across messages). */
  readonly containers?: ContainerCache;
  /** Page template (`confluence.page_template` contents) around the converted protocol. */
  readonly template?: string;
  /** Renders protocols (render threads); by default on the event loop, with `template`. */
  readonly renderer?: Renderer;
  /** Index pages to refresh after each publication (`create_index_page`). */
  readonly indexPages?: IndexPages;
  /** Test hook run after each step; a defect here simulates a crash at that step. */
  readonly afterStep?: (step: PipelineStep, jobId: string) => Effect.Effect<void>;
  /**
   * What the recorded message of a failure adds to the error's own, when the publisher knows more
   * about its cause than the error says: an authentication error while the token in use is known
   * to have expired names the expiry and how to replace the token.
   */
  readonly failureNote?: (error: { readonly _tag: string }) => string | undefined;
}

/** Receives every outcome (outcome events, notifications, logs). */
export interface OutcomeSinkShape {
  readonly emit: (outcome: PublicationOutcome) => Effect.Effect<void>;
}

/** What the pipeline does with messages. */
export interface PublishPipelineShape {
  readonly handle: (message: IncomingMessage) => Effect.Effect<Disposition>;
  /**
   * A message JetStream will not deliver again (`max_deliver` reached without an answer): its
   * job's record is marked failed, saying so, and a failed outcome goes out, so that the event is
   * not dropped without a word. Not when the job moved on: a newer protocol is stored (its own
   * message publishes it), the record was published from this message or a later one (the last
   * delivery died after recording), or an attempt holds the job now (its outcome stands).
   * `Retry` while the store is unavailable; `Ack` once recorded or left as it is.
   */
  readonly giveUp: (message: IncomingMessage) => Effect.Effect<Disposition>;
}

/** The pipeline as a service. */
export class PublishPipeline extends Context.Tag("@minutes/publisher/PublishPipeline")<
  PublishPipeline,
  PublishPipelineShape
>() {}

/** Builds the pipeline over a store, a Confluence client and an outcome sink. */
export const makePublishPipeline = (
  settings: PipelineSettings,
  store: PublicationStoreShape,
  confluence: ConfluenceClientService,
  sink: OutcomeSinkShape,
): PublishPipelineShape => {
  const { config } = settings;
  const site = confluenceSite(config.confluence.base_url);
  const maxDeliver = config.nats.max_deliver;
  const backoffMs = config.nats.backoff_seconds.map((s) => Math.round(s * 1000));
  const maxAgeMs = Math.round(config.nats.max_age_days * 86_400_000);
  const step = (name: PipelineStep, jobId: string) =>
    settings.afterStep ? settings.afterStep(name, jobId) : Effect.void;

  const outcome = (
    kind: PublicationEventKind,
    jobId: string,
    trigger: string,
    fields: Partial<Omit<PublicationOutcome, "outcome" | "jobId" | "trigger" | "occurredAt">> = {},
  ): PublicationOutcome => ({
    outcome: kind,
    jobId,
    trigger,
    publicationId: null,
    pageId: null,
    pageUrl: null,
    pageTitle: null,
    pageVersion: null,
    spaceKey: null,
    errorTag: null,
    errorMessage: null,
    latencyMs: null,
    retries: 0,
    rateLimited: 0,
    ...fields,
    occurredAt: new Date().toISOString(),
  });

  /** Emits an outcome with the retries, 429s, requests and request time of this message's Confluence calls. */
  const emit = (o: PublicationOutcome) =>
    Effect.flatMap(FiberRef.get(ConfluenceCallStatsRef), (stats) =>
      sink.emit(
        stats === undefined
          ? o
          : {
              ...o,
              retries: stats.retries,
              rateLimited: stats.rateLimited,
              confluenceRequests: stats.requests,
              confluenceMs: Math.round(stats.requestMs),
            },
      ),
    );

  /** The database did not answer: the message stays here and is handled again once it does. */
  const storeUnavailable = (e: Pick<StoreUnavailableError, "message">) =>
    Effect.logError("database unavailable; trying the message again").pipe(
      Effect.annotateLogs({ reason: e.message }),
      Effect.as({ _tag: "Retry", delayMs: STORE_RETRY_MS, until: "database-answers" } as Disposition),
    );

  // Operations are `Effect.fnUntraced`: a named `Effect.fn` captures a call-site stack trace on
  // every call (~20 µs), and these run several times for every protocol published.
  /**
   * Records a decode failure so it is visible, and terminates the message. Fails with
   * `StoreUnavailableError` while the database does not answer (the message is kept, `Retry`):
   * terminated then, the event would be gone with no record of its rejection.
   */
  const reject = Effect.fnUntraced(function* (message: IncomingMessage, error: EventRejectedError) {
    // The job the message names: in its body, else in its subject (a message that is not JSON),
    // else none, and the rejection gets a record of its own.
    const jobId =
      rawField(message.data, "jobId") ??
      jobOfSubject(message.subject, [
        protocolReadyPrefix(config.nats.subject_prefix),
        publishRequestedPrefix(config.nats.subject_prefix),
      ]) ??
      `invalid-event-${message.streamSequence}`;
    yield* Effect.logError("rejected an invalid event").pipe(
      Effect.annotateLogs({ jobId, reason: error.reason, streamSequence: message.streamSequence }),
    );
    // A malformed message put on the stream by hand (the gateway sends none) that is older than
    // what the job's record or stored protocol came from says nothing about the job's current
    // state: a valid protocol of the job stands, and its record must not turn `rejected`.
    const [existing, stored] = yield* Effect.all([store.findByJob(jobId), store.getProtocol(jobId)]);
    if (
      Option.isSome(existing) &&
      !isLatestMessageOf(message, existing.value, Option.getOrUndefined(stored))
    ) {
      yield* Effect.logWarning(
        "the invalid event is older than what the job's record holds; its record is left as it is",
      ).pipe(
        Effect.annotateLogs({
          jobId,
          streamSequence: message.streamSequence,
          recordSequence: existing.value.streamSequence ?? "none",
          protocolSequence: Option.isSome(stored) ? (stored.value.streamSequence ?? "none") : "none",
          recordStatus: existing.value.status,
        }),
      );
      return { _tag: "Term" } as Disposition;
    }
    const record = yield* store.ensurePublication({
      jobId,
      spaceKey: config.confluence.space_key,
      parentPageId: null,
      trigger: "event",
    });
    // A job whose page is published keeps its record (an invalid transition), and a record
    // deleted meanwhile stays deleted; the rejection is still reported.
    yield* store
      .transition(record.id, "rejected", {
        errorMessage: error.message,
        errorTag: error._tag,
        streamSequence: message.streamSequence,
      })
      .pipe(
        Effect.catchTags({
          InvalidTransitionError: () => Effect.void,
          PublicationNotFoundError: () => Effect.void,
        }),
      );
    yield* emit(
      outcome("rejected", jobId, "event", {
        publicationId: record.id,
        errorTag: error._tag,
        errorMessage: error.message,
      }),
    );
    return { _tag: "Term" } as Disposition;
  });

  const containers = settings.containers ?? new ContainerCache();

  /** The year or month page with this title in the tree of `routeParent`, created on demand (exactly once). */
  const ensureYearOrMonth = (
    spaceKey: string,
    parentId: string | null,
    title: string,
    routeParent: string | null,
  ) => ensureContainer(confluence, containers, spaceKey, parentId, title, routeParent);

  /**
   * The parent of a meeting's page: the route's parent, or its year/month page under it; with the
   * hierarchy, also the year page (`yearPage`), where Confluence puts a month's pages when a person
   * deletes the month page.
   */
  const parentFor = (
    spaceKey: string,
    routeParent: string | null,
    meetingDate: string,
  ): Effect.Effect<
    { readonly parentId: string | null; readonly yearPage?: string },
    ConfluenceError | TitleTakenError
  > => {
    const advanced = config.confluence.advanced_settings;
    if (!advanced.use_page_hierarchy) return Effect.succeed({ parentId: routeParent });
    const [year = "", month = ""] = meetingDate.split("-");
    const fill = (format: string) => format.replace(/YYYY/g, year).replace(/MM/g, month);
    return ensureYearOrMonth(spaceKey, routeParent, fill(advanced.hierarchy_year_title), routeParent).pipe(
      Effect.flatMap((yearPage) =>
        ensureYearOrMonth(spaceKey, yearPage, fill(advanced.hierarchy_month_title), routeParent).pipe(
          Effect.map((parentId) => ({ parentId, yearPage })),
        ),
      ),
    );
  };

  /**
   * Finds the page this job owns, if any, and the job property on it. `willWrite`: the page is
   * about to be written (forced, or content its record has not published), so the property the
   * write needs is read at the same time as the page: one round trip instead of two.
   */
  const findOwnPage = Effect.fnUntraced(function* (
    jobId: string,
    record: Publication,
    spaceKey: string,
    titles: ReadonlyArray<string>,
    willWrite: boolean,
    assumeNew: boolean,
    verifiedHere: boolean,
  ) {
    // A job's first attempt has no page of its own anywhere (its record was created by this claim,
    // before any write to Confluence): the create itself tells whether the title is free, one
    // round trip instead of a lookup and then the create. A taken title comes back as a conflict,
    // and the attempt is made again with the lookups below (another job's page, a lost record).
    if (assumeNew && record.pageId === null)
      return {
        page: undefined,
        property: undefined,
        title: titles[0] as string,
        movedFrom: undefined,
        lookup: "new",
        via: "skipped on the job's first attempt (the create checks the title)",
      };
    let movedFrom: PageInfo | undefined;
    if (record.pageId !== null) {
      const [page, prefetched] = yield* Effect.all(
        [
          confluence.getPageInfo(record.pageId).pipe(
            Effect.map(Option.some),
            Effect.catchTag("ConfluenceNotFoundError", () => Effect.succeed(Option.none<PageInfo>())),
          ),
          willWrite
            ? confluence.getProperty(record.pageId, JOB_PROPERTY_KEY).pipe(
                Effect.map(Option.some),
                // A missing page: the page read says so.
                Effect.catchTag("ConfluenceNotFoundError", () =>
                  Effect.succeed(Option.none<Option.Option<ContentProperty>>()),
                ),
              )
            : Effect.succeed(Option.none<Option.Option<ContentProperty>>()),
        ],
        { concurrency: "unbounded" },
      );
      if (Option.isSome(page) && page.value.status === "archived") {
        // Cloud's archive (archive_method cloud_archive): the page keeps its title but is not
        // ours to write until a person restores it. A new page could not take the title either.
        return yield* new PageArchivedError({ pageId: page.value.id });
      }
      const current = Option.isSome(page) && page.value.status === "current" ? page.value : undefined;
      const bot = settings.botIdentity();
      // The page is still at the version this job last recorded, written by Minutes, the property
      // was written before that record, and this installation saw on this Confluence that the page
      // is the job's: the record says what the property says, no need to read it (a property read
      // alongside the page only spares the coming write its own read). Not for a record that came
      // from an import or from another `base_url`: page ids restart in every site, and on Cloud
      // Minutes' account has the same id on every site, so version and author match by chance.
      const synced =
        current !== undefined &&
        isInSync(record, current) &&
        current.version.authorId !== undefined &&
        bot.includes(current.version.authorId) &&
        verifiedHere;
      const property =
        current === undefined || synced
          ? Option.flatten(prefetched)
          : Option.isSome(prefetched)
            ? prefetched.value
            : yield* confluence.getProperty(current.id, JOB_PROPERTY_KEY);
      const owner = Option.isSome(property) ? jobOfProperty(property.value) : undefined;
      // A page id proves nothing on its own: the database may have been used with another
      // Confluence (its pages are numbered alike) or restored from another installation's export.
      // A page that is not provably this job's is left alone, and the job gets a page of its own.
      // A property naming another job settles it, whatever the record says.
      const ours =
        current !== undefined && isRecordedPageOurs(jobId, record, current, owner, synced, titles, bot);
      if (current !== undefined && !ours) {
        yield* Effect.logWarning(
          "the page this job's record names is not this job's page; it is left alone and the job gets a page of its own",
        ).pipe(
          Effect.annotateLogs({
            jobId,
            pageId: current.id,
            pageTitle: current.title,
            pageProperty: owner ?? "none",
            // Where the record's page was last verified: none for an imported record.
            recordVerified: verifiedHere,
          }),
        );
      }
      if (current !== undefined && ours) {
        // Minutes does not move a page to another space (v2's update cannot): a job routed to
        // another space gets a page there, and its old one is dealt with once the new one is
        // recorded (`movedFrom`). But a page in neither the route's space nor the one Minutes last
        // placed it in was moved there by a person (Cloud's move resource, or Confluence's move
        // dialog): like a page a person moved under another parent, it stays where they put it and
        // is updated there. The job property says where Minutes placed it (`spaceKey`); a property
        // from before it did leaves the record's space, which was then always the route's.
        const here = yield* inSpace(current, spaceKey);
        const placedProperty =
          !here && synced && !willWrite
            ? yield* confluence.getProperty(current.id, JOB_PROPERTY_KEY)
            : property;
        const placedSpace = here
          ? spaceKey
          : (placedSpaceOf(Option.getOrUndefined(placedProperty)) ?? record.spaceKey);
        const movedAway =
          !here &&
          (placedSpace.toUpperCase() === spaceKey.toUpperCase() ||
            !(yield* inSpace(current, placedSpace).pipe(
              // The space Minutes placed it in is gone: the page cannot be in it.
              Effect.catchTag("ConfluenceNotFoundError", () => Effect.succeed(false)),
            )));
        movedFrom = here || movedAway ? undefined : current;
        if (movedFrom === undefined) {
          const nowIn = here ? spaceKey : yield* spaceKeyOf(current);
          if (!here)
            yield* Effect.logInfo(
              "the page was moved to another space in Confluence since Minutes placed it; it stays there",
            ).pipe(
              Effect.annotateLogs({
                jobId,
                pageId: current.id,
                routeSpace: spaceKey,
                placedInSpace: placedSpace,
                nowInSpace: nowIn,
              }),
            );
          const title = yield* titleFor(current, nowIn, titles);
          // Where the page is when a person moved it to another space: the record follows it.
          const elsewhere = here ? {} : { elsewhere: { spaceKey: nowIn, placedSpace } };
          return synced
            ? {
                page: current,
                property: Option.getOrUndefined(placedProperty),
                synced: true,
                title,
                lookup: "own",
                via: "record (page at the version it recorded)",
                ...elsewhere,
              }
            : {
                page: current,
                property: Option.getOrUndefined(placedProperty),
                title,
                lookup: "own",
                via:
                  owner === jobId
                    ? "record (job property)"
                    : isAdoptable(current, bot)
                      ? "record (untouched version 1 by Minutes)"
                      : "record (imported from the original integration)",
                ...elsewhere,
              };
        }
      }
      // The page was deleted or trashed in Confluence, or is not this job's: the job gets a new one.
    }
    /** The pages holding each title that is someone else's, in the order tried. */
    const holders: Array<{ readonly title: string; readonly pageId: string }> = [];
    for (const title of titles) {
      const found = yield* confluence.findPageByTitle(spaceKey, title);
      if (Option.isNone(found))
        return {
          page: undefined,
          property: undefined,
          title,
          movedFrom,
          lookup: "new",
          via: "title is free",
        };
      const property = yield* confluence.getProperty(found.value.id, JOB_PROPERTY_KEY);
      const owner = Option.isSome(property) ? jobOfProperty(property.value) : undefined;
      if (found.value.status !== "current") {
        // An archived page keeps its title (Cloud): the job's own is read-only until a person
        // restores it, as above; anyone else's holds the title like any other page.
        if (owner === jobId) return yield* new PageArchivedError({ pageId: found.value.id });
        holders.push({ title, pageId: found.value.id });
        continue;
      }
      if (owner === jobId)
        return {
          page: found.value,
          property: Option.getOrUndefined(property),
          title,
          movedFrom,
          lookup: "found",
          via: "title (job property)",
        };
      if (owner === undefined && record.attempts > 1 && isAdoptable(found.value, settings.botIdentity())) {
        // Created by Minutes and never edited, but the property write was lost (crash window
        // between the create and the property write, on both deployments): this job's own
        // earlier attempt. Never on the job's first attempt (its claim made the record; no
        // attempt of this job wrote anything before): such a page is another job's with the same
        // title, created a moment ago by this or another publisher, whose property is on its
        // way. Taking it would give two jobs one page; the title is another job's, and this one
        // takes its own.
        return {
          page: found.value,
          property: undefined,
          title,
          movedFrom,
          lookup: "found",
          via: "title (untouched version 1 by Minutes)",
        };
      }
      // Someone else's page: try the job-specific title next.
      holders.push({ title, pageId: found.value.id });
    }
    const [first, second] = holders;
    return yield* new TitleTakenError({
      spaceKey,
      title: first?.title ?? (titles[0] as string),
      pageId: first?.pageId ?? "?",
      ...(second !== undefined ? { alsoTaken: second } : {}),
    });
  });

  /** Whether `page` is in the space with key `spaceKey`. */
  const inSpace = (page: PageInfo, spaceKey: string) =>
    page.spaceKey !== undefined
      ? Effect.succeed(page.spaceKey.toUpperCase() === spaceKey.toUpperCase())
      : Effect.map(confluence.getSpace(spaceKey), (space) => space.id === page.spaceId);

  /**
   * The space and parent a record names: its route's, or for a page a person moved to another
   * space, that space, with the parent of the index Minutes keeps there by its routing rules (the
   * route's parent when it keeps none: a page of another space, which no index there lists).
   */
  const recordLocation = (route: Route, elsewhere: { readonly spaceKey: string } | undefined) =>
    elsewhere === undefined
      ? { spaceKey: route.spaceKey, parentPageId: route.parentPageId }
      : {
          spaceKey: elsewhere.spaceKey,
          parentPageId: Option.match(indexLocationIn(config.confluence, elsewhere.spaceKey), {
            onNone: () => route.parentPageId,
            onSome: (location) => location.parentPageId,
          }),
        };

  /** The key of the space `page` is in (as Confluence spells it). */
  const spaceKeyOf = (page: PageInfo) =>
    page.spaceKey !== undefined
      ? Effect.succeed(canonicalSpaceKey(page.spaceKey))
      : Effect.map(confluence.getSpace(page.spaceId), (space) => canonicalSpaceKey(space.key));

  /**
   * The title the job's own page keeps or takes: its current one while that is still one of the
   * job's titles (a page that got the job-specific title because another job has the plain one
   * keeps it), else the first of them that no other page holds.
   */
  const titleFor = Effect.fnUntraced(function* (
    page: PageInfo,
    spaceKey: string,
    titles: ReadonlyArray<string>,
  ) {
    if (titles.includes(page.title)) return page.title;
    let taken = "?";
    for (const title of titles) {
      const holder = yield* confluence.findPageByTitle(spaceKey, title);
      if (Option.isNone(holder) || holder.value.id === page.id) return title;
      if (taken === "?") taken = holder.value.id;
    }
    return yield* new TitleTakenError({ spaceKey, title: titles[0] as string, pageId: taken });
  });

  // The parse of a protocol is large and short-lived; only the rendered page leaves the renderer,
  // so that no parse is held across the awaits that follow (16 messages in flight would keep 16
  // of them alive into the old generation).
  const renderer =
    settings.renderer ?? inlineRenderer(renderSettingsOf(config.confluence), settings.template);

  /**
   * A retry Confluence makes wait for long (a 429 or 503 with a Retry-After of minutes): said in
   * the log and on the record, which would otherwise show "publishing" and nothing else meanwhile.
   */
  const noteLongWait = (id: number, jobId: string, wait: ConfluenceRetryWait, owner: string) => {
    if (wait.waitMs < LONG_WAIT_MS) return Effect.void;
    const at = new Date(Date.now() + wait.waitMs).toISOString();
    const errorMessage = `${wait.error.message.replace(/\.?$/, ".")} Confluence asked to wait ${formatWait(wait.waitMs)}: retry ${wait.retry} of ${wait.maxRetries} at ${at}.`;
    return Effect.logWarning("Confluence asked to wait before the next try").pipe(
      Effect.annotateLogs({ jobId, error: wait.error._tag, waitMs: wait.waitMs, retry: wait.retry, at }),
      Effect.zipRight(store.notePublishing(id, { errorTag: wait.error._tag, errorMessage, owner })),
      Effect.ignore,
    );
  };

  /** Publishes the job's latest stored protocol. */
  const publishJob = Effect.fnUntraced(function* (
    received: StoredProtocol,
    trigger: PublicationTrigger,
    force: boolean,
    message: IncomingMessage,
    replayId: string | undefined,
  ) {
    const jobId = received.jobId;
    const first = yield* Effect.either(renderer.prepare(received));
    if (Either.isLeft(first)) return yield* renderFailed(received, first.left, trigger, message, replayId);
    const prepared = first.right;
    // The lease belongs to this attempt, not to the instance: two messages of one job in the same
    // process must not publish at once either. A job without a record gets one, claimed.
    const owner = `${settings.owner}/${randomUUID().slice(0, 8)}`;
    const claimed = yield* store.claim({
      jobId,
      owner,
      leaseMs: settings.leaseMs,
      trigger,
      create: { spaceKey: prepared.route.spaceKey, parentPageId: prepared.route.parentPageId },
    });
    if (Option.isNone(claimed)) {
      yield* logDebugLazily("job is being published by another instance; retrying later", () => ({ jobId }));
      return { _tag: "Retry", delayMs: settings.busyDelayMs } as Disposition;
    }
    const claimedRecord = claimed.value;
    yield* step("claimed", jobId);
    /**
     * Before each write to the page: this attempt still holds the job (one conditional UPDATE,
     * which extends the lease too). Renewing in the background is not enough: an attempt whose
     * process was paused, or whose database did not answer, for longer than the lease resumes
     * after another attempt took the job over and published a newer protocol, and writing what it
     * read before would put the older protocol over the newer page. A lease lost is
     * `LeaseLostError` (the message is tried again), a database that does not answer
     * `StoreUnavailableError` (tried again once it answers). After this check, Confluence's own
     * check covers a takeover: the write names the version it read, a create the title it takes.
     */
    const stillHolding = Effect.flatMap(
      store.renewLease({ id: claimedRecord.id, owner, leaseMs: settings.leaseMs }),
      (held) => (held ? Effect.void : Effect.fail(new LeaseLostError({ id: claimedRecord.id, owner }))),
    );

    /** One try at the page, from the job's record as it stands (read again after a version conflict). */
    const attempt = (
      publication: Publication,
      assumeNew: boolean,
      {
        protocol,
        route,
        rendered,
      }: Omit<PreparedProtocol, "dateFrom"> & { readonly protocol: StoredProtocol },
    ) =>
      Effect.gen(function* () {
        const titles = [rendered.title, suffixedTitle(rendered.title, jobId)];
        const willWrite = force || publication.contentHash !== rendered.contentHash;
        // The page the claimed record names was verified on this Confluence (re-reads of the record
        // within this attempt name the same page: no one else writes it while the lease holds).
        const verifiedHere =
          claimedRecord.pageVerifiedOn === site && publication.pageId === claimedRecord.pageId;
        const own = yield* findOwnPage(
          jobId,
          publication,
          route.spaceKey,
          titles,
          willWrite,
          assumeNew,
          verifiedHere,
        );
        yield* logDebugLazily("page lookup", () => ({
          jobId,
          lookup: own.lookup,
          via: own.via,
          pageId: own.page?.id ?? "none",
          ...(own.page !== undefined ? { pageVersion: own.page.version.number } : {}),
          title: own.title,
          ...(own.movedFrom !== undefined ? { oldPageInOtherSpace: own.movedFrom.id } : {}),
        }));
        // A page a person moved to another space: updated there, never moved back (below).
        const elsewhere = "elsewhere" in own ? own.elsewhere : undefined;
        // An archived meeting's page is updated where it is, in the archive, and stays archived.
        const keepArchived = publication.archivedAt !== null && own.page !== undefined;
        const finalStatus = keepArchived ? "archived" : "published";
        const placement = keepArchived
          ? { parentId: own.page?.parentId ?? null }
          : yield* parentFor(route.spaceKey, route.parentPageId, rendered.meetingDate);
        const parentId = placement.parentId;
        // The hierarchy (or the route) changed since the page was written: it moves, keeping its
        // history, once it is clear the page is Minutes' to change (never over a person's edit).
        const wantsMove = own.page !== undefined && parentId !== null && own.page.parentId !== parentId;
        // The job property says where Minutes last placed the page. A page no longer there was moved
        // in Confluence by a person: it stays where they put it (and its property keeps saying where
        // Minutes had placed it, so it stays theirs until it is moved back there).
        const ownProperty =
          wantsMove && own.property === undefined && own.page !== undefined
            ? Option.getOrUndefined(yield* confluence.getProperty(own.page.id, JOB_PROPERTY_KEY))
            : own.property;
        const placed = placedParentOf(ownProperty);
        // A person who deletes a month page does not move its pages: Confluence does, up to the
        // year page. Such a page follows its route (into the month page made anew), rather than
        // staying at the year page as if a person had put it there. One read, only in that case.
        const parentGone =
          wantsMove &&
          placed !== undefined &&
          own.page?.parentId !== placed &&
          "yearPage" in placement &&
          own.page?.parentId === placement.yearPage &&
          (yield* confluence.getPageInfo(placed).pipe(
            Effect.map((parent) => parent.status !== "current"),
            Effect.catchTag("ConfluenceNotFoundError", () => Effect.succeed(true)),
          ));
        const movedByPerson =
          (wantsMove && placed !== undefined && own.page?.parentId !== placed && !parentGone) ||
          elsewhere !== undefined;
        if (parentGone)
          yield* Effect.logInfo(
            "the page Minutes placed the page under was deleted in Confluence; the page goes back under its route",
          ).pipe(
            Effect.annotateLogs({
              jobId,
              pageId: own.page?.id ?? "",
              placedUnder: placed,
              movedTo: parentId ?? "",
            }),
          );
        const moveTo = wantsMove && !movedByPerson ? (parentId ?? undefined) : undefined;
        if (movedByPerson && elsewhere === undefined)
          yield* Effect.logInfo(
            "the page was moved in Confluence since Minutes placed it; it stays where it was moved to",
          ).pipe(
            Effect.annotateLogs({
              jobId,
              pageId: own.page?.id ?? "",
              placedUnder: placed,
              nowUnder: own.page?.parentId ?? "the space root",
            }),
          );
        yield* logDebugLazily("page placement", () => ({
          jobId,
          parentId: parentId ?? "none (space root)",
          ...(keepArchived ? { keptInArchive: true } : {}),
          ...(movedByPerson ? { movedInConfluenceFrom: placed ?? "none recorded" } : {}),
          ...(elsewhere !== undefined ? { nowInSpace: elsewhere.spaceKey } : {}),
          move: moveTo !== undefined,
        }));
        const title = own.title;
        const body = rendered.body;
        /** The job property of `pageVersion`; `under` is the page's parent now (see `placed`). */
        const propertyValue = (pageVersion: number, under: string | undefined): JsonValue => ({
          jobId,
          contentHash: rendered.contentHash,
          pageVersion,
          parentId: (movedByPerson ? (placed ?? under) : under) ?? null,
          // The space Minutes placed it in: a page found in another one was moved there by a person.
          spaceKey: elsewhere?.placedSpace ?? route.spaceKey,
          // The labels Minutes set, so that a label the route no longer gives can be taken off.
          labels: [...route.labels],
        });

        let page: PageInfo;
        let kind: PublicationOutcomeKind = "published";
        /** A version the move alone wrote (Data Center moves by a versioned update). */
        let moveVersion = false;
        // A new page gets its labels with it. The content hash covers the labels: when this job's
        // own page was last published with the same hash, that publication wrote these labels
        // already (before it was recorded).
        const labelsWritten =
          own.page === undefined ||
          (own.page.id === publication.pageId && publication.contentHash === rendered.contentHash);
        if (own.page === undefined) {
          // A new page gets its property right after the create (labels with it on Data Center, right after on Cloud).
          yield* stillHolding;
          page = yield* confluence
            .createPage({
              spaceKey: route.spaceKey,
              title,
              body,
              ...(parentId !== null ? { parentId } : {}),
              property: { key: JOB_PROPERTY_KEY, value: propertyValue(1, parentId ?? undefined) },
              ...(route.labels.length > 0 ? { labels: route.labels } : {}),
            })
            .pipe(
              // The parent is gone (a person deleted the year or month page this publisher
              // remembered): once more, with the containers looked up again.
              Effect.catchTag("ConfluenceNotFoundError", (error) =>
                Effect.fail(
                  parentId !== null && error.hint !== "endpoint-removed" && error.hint !== "check-base-url"
                    ? new PageGoneError({ error, update: false })
                    : error,
                ),
              ),
            );
          yield* step("page-written", jobId);
          yield* step("property-written", jobId);
          if (route.labels.length > 0) yield* step("labels-written", jobId);
        } else {
          const existing = own.page;
          const known = "synced" in own ? recordState(publication) : propertyState(own.property);
          const ourVersion = Math.max(publication.pageVersion ?? 0, known?.pageVersion ?? 0);
          const currentHash =
            known?.pageVersion === existing.version.number ? known.contentHash : publication.contentHash;
          const upToDate =
            (ourVersion === existing.version.number || known?.pageVersion === existing.version.number) &&
            currentHash === rendered.contentHash &&
            existing.title === title;
          if (upToDate && !force) {
            yield* logDebugLazily("page up to date; nothing written", () => ({
              jobId,
              pageId: existing.id,
              pageVersion: existing.version.number,
              reason: `content hash and title are those of version ${existing.version.number}, which this job wrote (says its ${"synced" in own ? "record" : "job property"})`,
              contentHash: rendered.contentHash.slice(0, 12),
            }));
            page = existing;
            // The page holds this protocol at a version the record does not know: the attempt
            // that wrote it died, or its database write failed, before it was recorded. That
            // publication is this one's outcome: `published`, and its version goes into the history.
            const unrecorded =
              publication.pageId !== existing.id || publication.pageVersion !== existing.version.number;
            kind = unrecorded ? "published" : "unchanged";
            if (moveTo !== undefined) {
              // On Data Center the move is a new version by Minutes: it is recorded below, so the
              // page stays in sync with its record and its next publication sees no edit.
              yield* stillHolding;
              page = yield* confluence.movePage(existing.id, {
                targetId: moveTo,
                position: "append",
                message: `Moved by Minutes (${trigger})`,
                // Never on top of a version written since this one was found up to date (a
                // conflict comes back on a later delivery, which looks at the page again).
                expectedVersion: existing.version.number,
              });
              moveVersion = page.version.number !== existing.version.number;
              // The property says where Minutes placed the page, so a later move by a person shows.
              yield* confluence.setProperty(
                page.id,
                JOB_PROPERTY_KEY,
                propertyValue(page.version.number, moveTo),
                ownProperty !== undefined ? Option.some(ownProperty) : undefined,
              );
              yield* logDebugLazily("page moved under its new parent", () => ({
                jobId,
                pageId: page.id,
                parentId: moveTo,
                // Data Center moves by a versioned update, recorded like a publication's version.
                pageVersion: page.version.number,
              }));
            } else if (elsewhere !== undefined && placedSpaceOf(ownProperty) !== elsewhere.placedSpace) {
              // The record is about to name the space the page is in now: the property must say
              // where Minutes placed it, or the next publication would take that space for
              // Minutes' own and give the job a new page in its route's space (a property from
              // before Minutes recorded the space says nothing; nothing else is written here).
              yield* stillHolding;
              yield* confluence.setProperty(
                existing.id,
                JOB_PROPERTY_KEY,
                propertyValue(existing.version.number, existing.parentId),
                ownProperty !== undefined ? Option.some(ownProperty) : undefined,
              );
            }
          } else if (
            ourVersion > 0 &&
            existing.version.number > ourVersion &&
            !isBot(existing.version.authorId, settings.botIdentity())
          ) {
            const edit = new ManualEditError({
              pageId: existing.id,
              ourVersion,
              currentVersion: existing.version.number,
              editedBy: existing.version.authorName ?? existing.version.authorId ?? "unknown",
            });
            // A forced publication is an operator's decision to overwrite this page's edit.
            const mode = force ? "overwrite" : config.confluence.on_manual_edit;
            if (mode === "fail") return yield* edit;
            if (mode === "skip") {
              yield* Effect.logWarning("page edited in Confluence; left as it is").pipe(
                Effect.annotateLogs({ jobId, pageId: existing.id, editedBy: edit.editedBy }),
              );
              // The record keeps its last publication and says why this protocol was not published.
              const recorded = yield* store.transition(publication.id, finalStatus, {
                pageId: existing.id,
                pageUrl: existing.webUrl,
                pageTitle: existing.title,
                verifiedOn: site,
                keepPublished: true,
                errorMessage: `The newer protocol was not published: page ${existing.id} was edited in Confluence by ${edit.editedBy} (version ${edit.currentVersion}) and on_manual_edit is "skip". Publish with force=true to overwrite the edit.`,
                errorTag: edit._tag,
                streamSequence: message.streamSequence,
                owner,
              });
              return { recorded, page: existing, kind: "skipped" as PublicationOutcomeKind, rendered };
            }
            yield* Effect.logWarning("page edited in Confluence; overwritten").pipe(
              Effect.annotateLogs({
                jobId,
                pageId: existing.id,
                editedBy: edit.editedBy,
                editedVersion: edit.currentVersion,
                reason: force ? "force" : "on_manual_edit: overwrite",
              }),
            );
            yield* stillHolding;
            page = yield* write(existing, title, body, trigger, moveTo);
          } else {
            yield* logDebugLazily("page out of date; updating", () => ({
              jobId,
              pageId: existing.id,
              pageVersion: existing.version.number,
              reason: updateReason(upToDate, currentHash, rendered.contentHash, existing.title, title),
            }));
            yield* stillHolding;
            page = yield* write(existing, title, body, trigger, moveTo);
          }
          if (kind === "published") {
            yield* step("page-written", jobId);
            // Labels Minutes set before that the route no longer gives come off (a person's own
            // labels are not in the property and stay). Before the property names the new set, so
            // an attempt cut short in between takes them off on the next one.
            const { stale, ignored } = staleLabels(ownProperty, route.labels);
            if (ignored.length > 0)
              yield* Effect.logInfo(
                "the job property names labels Confluence would refuse; they are not taken off",
              ).pipe(
                Effect.annotateLogs({
                  jobId,
                  pageId: page.id,
                  // At most ten: the property is anyone's to fill.
                  labels: ignored
                    .slice(0, 10)
                    .map((l) => JSON.stringify(l))
                    .join(", "),
                  ignored: ignored.length,
                }),
              );
            if (stale.length > 0) {
              yield* Effect.forEach(
                stale,
                (name) =>
                  confluence.removeLabel(page.id, name).pipe(
                    // The label already gone is the goal reached; a removed endpoint (410) is not:
                    // the property would claim the label off while it stays on the page.
                    Effect.catchIf(
                      (e): e is ConfluenceNotFoundError =>
                        e._tag === "ConfluenceNotFoundError" && e.hint !== "endpoint-removed",
                      () => Effect.void,
                    ),
                  ),
                { discard: true },
              );
              yield* logDebugLazily("labels taken off", () => ({
                jobId,
                pageId: page.id,
                labels: stale.join(", "),
              }));
            }
            // The property read in findOwnPage saves the client a read before its write.
            yield* confluence.setProperty(
              page.id,
              JOB_PROPERTY_KEY,
              propertyValue(page.version.number, moveTo ?? page.parentId ?? existing.parentId),
              ownProperty !== undefined ? Option.some(ownProperty) : undefined,
            );
            yield* step("property-written", jobId);
          }
        }

        if (kind === "published" && route.labels.length > 0 && !labelsWritten) {
          yield* confluence.addLabels(page.id, route.labels);
          yield* step("labels-written", jobId);
        } else if (kind === "published" && route.labels.length > 0 && own.page !== undefined) {
          yield* logDebugLazily("labels not written again", () => ({
            jobId,
            pageId: page.id,
            reason: "this job published the page with the same content hash, which covers the labels",
          }));
        }

        // Before the record moves to the new page: a crash in between leaves the record on the old
        // (trashed) page, and the redelivered message adopts the new one by its job property.
        if ("movedFrom" in own && own.movedFrom !== undefined)
          yield* retireMovedPage(own.movedFrom, page, jobId);
        // Nothing written and nothing new since the record's last publication (a forced or
        // repeated command, a replay): that publication's time and latency stay what they were.
        const nothingNew =
          kind === "unchanged" &&
          publication.publishedAt !== null &&
          publication.contentHash === rendered.contentHash;
        const recorded = yield* store.transition(publication.id, finalStatus, {
          ...(nothingNew ? { keepPublished: true } : {}),
          pageId: page.id,
          pageUrl: page.webUrl,
          pageTitle: page.title,
          pageVersion: page.version.number,
          // The page passed findOwnPage's rules (or is new): it is this job's on this Confluence.
          verifiedOn: site,
          contentHash: rendered.contentHash,
          errorMessage: null,
          errorTag: null,
          streamSequence: message.streamSequence,
          // Where the meeting is: the space a person moved the page to, listed by that space's
          // index only when Minutes keeps one there by its routing rules (`indexLocationIn`).
          ...recordLocation(route, elsewhere),
          meetingDate: rendered.meetingDate,
          // A new page for an archived meeting whose page was deleted is not in the archive.
          archivedAt: keepArchived ? undefined : null,
          // From when Minutes received the message: a sender's occurredAt (a resent old protocol,
          // a wrong clock) must not distort the latency statistics and alerts.
          latencyMs: nothingNew
            ? undefined
            : Math.max(0, Date.now() - (message.storedAt ?? Date.parse(protocol.occurredAt))),
          // Only while this attempt holds the lease: else another attempt took the job over, and
          // its outcome stands.
          owner,
          // A version Minutes wrote (or the page's move) goes into the history with the record.
          version:
            kind === "published" || moveVersion
              ? {
                  pageId: page.id,
                  pageVersion: page.version.number,
                  contentHash: rendered.contentHash,
                  pageTitle: page.title,
                  trigger,
                }
              : undefined,
        });
        yield* step("recorded", jobId);
        return { recorded, page, kind, rendered };
      });

    const work = Effect.gen(function* () {
      // What the page gets is the job's protocol as stored now, under the lease, not the one this
      // message brought: a newer one may have been stored while it waited for the lease (its own
      // message then waits for this one), and publishing the older one would put it over the
      // newer on the page.
      const latest = yield* store.getProtocol(jobId);
      const protocol =
        Option.isSome(latest) && !sameProtocol(latest.value, received) ? latest.value : received;
      const fresh = protocol === received ? prepared : yield* renderer.prepare(protocol);
      // A protocol without a date of its own keeps the date its page already has: sent again on
      // another day (a resend, a correction), it must not rename the page and move it to another
      // year and month. Only a job's first page takes the day its event was sent.
      const keptDate =
        fresh.dateFrom === "sent" &&
        claimedRecord.pageId !== null &&
        claimedRecord.meetingDate !== null &&
        claimedRecord.meetingDate !== fresh.rendered.meetingDate
          ? claimedRecord.meetingDate
          : undefined;
      const { route, rendered, dateFrom } =
        keptDate === undefined
          ? fresh
          : yield* renderer.prepare({
              ...protocol,
              metadata: { ...protocol.metadata, occurredOn: keptDate },
            });
      if (dateFrom === "sent") {
        // Not an error, but a title the sender may not expect: say where its date came from.
        yield* Effect.logInfo(
          claimedRecord.pageId !== null && claimedRecord.meetingDate === rendered.meetingDate
            ? "no meeting date in the event or the protocol; the title keeps the date the job's page has"
            : "no meeting date in the event or the protocol; the title uses the day the event was sent",
        ).pipe(
          Effect.annotateLogs({ jobId, meetingDate: rendered.meetingDate, filename: protocol.filename }),
        );
      }
      yield* logDebugLazily("route and title decided", () => ({
        jobId,
        spaceKey: route.spaceKey,
        parentPageId: route.parentPageId ?? "none",
        rule: route.rule ?? "none",
        // The event's own spaceKey/parentPageId win over any rule.
        eventRoute: protocol.metadata.spaceKey !== undefined || protocol.metadata.parentPageId !== undefined,
        labels: route.labels.join(", "),
        title: rendered.title,
        meetingDate: rendered.meetingDate,
        ...(protocol !== received ? { newerProtocol: true } : {}),
      }));
      if (route.invalidLabels.length > 0) {
        yield* Effect.logWarning("labels Confluence would refuse were not sent").pipe(
          Effect.annotateLogs({ jobId, labels: route.invalidLabels.join(", ") }),
        );
      }
      const firstAttempt = claimedRecord.pageId === null && claimedRecord.attempts === 1;
      let record: Publication = claimedRecord;
      // A job's first attempt assumes its page is new; a title conflict says otherwise.
      let assumeNew = firstAttempt;
      let goneAgain = false;
      for (let conflicts = 0; ; ) {
        const tried = yield* Effect.either(attempt(record, assumeNew, { protocol, route, rendered }));
        if (Either.isRight(tried)) return { ...tried.right, route, protocol };
        const error = tried.left;
        if (error._tag === "ConfluenceTitleConflictError" && assumeNew) {
          // The title was not free after all: look, as for any later attempt, and write accordingly.
          assumeNew = false;
          continue;
        }
        if (error._tag === "PageGoneError") {
          // The page, or the parent it was written under, went away while it was being written:
          // once more, as for a page found gone, with the year and month pages looked up again
          // (a person may have deleted the one this publisher remembered).
          if (goneAgain) return yield* Effect.fail(updateRefused(error));
          goneAgain = true;
          containers.clear();
          record = yield* store.get(claimedRecord.id);
          assumeNew = false;
          continue;
        }
        // Someone wrote the page between our read and our write (the client does not retry a 409
        // with a newer version: that would write over what they wrote unseen). Start again from
        // the page as it is now, so a person's edit meets the manual-edit check, while this attempt
        // still holds the job.
        if (error._tag !== "ConfluenceVersionConflictError" || conflicts >= MAX_CONFLICT_RESTARTS)
          return yield* Effect.fail(error);
        conflicts++;
        if (!(yield* store.renewLease({ id: claimedRecord.id, owner, leaseMs: settings.leaseMs })))
          return yield* new LeaseLostError({ id: claimedRecord.id, owner });
        yield* Effect.logInfo("the page changed while it was written; reading it again").pipe(
          Effect.annotateLogs({ jobId, pageId: record.pageId ?? "none", restart: conflicts }),
        );
        record = yield* store.get(claimedRecord.id);
        assumeNew = false;
      }
    });
    const result = yield* work.pipe(
      (work) => reportConfluenceWaits(work, (wait) => noteLongWait(claimedRecord.id, jobId, wait, owner)),
      Effect.catchAll((error) =>
        failAttempt(claimedRecord, error, trigger, message, replayId, owner).pipe(
          Effect.map((d) => ({ disposition: d })),
        ),
      ),
      (work) => holdingLease(work, claimedRecord.id, owner),
    );
    if ("disposition" in result) return result.disposition;

    const { recorded, page, route, protocol } = result;
    // This very message was published and recorded by an earlier delivery, which died before its
    // outcome went out (or before the ack): the outcome is `published` again, at least once,
    // rather than `unchanged` and never `published`.
    const kind =
      result.kind === "unchanged" &&
      claimedRecord.streamSequence === message.streamSequence &&
      claimedRecord.publishedAt !== null
        ? "published"
        : result.kind;
    if ((kind === "published" || kind === "unchanged") && settings.indexPages !== undefined) {
      // Before the ack, and for unchanged pages too: when a crash stopped the refresh after the
      // page was written, the redelivered message finds the page unchanged and refreshes then.
      // The route's index, and the ones the record entered or left when a person moved the page
      // to another space (or back): only indexes Minutes keeps by its routing rules, never
      // structure in a space nobody routed to.
      const indexes: Array<IndexLocation> = [{ spaceKey: route.spaceKey, parentPageId: route.parentPageId }];
      for (const location of [recorded, claimedRecord])
        if (
          !indexes.some((known) => sameLocation(known, location)) &&
          isRoutedLocation(config.confluence, location)
        )
          indexes.push({ spaceKey: location.spaceKey, parentPageId: location.parentPageId });
      for (const location of indexes) yield* settings.indexPages.refresh(location, confluence);
    }
    yield* Effect.logInfo(kind === "unchanged" ? "page unchanged" : `page ${kind}`).pipe(
      Effect.annotateLogs({
        jobId,
        publicationId: recorded.id,
        pageId: page.id,
        version: page.version.number,
      }),
    );
    yield* emit(
      outcome(kind, jobId, trigger, {
        publicationId: recorded.id,
        pageId: page.id,
        pageUrl: page.webUrl,
        pageTitle: page.title,
        pageVersion: page.version.number,
        spaceKey: recorded.spaceKey,
        latencyMs: recorded.latencyMs,
        protocolSequence: protocol.streamSequence,
        // A skipped manual edit: why the newer protocol is not on the page.
        ...(kind === "skipped" ? { errorTag: recorded.errorTag, errorMessage: recorded.errorMessage } : {}),
        ...(replayId !== undefined ? { replayId } : {}),
      }),
    );
    return { _tag: "Ack" } as Disposition;
  });

  /**
   * The job's page in the space it was routed to before: one meeting keeps one page, so Minutes'
   * own page goes to the trash (restorable there); a page a person edited since stays, and the
   * log says where. Never fails the publication that replaced it.
   */
  const retireMovedPage = (old: PageInfo, replacement: PageInfo, jobId: string) =>
    (isBot(old.version.authorId, settings.botIdentity())
      ? confluence
          .deletePage(old.id)
          .pipe(
            Effect.zipRight(
              Effect.logWarning("the job was routed to another space: its old page went to the trash").pipe(
                Effect.annotateLogs({ jobId, oldPageId: old.id, pageId: replacement.id }),
              ),
            ),
          )
      : Effect.logWarning(
          "the job was routed to another space; its old page was edited by a person and is left as it is",
        ).pipe(
          Effect.annotateLogs({ jobId, oldPageId: old.id, oldPageUrl: old.webUrl, pageId: replacement.id }),
        )
    ).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning("the job's old page in another space could not be moved to the trash").pipe(
          Effect.annotateLogs({ jobId, oldPageId: old.id, error: error._tag, reason: error.message }),
        ),
      ),
    );

  /**
   * Writes the job's page; `parentId` moves it in the same version (v1 `ancestors`, v2
   * `parentId`). A page gone since it was read — deleted, or moved to the trash (the client
   * reports that rather than let its update restore the page) — fails with `PageGoneError`, and
   * the attempt is made again: it finds the page gone and gives the job a new one.
   */
  const write = (
    existing: PageInfo,
    title: string,
    body: string,
    trigger: PublicationTrigger,
    parentId: string | undefined,
  ) =>
    confluence
      .updatePage({
        id: existing.id,
        title,
        body,
        version: existing.version.number + 1,
        // Replays republish many pages at once: spare the watchers.
        minorEdit: trigger === "replay",
        message: `Published by Minutes (${trigger})`,
        ...(parentId !== undefined ? { parentId } : {}),
        // A 409 means someone wrote the page since it was read: the attempt reads it again (and
        // checks for a manual edit) instead of the client writing over it with the next version.
        refreshOnConflict: false,
      })
      .pipe(
        Effect.catchTag("ConfluenceNotFoundError", (error) =>
          // A 404 of an update that also moves the page may be its new parent's.
          Effect.fail(new PageGoneError({ error, update: parentId === undefined })),
        ),
      );

  /**
   * Runs an attempt while renewing its lease every third of the lease, so the lease outlasts an
   * attempt of any length (long Retry-After waits, a slow Confluence) and expires only when its
   * holder stopped: crashed, or cannot reach the database. Renewing ends with the attempt, or
   * when the lease turns out to be gone (the attempt's record writes then fail with
   * LeaseLostError, and the message is tried again).
   */
  const holdingLease = <A, E, R>(work: Effect.Effect<A, E, R>, id: number, owner: string) => {
    const renew = store.renewLease({ id, owner, leaseMs: settings.leaseMs }).pipe(
      // The database did not answer: the lease may well hold still; try at the next turn.
      Effect.catchAll(() => Effect.succeed(true)),
      Effect.tap((held) =>
        held
          ? Effect.void
          : Effect.logDebug("the attempt's lease is no longer held; renewing stops").pipe(
              Effect.annotateLogs({ publicationId: id, owner }),
            ),
      ),
    );
    const renewing = Effect.sleep(Math.max(1, Math.floor(settings.leaseMs / 3))).pipe(
      Effect.zipRight(renew),
      Effect.repeat({ while: (held) => held }),
    );
    return Effect.scoped(Effect.zipRight(Effect.forkScoped(renewing), work));
  };

  /**
   * Another attempt took the job over (this one's lease expired): its outcome stands, and this
   * message is tried again, without spending a delivery. The next try claims the job when the other
   * attempt is done and finds the page as that one left it.
   */
  const leaseLost = (publication: Publication, owner: string) =>
    Effect.logWarning("another attempt took the job over; trying the message again").pipe(
      Effect.annotateLogs({ jobId: publication.jobId, publicationId: publication.id, owner }),
      Effect.as({ _tag: "Retry", delayMs: settings.busyDelayMs } as Disposition),
    );

  /**
   * A protocol whose conversion overran the deadline, before its job was claimed (the claim needs
   * the rendered route): the job is claimed now, routed without the text, so that the failure is
   * recorded like any other final one, on a record made for it if there is none.
   */
  const renderFailed = Effect.fnUntraced(function* (
    protocol: StoredProtocol,
    error: RenderTimeoutError,
    trigger: PublicationTrigger,
    message: IncomingMessage,
    replayId: string | undefined,
  ) {
    const route = routeProtocol(
      { filename: protocol.filename, topic: protocol.metadata.topic ?? null, metadata: protocol.metadata },
      config.confluence,
    );
    const owner = `${settings.owner}/${randomUUID().slice(0, 8)}`;
    const claimed = yield* store.claim({
      jobId: protocol.jobId,
      owner,
      leaseMs: settings.leaseMs,
      trigger,
      create: { spaceKey: route.spaceKey, parentPageId: route.parentPageId },
    });
    if (Option.isNone(claimed)) {
      // Another attempt publishes the job: its outcome comes first, this message after it.
      yield* logDebugLazily("job is being published by another instance; retrying later", () => ({
        jobId: protocol.jobId,
      }));
      return { _tag: "Retry", delayMs: settings.busyDelayMs } as Disposition;
    }
    return yield* failAttempt(claimed.value, error, trigger, message, replayId, owner);
  });

  /**
   * A publish or retry command for a job with no stored protocol (a cleanup removed it after the
   * gateway accepted the command, or none was received): nothing to publish. The job's record is
   * claimed and marked failed like any attempt that failed for good, saying the protocol is no
   * longer stored and how to send it again, so `GET /api/publications/…` shows why; an attempt
   * holding the job keeps it, and the command comes back once it is done (a new protocol may be
   * stored by then). A job without a record gets none: the failed outcome and an error log say so.
   */
  const protocolGone = Effect.fnUntraced(function* (
    jobId: string,
    trigger: PublicationTrigger,
    message: IncomingMessage,
    replayId: string | undefined,
  ) {
    const error = new ProtocolMissingError({ jobId });
    const owner = `${settings.owner}/${randomUUID().slice(0, 8)}`;
    const claimed = yield* store.claim({ jobId, owner, leaseMs: settings.leaseMs, trigger }).pipe(
      Effect.map((c) => (Option.isSome(c) ? c.value : ("busy" as const))),
      Effect.catchTags({
        PublicationNotFoundError: () => Effect.succeed("no record" as const),
        // Not a status a claim leaves (every other one may move to publishing): as without a record.
        InvalidTransitionError: () => Effect.succeed("no record" as const),
      }),
    );
    if (claimed === "busy") {
      yield* logDebugLazily("job is being published by another instance; retrying later", () => ({ jobId }));
      return { _tag: "Retry", delayMs: settings.busyDelayMs } as Disposition;
    }
    if (claimed !== "no record") return yield* failAttempt(claimed, error, trigger, message, replayId, owner);
    const errorMessage = `${error.message} The job has no publication record either, so none was marked failed.`;
    yield* Effect.logError(
      "publication failed: no protocol is stored for the job, and it has no record",
    ).pipe(Effect.annotateLogs({ jobId, trigger, error: error._tag, reason: errorMessage }));
    yield* emit(
      outcome("failed", jobId, trigger, {
        errorTag: error._tag,
        errorMessage,
        ...(replayId !== undefined ? { replayId } : {}),
      }),
    );
    return { _tag: "Term" } as Disposition;
  });

  /** Records a failed attempt: retryable ones go back to `pending` and come back later. */
  const failAttempt = Effect.fnUntraced(function* (
    publication: Publication,
    error: { readonly _tag: string; readonly message: string },
    trigger: PublicationTrigger,
    message: IncomingMessage,
    replayId: string | undefined,
    owner: string,
  ) {
    if (error._tag === "LeaseLostError") return yield* leaseLost(publication, owner);
    // Nothing can be recorded now; the message stays here until the database is back.
    if (error._tag === "StoreUnavailableError")
      return yield* storeUnavailable(error).pipe(Effect.annotateLogs({ jobId: publication.jobId }));
    // A year/month page may have been deleted or moved in Confluence: look them up again next time.
    containers.clear();
    const retryable = isRetryableFailure(error);
    const exhausted = message.deliveryCount >= maxDeliver;
    const final = !retryable || exhausted;
    const note = settings.failureNote?.(error);
    const described = note === undefined ? error.message : `${error.message}; ${note}`;
    // Confluence said how long to wait (429, 503): the message comes back no sooner than that, so
    // the next try does not go against its request (the client retries in process only up to
    // its `maxRetryAfterMs`), bounded by what the stream keeps the message for.
    const redelivery = final ? undefined : redeliveryDelay(message, requestedWaitMs(error));
    const errorMessage =
      retryable && exhausted
        ? `${described} (gave up after ${message.deliveryCount} deliveries)`
        : redelivery?.asked !== undefined
          ? `${described.replace(/\.?$/, ".")} ${redelivery.asked}: next try at ${new Date(Date.now() + redelivery.delayMs).toISOString()} (delivery ${message.deliveryCount + 1} of ${maxDeliver}).`
          : described;
    // Only while this attempt holds the lease: an attempt that lost it must not move a record
    // another attempt published back to pending (and no message would come back to publish it).
    // A record that changed otherwise (deleted through the gateway, or moved on) keeps its state;
    // the message outcome stands. A database that did not answer recorded nothing: the message
    // stays here until it does, and no outcome goes out meanwhile. Terminated now, it would leave
    // the record publishing for good, with no message (and no max-deliveries advisory) to fix it.
    const recorded = yield* store
      .transition(publication.id, final ? "failed" : "pending", {
        errorMessage,
        errorTag: error._tag,
        streamSequence: message.streamSequence,
        owner,
      })
      .pipe(
        Effect.as("recorded" as const),
        Effect.catchTags({
          LeaseLostError: () => Effect.succeed("lease-lost" as const),
          StoreUnavailableError: (e) => Effect.succeed(e),
          PublicationNotFoundError: () => Effect.succeed("recorded" as const),
          InvalidTransitionError: () => Effect.succeed("recorded" as const),
        }),
      );
    if (recorded === "lease-lost") return yield* leaseLost(publication, owner);
    if (recorded !== "recorded")
      return yield* storeUnavailable(recorded).pipe(
        Effect.annotateLogs({ jobId: publication.jobId, publicationId: publication.id, error: error._tag }),
      );
    // A publication that failed for good is an error (what operators alert on); one to be tried
    // again is a warning.
    yield* (
      final
        ? Effect.logError("publication failed")
        : Effect.logWarning("publication attempt failed; will retry")
    ).pipe(
      Effect.annotateLogs({
        jobId: publication.jobId,
        publicationId: publication.id,
        attempt: message.deliveryCount,
        error: error._tag,
        reason: errorMessage,
      }),
    );
    // What a failed or deferred outcome says about the attempt.
    const attempted = {
      publicationId: publication.id,
      spaceKey: publication.spaceKey,
      errorTag: error._tag,
      errorMessage,
      pageId: publication.pageId,
      pageUrl: publication.pageUrl,
      ...(replayId !== undefined ? { replayId } : {}),
    };
    if (final) {
      yield* emit(outcome("failed", publication.jobId, trigger, attempted));
      return { _tag: "Term" } as Disposition;
    }
    const delayMs = redelivery?.delayMs ?? delayFor(message.deliveryCount);
    // The Confluence call that failed is retried too, on the next delivery: it counts as a retry
    // (and a 429 as a 429), else a 429 that used up the in-process retries would go uncounted.
    const stats = yield* FiberRef.get(ConfluenceCallStatsRef);
    if (stats !== undefined && error._tag.startsWith("Confluence")) {
      stats.retries += 1;
      if (error._tag === "ConfluenceRateLimitedError") stats.rateLimited += 1;
    }
    // Not final, but the only event this delivery gets: without it, its retries and 429s would
    // never reach the metrics.
    yield* emit(
      outcome("deferred", publication.jobId, trigger, {
        ...attempted,
        deliveryCount: message.deliveryCount,
        redeliveryDelayMs: delayMs,
      }),
    );
    return { _tag: "Nak", delayMs } as Disposition;
  });

  const delayFor = (deliveryCount: number): number =>
    backoffMs.length === 0 ? 1000 : (backoffMs[Math.min(deliveryCount - 1, backoffMs.length - 1)] as number);

  /**
   * When a message whose attempt failed for a passing reason comes back: after the backoff of its
   * delivery, or after the wait Confluence asked for when that is longer, at most
   * {@link MAX_REDELIVERY_DELAY_MS} and never after the stream drops the message (`max_age_days`
   * from when it was stored, less a margin): a message that expired while it waited would leave
   * its record pending with nothing to publish it. `asked` says what Confluence asked and, when
   * the delay is shorter, why.
   */
  const redeliveryDelay = (
    message: IncomingMessage,
    askedMs: number | undefined,
  ): { readonly delayMs: number; readonly asked?: string } => {
    const backoff = delayFor(message.deliveryCount);
    if (askedMs === undefined || askedMs <= backoff) return { delayMs: backoff };
    const lifeLeft =
      message.storedAt === undefined
        ? Number.POSITIVE_INFINITY
        : message.storedAt + maxAgeMs - EXPIRY_MARGIN_MS - Date.now();
    const delayMs = Math.max(backoff, Math.min(askedMs, MAX_REDELIVERY_DELAY_MS, lifeLeft));
    const said = `Confluence asked to wait ${formatWait(askedMs)}`;
    if (delayMs >= askedMs) return { delayMs, asked: said };
    const bound =
      lifeLeft < MAX_REDELIVERY_DELAY_MS
        ? "the stream keeps the message (nats.max_age_days)"
        : `Minutes waits for a redelivery (${formatWait(MAX_REDELIVERY_DELAY_MS)})`;
    return { delayMs, asked: `${said}, longer than ${bound}` };
  };

  /** Handles one message from the protocol stream. */
  const handle = (message: IncomingMessage): Effect.Effect<Disposition> =>
    Effect.suspend(() =>
      countConfluenceRetries(handleCounted(message), {
        retries: 0,
        rateLimited: 0,
        requests: 0,
        requestMs: 0,
      }),
    );

  const handleCounted = (message: IncomingMessage): Effect.Effect<Disposition> =>
    Effect.gen(function* () {
      if (message.subject.startsWith(`${protocolReadyPrefix(config.nats.subject_prefix)}.`)) {
        const event = yield* Schema.decodeUnknown(ProtocolReadyJson, {
          onExcessProperty: "error",
          errors: "all",
        })(message.data).pipe(Effect.mapError((e) => new EventRejectedError({ reason: describeIssues(e) })));
        const separators = tableSeparators(event.markdown);
        if (separators > MAX_TABLE_SEPARATORS) {
          return yield* new EventRejectedError({
            reason: `markdown: ${separators} table cell separators ("|"), more than the ${MAX_TABLE_SEPARATORS} a page can be converted from (the converter needs several KB per cell, and such a page would exceed Confluence's 5 MB limit)`,
          });
        }
        const run = longestDelimiterRun(event.markdown);
        if (run.length > MAX_DELIMITER_RUN) {
          return yield* new EventRejectedError({
            reason: `markdown: a run of ${run.length} "${run.char}" characters on line ${run.line}, more than the ${MAX_DELIMITER_RUN} the converter handles in reasonable time (emphasis runs take it time that grows with the square of their length: 40 KB of them took a minute); escape them (\\${run.char}) or shorten the run`,
          });
        }
        const saved = yield* store.saveProtocol({
          jobId: event.jobId,
          markdown: event.markdown,
          filename: event.filename,
          metadata: protocolMetadataOf(event),
          contentHash: hashOf(event.markdown),
          streamSequence: message.streamSequence,
          occurredAt: event.occurredAt,
          // NATS's own time of the message: a later one than the stored protocol's wins even with a
          // lower sequence (a stream created anew); otherwise the sequence decides.
          ...(message.storedAt !== undefined ? { storedAt: new Date(message.storedAt).toISOString() } : {}),
        });
        const waits = !config.confluence.auto_publish || !config.confluence.enabled;
        if (saved.outcome === "stale") {
          // The newer protocol's own message publishes it. But an attempt of this message may have
          // published the newer protocol (what is stored is what an attempt publishes) and failed,
          // leaving the record pending: then this message is the one that came back for it.
          const record = waits ? Option.none() : yield* store.findByJob(event.jobId);
          if (Option.isSome(record) && record.value.status === "pending") {
            yield* Effect.logInfo(
              "older event for a job whose record waits to be published; publishing its latest protocol",
            ).pipe(Effect.annotateLogs({ jobId: event.jobId, streamSequence: message.streamSequence }));
            return yield* publishJob(saved.protocol, "event", false, message, undefined);
          }
          yield* Effect.logInfo("older event for a job with a newer protocol; skipped").pipe(
            Effect.annotateLogs({ jobId: event.jobId, streamSequence: message.streamSequence }),
          );
          return { _tag: "Ack" } as Disposition;
        }
        // Without auto_publish, or with Confluence disabled, the protocol waits for a publish command.
        if (waits) {
          const route = routeProtocol(
            { filename: event.filename, topic: event.topic ?? null, metadata: protocolMetadataOf(event) },
            config.confluence,
          );
          const record = yield* store.ensurePublication({
            jobId: event.jobId,
            spaceKey: route.spaceKey,
            parentPageId: route.parentPageId,
            trigger: "event",
          });
          // A newer protocol now waits for a publish command: the record says so.
          if (record.status !== "pending" && record.status !== "publishing") {
            yield* store
              .transition(record.id, "pending", { streamSequence: message.streamSequence })
              .pipe(Effect.catchTag("InvalidTransitionError", () => Effect.void));
          }
          return { _tag: "Ack" } as Disposition;
        }
        return yield* publishJob(saved.protocol, "event", false, message, undefined);
      }
      if (message.subject.startsWith(`${publishRequestedPrefix(config.nats.subject_prefix)}.`)) {
        const command = yield* Schema.decodeUnknown(PublishRequestedJson, { errors: "all" })(
          message.data,
        ).pipe(Effect.mapError((e) => new EventRejectedError({ reason: describeIssues(e) })));
        const protocol = yield* store.getProtocol(command.jobId);
        if (Option.isNone(protocol))
          return yield* protocolGone(command.jobId, command.trigger, message, command.replayId);
        return yield* publishJob(protocol.value, command.trigger, command.force, message, command.replayId);
      }
      return yield* new EventRejectedError({ reason: `unexpected subject ${message.subject}` });
    }).pipe(
      Effect.catchTags({
        EventRejectedError: (e) =>
          reject(message, e).pipe(Effect.catchTag("StoreUnavailableError", storeUnavailable)),
        StoreUnavailableError: (e) => storeUnavailable(e),
      }),
      Effect.catchAll((e) => {
        const errorTag = (e as { _tag?: string })._tag ?? "unknown";
        const delayMs = delayFor(message.deliveryCount);
        return Effect.logError("unexpected failure; message will come back").pipe(
          Effect.annotateLogs({ error: errorTag, reason: String(e) }),
          Effect.zipRight(
            emit(
              outcome(
                "deferred",
                // The job the message names, as for a rejection: the body's, else the subject's.
                rawField(message.data, "jobId") ??
                  jobOfSubject(message.subject, [
                    protocolReadyPrefix(config.nats.subject_prefix),
                    publishRequestedPrefix(config.nats.subject_prefix),
                  ]) ??
                  `unknown-event-${message.streamSequence}`,
                message.subject.startsWith(`${protocolReadyPrefix(config.nats.subject_prefix)}.`)
                  ? "event"
                  : (rawField(message.data, "trigger") ?? "unknown"),
                {
                  errorTag,
                  errorMessage: e instanceof Error ? e.message : String(e),
                  deliveryCount: message.deliveryCount,
                  redeliveryDelayMs: delayMs,
                },
              ),
            ),
          ),
          Effect.as({ _tag: "Nak", delayMs } as Disposition),
        );
      }),
      Effect.annotateLogs({ streamSequence: message.streamSequence, attempt: message.deliveryCount }),
    );

  /** The job (and how to route a record made for it) a message is about, if it is readable. */
  const jobOf = (
    message: IncomingMessage,
  ): Effect.Effect<
    Option.Option<{
      readonly jobId: string;
      readonly trigger: PublicationTrigger;
      readonly routable: Parameters<typeof routeProtocol>[0];
      /** The replay a command belongs to: its outcome counts there. */
      readonly replayId?: string | undefined;
    }>
  > => {
    if (message.subject.startsWith(`${protocolReadyPrefix(config.nats.subject_prefix)}.`))
      return Schema.decodeUnknown(ProtocolReadyJson)(message.data).pipe(
        Effect.map((event) =>
          Option.some({
            jobId: event.jobId,
            trigger: "event" as const,
            routable: {
              filename: event.filename,
              topic: event.topic ?? null,
              metadata: protocolMetadataOf(event),
            },
          }),
        ),
        Effect.orElseSucceed(() => Option.none()),
      );
    if (message.subject.startsWith(`${publishRequestedPrefix(config.nats.subject_prefix)}.`))
      return Schema.decodeUnknown(PublishRequestedJson)(message.data).pipe(
        Effect.map((command) =>
          Option.some({
            jobId: command.jobId,
            trigger: command.trigger,
            routable: { filename: "", topic: null, metadata: {} },
            replayId: command.replayId,
          }),
        ),
        Effect.orElseSucceed(() => Option.none()),
      );
    return Effect.succeed(Option.none());
  };

  const giveUp = (message: IncomingMessage): Effect.Effect<Disposition> =>
    Effect.gen(function* () {
      const job = yield* jobOf(message);
      if (Option.isNone(job)) {
        yield* Effect.logError("JetStream gave up on a message that names no job; nothing to record").pipe(
          Effect.annotateLogs({ subject: message.subject, streamSequence: message.streamSequence }),
        );
        return { _tag: "Ack" } as Disposition;
      }
      const { jobId, trigger, routable, replayId } = job.value;
      const since = yield* jobSince(jobId, message.streamSequence);
      if (since._tag === "Held") return { _tag: "Retry", delayMs: since.delayMs } as Disposition;
      if (since._tag === "MovedOn") {
        yield* Effect.logInfo(
          `JetStream gave up on a message of a job that moved on since: ${since.why}`,
        ).pipe(
          Effect.annotateLogs({
            jobId,
            streamSequence: message.streamSequence,
            deliveries: message.deliveryCount,
          }),
        );
        return { _tag: "Ack" } as Disposition;
      }
      const error = new DeliveriesExhaustedError({
        deliveries: message.deliveryCount,
        streamSequence: message.streamSequence,
      });
      // A job the crashes left without a record (it dies before its claim) gets one, to fail.
      const route = routeProtocol(routable, config.confluence);
      const record = yield* store.ensurePublication({
        jobId,
        spaceKey: route.spaceKey,
        parentPageId: route.parentPageId,
        trigger,
      });
      const failed = yield* store.transition(record.id, "failed", {
        errorTag: error._tag,
        errorMessage: error.message,
        streamSequence: message.streamSequence,
      });
      yield* Effect.logError("publication failed").pipe(
        Effect.annotateLogs({
          jobId,
          publicationId: failed.id,
          attempt: message.deliveryCount,
          error: error._tag,
          reason: error.message,
        }),
      );
      yield* emit(
        outcome("failed", jobId, trigger, {
          publicationId: failed.id,
          spaceKey: failed.spaceKey,
          errorTag: error._tag,
          errorMessage: error.message,
          pageId: failed.pageId,
          pageUrl: failed.pageUrl,
          ...(replayId !== undefined ? { replayId } : {}),
        }),
      );
      return { _tag: "Ack" } as Disposition;
    }).pipe(
      Effect.catchAll((e) =>
        e._tag === "StoreUnavailableError"
          ? Effect.logWarning("could not record a message JetStream gave up on; trying again").pipe(
              Effect.annotateLogs({ streamSequence: message.streamSequence, reason: e.message }),
              Effect.as({ _tag: "Retry", delayMs: STORE_RETRY_MS, until: "database-answers" } as Disposition),
            )
          : Effect.logError("could not record a message JetStream gave up on").pipe(
              Effect.annotateLogs({
                subject: message.subject,
                streamSequence: message.streamSequence,
                error: e._tag,
                reason: e.message,
              }),
              Effect.as({ _tag: "Ack" } as Disposition),
            ),
      ),
    );

  /**
   * What became of a job since its message at `streamSequence`, which JetStream gave up on:
   * `MovedOn` (why its failure is not recorded), `Held` (an attempt holds the job: ask again when
   * its lease runs out, which it does unless the attempt renews it) or `Open` (record the failure).
   */
  const jobSince = (jobId: string, streamSequence: number) =>
    Effect.gen(function* () {
      const protocol = yield* store.getProtocol(jobId);
      if (
        Option.isSome(protocol) &&
        protocol.value.streamSequence !== null &&
        protocol.value.streamSequence > streamSequence
      ) {
        return movedOn(
          `a newer protocol (stream message ${protocol.value.streamSequence}) is stored, and its own message publishes it`,
        );
      }
      const record = yield* store.findByJob(jobId);
      if (Option.isNone(record)) return OPEN;
      const r = record.value;
      const from = r.streamSequence ?? 0;
      if ((r.status === "published" || r.status === "archived") && from >= streamSequence) {
        return movedOn(`its record was published from stream message ${from}`);
      }
      if (r.status === "failed" && from > streamSequence) {
        return movedOn(`its record holds the outcome of the later stream message ${from}`);
      }
      if (r.status === "publishing") {
        const lease = yield* store.getLease(r.id);
        if (lease.held && lease.expiresAt !== null) {
          return {
            _tag: "Held",
            delayMs: Math.max(STORE_RETRY_MS, Date.parse(lease.expiresAt) - Date.now() + STORE_RETRY_MS),
          } as const;
        }
      }
      return OPEN;
    });

  return { handle, giveUp };
};

// internal

/**
 * The job's page went away between its read and its update, or the parent it was created or moved
 * under did (never leaves the pipeline).
 */
class PageGoneError extends Data.TaggedError("PageGoneError")<{
  readonly error: ConfluenceNotFoundError;
  /** Whether an update of the job's page that did not move it answered 404 (else a create or a move did). */
  readonly update: boolean;
}> {}

/**
 * A 404 the second time round, said with what to do instead of "resource not found":
 * - of a page's update, just after the page read back as current: not a page gone but one
 *   Minutes' account may view and not edit (REST-API.md §7.2: Cloud answers 404 for updates of
 *   pages the user may not change; v2's update documents 404 for "no permission");
 * - of a create or move under a parent, after the year and month pages were looked up again: the
 *   route's own parent page is gone (or invisible), which only its configuration or a restore fixes.
 */
const updateRefused = (gone: PageGoneError): ConfluenceNotFoundError => {
  const error = gone.error;
  if (error.hint !== undefined && error.hint !== "cloud-v2-not-found-may-be-credentials") return error;
  return new ConfluenceNotFoundError({
    method: error.method,
    path: error.path,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.confluenceMessage !== undefined ? { confluenceMessage: error.confluenceMessage } : {}),
    ...(error.locale !== undefined ? { locale: error.locale } : {}),
    // A create's 404 after the year and month pages were looked up again: the route's own parent.
    hint: gone.update ? "update-refused" : "parent-missing",
  });
};

/**
 * First wait before a message whose database work failed is tried again (the consume loop doubles
 * it on each try, up to a cap, and ends it early once the database answers again). An outage must
 * not use up deliveries: with `max_deliver` spent, JetStream would drop the event with nothing
 * recorded.
 */
const STORE_RETRY_MS = 250;

/** What `jobSince` finds when the failure should be recorded. */
const OPEN = { _tag: "Open" } as const;
const movedOn = (why: string) => ({ _tag: "MovedOn", why }) as const;

/**
 * How often one attempt starts again from reading the page after a version conflict (someone wrote
 * the page between its read and its write) before it gives the message back for a later delivery.
 */
const MAX_CONFLICT_RESTARTS = 2;

/** Whether two stored protocols render alike (same text and everything rendering reads). */
const sameProtocol = (a: StoredProtocol, b: StoredProtocol): boolean =>
  a.markdown === b.markdown &&
  a.filename === b.filename &&
  a.occurredAt === b.occurredAt &&
  JSON.stringify(a.metadata) === JSON.stringify(b.metadata);

/** A wait before a Confluence retry from which on the record says why it is still publishing. */
const LONG_WAIT_MS = 10_000;

/**
 * The longest a message waits for its redelivery when Confluence asked for a longer wait than the
 * client waits in process (a `Retry-After` over its five minutes): a day. Cloud's hourly quotas
 * ask for at most an hour; a longer wait (Cloud has sent 9223372036854775807 s) is bounded here.
 */
export const MAX_REDELIVERY_DELAY_MS = 24 * 60 * 60 * 1000;

/** How long before the stream would drop a message its redelivery is due at the latest. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * Most `|` a protocol may hold. The parser keeps several KB per table cell until the conversion
 * ends (a 0.9 MB table of one-letter cells peaked at 2.9 GB), so a protocol that is mostly a
 * huge table could take the publisher down, again on every redelivery; its page (~45 bytes of
 * storage format per cell) would be over Confluence's 5 MB limit long before this count.
 */
const MAX_TABLE_SEPARATORS = 100_000;

const tableSeparators = (markdown: string): number => {
  let n = 0;
  for (let i = markdown.indexOf("|"); i !== -1; i = markdown.indexOf("|", i + 1)) n++;
  return n;
};

/**
 * Longest run of `*` or `_` a protocol may hold. The parser's emphasis matching takes time that
 * grows with the square of a run's length (two runs of 8,000 `*`: 4 s; 40 KB of them: a minute,
 * on the event loop, past the ack wait), and such a run is no text a page shows. Underscore lines
 * for signatures and code-comment banners are far shorter.
 */
const MAX_DELIMITER_RUN = 256;

/** The longest run of one emphasis character (`*` or `_`), and the line it starts on (1-based). */
const longestDelimiterRun = (
  markdown: string,
): { readonly length: number; readonly char: string; readonly line: number } => {
  let best = { length: 0, char: "*", line: 1 };
  let line = 1;
  for (let i = 0; i < markdown.length; i++) {
    const c = markdown.charCodeAt(i);
    if (c === 10) line++;
    else if (c === 42 || c === 95) {
      let j = i + 1;
      while (j < markdown.length && markdown.charCodeAt(j) === c) j++;
      if (j - i > best.length) best = { length: j - i, char: c === 42 ? "*" : "_", line };
      i = j - 1;
    }
  }
  return best;
};

const hashOf = (markdown: string): string => createHash("sha256").update(markdown).digest("hex");

/** Why a page of the job is written again (for the debug line). */
const updateReason = (
  upToDate: boolean,
  currentHash: string | null | undefined,
  renderedHash: string,
  pageTitle: string,
  title: string,
): string => {
  if (upToDate) return "force: the content is unchanged";
  const reasons: Array<string> = [];
  if (currentHash !== renderedHash) reasons.push("content changed");
  if (pageTitle !== title) reasons.push("title changed");
  if (reasons.length === 0) reasons.push("the page is at a version this job did not write");
  return reasons.join(", ");
};

const describeIssues = (error: Parameters<typeof formatParseIssues>[0]): string =>
  formatParseIssues(error)
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
    .join("; ");

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/u;

/** A short printable string field of an event that may not decode (for the rejection or deferral event). */
/**
 * Whether a message is the latest of its job: no older in the stream than the message its record
 * last came from and than its stored protocol's event (or stored by NATS after that event, for a
 * stream created anew, whose sequences start again at 1).
 */
const isLatestMessageOf = (
  message: IncomingMessage,
  record: Publication,
  protocol: StoredProtocol | undefined,
): boolean => {
  const protocolNewer =
    protocol?.streamSequence != null &&
    protocol.streamSequence > message.streamSequence &&
    !(
      message.storedAt !== undefined &&
      protocol.streamStoredAt !== null &&
      message.storedAt > Date.parse(protocol.streamStoredAt)
    );
  return !protocolNewer && (record.streamSequence ?? 0) <= message.streamSequence;
};

/**
 * The job a protocol event's or publish command's subject names (the token after one of
 * `prefixes`, as `protocolReadySubject` and `publishRequestedSubject` encode it), if it decodes.
 */
const jobOfSubject = (subject: string, prefixes: ReadonlyArray<string>): string | undefined => {
  const prefix = prefixes.find((p) => subject.startsWith(`${p}.`));
  if (prefix === undefined) return undefined;
  const token = subject.slice(prefix.length + 1);
  return token.includes(".") ? undefined : jobIdOfSubjectToken(token);
};

const rawField = (data: string, key: "jobId" | "trigger"): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(data);
    if (typeof parsed === "object" && parsed !== null && key in parsed) {
      const value = (parsed as Record<string, unknown>)[key];
      if (
        typeof value === "string" &&
        value.length > 0 &&
        value.length <= 200 &&
        !CONTROL_CHARACTER.test(value)
      )
        return value;
    }
  } catch {
    // not JSON: no job to attach the rejection to
  }
  return undefined;
};

/** The fields of a job property's value; undefined when it is not an object (not Minutes' property). */
const propertyFields = (
  property: ContentProperty | undefined,
): Readonly<Record<string, unknown>> | undefined => {
  const v = property?.value;
  // Array.isArray does not narrow a readonly array out of the union.
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Readonly<Record<string, unknown>>)
    : undefined;
};

const jobOfProperty = (property: ContentProperty): string | undefined => jobOfJobProperty(property.value);

const propertyState = (
  property: ContentProperty | undefined,
): { readonly contentHash: string; readonly pageVersion: number } | undefined => {
  const { contentHash, pageVersion } = propertyFields(property) ?? {};
  return typeof contentHash === "string" && typeof pageVersion === "number"
    ? { contentHash, pageVersion }
    : undefined;
};

/**
 * The labels the job property says Minutes set that `labels` no longer has (Confluence compares
 * labels in lower case); none when the property does not say (written before Minutes recorded them).
 * Anyone who may edit the page may edit its property: a name that is not a label Confluence
 * accepts (`..`, `a/b`…) was not set by Minutes and is returned in `ignored`, never to be removed.
 */
export const staleLabels = (
  property: ContentProperty | undefined,
  labels: ReadonlyArray<string>,
): { readonly stale: ReadonlyArray<string>; readonly ignored: ReadonlyArray<string> } => {
  const set = propertyFields(property)?.labels;
  if (!Array.isArray(set)) return { stale: [], ignored: [] };
  const names = set.filter((l): l is string => typeof l === "string");
  const { labels: valid, invalid } = normaliseLabels(names);
  const wanted = new Set(labels.map((l) => l.toLowerCase()));
  return { stale: valid.filter((l) => !wanted.has(l)), ignored: invalid };
};

/**
 * The parent page the job property says Minutes last placed the page under; undefined when it does
 * not say (a property written before Minutes recorded placements, or a page at the space root).
 */
const placedParentOf = (property: ContentProperty | undefined): string | undefined => {
  const parentId = propertyFields(property)?.parentId;
  return typeof parentId === "string" ? parentId : undefined;
};

/** Whether two index locations are the same (space keys compare as Confluence compares them). */
const sameLocation = (a: IndexLocation, b: IndexLocation): boolean =>
  a.spaceKey.toUpperCase() === b.spaceKey.toUpperCase() && a.parentPageId === b.parentPageId;

/**
 * The space the job property says Minutes last placed the page in; undefined when it does not say
 * (a property written before Minutes recorded it: the record's space was the route's then).
 */
/** The space a job property says Minutes placed the page in (properties from before it did: none). */
export const placedSpaceOf = (property: ContentProperty | undefined): string | undefined => {
  const spaceKey = propertyFields(property)?.spaceKey;
  return typeof spaceKey === "string" && spaceKey !== "" ? spaceKey : undefined;
};

/**
 * Whether the page is at the version the record says this job wrote: then no one wrote it
 * since (not a manual edit, not a crashed attempt of ours) and the record's hash is current.
 */
const isInSync = (record: Publication, page: PageInfo): boolean =>
  record.pageVersion === page.version.number && record.contentHash !== null;

/** The property state a record in sync with its page implies. */
const recordState = (
  record: Publication,
): { readonly contentHash: string; readonly pageVersion: number } | undefined =>
  record.contentHash !== null && record.pageVersion !== null
    ? { contentHash: record.contentHash, pageVersion: record.pageVersion }
    : undefined;

/** Whether a version's author is Minutes (an unreported author counts as Minutes). */
export const isBot = (authorId: string | undefined, bot: ReadonlyArray<string>): boolean =>
  authorId === undefined || bot.includes(authorId);

/**
 * A record that names a page but no version Minutes wrote: only an import makes one (the original
 * integration's job → page mapping, `./minutes import-original`). The operator vouched for it, as
 * the original trusted its table: the page is the job's, and Minutes writes its property with the
 * first update. Every record Minutes wrote itself has a page version with its page id.
 */
const isImportedMapping = (record: Publication): boolean =>
  record.pageId !== null && record.pageVersion === null && record.contentHash === null;

/**
 * Whether the page a job's record names (current, in Confluence) is the job's own:
 * - its `minutes.job` property names the job: yes; names another job: never, whatever else says so;
 * - without the property: when the record is `synced` (at the version it recorded, by Minutes,
 *   verified on this Confluence before), or by the adoption rules — Minutes' untouched version 1
 *   (`isAdoptable`) or the original integration's imported mapping (`isImportedMapping`) — and only
 *   for a page with the title the record or the job gives it. A year, month, archive or index page
 *   (Minutes' own version 1, no job property) under another title is never a job's page.
 */
export const isRecordedPageOurs = (
  jobId: string,
  record: Publication,
  page: PageInfo,
  owner: string | undefined,
  synced: boolean,
  titles: ReadonlyArray<string>,
  bot: ReadonlyArray<string>,
): boolean => {
  if (owner !== undefined) return owner === jobId;
  if (synced) return true;
  const titled = page.title === record.pageTitle || titles.includes(page.title);
  return titled && (isAdoptable(page, bot) || isImportedMapping(record));
};

/**
 * The Confluence site a `base_url` names, as records store where their page was verified: the
 * origin and path, without a trailing slash (`https://acme.atlassian.net/wiki`). Another address
 * for the same site only costs each record one property read, once.
 */
export const confluenceSite = (baseUrl: string): string => {
  try {
    const url = new URL(baseUrl);
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return baseUrl.replace(/\/+$/, "");
  }
};

/** A page Minutes' own account created and nobody changed since: a crashed attempt of ours. */
export const isAdoptable = (page: PageInfo, bot: ReadonlyArray<string>): boolean =>
  page.version.number === 1 && page.version.authorId !== undefined && bot.includes(page.version.authorId);

/** Made once: building a segmenter costs more than segmenting a title. */
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The title for the later of two jobs whose titles collide: deterministic, so every retry and
 * every publisher instance picks the same one.
 */
export const suffixedTitle = (title: string, jobId: string): string => {
  const tag = /^[A-Za-z0-9_-]{1,24}$/.test(jobId)
    ? jobId
    : createHash("sha256").update(jobId).digest("hex").slice(0, 8);
  const suffix = ` (${tag})`;
  const room = 255 - suffix.length;
  const segments = [...graphemes.segment(title)].map((s) => s.segment);
  let head = "";
  for (const s of segments) {
    if (head.length + s.length > room) break;
    head += s;
  }
  return `${head}${suffix}`;
};
