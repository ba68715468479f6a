/** Small builders shared by the integration suites. */
import { Effect, TestClock } from "effect";
import type { SaveProtocolInput } from "../../src/PublicationStore.js";

/** A short random id so tests sharing one database never collide. */
export const uid = (): string => Math.random().toString(36).slice(2, 10);

/** Sets the test clock to an ISO instant. */
export const at = (iso: string) => TestClock.setTime(Date.parse(iso));

/** A protocol for `saveProtocol` with overridable fields. */
export const protocol = (
  overrides: Partial<SaveProtocolInput> & { readonly jobId: string },
): SaveProtocolInput => ({
  markdown: "# Protocol\n\nDecisions: none.",
  filename: "protocol.md",
  metadata: { topic: "Weekly", meetingDate: "2026-11-20", labels: ["team"], source: "recorder" },
  contentHash: "sha256:aaaa",
  streamSequence: 1,
  occurredAt: "2026-11-20T10:00:00Z",
  ...overrides,
});

/** Runs `n` effects built from their index, in order. */
export const times = <A, E, R>(n: number, f: (i: number) => Effect.Effect<A, E, R>) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    f,
  );
