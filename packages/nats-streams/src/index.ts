export { coalescedRepair, type RepairListener } from "./coalesced-repair.js";
export { connectNats, natsServers, natsUrlForDisplay } from "./connect-nats.js";
export { createMissingStreams, ensureStreams, isAlreadyThere, isNotFound } from "./ensure-streams.js";
export {
  ensurePublisherRegistry,
  isLivePublisher,
  PUBLISHER_REGISTRY_READ_LIMIT,
  type PublisherRegistration,
  type PublisherRegistryRead,
  type RegisteredPublisher,
  type RegistryConfigKeys,
  readPublisherRegistry,
  registerPublisher,
} from "./publisher-registry.js";
