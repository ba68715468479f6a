// What the publisher checks when it starts: files the configuration names stop the start (they
// would otherwise crash every delivery), a missing Confluence token is one warning (it can be
// added to the vault later without a restart).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { readPublisherRegistry } from "@minutes/nats-streams";
import { saveEncryptedToken } from "@minutes/token-vault";
import { Redacted } from "effect";
import pg from "pg";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, type Harness, harnessPerTest, PG_URL, recordIn } from "./helpers/harness.js";

const open = harnessPerTest();
const CHEAP_KDF = { N: 1024, r: 8, p: 1 };
const protocol = "# Meeting Protocol: Token\n\nDate: 2025-09-02\n\n## Decisions\n- decision one\n";

const dirs: Array<string> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A logger that keeps warnings and errors as parsed JSON lines. */
const capture = () => {
  const lines: Array<{
    level: number;
    msg: string;
    time?: number;
    reason?: string;
    tokenSource?: string;
    tokenExpiresAt?: string | null;
  }> = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
};

describe("confluence.ca_file", () => {
  it("stops the start, before connecting anywhere, when the file cannot be read or holds no certificate", async () => {
    const h = await open();
    const dir = mkdtempSync(join(tmpdir(), "minutes-ca-"));
    dirs.push(dir);
    const notPem = join(dir, "ca.txt");
    writeFileSync(notPem, "not a certificate");
    // An unreachable NATS: the file is checked first, so its error is the one reported.
    const withCa = (ca_file: string) => ({
      ...h.config,
      nats: { ...h.config.nats, url: "nats://127.0.0.1:1" },
      confluence: { ...h.config.confluence, ca_file },
    });
    await expect(h.startPublisher({ config: withCa("/nonexistent/ca.pem") })).rejects.toThrow(
      "confluence.ca_file: cannot read /nonexistent/ca.pem (ENOENT)",
    );
    await expect(h.startPublisher({ config: withCa(notPem) })).rejects.toThrow(
      `confluence.ca_file: ${notPem} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line)`,
    );
  });
});

describe("the Confluence token at start", () => {
  it("warns once when there is none, and publishes once it is added to the vault, without a restart", async () => {
    const log = capture();
    const h = await open({
      logger: log.logger,
      config: { confluence: { api_token: "" }, vault: { password: "vault-pw" } },
    });
    const warnings = log.warnings().filter((m) => m.startsWith("No Confluence token"));
    expect(warnings).toEqual([
      `No Confluence token: vault ${h.config.vault.file}: No token saved for ${h.config.confluence.username} at ${h.config.confluence.base_url} in ${h.config.vault.file}. Add it (vault add) or set confluence.api_token. Publications will fail until this is fixed (the vault file is re-read when it changes: no restart needed).`,
    ]);
    expect(JSON.stringify(log.lines)).not.toContain("vault-pw");

    await saveEncryptedToken({
      file: h.config.vault.file as string,
      kdf: CHEAP_KDF,
      url: h.config.confluence.base_url,
      username: h.config.confluence.username,
      token: Redacted.make(h.sandbox.user.token),
      password: Redacted.make("vault-pw"),
    });
    await h.submit({ jobId: "job-late-token", markdown: protocol });
    await recordIn(h, "job-late-token", "published");
  });

  it("warns when the vault password is wrong, without naming either password", async () => {
    const log = capture();
    const dir = mkdtempSync(join(tmpdir(), "minutes-vault-"));
    dirs.push(dir);
    const file = join(dir, "tokens.vault");
    await saveEncryptedToken({
      file,
      kdf: CHEAP_KDF,
      url: "https://example.atlassian.net/wiki",
      username: "someone@example.com",
      token: Redacted.make("some-token"),
      password: Redacted.make("right-pw"),
    });
    await open({
      logger: log.logger,
      config: { confluence: { api_token: "" }, vault: { file, password: "wrong-pw" } },
    });
    expect(log.warnings().filter((m) => m.startsWith("No Confluence token"))).toEqual([
      `No Confluence token: vault ${file}: Wrong password for the token vault ${file}. Publications will fail until this is fixed (the vault file is re-read when it changes: no restart needed).`,
    ]);
    expect(JSON.stringify(log.lines)).not.toMatch(/right-pw|wrong-pw|some-token/);
  });

  it("speaks of the password for the user name with Data Center Basic auth, at start and in the failed publication", async () => {
    const log = capture();
    const h = await open({
      mode: "datacenter",
      logger: log.logger,
      config: {
        confluence: { auth_method: "basic", username: "minutes-bot", api_token: "" },
        vault: { password: "vault-pw-basic" },
      },
    });
    const file = h.config.vault.file as string;
    const url = h.config.confluence.base_url;
    const missing = `No Confluence password for the user minutes-bot (confluence.auth_method basic): vault ${file}: No password saved for minutes-bot at ${url} in ${file}. Add it (\`./minutes vault add --url ${url} --username minutes-bot\`, giving the password as the token) or set confluence.api_token to the password.`;
    expect(log.warnings().filter((m) => m.startsWith("No Confluence"))).toEqual([
      `${missing} Publications will fail until this is fixed (the vault file is re-read when it changes: no restart needed).`,
    ]);
    await h.submit({ jobId: "job-no-password", markdown: protocol });
    const failed = await recordIn(h, "job-no-password", "failed");
    expect(failed.errorTag).toBe("TokenUnavailableError");
    expect(failed.errorMessage).toBe(missing);
    for (const text of [JSON.stringify(log.lines), failed.errorMessage ?? ""]) {
      expect(text).not.toContain("vault-pw-basic");
      expect(text).not.toContain(h.sandbox.user.token);
      expect(text).not.toContain("No Confluence token");
    }
  });

  it("says nothing about the token when Confluence is disabled", async () => {
    const log = capture();
    await open({ logger: log.logger, config: { confluence: { enabled: false, api_token: "" } } });
    expect(log.warnings().some((m) => m.includes("Confluence token"))).toBe(false);
    expect(log.warnings().some((m) => m.includes("confluence.enabled is false"))).toBe(true);
  });

  it("says nothing when the token is there", async () => {
    const log = capture();
    await open({ logger: log.logger });
    expect(log.warnings()).toEqual([]);
  });
});

