/**
 * What route plugins share, passed as plugin options (no global decorators): configuration,
 * NATS handles, the store, the outcome feed, metrics, replays and Confluence access.
 */

import type { MinutesConfig } from "@minutes/contracts";
import type { PublicationStoreShape } from "@minutes/publication-store";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyRequest } from "fastify";
import type { ConfluenceAccess } from "./confluence.js";
import type { GatewayMetrics } from "./metrics.js";
import type { OutcomeFeed } from "./OutcomeFeed.js";
import type { TrackedPublisher } from "./publish-health.js";
import type { ReplayManager } from "./ReplayManager.js";

/** Shared by every route plugin. */
export interface GatewayContext {
  readonly config: MinutesConfig;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Publishes with acknowledgement (every publish the gateway makes goes through it). */
  /** The intake's publisher; `health()` counts what JetStream stored and refused. */
  readonly publisher: TrackedPublisher;
  readonly store: PublicationStoreShape;
  readonly feed: OutcomeFeed;
  readonly metrics: GatewayMetrics;
  readonly replays: ReplayManager;
  readonly confluence: ConfluenceAccess;
  readonly streams: { readonly protocol: string; readonly outcome: string };
  /** Whether the NATS connection is up (not closed, not between disconnect and reconnect). */
  readonly natsConnected: () => boolean;
  /** When `/status/confluence` calls the publishers' restarts a crash loop. */
  readonly publisherLiveness: PublisherLivenessSettings;
  /** How long an import's upload may send nothing before it is refused (408). */
  readonly importIdleTimeoutMs: number;
  /** How long an import's whole upload may take before it is refused (408). */
  readonly importUploadTimeoutMs: number;
  /** The clock (epoch ms) of the Confluence token's expiry and of the reuse of a Confluence check (`Date.now` but in tests). */
  readonly now: () => number;
}

/** When `/status/confluence` calls the publishers' restarts a crash loop. */
export interface PublisherLivenessSettings {
  /** How far back starts that ended without a clean stop are counted (default 10 minutes). */
  readonly crashLoopWindowMs: number;
  /** How many of them within the window are a crash loop (default 3). */
  readonly crashLoopStarts: number;
}

/** 3 starts without a clean stop in 10 minutes. */
export const DEFAULT_PUBLISHER_LIVENESS: PublisherLivenessSettings = {
  crashLoopWindowMs: 10 * 60_000,
  crashLoopStarts: 3,
};

/** Options of every route plugin. */
export interface RouteOptions {
  readonly ctx: GatewayContext;
  /** Whether a request carries a valid API key; absent: every request counts as a client's. */
  readonly hasApiKey?: ((request: FastifyRequest) => boolean) | undefined;
}
