/**
 * Bulk republication. A replay reads the protocol stream from `since` with an ordered consumer,
 * collects the distinct jobs, and issues one durable `PublishRequested{trigger:"replay"}` per job,
 * keeping at most `nats.concurrency × 2` without a final outcome (`deferred` ones do not count). Progress lives in this process only
 * (a gateway restart forgets it); the commands themselves are in JetStream, so a publisher restart
 * loses nothing — it resumes them from its durable consumer. Memory is bounded: a replay holds its
 * selected job ids only while it runs; once it ends it keeps its counters and the ids of its
 * commands still without an outcome (at most the window), so that up to `KEEP_FINISHED` ended
 * replays cost next to nothing. A replay with no progress for `STALL_AFTER_MS` ends `stalled`.
 */
import { randomUUID } from "node:crypto";
import {
  canonicalSpaceKey,
  isFinalOutcome,
  JobId,
  type MinutesConfig,
  type PublicationOutcome,
  protocolReadyWildcard,
} from "@minutes/contracts";
import type { ReplayProgress, ReplayRequest } from "@minutes/contracts/api";
import type { PublicationStoreShape } from "@minutes/publication-store";
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamState,
} from "@nats-io/jetstream";
import { Effect, Either, Option, Schema } from "effect";
import type { FastifyBaseLogger } from "fastify";
import { publishCommand } from "./commands.js";
import type { JetStreamPublisher } from "./jetstream-publisher.js";
import type { OutcomeFeed } from "./OutcomeFeed.js";

/** How many job ids a dry run lists. */
export const DRY_RUN_SAMPLE = 1_000;
/** Finished replays kept for `GET /api/replays/:id`. */
const KEEP_FINISHED = 100;
/**
 * A running replay with no progress (no command issued, no final outcome counted) for this long
 * ends `stalled`: a command whose outcome never comes (a publisher that lost it, NATS down the
 * whole time) would otherwise keep it running, and its loop waiting, forever — and a running
 * replay is never pruned. Outcomes that arrive later are still counted.
 */
export const STALL_AFTER_MS = 60 * 60_000;
/** How often the manager looks for stalled replays (reads of the progress look too). */
const STALL_CHECK_MS = 60_000;

interface ReplayState {
  readonly id: string;
  status: ReplayProgress["status"];
  /** The selected jobs, in stream order; emptied when the replay ends. */
  jobs: ReadonlyArray<string>;
  readonly total: number;
  issued: number;
  done: number;
  /**
   * Issued jobs without a final outcome yet: at most the window (`nats.concurrency × 2`) and the
   * one being sent. An outcome counts only when its job leaves this set, so a duplicate counts once.
   */
  readonly outstanding: Set<string>;
  published: number;
  skippedUnchanged: number;
  failed: number;
  readonly startedAt: number;
  finishedAt: number | null;
  /** When a command was last issued or an outcome counted (the start at first). */
  lastProgressAt: number;
  readonly since: string;
  readonly until: string;
  readonly spaceKey: string | null;
  readonly force: boolean;
  readonly availableSince: string | undefined;
  wake: () => void;
}

/** The jobs a replay request selects. */
export interface ReplaySelection {
  /** In stream order. */
  readonly jobs: ReadonlyArray<string>;
  /** See `ReplayProgress.availableSince`. */
  readonly availableSince?: string | undefined;
}

/** What the manager needs. */
export interface ReplayDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Issues the replay's commands. */
  readonly publisher: JetStreamPublisher;
  readonly store: PublicationStoreShape;
  readonly feed: OutcomeFeed;
  readonly config: MinutesConfig;
  readonly protocolStream: string;
  readonly log: FastifyBaseLogger;
  /** The clock for durations, `finishedAt` and stalls (epoch ms; `Date.now` by default). */
  readonly now?: (() => number) | undefined;
}

/** Starts, tracks and cancels replays. */
export class ReplayManager {
  private readonly replays = new Map<string, ReplayState>();
  private readonly unsubscribe: () => void;
  private readonly loops = new Set<Promise<void>>();
  private closed = false;
  private readonly now: () => number;
  private readonly stallTimer: NodeJS.Timeout;

  constructor(private readonly deps: ReplayDeps) {
    this.now = deps.now ?? Date.now;
    this.unsubscribe = deps.feed.subscribe(this.onOutcome);
    this.stallTimer = setInterval(() => this.endStalled(), STALL_CHECK_MS);
    this.stallTimer.unref();
  }