describe("the Confluence token's expiry", () => {
  const DAY = 86_400_000;
  // The publishers' clock for the expiry, fixed: the days left must not depend on whether the
  // test and the publisher read the clock on the same side of midnight UTC.
  const NOW = Date.parse("2026-11-27T10:00:00Z");
  const now = () => NOW;
  const dayFromToday = (days: number) => new Date(NOW + days * DAY).toISOString().slice(0, 10);
  const ROTATE =
    "put the new one in confluence.api_token (MINUTES_CONFLUENCE__API_TOKEN) and its expiry in confluence.token_expires_at (MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT), then restart the gateway and the publishers.";

  it("warns at start when the token expires within the warning window, and again at each check while it does", async () => {
    const log = capture();
    const day = dayFromToday(5);
    const checkMs = 300;
    const h = await open({
      logger: log.logger,
      config: { confluence: { token_expires_at: day } },
      publisher: { tokenExpiryCheckMs: checkMs, now },
    });
    const expected = `The Confluence token expires on ${day}, in 5 days: replace it before then; ${ROTATE}`;
    const warned = () => log.lines.filter((l) => l.level === 40 && l.msg === expected);
    // Said before the start returned (later checks may have said it again by now).
    expect(warned().length).toBeGreaterThanOrEqual(1);
    expect(warned()[0]).toMatchObject({ tokenSource: "config", tokenExpiresAt: `${day}T23:59:59.000Z` });
    // The next check repeats it, no sooner than its interval.
    const [first, second] = await eventually(
      async () => (warned().length >= 2 ? warned() : undefined),
      10_000,
    );
    expect((second?.time ?? 0) - (first?.time ?? 0)).toBeGreaterThanOrEqual(checkMs);
    expect(JSON.stringify(log.lines)).not.toContain(h.sandbox.user.token);
  });

  it("warns at start when the token has expired", async () => {
    const log = capture();
    const yesterday = dayFromToday(-1);
    await open({
      logger: log.logger,
      config: { confluence: { token_expires_at: yesterday } },
      publisher: { now },
    });
    expect(log.warnings()).toEqual([
      `The Confluence token expired on ${yesterday}: publishing fails until it is replaced; ${ROTATE}`,
    ]);
  });

  it("warns only within token_expiry_warning_days: nothing while the expiry is further away", async () => {
    const log = capture();
    const day = dayFromToday(5);
    const h = await open({
      logger: log.logger,
      config: { confluence: { token_expires_at: day, token_expiry_warning_days: 3 } },
      publisher: { now },
    });
    expect(log.warnings()).toEqual([]);
    // The same token with a wider window: 5 days left is within it.
    await h.startPublisher({
      config: { ...h.config, confluence: { ...h.config.confluence, token_expiry_warning_days: 7 } },
    });
    expect(log.warnings()).toEqual([
      `The Confluence token expires on ${day}, in 5 days: replace it before then; ${ROTATE}`,
    ]);
  });
});

