export { coalescedRepair, type RepairListener } from "./coalesced-repair.js";
export { createMissingStreams, ensureStreams, isAlreadyThere, isNotFound } from "./ensure-streams.js";
