/**
 * Where outcomes go: every outcome becomes an event on the outcome stream (replay progress,
 * metrics, anyone who listens); `notification_settings` pick which ones are also sent to
 * webhook recipients, signed with HMAC-SHA256 and retried (a redirect is a failed delivery, never
 * followed: the recipient rule holds for the configured URL only). Sending never delays the ack of the
 * message that produced the outcome, and a failed send is logged, not fatal. An event finding no
 * stream (NATS lost its data) has the streams re-created and is sent once more.
 * Webhook sends queue for a fixed number of senders ({@link WEBHOOK_CONCURRENCY}) living in the
 * sink's scope: a receiver that hangs costs that many requests, not one per outcome, and a
 * backlog past {@link WEBHOOK_BACKLOG} drops the newest sends. The first drop is logged at once
 * (senders stuck on a hanging receiver may take no send for most of a minute); the drops after
 * it are counted, in a line at most every {@link WEBHOOK_DROP_REPORT_MS}, so a backlog hovering
 * at full cannot flood the log. Closing the scope interrupts the sends and closes their connections.
 */
import { createHmac } from "node:crypto";
import {
  isWebhookRecipient,
  type MinutesConfig,
  type PublicationOutcome,
  PublicationOutcomeJson,
  publicationEventSubject,
} from "@minutes/contracts";
import type { JetStreamClient } from "@nats-io/jetstream";
import { Clock, Data, Duration, Effect, Queue, Redacted, Schedule, Schema, type Scope } from "effect";
import { Agent, fetch } from "undici";
import type { OutcomeSinkShape } from "./PublishPipeline.js";

/** Header carrying `sha256=<hex>` of `HMAC(secret, "<timestamp>.<body>")`. */
export const SIGNATURE_HEADER = "x-minutes-signature";
/** Header carrying the Unix time (seconds) the signature covers. */
export const TIMESTAMP_HEADER = "x-minutes-timestamp";

/** How many webhook requests are open at most at once, across recipients. */
export const WEBHOOK_CONCURRENCY = 8;
/** How many webhook sends (one per recipient and outcome) wait at most; newer ones are dropped. */
export const WEBHOOK_BACKLOG = 1_000;
/**
 * The least time between two log lines about dropped webhook sends: the first drop is logged at
 * once (unless a line about drops was logged less than this ago), later ones are counted and the
 * count logged when this much time has passed since the previous line, and at the stop.
 */
export const WEBHOOK_DROP_REPORT_MS = 10_000;

