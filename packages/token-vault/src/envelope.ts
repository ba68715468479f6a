// Seals and opens one secret: AES-256-GCM under a key derived by scrypt from the vault password,
// with a fresh salt and nonce per envelope and the owner of the secret bound as additional
// authenticated data. The envelope records its version and KDF parameters so the defaults can
// be raised later while older envelopes still open (they are re-sealed on the next write).
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { Data, Effect, Redacted } from "effect";

/** scrypt cost parameters. `N` must be a power of two; memory use is about `128 * N * r` bytes. */
export interface KdfParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * The parameters new envelopes are sealed with: N = 2^15, r = 8, p = 3, OWASP's minimum for
 * scrypt with 32 MiB of memory (about 0.35 s per derivation). p runs one block after another
 * (OpenSSL), so it costs time, not memory: a larger N would need 128 MiB per derivation, too much
 * for the publisher. Envelopes sealed with p = 1 (earlier releases) still open and are re-sealed
 * on the next write. Lower values are for tests only.
 */
export const DEFAULT_KDF: KdfParams = { N: 32768, r: 8, p: 3 };

/** The envelope version new secrets are sealed with. */
export const CURRENT_ENVELOPE_VERSION = 2;

/** The envelope versions this release can open. */
export const SUPPORTED_ENVELOPE_VERSIONS: ReadonlyArray<number> = [1, 2];

/** A sealed secret as stored in the file (binary fields in base64). */
export interface Envelope {
  readonly v: number;
  readonly kdf: { readonly name: "scrypt"; readonly N: number; readonly r: number; readonly p: number };
  readonly salt: string;
  readonly iv: string;
  readonly ct: string;
  readonly tag: string;
}

/** What an envelope belongs to; it becomes the additional authenticated data. */
export type Binding =
  | { readonly kind: "check" }
  | { readonly kind: "entry"; readonly url: string; readonly username: string };

/** GCM authentication failed: wrong key (password) or altered ciphertext, tag, nonce or binding. */
export class AuthenticationFailed extends Data.TaggedError("AuthenticationFailed")<Record<never, never>> {}

/** Seals `plaintext` for `binding` with the current envelope version and the given KDF parameters. */
export const seal = Effect.fn("envelope.seal")(function* (
  plaintext: Redacted.Redacted<string>,
  password: Redacted.Redacted<string>,
  binding: Binding,
  kdf: KdfParams,
) {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = yield* deriveKey(password, salt, kdf);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(additionalData(CURRENT_ENVELOPE_VERSION, binding));
  const ct = Buffer.concat([cipher.update(Redacted.value(plaintext), "utf8"), cipher.final()]);
  key.fill(0);
  const envelope: Envelope = {
    v: CURRENT_ENVELOPE_VERSION,
    kdf: { name: "scrypt", N: kdf.N, r: kdf.r, p: kdf.p },
    salt: salt.toString("base64"),
    iv: iv.toString("base64"),
    ct: ct.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
  return envelope;
});

/**
 * Opens an envelope whose shape was already validated by {@link envelopeProblem}. Fails with
 * {@link AuthenticationFailed} when the password, the binding or any byte does not match.
 */
export const open = Effect.fn("envelope.open")(function* (
  envelope: Envelope,
  password: Redacted.Redacted<string>,
  binding: Binding,
) {
  const key = yield* deriveKey(password, Buffer.from(envelope.salt, "base64"), envelope.kdf);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(envelope.iv, "base64"), {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAAD(additionalData(envelope.v, binding));
  decipher.setAuthTag(Buffer.from(envelope.tag, "base64"));
  const update = decipher.update(Buffer.from(envelope.ct, "base64"));
  const final = yield* Effect.try({ try: () => decipher.final(), catch: () => new AuthenticationFailed() });
  key.fill(0);
  const plain = Buffer.concat([update, final]);
  const text = plain.toString("utf8");
  plain.fill(0);
  update.fill(0);
  return Redacted.make(text);
});

/**
 * Why an envelope read from disk cannot be opened safely, or `undefined` when it can: unknown
 * version, malformed base64, wrong nonce or tag length, or KDF parameters outside sane bounds
 * (an attacker-controlled N must not make us allocate gigabytes).
 */
export const envelopeProblem = (envelope: Envelope): string | undefined => {
  if (!SUPPORTED_ENVELOPE_VERSIONS.includes(envelope.v)) {
    return `unsupported envelope version ${envelope.v}`;
  }
  const { N, r, p } = envelope.kdf;
  const powerOfTwo = Number.isInteger(N) && N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > 2 ** 20 || !inRange(r, 1, 32) || !inRange(p, 1, 16) || 128 * N * r * p > 2 ** 30) {
    return "scrypt parameters out of range";
  }
  const salt = base64Length(envelope.salt);
  if (salt === undefined || salt < 16) return "malformed salt";
  if (base64Length(envelope.iv) !== 12) return "malformed nonce";
  if (base64Length(envelope.tag) !== TAG_LENGTH) return "malformed authentication tag";
  if (base64Length(envelope.ct) === undefined) return "malformed ciphertext";
  return undefined;
};

/** True when the envelope was sealed with an older version or weaker KDF parameters than `kdf`. */
export const isOutdated = (envelope: Envelope, kdf: KdfParams): boolean =>
  envelope.v !== CURRENT_ENVELOPE_VERSION ||
  envelope.kdf.N < kdf.N ||
  envelope.kdf.r < kdf.r ||
  envelope.kdf.p < kdf.p;

/**
 * The additional authenticated data per envelope version. v1 joined URL and username with a
 * newline, which is ambiguous once a username contains one; v2 encodes a JSON array with a
 * domain tag so no two bindings (nor a check blob and an entry) share their AAD.
 */
export const additionalData = (version: number, binding: Binding): Buffer => {
  if (version === 1) {
    return Buffer.from(binding.kind === "check" ? "check" : `${binding.url}\n${binding.username}`, "utf8");
  }
  const parts =
    binding.kind === "check"
      ? ["minutes-token-vault", version, "check"]
      : ["minutes-token-vault", version, "entry", binding.url, binding.username];
  return Buffer.from(JSON.stringify(parts), "utf8");
};

// internal

const TAG_LENGTH = 16;

const inRange = (n: number, min: number, max: number): boolean => Number.isInteger(n) && n >= min && n <= max;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const base64Length = (s: string): number | undefined =>
  BASE64.test(s) ? Buffer.from(s, "base64").length : undefined;

/** scrypt with memory headroom: Node's default maxmem (32 MiB) is exactly too small for N=2^15, r=8. */
const deriveKey = (password: Redacted.Redacted<string>, salt: Buffer, kdf: KdfParams) =>
  Effect.async<Buffer>((resume) => {
    // NFC so the same password typed on macOS (NFD input) and elsewhere derives the same key.
    const secret = Buffer.from(Redacted.value(password).normalize("NFC"), "utf8");
    scrypt(
      secret,
      salt,
      32,
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 2 * 128 * kdf.N * kdf.r * kdf.p + 1024 * 1024 },
      (error, key) => {
        secret.fill(0);
        // Parameters are validated before we get here, so a failure is a bug, not an input error.
        resume(error === null ? Effect.succeed(key) : Effect.die(error));
      },
    );
  });