  /**
   * The jobs a request selects, in stream order, and whether the stream still holds its whole
   * window. Without `until` the window ends with the last event the stream holds when it is read.
   */
  async selectJobs(request: ReplayRequest): Promise<ReplaySelection> {
    const untilMs = request.until !== undefined ? Date.parse(request.until) : undefined;
    const { events, availableSince } = await this.readJobs(Date.parse(request.since), untilMs);
    const wanted = request.jobIds ? new Set<string>(request.jobIds) : undefined;
    const out: Array<string> = [];
    for (const [jobId, eventSpace] of events) {
      if (wanted && !wanted.has(jobId)) continue;
      // Compared canonically: `meetings` is space MEETINGS, whichever spelling the event used.
      if (
        request.spaceKey !== undefined &&
        canonicalSpaceKey(await this.spaceOf(jobId, eventSpace)) !== canonicalSpaceKey(request.spaceKey)
      )
        continue;
      out.push(jobId);
    }
    return { jobs: out, availableSince };
  }

  /**
   * A running replay that also republishes some of `jobs`, with how many: a second replay over the
   * same jobs would write each of their pages twice (with `force`, two new versions).
   */
  overlapping(
    jobs: ReadonlyArray<string>,
  ): { readonly progress: ReplayProgress; readonly shared: number } | undefined {
    this.endStalled();
    if (jobs.length === 0) return undefined;
    const wanted = new Set(jobs);
    for (const state of this.replays.values()) {
      if (state.status !== "running") continue;
      let shared = 0;
      for (const job of state.jobs) if (wanted.has(job)) shared++;
      if (shared > 0) return { progress: this.progress(state), shared };
    }
    return undefined;
  }

  /** Starts a replay over the selected jobs and returns its first progress. */
  start(request: ReplayRequest, selection: ReplaySelection, now: Date): ReplayProgress {
    const { jobs } = selection;
    const state: ReplayState = {
      id: randomUUID(),
      status: "running",
      jobs,
      total: jobs.length,
      issued: 0,
      done: 0,
      outstanding: new Set(),
      published: 0,
      skippedUnchanged: 0,
      failed: 0,
      startedAt: now.getTime(),
      finishedAt: null,
      lastProgressAt: now.getTime(),
      since: new Date(request.since).toISOString(),
      until: new Date(request.until ?? now).toISOString(),
      spaceKey: request.spaceKey ?? null,
      force: request.force ?? false,
      availableSince: selection.availableSince,
      wake: () => {},
    };
    this.replays.set(state.id, state);
    this.endStalled();
    if (jobs.length === 0) this.finish(state, "completed");
    else {
      const loop = this.issue(state).catch((error: unknown) => {
        this.deps.log.error({ err: error, replayId: state.id }, "replay loop failed");
        if (state.status === "running") this.finish(state, "cancelled");
      });
      this.loops.add(loop);
      void loop.finally(() => this.loops.delete(loop));
    }
    return this.progress(state);
  }

  /** Every replay this gateway knows (running, and the latest finished ones), newest first. */
  list(): ReadonlyArray<ReplayProgress> {
    this.endStalled();
    return [...this.replays.values()].reverse().map((state) => this.progress(state));
  }

  /** A replay's progress, if known. */
  get(id: string): ReplayProgress | undefined {
    this.endStalled();
    const state = this.replays.get(id);
    return state ? this.progress(state) : undefined;
  }

  /** Stops issuing commands for a running replay (those already issued still run). */
  cancel(id: string): ReplayProgress | undefined {
    const state = this.replays.get(id);
    if (!state) return undefined;
    if (state.status === "running") this.finish(state, "cancelled");
    return this.progress(state);
  }

  /**
   * How many job ids the manager holds for a replay (its memory, for tests and diagnostics): the
   * selection while it runs, then only its commands still without an outcome.
   */
  heldJobIds(id: string): number | undefined {
    const state = this.replays.get(id);
    return state === undefined ? undefined : state.jobs.length + state.outstanding.size;
  }