/** Signs a webhook body the way receivers verify it. */
export const signWebhook = (secret: string, timestamp: number, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;

/**
 * The outcome sink over JetStream and webhooks, with its webhook senders and their connections
 * in the scope: closing it interrupts the sends (the ones still waiting are logged, not sent).
 */
export const makeOutcomeSink = (
  js: JetStreamClient,
  config: MinutesConfig,
  options: {
    readonly webhookAttempts?: number;
    readonly webhookBaseDelayMs?: number;
    /** Webhook requests open at once (default {@link WEBHOOK_CONCURRENCY}). */
    readonly webhookConcurrency?: number;
    /** Webhook sends waiting at most (default {@link WEBHOOK_BACKLOG}). */
    readonly webhookBacklog?: number;
    /** Least time between two lines about dropped sends (default {@link WEBHOOK_DROP_REPORT_MS}). */
    readonly webhookDropReportMs?: number;
    /** Re-creates the streams; resolves whether they exist now (see `makeJetStreamRepair`). */
    readonly repair?: () => Promise<boolean>;
  } = {},
): Effect.Effect<OutcomeSinkShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const settings = config.confluence.notification_settings;
    const webhooks = settings.notification_recipients.filter(isWebhookRecipient);
    const secret = config.publisher.webhook_secret;
    const concurrency = options.webhookConcurrency ?? WEBHOOK_CONCURRENCY;
    const capacity = options.webhookBacklog ?? WEBHOOK_BACKLOG;
    const reportEveryMs = options.webhookDropReportMs ?? WEBHOOK_DROP_REPORT_MS;

    const publishEvent = (outcome: PublicationOutcome) => {
      const subject = publicationEventSubject(outcome.outcome, config.nats.subject_prefix);
      const payload = Schema.encodeSync(PublicationOutcomeJson)(outcome);
      // Redelivery of the same attempt repeats the same id, so the stream keeps one copy.
      const msgID = `${outcome.jobId}:${outcome.publicationId ?? "-"}:${outcome.outcome}:${outcome.pageVersion ?? "-"}:${outcome.occurredAt}`;
      const publish = () => js.publish(subject, payload, { msgID });
      return Effect.tryPromise({
        try: () =>
          publish().catch(async (error: unknown) => {
            // No responders: no stream stores the subject any more. Nothing was stored, so sending
            // again once the streams are back cannot duplicate it.
            if (!isNoStream(error) || options.repair === undefined) throw error;
            if (!(await options.repair())) throw error;
            return publish();
          }),
        catch: (cause) => (cause instanceof Error ? cause.message : String(cause)),
      }).pipe(
        Effect.tapError((e) =>
          Effect.logWarning("could not publish the outcome event").pipe(
            Effect.annotateLogs({ reason: String(e) }),
          ),
        ),
        Effect.ignore,
      );
    };

    const send = (url: string, outcome: PublicationOutcome) => {
      const body = JSON.stringify({ type: `publication.${outcome.outcome}`, data: outcome });
      return Effect.tryPromise({
        try: async (signal) => {
          const timestamp = Math.floor(Date.now() / 1000);
          const headers: Record<string, string> = {
            "content-type": "application/json",
            "user-agent": "minutes-publisher",
            [TIMESTAMP_HEADER]: String(timestamp),
          };
          if (secret !== null)
            headers[SIGNATURE_HEADER] = signWebhook(Redacted.value(secret), timestamp, body);
          const response = await fetch(url, {
            method: "POST",
            headers,
            body,
            // Aborted by the timeout, or by the interruption of a stop.
            signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
            dispatcher,
            // Never followed: the recipient rule (https, or http on loopback) was checked for this
            // URL only, and the signed body would go wherever the receiver points.
            redirect: "manual",
          });
          await response.body?.cancel();
          return { status: response.status, location: response.headers.get("location") };
        },
        catch: (cause) => new WebhookError({ reason: transportReason(cause) }),
      }).pipe(
        Effect.filterOrFail(
          ({ status }) => status < 300,
          ({ status, location }) =>
            new WebhookError({
              reason: status < 400 ? redirectReason(status, location, url) : `answered HTTP ${status}`,
            }),
        ),
        Effect.retry(
          Schedule.exponential(Duration.millis(options.webhookBaseDelayMs ?? 1000)).pipe(
            Schedule.jittered,
            Schedule.intersect(Schedule.recurs((options.webhookAttempts ?? 4) - 1)),
          ),
        ),
        Effect.tapError((e) =>
          Effect.logWarning("webhook notification failed").pipe(
            Effect.annotateLogs({ recipient: recipientForLog(url), reason: e.reason }),
          ),
        ),
        Effect.ignore,
      );
    };

    const wanted = (outcome: PublicationOutcome): boolean =>
      (outcome.outcome === "published" && settings.notify_on_publish) ||
      ((outcome.outcome === "failed" || outcome.outcome === "rejected") && settings.notify_on_error);

    // The webhook connections, closed (destroyed: requests still open are aborted) after the
    // senders were interrupted.
    const dispatcher = yield* Effect.acquireRelease(
      Effect.sync(() => new Agent({ connections: concurrency })),
      (agent) => Effect.promise(() => agent.destroy()),
    );

    // Drops. A streak starts with a refused send and ends when a sender takes the next one (the
    // backlog has room again). Its first drop is logged at once, naming the recipient; the rest are
    // counted for the reporter below. Every line about drops is at least `reportEveryMs` after the
    // previous one, a streak's first included: a backlog that fills again as soon as a sender takes
    // a send would otherwise log a line per send. The stop logs what is still uncounted.
    /** The backlog refused a send and no sender has taken one since. */
    let overflowing = false;
    /** Refused sends no line has counted yet, and their recipients as logged. */
    let uncounted = 0;
    const uncountedTo = new Set<string>();
    let lastDropLineAt = Number.NEGATIVE_INFINITY;
    /** Wakes the reporter: drops wait to be counted. */
    const countDue = yield* Queue.sliding<void>(1);
    const dropped = (url: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const recipient = recipientForLog(url);
        const first = !overflowing && now - lastDropLineAt >= reportEveryMs;
        overflowing = true;
        if (first) {
          lastDropLineAt = now;
          return Effect.logWarning(
            `dropped a webhook notification to ${recipient}: the backlog of ${capacity} is full; further drops are counted`,
          ).pipe(Effect.annotateLogs({ recipient, backlog: capacity, dropped: 1 }));
        }
        uncounted++;
        uncountedTo.add(recipient);
        return Queue.offer(countDue, undefined);
      });
    const logUncounted = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const count = uncounted;
      if (count === 0) return Effect.void;
      const recipients = [...uncountedTo];
      uncounted = 0;
      uncountedTo.clear();
      lastDropLineAt = now;
      return Effect.logWarning(
        `dropped ${count} more webhook ${count === 1 ? "notification" : "notifications"} (to ${recipients.join(", ")}): the backlog of ${capacity} was full`,
      ).pipe(Effect.annotateLogs({ recipients, backlog: capacity, dropped: count }));
    });

    const backlog = yield* Effect.acquireRelease(Queue.dropping<WebhookSend>(capacity), (queue) =>
      Effect.gen(function* () {
        const unsent = yield* Queue.size(queue);
        yield* logUncounted;
        if (unsent > 0)
          yield* Effect.logWarning(
            `${unsent} webhook ${unsent === 1 ? "notification was" : "notifications were"} not sent: the publisher stopped`,
          ).pipe(Effect.annotateLogs({ unsent }));
        yield* Queue.shutdown(queue);
      }),
    );
    // Forked after the backlog: a stop interrupts the reporter and the senders before the backlog's
    // release logs the count they leave.
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* Queue.take(countDue);
          const wait = lastDropLineAt + reportEveryMs - (yield* Clock.currentTimeMillis);
          if (wait > 0) yield* Effect.sleep(Duration.millis(wait));
          yield* logUncounted;
        }),
      ),
    );
    for (let i = 0; i < concurrency; i++)
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(Queue.take(backlog), (next) => {
            overflowing = false;
            return send(next.url, next.outcome).pipe(Effect.annotateLogs(next.annotations));
          }),
        ),
      );

    return {
      emit: (outcome) =>
        Effect.gen(function* () {
          yield* publishEvent(outcome);
          if (webhooks.length > 0 && wanted(outcome)) {
            // The message's log annotations (job, stream sequence) go with the send.
            const annotations = Object.fromEntries(yield* Effect.logAnnotations);
            // Not waiting: a full backlog (or one shut down by a stop) refuses the send at once.
            for (const url of webhooks)
              if (!backlog.unsafeOffer({ url, outcome, annotations })) yield* dropped(url);
          }
        }),
    };
  });

