/**
 * Waits (bounded) for a job's publication to finish after a command: whichever comes first of a
 * matching final outcome event on the feed (a `deferred` one means a later delivery tries again,
 * so the wait goes on), or the store showing a final status updated after the request. Listener
 * and timers are always released.
 */
import {
  isFinalOutcome,
  isFinalStatus,
  type Publication,
  type PublicationOutcome,
  type PublicationOutcomeKind,
} from "@minutes/contracts";
import type { PublicationStoreShape } from "@minutes/publication-store";
import { Effect, Option } from "effect";
import type { OutcomeFeed } from "./OutcomeFeed.js";

/** How the wait ended. */
export type FinalResult =
  | { readonly kind: "outcome"; readonly outcome: FinalOutcome }
  | { readonly kind: "record"; readonly publication: Publication };

/** An outcome event that ends the job's publication. */
export type FinalOutcome = PublicationOutcome & { readonly outcome: PublicationOutcomeKind };

const POLL_MS = 200;
const OUTCOME_GRACE_MS = 1_000;

/** Starts watching before the command is published; `result` resolves `null` after `waitMs`. */
export const watchForFinal = (
  feed: OutcomeFeed,
  store: PublicationStoreShape,
  jobId: string,
  trigger: string,
  since: Date,
  waitMs: number,
): { readonly result: Promise<FinalResult | null>; readonly cancel: () => void } => {
  let settle: (r: FinalResult | null) => void = () => {};
  const result = new Promise<FinalResult | null>((resolve) => {
    settle = resolve;
  });
  let done = false;
  let poller: NodeJS.Timeout | undefined;
  const finish = (r: FinalResult | null) => {
    if (done) return;
    done = true;
    unsubscribe();
    clearTimeout(deadline);
    clearTimeout(poller);
    settle(r);
  };
  const unsubscribe = feed.subscribe((o) => {
    if (
      o.jobId === jobId &&
      o.trigger === trigger &&
      isFinal(o) &&
      Date.parse(o.occurredAt) >= since.getTime() - 1_000
    ) {
      finish({ kind: "outcome", outcome: o });
    }
  });
  const deadline = setTimeout(() => finish(null), waitMs);
  const poll = () => {
    if (done) return;
    void Effect.runPromise(Effect.either(store.findByJob(jobId))).then((found) => {
      if (done) return;
      if (found._tag === "Right" && Option.isSome(found.right)) {
        const p = found.right.value;
        if (isFinalStatus(p.status) && Date.parse(p.updatedAt) > since.getTime()) {
          // The outcome event (which says published vs unchanged) is usually a moment behind
          // the record: give it that moment before answering from the record alone.
          poller = setTimeout(() => finish({ kind: "record", publication: p }), OUTCOME_GRACE_MS);
          return;
        }
      }
      poller = setTimeout(poll, POLL_MS);
    });
  };
  poller = setTimeout(poll, POLL_MS);
  return { result, cancel: () => finish(null) };
};

// internal

const isFinal = (o: PublicationOutcome): o is FinalOutcome => isFinalOutcome(o.outcome);
