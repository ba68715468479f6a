/**
 * TEST DOUBLE for the publisher *process* (apps/publisher), over real NATS and the real store:
 * a durable consumer on the protocol stream that stores `ProtocolReady` events and answers each
 * `PublishRequested` with a store transition and a `PublicationOutcome` event. It claims the job
 * as the publisher does (the store's `claim`): a job whose lease another owner holds comes back
 * later, an expired lease is taken over. It talks to no Confluence: "publishing" just records a
 * fake page. It exists because the real publisher is being written in parallel; the gateway is
 * tested against the same subjects and records.
 */
import { createHash, randomUUID } from "node:crypto";
import {
  type MinutesConfig,
  ProtocolReadyJson,
  type PublicationOutcome,
  PublicationOutcomeJson,
  type PublicationOutcomeKind,
  PublishRequestedJson,
  protocolReadyPrefix,
  protocolStreamSettings,
  protocolStreamWildcard,
  publicationEventSubject,
  publishRequestedPrefix,
} from "@minutes/contracts";
import { type PublicationStoreShape, protocolMetadataOf } from "@minutes/publication-store";
import { AckPolicy, type ConsumerMessages, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type NatsConnection, nanos } from "@nats-io/transport-node";
import { Effect, Option, Schema } from "effect";

export interface FakePublisherOptions {
  /** Decides the outcome of a command (default: published, or unchanged when the content is already on the page). */
  readonly decide?: (jobId: string) => PublicationOutcomeKind | undefined;
  /** The error of a `failed` or `rejected` outcome (default: `ConfluenceServerError`, "Confluence answered 500"). */
  readonly error?: (jobId: string) => { readonly errorTag: string; readonly errorMessage: string };
  /** Extra outcome fields (latency, retries, 429s, Confluence requests and time) for metrics tests. */
  readonly extra?: Partial<
    Pick<PublicationOutcome, "latencyMs" | "retries" | "rateLimited" | "confluenceRequests" | "confluenceMs">
  >;
  /**
   * Gives a command back (nak, 100 ms) with a `deferred` outcome carrying these counts on the
   * deliveries it answers for, as the publisher does after a passing Confluence failure.
   */
  readonly defer?: (
    jobId: string,
    deliveryCount: number,
  ) => { readonly retries: number; readonly rateLimited: number } | undefined;
  /** Records as usual but sends no outcome event, as when the outcome stream lags or is lost. */
  readonly withholdOutcomes?: boolean;
}

export interface FakePublisher {
  /** Commands seen, in order (one given back while another owner held the job is seen again). */
  readonly commands: Array<{
    jobId: string;
    trigger: string;
    replayId?: string | undefined;
    pendingAtDelivery: number;
    /** Which delivery of its message answered it (1 the first). */
    delivery: number;
  }>;
  readonly stop: () => Promise<void>;
}

