// A local Confluence (Cloud v2/v1 and Data Center v1) for tests and the demo.
// The public surface: start a sandbox (or build its app for `inject`), its options and user
// shapes, the fault controller and the read-only state types.

export { buildSandboxApp, DEFAULT_CLOUD_ID, type SandboxApp } from "./app.js";
export { checkStorage, type StorageCheck } from "./check-storage.js";
export {
  type ActiveFault,
  FaultController,
  type FaultDecision,
  type FaultKind,
  type FaultRule,
} from "./FaultController.js";
export { renderStorage } from "./render-storage.js";
export type { SandboxMode, SandboxOptions, SandboxUser } from "./SandboxOptions.js";
export type {
  LabelRecord,
  PageRecord,
  PageStatus,
  PropertyRecord,
  SandboxSnapshot,
  SandboxState,
  SpaceRecord,
  VersionRecord,
} from "./SandboxStore.js";
export { type Sandbox, startSandbox } from "./start-sandbox.js";
