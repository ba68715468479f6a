import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Either, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import { defaultConfig, envVarForKey, loadConfig } from "../src/index.js";

const dirs: Array<string> = [];
const writeConfig = (content: unknown): string => {
  const dir = mkdtempSync(join(tmpdir(), "minutes-config-"));
  dirs.push(dir);
  const file = join(dir, "config.json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ok = (r: ReturnType<typeof loadConfig>) => {
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};
const err = (r: ReturnType<typeof loadConfig>) => {
  if (Either.isRight(r)) throw new Error("expected a configuration error");
  return r.left.message;
};

describe("loadConfig", () => {
  it("keeps every key and default of the original integration's confluence block", () => {
    const original = {
      enabled: false,
      base_url: "https://your-domain.atlassian.net/wiki",
      username: "your-email@domain.com",
      api_token: "",
      encrypted_token: "",
      encryption_key: "",
      space_key: "MEETINGS",
      parent_page_id: null,
      auto_publish: false,
      timeout: 30,
      max_retries: 3,
      retry_delay: 1.0,
      page_title_format: "YYYYMMDD - {topic}",
      content_format: "storage",
      include_metadata: true,
      notification_settings: { notify_on_publish: false, notify_on_error: true, notification_recipients: [] },
      advanced_settings: {
        use_page_hierarchy: true,
        create_index_page: false,
        archive_old_pages: false,
        archive_after_days: 90,
        page_labels: ["meeting-protocol", "auto-generated"],
        content_macros: { add_toc: true, add_date_macro: true, add_info_panel: false },
      },
    };
    expect(defaultConfig.confluence).toMatchObject(original);
    const config = ok(loadConfig());
    expect(config.confluence.space_key).toBe("MEETINGS");
    expect(config.confluence.advanced_settings.content_macros.add_toc).toBe(true);
  });

  it("layers defaults < config file < environment", () => {
    const file = writeConfig({ confluence: { space_key: "TEAM", timeout: 10 }, nats: { concurrency: 2 } });
    const config = ok(
      loadConfig({
        argv: ["--config", file],
        env: { MINUTES_CONFLUENCE__TIMEOUT: "5", NATS_URL: "nats://10.0.0.1:4222" },
      }),
    );
    expect(config.confluence.space_key).toBe("TEAM");
    expect(config.confluence.timeout).toBe(5);
    expect(config.confluence.max_retries).toBe(3);
    expect(config.nats.concurrency).toBe(2);
    expect(config.nats.url).toBe("nats://10.0.0.1:4222");
  });

  it("finds the config file through MINUTES_CONFIG", () => {
    const file = writeConfig({ confluence: { space_key: "ENV" } });
    expect(ok(loadConfig({ env: { MINUTES_CONFIG: file } })).confluence.space_key).toBe("ENV");
  });

  it("reads environment values as the type of the key, so a numeric token stays a string", () => {
    const config = ok(
      loadConfig({
        env: {
          MINUTES_CONFLUENCE__API_TOKEN: "12345",
          MINUTES_CONFLUENCE__AUTO_PUBLISH: "true",
          MINUTES_CONFLUENCE__ADVANCED_SETTINGS__PAGE_LABELS: "a,b",
          MINUTES_GATEWAY__API_KEYS: '["k1","k2"]',
          MINUTES_CONFLUENCE__PARENT_PAGE_ID: "98765",
        },
      }),
    );
    expect(Redacted.value(config.confluence.api_token)).toBe("12345");
    expect(config.confluence.auto_publish).toBe(true);
    expect(config.confluence.advanced_settings.page_labels).toEqual(["a", "b"]);
    expect(config.gateway.api_keys.map(Redacted.value)).toEqual(["k1", "k2"]);
    expect(config.confluence.parent_page_id).toBe("98765");
  });

  it("names the key, what was expected and what was found", () => {
    const file = writeConfig({ confluence: { base_url: "ftp://x" } });
    expect(err(loadConfig({ argv: [`--config=${file}`] }))).toBe(
      `confluence.base_url: expected an https URL, got "ftp://x" (from ${file})`,
    );
  });

  it("says which environment variable carried a bad value", () => {
    expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__MAX_RETRIES: "many" } }))).toBe(
      'confluence.max_retries: expected a number, got "many" (from environment variable MINUTES_CONFLUENCE__MAX_RETRIES)',
    );
    expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__TIMEOUT: "-1" } }))).toBe(
      "confluence.timeout: expected a number of seconds greater than 0, got -1 (from environment variable MINUTES_CONFLUENCE__TIMEOUT)",
    );
  });

  it("rejects unknown keys instead of silently ignoring a typo", () => {
    const file = writeConfig({ confluence: { space_kye: "X" } });
    expect(err(loadConfig({ argv: ["--config", file] }))).toContain("confluence.space_kye: unknown key");
    expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__SPACEKEY: "X" } }))).toContain(
      "confluence.spacekey: unknown configuration key (from environment variable MINUTES_CONFLUENCE__SPACEKEY)",
    );
  });

  it("explains an unreadable or malformed config file in one line", () => {
    expect(err(loadConfig({ argv: ["--config", "/nonexistent/minutes.json"] }))).toBe(
      "cannot read config file /nonexistent/minutes.json: no such file",
    );
    const file = writeConfig("{ not json");
    expect(err(loadConfig({ argv: ["--config", file] }))).toMatch(/^config file .* is not valid JSON/);
  });

  it("accepts http only for a loopback Confluence such as the local sandbox", () => {
    expect(
      ok(loadConfig({ env: { MINUTES_CONFLUENCE__BASE_URL: "http://127.0.0.1:8090/wiki" } })).confluence
        .base_url,
    ).toBe("http://127.0.0.1:8090/wiki");
    expect(
      err(loadConfig({ env: { MINUTES_CONFLUENCE__BASE_URL: "http://confluence.example.com" } })),
    ).toContain("expected an https URL");
  });

  it("never prints secrets when the configuration is shown", () => {
    const config = ok(
      loadConfig({ env: { MINUTES_CONFLUENCE__API_TOKEN: "s3cr3t-token", VAULT_PASSWORD: "pw-123" } }),
    );
    const shown =
      JSON.stringify(config) + String(config.confluence.api_token) + String(config.vault.password);
    expect(shown).not.toContain("s3cr3t-token");
    expect(shown).not.toContain("pw-123");
  });

  it("maps keys to environment variable names with __ between levels", () => {
    expect(envVarForKey("confluence.base_url")).toBe("MINUTES_CONFLUENCE__BASE_URL");
    expect(envVarForKey("confluence.advanced_settings.page_labels")).toBe(
      "MINUTES_CONFLUENCE__ADVANCED_SETTINGS__PAGE_LABELS",
    );
  });
});
