// What `pnpm demo --confluence-url` refuses before it starts anything: a vault without a token
// for that URL and user (the publisher would not find one, and every protocol would fail).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveEncryptedToken } from "@minutes/token-vault";
import { Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { DemoError, runDemo } from "../src/demo.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const dirs: Array<string> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const rootWithVault = async (url: string): Promise<string> => {
  const root = mkdtempSync(join(tmpdir(), "minutes-demo-opts-"));
  dirs.push(root);
  mkdirSync(join(root, ".demo"), { recursive: true });
  await saveEncryptedToken({
    file: join(root, ".demo", "tokens.vault"),
    url,
    username: "bot@example.com",
    token: Redacted.make("demo-token-0123456789"),
    password: Redacted.make("demo vault password"),
  });
  return root;
};

const run = (root: string, confluenceUrl: string) =>
  runDemo({
    root,
    natsUrl: NATS_URL,
    files: [],
    once: true,
    gatewayPort: 0,
    sandboxPort: 0,
    confluenceUrl,
    username: "bot@example.com",
    vaultPassword: "demo vault password",
    print: () => undefined,
  });

describe("pnpm demo --confluence-url", () => {
  it("refuses to start when the vault's token for the user is saved for another URL", async () => {
    const root = await rootWithVault("https://other.example.com/wiki");
    const started = run(root, "https://team.example.com/wiki");
    await expect(started).rejects.toBeInstanceOf(DemoError);
    await expect(started).rejects.toThrow(
      /no token for bot@example\.com at https:\/\/team\.example\.com\/wiki in \.demo\/tokens\.vault/,
    );
  });
});