export const startFakePublisher = async (
  nc: NatsConnection,
  store: PublicationStoreShape,
  config: MinutesConfig,
  options: FakePublisherOptions = {},
): Promise<FakePublisher> => {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const stream = protocolStreamSettings(config.nats).name;
  await jsm.consumers.add(stream, {
    durable_name: config.nats.consumer,
    ack_policy: AckPolicy.Explicit,
    filter_subject: protocolStreamWildcard(config.nats.subject_prefix),
    // Short, so messages buffered by a stopped instance come back quickly to the next one.
    ack_wait: nanos(2_000),
  });
  const consumer = await js.consumers.get(stream, config.nats.consumer);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 20 });
  const commands: FakePublisher["commands"] = [];
  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e);

  const emit = async (
    o: Omit<PublicationOutcome, "occurredAt" | "latencyMs" | "retries" | "rateLimited"> &
      Partial<Pick<PublicationOutcome, "retries" | "rateLimited">>,
  ) => {
    if (options.withholdOutcomes === true) return;
    const outcome: PublicationOutcome = {
      latencyMs: null,
      retries: 0,
      rateLimited: 0,
      ...options.extra,
      ...o,
      occurredAt: new Date().toISOString(),
    };
    await js.publish(
      publicationEventSubject(o.outcome, config.nats.subject_prefix),
      Schema.encodeSync(PublicationOutcomeJson)(outcome),
    );
  };

  const loop = (async () => {
    for await (const m of messages) {
      if (m.subject.startsWith(`${protocolReadyPrefix(config.nats.subject_prefix)}.`)) {
        const event = Schema.decodeUnknownSync(ProtocolReadyJson)(m.string());
        await run(
          store.saveProtocol({
            jobId: event.jobId,
            markdown: event.markdown,
            filename: event.filename,
            metadata: protocolMetadataOf(event),
            contentHash: createHash("sha256").update(event.markdown).digest("hex"),
            streamSequence: m.seq,
            occurredAt: event.occurredAt,
          }),
        );
        await run(
          store.ensurePublication({
            jobId: event.jobId,
            spaceKey: event.spaceKey ?? config.confluence.space_key,
            parentPageId: null,
          }),
        );
        m.ack();
        continue;
      }
      if (!m.subject.startsWith(`${publishRequestedPrefix(config.nats.subject_prefix)}.`)) {
        m.ack();
        continue;
      }
      const command = Schema.decodeUnknownSync(PublishRequestedJson)(m.string());
      const deferred = options.defer?.(command.jobId, m.info.deliveryCount);
      if (deferred !== undefined) {
        await emit({
          jobId: command.jobId,
          trigger: command.trigger,
          ...(command.replayId !== undefined ? { replayId: command.replayId } : {}),
          outcome: "deferred",
          publicationId: null,
          pageId: null,
          pageUrl: null,
          pageTitle: null,
          pageVersion: null,
          spaceKey: null,
          errorTag: "ConfluenceRateLimitedError",
          errorMessage: "Confluence answered 429",
          deliveryCount: m.info.deliveryCount,
          redeliveryDelayMs: 100,
          ...deferred,
        });
        m.nak(100);
        continue;
      }
      commands.push({
        jobId: command.jobId,
        trigger: command.trigger,
        replayId: command.replayId,
        pendingAtDelivery: m.info.pending,
        delivery: m.info.deliveryCount,
      });
      const base = {
        jobId: command.jobId,
        trigger: command.trigger,
        ...(command.replayId !== undefined ? { replayId: command.replayId } : {}),
        pageTitle: null,
        spaceKey: null,
      };
      const protocol = await run(store.getProtocol(command.jobId));
      if (Option.isNone(protocol)) {
        await emit({
          ...base,
          outcome: "rejected",
          publicationId: null,
          pageId: null,
          pageUrl: null,
          pageVersion: null,
          errorTag: "NoProtocol",
          errorMessage: "no stored protocol",
        });
        m.ack();
        continue;
      }
      const record = await run(
        store.ensurePublication({
          jobId: command.jobId,
          spaceKey: config.confluence.space_key,
          parentPageId: null,
        }),
      );
      const unchanged = record.status === "published" && record.contentHash === protocol.value.contentHash;
      const kind =
        options.decide?.(command.jobId) ?? (unchanged && !command.force ? "unchanged" : "published");
      if (kind === "unchanged" || kind === "skipped") {
        await emit({
          ...base,
          outcome: kind,
          publicationId: record.id,
          pageId: record.pageId,
          pageUrl: record.pageUrl,
          pageVersion: record.pageVersion,
          errorTag: null,
          errorMessage: null,
        });
        m.ack();
        continue;
      }
      // As the publisher: the lease is the attempt's, and a job another owner holds (an unexpired
      // lease) comes back later; an expired lease is taken over.
      const owner = `fake-publisher/${randomUUID().slice(0, 8)}`;
      const claimed = await run(
        store.claim({ jobId: command.jobId, owner, leaseMs: 60_000, trigger: command.trigger }),
      );
      if (Option.isNone(claimed)) {
        m.nak(100);
        continue;
      }
      if (kind === "published") {
        const pageId = String(100_000 + record.id);
        const updated = await run(
          store.transition(record.id, "published", {
            pageId,
            pageUrl: `https://confluence.example/pages/${pageId}`,
            pageVersion: (record.pageVersion ?? 0) + 1,
            pageTitle: `Protocol ${command.jobId}`,
            contentHash: protocol.value.contentHash,
            owner,
          }),
        );
        await emit({
          ...base,
          outcome: "published",
          publicationId: updated.id,
          pageId: updated.pageId,
          pageUrl: updated.pageUrl,
          pageVersion: updated.pageVersion,
          errorTag: null,
          errorMessage: null,
        });
      } else {
        const error = options.error?.(command.jobId) ?? {
          errorTag: "ConfluenceServerError",
          errorMessage: "Confluence answered 500",
        };
        const updated = await run(store.transition(record.id, "failed", { ...error, owner }));
        await emit({
          ...base,
          outcome: kind,
          publicationId: updated.id,
          pageId: updated.pageId,
          pageUrl: updated.pageUrl,
          pageVersion: updated.pageVersion,
          ...error,
        });
      }
      m.ack();
    }
  })();

  return {
    commands,
    stop: async () => {
      await messages.close();
      await loop;
    },
  };
};