  /** Cancels every running replay and waits for their loops (gateway shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.stallTimer);
    this.unsubscribe();
    for (const state of this.replays.values())
      if (state.status === "running") this.finish(state, "cancelled");
    await Promise.all([...this.loops]);
  }

  // internal

  private readonly onOutcome = (o: PublicationOutcome): void => {
    // A deferred command is tried again by a later delivery: it is neither done nor failed yet.
    if (o.replayId === undefined || !isFinalOutcome(o.outcome)) return;
    const state = this.replays.get(o.replayId);
    if (state === undefined || !state.outstanding.delete(o.jobId)) return;
    state.done++;
    state.lastProgressAt = this.now();
    if (o.outcome === "published") state.published++;
    else if (o.outcome === "unchanged" || o.outcome === "skipped") state.skippedUnchanged++;
    else state.failed++;
    // A stalled replay whose last outcomes came late after all is complete.
    if ((state.status === "running" || state.status === "stalled") && state.done === state.total)
      this.finish(state, "completed");
    state.wake();
  };

  private async issue(state: ReplayState): Promise<void> {
    const limit = this.deps.config.nats.concurrency * 2;
    for (const jobId of state.jobs) {
      while (state.status === "running" && state.outstanding.size >= limit) {
        await new Promise<void>((resolve) => {
          state.wake = resolve;
        });
      }
      if (state.status !== "running") return;
      state.outstanding.add(jobId);
      state.issued++;
      state.lastProgressAt = this.now();
      await this.publishWithRetry(state, jobId);
    }
  }

  private async publishWithRetry(state: ReplayState, jobId: string): Promise<void> {
    for (let attempt = 0; state.status === "running"; attempt++) {
      try {
        await publishCommand(
          this.deps.publisher,
          this.deps.log,
          this.deps.config.nats.subject_prefix,
          jobId,
          { trigger: "replay", replayId: state.id, force: state.force },
          `replay:${state.id}:${jobId}`,
        );
        return;
      } catch {
        // JetStream is down: wait and try again (the msgID makes a late duplicate harmless).
        const delay = Math.min(30_000, 500 * 2 ** attempt);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          state.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private finish(state: ReplayState, status: Exclude<ReplayProgress["status"], "running">): void {
    state.status = status;
    state.finishedAt = this.now();
    // The loop holds its own reference while it returns; nothing else reads the selection again.
    state.jobs = [];
    state.wake();
    this.prune();
  }

  /** Ends every running replay without progress for `STALL_AFTER_MS`. */
  private endStalled(): void {
    const now = this.now();
    for (const state of this.replays.values()) {
      if (state.status !== "running" || now - state.lastProgressAt < STALL_AFTER_MS) continue;
      this.deps.log.warn(
        { replayId: state.id, issued: state.issued, done: state.done, total: state.total },
        `replay stalled: no command issued and no outcome for ${STALL_AFTER_MS / 60_000} minutes; it issues no more commands`,
      );
      this.finish(state, "stalled");
    }
  }

  private progress(s: ReplayState): ReplayProgress {
    const { done, total } = s;
    const elapsed = ((s.finishedAt ?? this.now()) - s.startedAt) / 1000;
    const rate = done > 0 && elapsed > 0 ? done / elapsed : null;
    const eta = s.status !== "running" ? (done === total ? 0 : null) : rate ? (total - done) / rate : null;
    return {
      id: s.id,
      status: s.status,
      total,
      issued: s.issued,
      done,
      published: s.published,
      skippedUnchanged: s.skippedUnchanged,
      failed: s.failed,
      ratePerSecond: rate === null ? null : Math.round(rate * 100) / 100,
      etaSeconds: eta === null ? null : Math.round(eta * 10) / 10,
      startedAt: new Date(s.startedAt).toISOString(),
      finishedAt: s.finishedAt === null ? null : new Date(s.finishedAt).toISOString(),
      since: s.since,
      until: s.until,
      spaceKey: s.spaceKey,
      force: s.force,
      ...(s.availableSince !== undefined ? { availableSince: s.availableSince } : {}),
    };
  }

