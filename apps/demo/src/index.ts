/**
 * @minutes/demo — the main job on one machine (`pnpm demo`), also used by the end-to-end tests.
 */
export { DemoError, type DemoOptions, type DemoResult, type RunningDemo, runDemo } from "./demo.js";