describe("the database at start", () => {
  it("logs which database it opened: the absolute SQLite path", async () => {
    const lines: Array<{ msg: string; database?: unknown }> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const h = await open({ logger });
    // Several start here (the harness's own and this one): each says which file it opened.
    await h.startPublisher({ logger });
    const started = lines.filter((l) => l.msg === "publisher started");
    expect(started.length).toBeGreaterThanOrEqual(1);
    for (const line of started)
      expect(line.database).toEqual({ type: "sqlite", path: h.config.database.sqlite_path });
  });

  it("refuses to start on a PostgreSQL database that does not exist, and does not create it", async () => {
    const h = await open();
    const admin = async (sql: string, params: ReadonlyArray<string> = []) => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        return (await client.query(sql, [...params])).rowCount;
      } finally {
        await client.end();
      }
    };
    const missing = `minutes_missing_${h.config.nats.consumer.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
    const url = new URL(PG_URL);
    url.password = "pg-secret-pw-9";
    url.pathname = `/${missing}`;
    try {
      const started = h.startPublisher({
        config: {
          ...h.config,
          database: { ...h.config.database, type: "postgresql", url: Redacted.make(url.toString()) },
        },
      });
      // main.ts prints the message after "minutes-publisher: cannot start: ", as it is.
      await expect(started).rejects.toHaveProperty(
        "message",
        `database "${missing}" does not exist on ${url.hostname}:${url.port || 5432}; create it (CREATE DATABASE "${missing}") or fix database.url`,
      );
      expect(await admin("select 1 from pg_database where datname = $1", [missing])).toBe(0);
    } finally {
      await admin(`drop database if exists ${missing} with (force)`);
    }
  });
});

describe("the publisher registry", () => {
  const registered = async (h: Harness) =>
    (await readPublisherRegistry(h.js, h.jsm, h.config.nats))?.publishers.map((p) => ({
      ...p.presence,
      lastHeartbeatAt: p.lastHeartbeatAt.getTime(),
    })) ?? [];

  it("registers each publisher at its start, refreshes its heartbeat, and a clean stop removes it", async () => {
    const h = await open();
    const publisher = await h.startPublisher({ instanceId: "pub-registered", heartbeatIntervalMs: 50 });
    const first = (await registered(h)).find((p) => p.instanceId === "pub-registered");
    expect(first).toMatchObject({
      host: hostname(),
      pid: process.pid,
      publisherVersion: "0.1.0",
      heartbeatIntervalMs: 50,
    });
    await eventually(async () =>
      (await registered(h)).some(
        (p) => p.instanceId === "pub-registered" && p.lastHeartbeatAt > (first?.lastHeartbeatAt ?? 0),
      )
        ? true
        : undefined,
    );
    await publisher.stop();
    expect((await registered(h)).map((p) => p.instanceId)).not.toContain("pub-registered");
  });

  it("leaves the presence of a start that failed after connecting, as a crash would", async () => {
    const h = await open();
    const missing = `minutes_missing_${h.config.nats.consumer.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
    const url = new URL(PG_URL);
    url.pathname = `/${missing}`;
    await expect(
      h.startPublisher({
        instanceId: "pub-failed-start",
        config: {
          ...h.config,
          database: { ...h.config.database, type: "postgresql", url: Redacted.make(url.toString()) },
        },
      }),
    ).rejects.toThrow(/does not exist/);
    expect((await registered(h)).map((p) => p.instanceId)).toContain("pub-failed-start");
  });
});
