// The pipeline's catch-all: a failure nobody expected gives the message back for a later try and
// reports a deferred outcome. That outcome names the job the user knows, also when the message's
// body names none (the subject does). Real SQLite store; the one failure is injected into it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientConfigFromSettings, makeConfluenceClient } from "@minutes/confluence-core";
import { loadConfig, type PublicationOutcome, protocolReadySubject } from "@minutes/contracts";
import { LeaseLostError, PublicationStore } from "@minutes/publication-store";
import { Effect, Either, Exit, Redacted, Scope } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { makePublishPipeline } from "../src/PublishPipeline.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("a message whose handling fails unexpectedly", () => {
  it("is reported deferred under the job its subject names when its body names none", async () => {
    const dir = mkdtempSync(join(tmpdir(), "minutes-unexpected-"));
    const scope = Effect.runSync(Scope.make());
    cleanups.push(async () => {
      await Effect.runPromise(Scope.close(scope, Exit.void));
      rmSync(dir, { recursive: true, force: true });
    });
    const config = Either.getOrThrow(
      loadConfig({
        env: {},
        overrides: {
          confluence: {
            enabled: true,
            // Never called: the message is rejected before anything goes to Confluence.
            base_url: "http://127.0.0.1:9/wiki",
            deployment: "cloud",
            username: "minutes@example.com",
            api_token: "unused",
          },
          nats: { subject_prefix: "tunexpected" },
          database: { type: "sqlite", sqlite_path: join(dir, "minutes.sqlite") },
        },
      }),
    );
    const store = await Effect.runPromise(
      PublicationStore.make({ type: "sqlite", sqlitePath: join(dir, "minutes.sqlite") }).pipe(
        Scope.extend(scope),
      ),
    );
    const confluence = await Effect.runPromise(
      makeConfluenceClient(clientConfigFromSettings(config.confluence, Redacted.make("unused"))).pipe(
        Scope.extend(scope),
      ),
    );
    const outcomes: Array<PublicationOutcome> = [];
    const pipeline = makePublishPipeline(
      { config, owner: "test", botIdentity: () => [], leaseMs: 30_000, busyDelayMs: 1_000 },
      // Recording the rejection fails with an error the pipeline has no case for.
      {
        ...store,
        transition: (id) => Effect.fail(new LeaseLostError({ id, owner: "someone-else" })),
      },
      confluence,
      { emit: (o) => Effect.sync(() => outcomes.push(o)) },
    );

    const disposition = await Effect.runPromise(
      pipeline.handle({
        subject: protocolReadySubject("job-known", config.nats.subject_prefix),
        data: "not json",
        streamSequence: 7,
        deliveryCount: 1,
      }),
    );

    expect(disposition._tag).toBe("Nak");
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      outcome: "deferred",
      jobId: "job-known",
      trigger: "event",
      errorTag: "LeaseLostError",
    });
  });
});
