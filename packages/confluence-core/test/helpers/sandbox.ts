// Test helpers: a real sandbox per suite (as a scoped layer) and clients pointed at it over real
// HTTP. Retry delays are short so fault tests finish fast; everything else is the production path.
import {
  type Sandbox,
  type SandboxMode,
  type SandboxOptions,
  startSandbox,
} from "@minutes/confluence-sandbox";
import { Context, Effect, Layer, Redacted } from "effect";
import { makeConfluenceClient } from "../../src/ConfluenceClient.js";
import type { ConfluenceClientConfig } from "../../src/ConfluenceClientConfig.js";

/** The sandbox of the current suite. */
export class TestSandbox extends Context.Tag("test/TestSandbox")<TestSandbox, Sandbox>() {
  /** Starts a sandbox in `mode` (plus `extra` options), closed when the suite's layer is released. */
  static readonly layer = (
    mode: SandboxMode,
    extra: Partial<SandboxOptions> = {},
  ): Layer.Layer<TestSandbox> =>
    Layer.scoped(
      TestSandbox,
      Effect.acquireRelease(
        Effect.promise(() =>
          startSandbox({ mode, port: 0, spaces: [{ key: "MEETINGS" }, { key: "OTHER" }], ...extra }),
        ),
        (sb) => Effect.promise(() => sb.close()),
      ),
    );
}

/** A client configuration for the sandbox's bot user: Basic e-mail + token on Cloud, a PAT as Bearer on DC. */
export const configFor = (
  sb: Sandbox,
  overrides: Partial<ConfluenceClientConfig> = {},
): ConfluenceClientConfig => ({
  baseUrl: sb.baseUrl,
  deployment: sb.mode,
  auth:
    sb.mode === "cloud"
      ? { type: "basic", email: sb.user.email, token: Redacted.make(sb.user.token) }
      : { type: "bearer", token: Redacted.make(sb.user.token) },
  timeoutMs: 2_000,
  maxRetries: 3,
  retryDelayMs: 20,
  ...overrides,
});

/**
 * A client for the suite's sandbox, closed with the test's scope. The suite shares one sandbox, so
 * the test's faults are cleared with its scope too: a test that fails before its own `clear()`
 * must not leave rules that fail the tests after it.
 */
export const clientFor = (overrides: Partial<ConfluenceClientConfig> = {}) =>
  Effect.flatMap(TestSandbox, (sb) =>
    Effect.zipRight(
      Effect.addFinalizer(() => Effect.sync(() => sb.faults.clear())),
      makeConfluenceClient(configFor(sb, overrides)),
    ),
  ).pipe(Effect.orDie);

/** A title no other test uses. */
export const uniqueTitle = (prefix: string): string =>
  `${prefix} ${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** Every string a leaked credential could appear as in an error. */
export const credentialForms = (sb: Sandbox, token = sb.user.token): ReadonlyArray<string> => [
  token,
  Buffer.from(`${sb.user.email}:${token}`).toString("base64"),
  Buffer.from(`${sb.user.username ?? ""}:${token}`).toString("base64"),
];