// internal

/** One webhook request to make (retried as one), with the log annotations of its outcome. */
interface WebhookSend {
  readonly url: string;
  readonly outcome: PublicationOutcome;
  readonly annotations: Record<string, unknown>;
}

/**
 * What `js.publish` rejects with when nothing answered the publish: the client names it
 * `JetStreamNotEnabled` (a class it does not export), though it mostly means no stream stores
 * the subject.
 */
const isNoStream = (error: unknown): boolean =>
  error instanceof Error && error.name === "JetStreamNotEnabled";

/** Why a webhook could not be delivered: its status, or the network error's code. Never the URL. */
class WebhookError extends Data.TaggedError("WebhookError")<{ readonly reason: string }> {}

/**
 * A recipient as logged: scheme, host and port only. Slack, Teams and others put the secret that
 * authorises posting in the path (or the query), so neither is shown.
 */
const recipientForLog = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "(invalid url)";
  }
};

/**
 * Why a redirect counts as a failed delivery, naming where it pointed as scheme://host:port only
 * (a relative `Location` resolved against the recipient): its path may carry a secret too.
 */
const redirectReason = (status: number, location: string | null, url: string): string => {
  if (location === null) return `answered HTTP ${status}, a redirect without a location (not followed)`;
  let target: string;
  try {
    target = recipientForLog(new URL(location, url).href);
  } catch {
    target = "(invalid url)";
  }
  return `answered HTTP ${status}, a redirect to ${target} (not followed)`;
};

/**
 * What went wrong below HTTP, from fetch's error: its timeout, or the code undici or Node put on
 * the error or its cause (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_SOCKET`…). Messages are not used:
 * they can quote the URL.
 */
const transportReason = (cause: unknown): string => {
  let current = cause;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const c = current as { name?: unknown; code?: unknown; cause?: unknown };
    if (c.name === "TimeoutError") return "timed out after 10 s";
    if (typeof c.code === "string" && c.code !== "") return `network error ${c.code}`;
    current = c.cause;
  }
  return "network error";
};
