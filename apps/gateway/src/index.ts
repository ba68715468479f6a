/**
 * @minutes/gateway — the REST front door. `buildApp` builds the Fastify app over injected
 * dependencies (tests, embedding); `startServer` wires production; `main.ts` is the process.
 */
export { buildApp, type Gateway, type GatewayDeps, REDACT_PATHS } from "./app.js";
export { configFailure, formatConfigIssues, readConfig, tryReadConfig } from "./config.js";
export { type ConfluenceAccess, makeConfluenceAccess, noConfluence, type TokenSource } from "./confluence.js";
export type { GatewayContext } from "./context.js";
export { type RunningServer, startServer, stopOnSignals } from "./server.js";