  /** Forgets the replays that ended first, beyond the latest `KEEP_FINISHED`. */
  private prune(): void {
    const finished = [...this.replays.values()]
      .filter((s) => s.status !== "running")
      .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0));
    for (const s of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.replays.delete(s.id);
  }

  /**
   * Distinct job ids (with the event's spaceKey) of the ready events in [since, until), or from
   * since on without `until`, and from when on the stream still holds them if its retention
   * removed some of the window.
   *
   * Without `until` the end is the stream's last sequence when it is read, not the gateway's
   * clock: JetStream stamps messages in nanoseconds by the server's clock, so "now" in
   * milliseconds by the gateway's would leave out an event stored earlier in the same
   * millisecond, or all of the last ones when the server's clock runs ahead.
   */
  private async readJobs(
    sinceMs: number,
    untilMs: number | undefined,
  ): Promise<{ events: Map<string, string | undefined>; availableSince: string | undefined }> {
    const jobs = new Map<string, string | undefined>();
    const info = await this.deps.jsm.streams.info(this.deps.protocolStream);
    const availableSince = removedSince(info.state, sinceMs, info.created);
    const result = { events: jobs, availableSince };
    const lastSeq = info.state.last_seq;
    if (
      info.state.messages === 0 ||
      Date.parse(info.state.last_ts) < sinceMs ||
      (untilMs !== undefined && sinceMs >= untilMs)
    )
      return result;
    const pastEnd = (m: JsMsg): boolean =>
      untilMs === undefined ? m.seq > lastSeq : Number(m.timestampNanos / 1_000_000n) >= untilMs;
    const consumer = await this.deps.js.consumers.get(this.deps.protocolStream, {
      filter_subjects: protocolReadyWildcard(this.deps.config.nats.subject_prefix),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(sinceMs).toISOString(),
    });
    const decodeJobId = Schema.decodeUnknownEither(JobId);
    try {
      for (let more = true; more && !this.closed; ) {
        const batch = await consumer.fetch({ max_messages: 500, expires: 1_000 });
        let received = 0;
        for await (const m of batch) {
          received++;
          if (pastEnd(m)) {
            more = false;
            break;
          }
          const body = parseObject(m.string());
          const jobId = decodeJobId(body?.jobId);
          if (Either.isRight(jobId) && !jobs.has(jobId.right)) {
            jobs.set(jobId.right, typeof body?.spaceKey === "string" ? body.spaceKey : undefined);
          }
          if (m.info.pending === 0) {
            more = false;
            break;
          }
        }
        if (received === 0) more = false;
      }
    } finally {
      // The server would keep the ephemeral consumer for its 5-minute inactive threshold: one per
      // replay and dry run. Deleted now, the stream's consumer count is back to what it was.
      await consumer.delete().catch((error: unknown) => {
        this.deps.log.warn(
          { err: error, stream: this.deps.protocolStream },
          "could not delete a replay's ordered consumer: the server removes it after 5 minutes of inactivity",
        );
      });
    }
    return result;
  }

  /** The space a job publishes to: its record's, else its stored protocol's, else the event's or the default. */
  private async spaceOf(jobId: string, eventSpace: string | undefined): Promise<string> {
    const found = await Effect.runPromise(
      Effect.gen(this, function* () {
        const record = yield* this.deps.store.findByJob(jobId);
        if (Option.isSome(record)) return Option.some(record.value.spaceKey);
        const protocol = yield* this.deps.store.getProtocol(jobId);
        return Option.flatMap(protocol, (p) => Option.fromNullable(p.metadata.spaceKey));
      }).pipe(Effect.orElseSucceed(() => Option.none<string>())),
    );
    return Option.getOrElse(found, () => eventSpace ?? this.deps.config.confluence.space_key);
  }
}

/**
 * The instant from which the stream holds its messages, when its retention (`max_age`,
 * `max_msgs`, `max_bytes`) or a purge removed messages stored at or after `sinceMs`, or when the
 * stream was created after `sinceMs` (`created`: a NATS that lost its data, a deleted stream made
 * again); otherwise undefined. A stream that never lost a message starts at sequence 1.
 */
export const removedSince = (
  state: Pick<StreamState, "first_seq" | "first_ts" | "last_ts" | "messages">,
  sinceMs: number,
  created?: string,
): string | undefined => {
  if (state.first_seq <= 1) {
    // Nothing removed; but what was stored before the stream existed is not in it.
    const createdMs = created === undefined ? Number.NaN : Date.parse(created);
    return Number.isFinite(createdMs) && createdMs > sinceMs ? new Date(createdMs).toISOString() : undefined;
  }
  // An emptied stream holds nothing: everything up to its last message is gone.
  const from = Date.parse(state.messages > 0 ? state.first_ts : state.last_ts);
  return Number.isFinite(from) && from > sinceMs ? new Date(from).toISOString() : undefined;
};

const parseObject = (text: string): Record<string, unknown> | undefined => {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};
