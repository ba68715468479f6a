// The reply a publisher sends to a command request (archive run, index refresh): every failure,
// a defect included, is answered, so the gateway never waits out its timeout for nothing.
import { Effect, Exit, Fiber } from "effect";
import { describe, expect, it } from "vitest";
import { commandReply } from "../src/Publisher.js";

describe("commandReply", () => {
  it("passes the result on", async () => {
    expect(await Effect.runPromise(commandReply("the archive run", Effect.succeed('{"archived":1}')))).toBe(
      '{"archived":1}',
    );
  });

  it("answers a failure with its message", async () => {
    const reply = await Effect.runPromise(
      commandReply("the archive run", Effect.fail({ message: "Confluence is disabled" })),
    );
    expect(JSON.parse(reply)).toEqual({ error: "Confluence is disabled" });
  });

  it("answers a defect (a throw) too, naming the command", async () => {
    const reply = await Effect.runPromise(
      commandReply(
        "the index refresh",
        Effect.sync((): string => {
          throw new RangeError("Invalid time value");
        }),
      ),
    );
    expect(JSON.parse(reply)).toEqual({
      error: "the index refresh failed unexpectedly in the publisher; its log has the details",
    });
  });

  it("sends nothing when the stop interrupts it", async () => {
    const exit = await Effect.runPromise(
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(commandReply("the archive run", Effect.never));
        yield* Effect.yieldNow();
        return yield* Fiber.interrupt(fiber);
      }),
    );
    expect(Exit.isInterrupted(exit)).toBe(true);
  });
});
