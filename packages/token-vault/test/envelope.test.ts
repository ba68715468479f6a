import { Effect, Either, Redacted } from "effect";
import { describe, expect, it } from "vitest";
import { additionalData, envelopeProblem, isOutdated, open, seal } from "../src/envelope.js";
import { FAST_KDF } from "./helpers/temp-vault.js";

const password = Redacted.make("pw");
const alice = { kind: "entry", url: "https://x.example", username: "alice" } as const;

describe("envelopes", () => {
  it("open only with the password and binding they were sealed for", async () => {
    const result = await Effect.runPromise(
      Effect.gen(function* () {
        const sealed = yield* seal(Redacted.make("s3cret"), password, alice, FAST_KDF);
        const opened = yield* open(sealed, password, alice);
        const otherUser = yield* Effect.either(open(sealed, password, { ...alice, username: "bob" }));
        const otherPassword = yield* Effect.either(open(sealed, Redacted.make("nope"), alice));
        const asCheck = yield* Effect.either(open(sealed, password, { kind: "check" }));
        return {
          opened: Redacted.value(opened),
          failures: [otherUser, otherPassword, asCheck].map(Either.isLeft),
        };
      }),
    );
    expect(result).toEqual({ opened: "s3cret", failures: [true, true, true] });
  });

  it("use unambiguous additional data, even for usernames containing newlines", () => {
    const a = additionalData(2, { kind: "entry", url: "https://x.example\nalice", username: "b" });
    const b = additionalData(2, { kind: "entry", url: "https://x.example", username: "alice\nb" });
    expect(a.equals(b)).toBe(false);
    expect(additionalData(1, { kind: "entry", url: "u", username: "n" }).toString()).toBe("u\nn");
  });

  it("are refused before decryption when their fields are malformed", async () => {
    const sealed = await Effect.runPromise(seal(Redacted.make("s"), password, alice, FAST_KDF));
    expect(envelopeProblem(sealed)).toBeUndefined();
    expect(envelopeProblem({ ...sealed, v: 3 })).toBe("unsupported envelope version 3");
    expect(envelopeProblem({ ...sealed, iv: Buffer.alloc(8).toString("base64") })).toBe("malformed nonce");
    expect(envelopeProblem({ ...sealed, tag: Buffer.alloc(4).toString("base64") })).toBe(
      "malformed authentication tag",
    );
    expect(envelopeProblem({ ...sealed, salt: "not base64!" })).toBe("malformed salt");
    expect(envelopeProblem({ ...sealed, salt: Buffer.alloc(8).toString("base64") })).toBe("malformed salt");
    expect(envelopeProblem({ ...sealed, ct: "not base64!" })).toBe("malformed ciphertext");
    const outOfRange = [
      { N: 1000 }, // not a power of two
      { N: 2 ** 21 },
      { r: 0 },
      { r: 33 },
      { p: 17 },
      { N: 2 ** 20, r: 8, p: 2 }, // 2 GiB of memory: each bound alone would allow it
    ];
    for (const kdf of outOfRange)
      expect([kdf, envelopeProblem({ ...sealed, kdf: { ...sealed.kdf, ...kdf } })]).toEqual([
        kdf,
        "scrypt parameters out of range",
      ]);
    expect(envelopeProblem({ ...sealed, kdf: { ...sealed.kdf, N: 2 ** 20, r: 8, p: 1 } })).toBeUndefined();
  });

  it("count as outdated when sealed with an older version or weaker parameters", async () => {
    const sealed = await Effect.runPromise(seal(Redacted.make("s"), password, alice, FAST_KDF));
    expect(isOutdated(sealed, FAST_KDF)).toBe(false);
    expect(isOutdated(sealed, { ...FAST_KDF, N: 2048 })).toBe(true);
    expect(isOutdated({ ...sealed, v: 1 }, FAST_KDF)).toBe(true);
    expect(isOutdated(sealed, { ...FAST_KDF, N: 512 })).toBe(false);
  });
});
