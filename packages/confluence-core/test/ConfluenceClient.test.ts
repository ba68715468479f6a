import { assert, describe, it } from "@effect/vitest";
import { Effect, Layer, Redacted } from "effect";
import { ConfluenceClient, makeConfluenceClient } from "../src/ConfluenceClient.js";

const TOKEN = "ATATT3x-unit-secret";
const basic = { type: "basic", email: "bot@example.com", token: Redacted.make(TOKEN) } as const;

describe("makeConfluenceClient", () => {
  it.scoped("fails with a configuration error, not a request, for Bearer on a Cloud site", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        makeConfluenceClient({
          baseUrl: "https://acme.atlassian.net",
          auth: { type: "bearer", token: Redacted.make(TOKEN) },
        }),
      );
      assert.strictEqual(error._tag, "ConfluenceConfigError");
      assert.strictEqual(error.field, "cloudId");
      assert.notInclude(error.message, TOKEN);
    }),
  );

  it.scoped("fails when the CA file cannot be read or is not PEM", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.flip(
        makeConfluenceClient({
          baseUrl: "https://acme.atlassian.net",
          auth: basic,
          caFile: "/nonexistent/ca.pem",
        }),
      );
      assert.strictEqual(missing.field, "caFile");
      assert.include(missing.reason, "ENOENT");
      const notPem = yield* Effect.flip(
        makeConfluenceClient({ baseUrl: "https://acme.atlassian.net", auth: basic, ca: "hello" }),
      );
      assert.strictEqual(notPem.field, "ca");
    }),
  );

  it.scoped("reports the deployment it detected", () =>
    Effect.gen(function* () {
      const cloud = yield* makeConfluenceClient({ baseUrl: "https://acme.atlassian.net", auth: basic });
      assert.strictEqual(cloud.deployment, "cloud");
      const dc = yield* makeConfluenceClient({
        baseUrl: "https://wiki.acme.local",
        auth: { type: "bearer", token: Redacted.make(TOKEN) },
      });
      assert.strictEqual(dc.deployment, "datacenter");
    }),
  );

  it.effect("is provided as a service by ConfluenceClient.layer and layerConfig", () =>
    Effect.gen(function* () {
      const fromLayer = yield* Effect.provide(
        ConfluenceClient,
        ConfluenceClient.layer({ baseUrl: "https://acme.atlassian.net", auth: basic }),
      );
      assert.strictEqual(fromLayer.deployment, "cloud");
      const fromConfig = yield* Effect.provide(
        ConfluenceClient,
        ConfluenceClient.layerConfig(Effect.succeed({ baseUrl: "https://wiki.acme.local", auth: basic })),
      );
      assert.strictEqual(fromConfig.deployment, "datacenter");
      assert.isTrue(
        Layer.isLayer(ConfluenceClient.layer({ baseUrl: "https://x.atlassian.net", auth: basic })),
      );
    }),
  );
});
