/**
 * @minutes/publisher — turns `ProtocolReady` events into Confluence pages. `startPublisher` runs
 * one instance (the `minutes-publisher` binary, the demo and the tests use it).
 */

// ensureStreams is shared with the gateway; re-exported so the publisher's API stays whole.
export { ensureStreams } from "@minutes/nats-streams";
export { type ArchiveRunOptions, type ArchiveSettings, runArchive } from "./archive.js";
export { INDEX_PROPERTY_KEY, type IndexPages, makeIndexPages } from "./index-page.js";
export { type ConsumerStart, type ConsumerStartOptions, effectiveAckWaitMs, ensureConsumer } from "./nats.js";
export { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from "./outcomes.js";
export { type PublisherOptions, type RunningPublisher, startPublisher } from "./Publisher.js";
export {
  type Disposition,
  JOB_PROPERTY_KEY,
  type PipelineStep,
  suffixedTitle,
} from "./PublishPipeline.js";
export { normaliseLabels, type Route, routeProtocol } from "./routing.js";
