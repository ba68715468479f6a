// What `pnpm demo` refuses before it starts anything: a protocol file given on the command line
// that cannot be read, and with --confluence-url a vault without a token for that URL and user
// (the publisher would not find one, and every protocol would fail).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { saveEncryptedToken } from "@minutes/token-vault";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { DemoError, ensureNats, natsServerSpawn, runDemo } from "../src/demo.js";

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

describe("pnpm demo <file.md>", () => {
  it("names a protocol file that does not exist before anything starts", async () => {
    const root = mkdtempSync(join(tmpdir(), "minutes-demo-opts-"));
    dirs.push(root);
    const lines: Array<string> = [];
    const started = runDemo({
      root,
      // Nothing answers here: had the demo started anything, it would have said so first.
      natsUrl: "nats://127.0.0.1:1",
      files: [join(root, "nope.md")],
      once: true,
      gatewayPort: 0,
      sandboxPort: 0,
      print: (line) => void lines.push(line),
    });
    await expect(started).rejects.toThrow(new DemoError(`${join(root, "nope.md")}: no such file`));
    expect(lines).toEqual([]);
  });

  it("says how to get the vault password when a sandbox run made the vault", async () => {
    const root = await rootWithVault("https://other.example.com/wiki");
    writeFileSync(join(root, ".demo", "vault-password"), "generated");
    await expect(run(root, "https://team.example.com/wiki")).rejects.toThrow(
      "with VAULT_PASSWORD set to this vault's password (a sandbox run made the vault: its password is in .demo/vault-password)",
    );
  });
});

describe("NATS for the demo", () => {
  it("starts a nats-server with JetStream on a free port when nothing answers at NATS_URL", async () => {
    const root = mkdtempSync(join(tmpdir(), "minutes-demo-nats-"));
    dirs.push(root);
    const lines: Array<string> = [];
    const nats = await ensureNats("nats://127.0.0.1:1", root, (line) => void lines.push(line));
    try {
      expect(nats.url).not.toBe("nats://127.0.0.1:1");
      expect(lines).toEqual([expect.stringContaining(`with JetStream on ${nats.url}`)]);
      const nc = await connect({ servers: nats.url });
      try {
        // JetStream answers: this is the demo's own server, not another one on a fixed port.
        expect((await (await jetstreamManager(nc)).getAccountInfo()).streams).toBe(0);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop?.();
    }
  });

  it("starts its nats-server without the demo's environment, and names NATS_URL without its password", async () => {
    const root = mkdtempSync(join(tmpdir(), "minutes-demo-nats-"));
    dirs.push(root);
    const lines: Array<string> = [];
    // With --confluence-url the vault password is in the demo's environment.
    const saved = process.env.VAULT_PASSWORD;
    process.env.VAULT_PASSWORD = "SENTINEL-vault-password";
    let nats: Awaited<ReturnType<typeof ensureNats>> | undefined;
    try {
      nats = await ensureNats("nats://minutes:SENTINEL-nats-pw@127.0.0.1:1", root, (l) => void lines.push(l));
    } finally {
      if (saved === undefined) delete process.env.VAULT_PASSWORD;
      else process.env.VAULT_PASSWORD = saved;
    }
    try {
      expect(lines).toEqual([expect.stringMatching(/^No NATS at nats:\/\/127\.0\.0\.1:1: starting /)]);
      // The server the demo started: the one whose store is in this test's directory.
      const store = join(root, "nats");
      const pid = readdirSync("/proc").find((entry) => {
        if (!/^\d+$/.test(entry)) return false;
        try {
          return readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(store);
        } catch {
          return false;
        }
      });
      expect(pid).toBeDefined();
      const environment = readFileSync(`/proc/${pid}/environ`, "utf8");
      expect(environment).not.toContain("SENTINEL");
      expect(natsServerSpawn("/usr/sbin/nats-server", 4222, root).options.env).toEqual({});
    } finally {
      await nats?.stop?.();
    }
  });
});
