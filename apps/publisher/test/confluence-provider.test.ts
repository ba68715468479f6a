// The provider of the publisher's Confluence client: a client setting that Confluence's client
// refuses is a typed failure the pipeline records (with the client's message), not a defect that
// crashes every message and leaves its record in "publishing".
import { loadConfig } from "@minutes/contracts";
import { Cause, Effect, Either, Exit, Option } from "effect";
import { describe, expect, it } from "vitest";
import { makeConfluenceProvider } from "../src/confluence-provider.js";

describe("makeConfluenceProvider", () => {
  it("fails with the client's configuration error, naming the setting, instead of dying", async () => {
    const loaded = loadConfig({
      env: {},
      overrides: {
        confluence: {
          enabled: true,
          base_url: "https://team.example.com/wiki",
          deployment: "cloud",
          username: "bot@example.com",
          api_token: "token-0123456789",
        },
      },
    });
    if (Either.isLeft(loaded)) throw new Error(loaded.left.message);
    const provider = makeConfluenceProvider({
      config: loaded.right,
      defaultVaultFile: "/nonexistent/tokens.vault",
      clientOverrides: { pageSize: 0 },
    });
    const exit = await Effect.runPromiseExit(provider.get());
    expect(Exit.isFailure(exit)).toBe(true);
    if (Exit.isSuccess(exit)) return;
    expect(Cause.isDie(exit.cause)).toBe(false);
    const error = Option.getOrThrow(Cause.failureOption(exit.cause));
    expect(error._tag).toBe("ConfluenceConfigError");
    expect(error.message).toContain("pageSize");
    expect(error.message).not.toContain("token-0123456789");
  });
});
