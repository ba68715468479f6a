import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Either, Redacted } from "effect";
import { afterEach, describe, expect, it } from "vitest";
import {
  defaultConfig,
  envVarForKey,
  ignoredSettingWarnings,
  loadConfig,
  parseConfigArgs,
} from "../src/index.js";

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
const usage = (r: ReturnType<typeof loadConfig>) => {
  if (Either.isRight(r) || r.left._tag !== "ConfigUsageError") throw new Error("expected a usage error");
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

  it("refuses an archive age no run can use (past 100 years, the largest a run takes)", () => {
    expect(
      err(loadConfig({ env: { MINUTES_CONFLUENCE__ADVANCED_SETTINGS__ARCHIVE_AFTER_DAYS: "1000000000" } })),
    ).toBe(
      "confluence.advanced_settings.archive_after_days: expected a whole number of days from 1 to 36500, got 1000000000 (from environment variable MINUTES_CONFLUENCE__ADVANCED_SETTINGS__ARCHIVE_AFTER_DAYS)",
    );
    const ok = loadConfig({ env: { MINUTES_CONFLUENCE__ADVANCED_SETTINGS__ARCHIVE_AFTER_DAYS: "36500" } });
    expect(Either.isRight(ok) && ok.right.confluence.advanced_settings.archive_after_days).toBe(36500);
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

  it("refuses a user name or password in confluence.base_url without repeating it", () => {
    const message =
      "confluence.base_url: must not contain a user name or password; put the user in confluence.username and the token in the vault";
    for (const url of [
      "https://bot:SECRET-PW@example.atlassian.net/wiki",
      "https://bot%40example.com:SECRET-PW@example.atlassian.net/wiki",
      "https://SECRET-PW@example.atlassian.net/wiki",
      "http://bot:SECRET-PW@confluence.example.com/wiki",
      "https://bot:SECRET PW@example atlassian net/wiki",
    ]) {
      const fromEnv = err(loadConfig({ env: { MINUTES_CONFLUENCE__BASE_URL: url } }));
      expect(fromEnv).toBe(`${message} (from environment variable MINUTES_CONFLUENCE__BASE_URL)`);
      const file = writeConfig({ confluence: { base_url: url } });
      const fromFile = err(loadConfig({ argv: ["--config", file] }));
      expect(fromFile).toBe(`${message} (from ${file})`);
      expect(fromFile.split("\n")).toHaveLength(1);
      for (const text of [fromEnv, fromFile]) expect(text).not.toContain("SECRET");
    }
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

  it("never shows a value under a secret key, whatever is wrong with it, and says what was expected in plain words", () => {
    const file = writeConfig({
      confluence: { api_token: 123456789, encryption_key: ["SECRET-ENCKEY"] },
      gateway: { api_keys: "SECRET-APIKEY" },
      vault: { password: { nested: "SECRET-VAULTPW" } },
      database: { url: 987654321 },
      publisher: { webhook_secret: false },
    });
    const message = err(loadConfig({ argv: ["--config", file] }));
    expect(message.split("\n")).toEqual([
      `confluence.api_token: expected a string, got a number (not shown: the key is secret) (from ${file})`,
      `confluence.encryption_key: expected a string, got a list (not shown: the key is secret) (from ${file})`,
      `database.url: expected a PostgreSQL URL like postgresql://user:password@host:5432/minutes or null, got a number (not shown: the key is secret) (from ${file})`,
      `gateway.api_keys: expected a list of strings, got a string (not shown: the key is secret) (from ${file})`,
      `vault.password: expected a string or null, got an object (not shown: the key is secret) (from ${file})`,
      `publisher.webhook_secret: expected a string or null, got true or false (not shown: the key is secret) (from ${file})`,
    ]);
    for (const secret of ["123456789", "SECRET", "987654321"]) expect(message).not.toContain(secret);
    expect(message).not.toMatch(/ReadonlyArray|<->|Redacted\(/);
  });

  it("never shows a secret's text from the environment, even when it cannot be read", () => {
    const message = err(
      loadConfig({
        env: {
          MINUTES_GATEWAY__API_KEYS: '["SECRET-k1"',
          DATABASE_URL: "mysql://app:SECRET-PW@db:3306/minutes",
        },
      }),
    );
    expect(message.split("\n")).toEqual([
      "gateway.api_keys: expected a JSON array or a comma-separated list of strings, got text starting with [ that is not valid JSON (not shown: the key is secret) (from environment variable MINUTES_GATEWAY__API_KEYS)",
      "database.url: expected a PostgreSQL URL like postgresql://user:password@host:5432/minutes, got a URL that does not start with postgres:// or postgresql:// (not shown: it may hold a password) (from environment variable DATABASE_URL)",
    ]);
    expect(message).not.toContain("SECRET");
    expect(err(loadConfig({ env: { MINUTES_GATEWAY__API_KEYS: "[1]" } }))).toBe(
      "gateway.api_keys[0]: expected a string, got a number (not shown: the key is secret) (from environment variable MINUTES_GATEWAY__API_KEYS)",
    );
  });

  it("does not quote a malformed config file, which may hold a secret, only the place of the mistake", () => {
    const file = writeConfig('{\n  "vault": {\n    "password": SECRET-PW\n  }\n}');
    expect(err(loadConfig({ argv: ["--config", file] }))).toBe(
      `config file ${file} is not valid JSON (line 3, column 17)`,
    );
  });

  it("refuses a command line it does not understand instead of starting on the defaults", () => {
    const file = writeConfig({ confluence: { space_key: "FILE" } });
    const env = { MINUTES_CONFIG: file };
    expect(usage(loadConfig({ argv: ["--config"], env }))).toBe("--config needs a file name");
    expect(usage(loadConfig({ argv: ["--config", "--other"], env }))).toBe("--config needs a file name");
    expect(usage(loadConfig({ argv: ["--config="], env }))).toBe("--config needs a file name");
    expect(usage(loadConfig({ argv: ["--confg", file] }))).toBe(
      "unknown option --confg (did you mean --config?)",
    );
    expect(usage(loadConfig({ argv: ["--verbose"] }))).toBe("unknown option --verbose");
    expect(usage(loadConfig({ argv: [file] }))).toBe(
      `unexpected argument ${JSON.stringify(file)} (a config file is given as --config <file>)`,
    );
    expect(usage(loadConfig({ argv: ["--config", file, "--config", file] }))).toBe("--config is given twice");
    expect(ok(loadConfig({ argv: [`--config=${file}`] })).confluence.space_key).toBe("FILE");
    expect(ok(loadConfig({ argv: [], env })).confluence.space_key).toBe("FILE");
  });

  it("parses --help and the config file of a command line", () => {
    expect(parseConfigArgs(["--help"])).toEqual(Either.right({ configFile: undefined, help: true }));
    expect(parseConfigArgs(["-h", "--config", "c.json"])).toEqual(
      Either.right({ configFile: "c.json", help: true }),
    );
  });

  it("refuses empty host-like settings, which an unset variable in a template gives", () => {
    const message = err(
      loadConfig({
        env: {
          MINUTES_GATEWAY__HOST: "",
          NATS_URL: "",
          MINUTES_NATS__STREAM: "",
          MINUTES_NATS__CONSUMER: "",
          MINUTES_CONFLUENCE__BASE_URL: "",
          MINUTES_DATABASE__SQLITE_PATH: " ",
        },
      }),
    );
    expect(message.split("\n")).toEqual([
      'confluence.base_url: expected an https URL, got "" (from environment variable MINUTES_CONFLUENCE__BASE_URL)',
      'nats.url: expected a NATS URL like nats://host:4222 (several separated by commas), got "" (from environment variable NATS_URL)',
      'nats.stream: expected a JetStream stream name: 1 to 64 letters, digits, - or _, got "" (from environment variable MINUTES_NATS__STREAM)',
      'nats.consumer: expected a JetStream consumer name: 1 to 64 letters, digits, - or _, got "" (from environment variable MINUTES_NATS__CONSUMER)',
      'database.sqlite_path: expected the path of the SQLite file, got " " (from environment variable MINUTES_DATABASE__SQLITE_PATH)',
      'gateway.host: expected a host name or IP address to listen on (0.0.0.0 or :: for every interface), got "" (from environment variable MINUTES_GATEWAY__HOST)',
    ]);
  });

  it("reads an empty variable for a key whose default is null as null, and refuses an empty path in a file", () => {
    const config = ok(
      loadConfig({
        env: { MINUTES_CONFLUENCE__CA_FILE: "", VAULT_FILE: "", DATABASE_URL: "", VAULT_PASSWORD: "" },
      }),
    );
    expect(config.confluence.ca_file).toBeNull();
    expect(config.vault.file).toBeNull();
    expect(config.database.url).toBeNull();
    expect(config.vault.password).toBeNull();
    const file = writeConfig({ confluence: { ca_file: "" } });
    expect(err(loadConfig({ argv: ["--config", file] }))).toBe(
      `confluence.ca_file: expected the path of a PEM file (or null for none), got "" (from ${file})`,
    );
  });

  it("reads a numeral for a key whose default is null and whose schema takes a number (render_threads)", () => {
    const threads = (value: string) =>
      loadConfig({ env: { MINUTES_PUBLISHER__RENDER_THREADS: value } }).pipe(
        Either.map((c) => c.publisher.render_threads),
      );
    expect(threads("1")).toEqual(Either.right(1));
    expect(threads(" 0 ")).toEqual(Either.right(0));
    expect(threads("")).toEqual(Either.right(null));
    expect(threads("null")).toEqual(Either.right(null));
    expect(err(loadConfig({ env: { MINUTES_PUBLISHER__RENDER_THREADS: "two" } }))).toBe(
      'publisher.render_threads: expected a whole number of threads ≥ 0 (0: convert on the event loop) or null, got "two" (from environment variable MINUTES_PUBLISHER__RENDER_THREADS)',
    );
    expect(err(loadConfig({ env: { MINUTES_PUBLISHER__RENDER_THREADS: "1.5" } }))).toBe(
      "publisher.render_threads: expected a whole number of threads ≥ 0 (0: convert on the event loop), got 1.5 (from environment variable MINUTES_PUBLISHER__RENDER_THREADS)",
    );
  });

  it("sets every key whose default is null through its environment variable, and a text of digits stays text", () => {
    // Every key with a null default, and a value for it as an environment variable would give it:
    // a key added with a null default must be added here (and be settable) too.
    const values: Record<string, string> = {
      "confluence.token_expires_at": "2030-01-31",
      "confluence.parent_page_id": "123456",
      "confluence.deployment": "datacenter",
      "confluence.cloud_id": "0123",
      "confluence.ca_file": "/etc/ssl/ca.pem",
      "confluence.page_template": "template.html",
      "database.url": "postgresql://u:p@db:5432/minutes",
      "gateway.public_url": "https://minutes.example.com",
      "vault.file": "tokens.vault",
      "vault.password": "1234",
      "publisher.webhook_secret": "5678",
      "publisher.render_threads": "3",
    };
    const nullKeys = (obj: Record<string, unknown>, prefix = ""): Array<string> =>
      Object.entries(obj).flatMap(([k, v]) =>
        v === null
          ? [`${prefix}${k}`]
          : typeof v === "object" && !Array.isArray(v)
            ? nullKeys(v as Record<string, unknown>, `${prefix}${k}.`)
            : [],
      );
    expect(nullKeys(defaultConfig as unknown as Record<string, unknown>).sort()).toEqual(
      Object.keys(values).sort(),
    );
    const config = ok(
      loadConfig({ env: Object.fromEntries(Object.entries(values).map(([k, v]) => [envVarForKey(k), v])) }),
    );
    expect(config.confluence.token_expires_at?.toISOString()).toBe("2030-01-31T23:59:59.000Z");
    expect(config.confluence.parent_page_id).toBe("123456");
    expect(config.confluence.deployment).toBe("datacenter");
    expect(config.confluence.cloud_id).toBe("0123");
    expect(config.confluence.ca_file).toBe("/etc/ssl/ca.pem");
    expect(config.confluence.page_template).toBe("template.html");
    expect(config.database.url && Redacted.value(config.database.url)).toBe(
      "postgresql://u:p@db:5432/minutes",
    );
    expect(config.gateway.public_url).toBe("https://minutes.example.com");
    expect(config.vault.file).toBe("tokens.vault");
    expect(config.vault.password && Redacted.value(config.vault.password)).toBe("1234");
    expect(config.publisher.webhook_secret && Redacted.value(config.publisher.webhook_secret)).toBe("5678");
    expect(config.publisher.render_threads).toBe(3);
  });

  it("names every allowed value of an enumeration", () => {
    const message = err(
      loadConfig({
        env: {
          LOG_LEVEL: "verbose",
          MINUTES_DATABASE__TYPE: "mysql",
          MINUTES_CONFLUENCE__DEPLOYMENT: "server",
          MINUTES_CONFLUENCE__ON_MANUAL_EDIT: "ignore",
          MINUTES_CONFLUENCE__ADVANCED_SETTINGS__ARCHIVE_METHOD: "delete",
        },
      }),
    );
    expect(message.split("\n")).toEqual([
      'confluence.advanced_settings.archive_method: expected one of "move", "cloud_archive", got "delete" (from environment variable MINUTES_CONFLUENCE__ADVANCED_SETTINGS__ARCHIVE_METHOD)',
      'confluence.deployment: expected one of "cloud", "datacenter" or null, got "server" (from environment variable MINUTES_CONFLUENCE__DEPLOYMENT)',
      'confluence.on_manual_edit: expected one of "overwrite", "skip", "fail", got "ignore" (from environment variable MINUTES_CONFLUENCE__ON_MANUAL_EDIT)',
      'database.type: expected one of "sqlite", "postgresql", got "mysql" (from environment variable MINUTES_DATABASE__TYPE)',
      'logging.level: expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent" (any case), got "verbose" (from environment variable LOG_LEVEL)',
    ]);
  });

  it("accepts log levels in any case", () => {
    expect(ok(loadConfig({ env: { LOG_LEVEL: "INFO" } })).logging.level).toBe("info");
    expect(ok(loadConfig({ env: { LOG_LEVEL: "Debug" } })).logging.level).toBe("debug");
  });

  it("describes naming rules in words, not as a regular expression", () => {
    expect(err(loadConfig({ env: { MINUTES_NATS__STREAM: "bad.name" } }))).toBe(
      'nats.stream: expected a JetStream stream name: 1 to 64 letters, digits, - or _, got "bad.name" (from environment variable MINUTES_NATS__STREAM)',
    );
    expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__SPACE_KEY: "my space" } }))).toBe(
      'confluence.space_key: expected a Confluence space key: 1 to 255 letters, digits, _ or ~, got "my space" (from environment variable MINUTES_CONFLUENCE__SPACE_KEY)',
    );
  });

  it("names the variable and its text when a list of numbers cannot be read", () => {
    expect(err(loadConfig({ env: { MINUTES_NATS__BACKOFF_SECONDS: "a,b" } }))).toBe(
      'nats.backoff_seconds: expected a comma-separated list of numbers (or a JSON array), got "a,b" (from environment variable MINUTES_NATS__BACKOFF_SECONDS)',
    );
    expect(err(loadConfig({ env: { MINUTES_NATS__BACKOFF_SECONDS: "5,-1" } }))).toBe(
      "nats.backoff_seconds[1]: expected a number of seconds of at least 1, got -1 (from environment variable MINUTES_NATS__BACKOFF_SECONDS)",
    );
  });

  it("refuses an ack wait or backoff under a second, which a message in progress cannot be kept alive through", () => {
    expect(err(loadConfig({ env: { MINUTES_NATS__BACKOFF_SECONDS: "0.1,5" } }))).toBe(
      "nats.backoff_seconds[0]: expected a number of seconds of at least 1, got 0.1 (from environment variable MINUTES_NATS__BACKOFF_SECONDS)",
    );
    expect(err(loadConfig({ env: { MINUTES_NATS__ACK_WAIT_SECONDS: "0.5" } }))).toContain(
      "nats.ack_wait_seconds: expected a number of seconds of at least 1, got 0.5",
    );
  });

  it("reports a variable that cannot be read together with the other bad keys", () => {
    expect(
      err(loadConfig({ env: { MINUTES_CONFLUENCE__TIMEOUT: "soon", MINUTES_GATEWAY__HOST: "" } })).split(
        "\n",
      ),
    ).toEqual([
      'confluence.timeout: expected a number, got "soon" (from environment variable MINUTES_CONFLUENCE__TIMEOUT)',
      'gateway.host: expected a host name or IP address to listen on (0.0.0.0 or :: for every interface), got "" (from environment variable MINUTES_GATEWAY__HOST)',
    ]);
  });

  it("reads when a configured token expires from the file and the environment: a date is the end of that day, UTC", () => {
    expect(ok(loadConfig()).confluence).toMatchObject({
      token_expires_at: null,
      token_expiry_warning_days: 14,
    });
    const file = writeConfig({
      confluence: { token_expires_at: "2026-12-05", token_expiry_warning_days: 30 },
    });
    const fromFile = ok(loadConfig({ argv: ["--config", file] })).confluence;
    expect(fromFile.token_expires_at).toEqual(new Date("2026-12-05T23:59:59Z"));
    expect(fromFile.token_expiry_warning_days).toBe(30);
    const fromEnv = ok(
      loadConfig({
        argv: ["--config", file],
        env: {
          MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT: "2026-12-05T17:30:00+01:00",
          MINUTES_CONFLUENCE__TOKEN_EXPIRY_WARNING_DAYS: "0",
        },
      }),
    ).confluence;
    expect(fromEnv.token_expires_at).toEqual(new Date("2026-12-05T16:30:00Z"));
    expect(fromEnv.token_expiry_warning_days).toBe(0);
    // An unset variable in a template: no expiry known.
    expect(
      ok(loadConfig({ env: { MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT: "" } })).confluence.token_expires_at,
    ).toBeNull();
  });

  it("refuses a token expiry that is not an ISO date or date-time with a zone, and a warning that is not whole days, naming the key", () => {
    const expected =
      "expected an ISO date YYYY-MM-DD (the token expires at the end of that day, UTC) or an ISO date-time with a time zone, such as 2026-12-05T17:00:00Z";
    const variable = (name: string) => `(from environment variable ${name})`;
    for (const bad of ["next week", "2026-02-30", "2026-12-05T17:00:00", "05.12.2026"]) {
      expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT: bad } }))).toBe(
        `confluence.token_expires_at: ${expected}, got ${JSON.stringify(bad)} ${variable("MINUTES_CONFLUENCE__TOKEN_EXPIRES_AT")}`,
      );
    }
    const file = writeConfig({ confluence: { token_expires_at: 20261205 } });
    expect(err(loadConfig({ argv: ["--config", file] }))).toBe(
      `confluence.token_expires_at: expected ${expected.replace(/^expected /, "")} or null, got 20261205 (from ${file})`,
    );
    expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__TOKEN_EXPIRY_WARNING_DAYS: "-1" } }))).toBe(
      `confluence.token_expiry_warning_days: expected a whole number of days ≥ 0, got -1 ${variable("MINUTES_CONFLUENCE__TOKEN_EXPIRY_WARNING_DAYS")}`,
    );
    expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__TOKEN_EXPIRY_WARNING_DAYS: "two weeks" } }))).toBe(
      `confluence.token_expiry_warning_days: expected a number, got "two weeks" ${variable("MINUTES_CONFLUENCE__TOKEN_EXPIRY_WARNING_DAYS")}`,
    );
    const fraction = writeConfig({ confluence: { token_expiry_warning_days: 1.5 } });
    expect(err(loadConfig({ argv: ["--config", fraction] }))).toBe(
      `confluence.token_expiry_warning_days: expected a whole number of days ≥ 0, got 1.5 (from ${fraction})`,
    );
  });

  it("signs in with a token by default and reads confluence.auth_method from the file and the environment", () => {
    expect(ok(loadConfig()).confluence.auth_method).toBe("token");
    const file = writeConfig({ confluence: { auth_method: "basic", username: "minutes-bot" } });
    expect(ok(loadConfig({ argv: ["--config", file] })).confluence.auth_method).toBe("basic");
    expect(ok(loadConfig({ env: { MINUTES_CONFLUENCE__AUTH_METHOD: "basic" } })).confluence.auth_method).toBe(
      "basic",
    );
    expect(err(loadConfig({ env: { MINUTES_CONFLUENCE__AUTH_METHOD: "password" } }))).toBe(
      'confluence.auth_method: expected one of "token", "basic", got "password" (from environment variable MINUTES_CONFLUENCE__AUTH_METHOD)',
    );
  });

  it("requires confluence.username for basic auth, naming the key and not the password", () => {
    const env = {
      MINUTES_CONFLUENCE__AUTH_METHOD: "basic",
      MINUTES_CONFLUENCE__USERNAME: " ",
      MINUTES_CONFLUENCE__API_TOKEN: "SECRET-PASSWORD",
    };
    const message = err(loadConfig({ env }));
    expect(message).toBe(
      "confluence.username: is required when confluence.auth_method is basic: the user name that signs in with the password (MINUTES_CONFLUENCE__USERNAME) (from environment variable MINUTES_CONFLUENCE__USERNAME)",
    );
    expect(message).not.toContain("SECRET-PASSWORD");
    // A token signs in without a user name on Data Center (a personal access token): no change there.
    expect(
      ok(loadConfig({ env: { ...env, MINUTES_CONFLUENCE__AUTH_METHOD: "token" } })).confluence.username,
    ).toBe(" ");
  });

  it("accepts ports from 0 to 65535 only", () => {
    expect(ok(loadConfig({ env: { MINUTES_GATEWAY__PORT: "65535" } })).gateway.port).toBe(65535);
    expect(ok(loadConfig({ env: { MINUTES_GATEWAY__PORT: "0" } })).gateway.port).toBe(0);
    expect(err(loadConfig({ env: { MINUTES_GATEWAY__PORT: "70000" } }))).toBe(
      "gateway.port: expected a port number from 0 to 65535, got 70000 (from environment variable MINUTES_GATEWAY__PORT)",
    );
  });

  it("checks the PostgreSQL URL without ever showing it", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["not a url SECRET-PW", "text that is not a URL"],
      [
        "mysql://app:SECRET-PW@db:3306/minutes",
        "a URL that does not start with postgres:// or postgresql://",
      ],
      ["postgresql://app:SECRET-PW@db:5432", "a URL without a database name (add /<database>)"],
      ["postgresql://app:SECRET-PW@db:5432/", "a URL without a database name (add /<database>)"],
    ];
    for (const [url, problem] of cases) {
      expect(err(loadConfig({ env: { DATABASE_URL: url } }))).toBe(
        `database.url: expected a PostgreSQL URL like postgresql://user:password@host:5432/minutes, got ${problem} (not shown: it may hold a password) (from environment variable DATABASE_URL)`,
      );
    }
    for (const url of [
      "postgres://app:pw@db/minutes",
      "postgresql://app:pw@db:5432/minutes?sslmode=require",
    ]) {
      expect(Redacted.value(ok(loadConfig({ env: { DATABASE_URL: url } })).database.url!)).toBe(url);
    }
    expect(err(loadConfig({ env: { MINUTES_DATABASE__TYPE: "postgresql" } }))).toBe(
      "database.url: is required when database.type is postgresql (DATABASE_URL)",
    );
  });

  it("shows a refused nats.url without the user name and password or token of any server", () => {
    const message = (url: string) =>
      `nats.url: expected a NATS URL like nats://host:4222 (several separated by commas), got ${JSON.stringify(url)}`;
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["tls://u:SENTINEL-PW@127.0.0.1:14222 x", "tls://127.0.0.1:14222 x"],
      ["nats://a:4222,nats://minutes:SENTINEL/PW@b:4222", "nats://a:4222,nats://b:4222"],
      ["nats://minutes:SENTINEL@PW,x@b:4222/", "nats://b:4222/"],
      ["SENTINEL-TOKEN@127.0.0.1:4222/", "127.0.0.1:4222/"],
    ];
    for (const [url, shown] of cases) {
      expect(err(loadConfig({ env: { NATS_URL: url } }))).toBe(
        `${message(shown)} (from environment variable NATS_URL)`,
      );
      const file = writeConfig({ nats: { url } });
      expect(err(loadConfig({ argv: ["--config", file] }))).toBe(`${message(shown)} (from ${file})`);
    }
    // Credentials in a URL that decodes are kept for the connection.
    expect(ok(loadConfig({ env: { NATS_URL: "nats://minutes:pw@nats:4222" } })).nats.url).toBe(
      "nats://minutes:pw@nats:4222",
    );
  });

  it("quotes no URL's user name and password in what it shows of any other value", () => {
    expect(err(loadConfig({ env: { MINUTES_GATEWAY__PORT: "http://u:SENTINEL-PW@proxy:3128" } }))).toBe(
      'gateway.port: expected a number, got "http://proxy:3128" (from environment variable MINUTES_GATEWAY__PORT)',
    );
    const file = writeConfig({ gateway: { port: "https://u:SENTINEL-PW@example.com" } });
    expect(err(loadConfig({ argv: ["--config", file] }))).toBe(
      `gateway.port: expected a number, got "https://example.com" (from ${file})`,
    );
  });

  it("never quotes notification recipients: a webhook URL carries its secret in the path", () => {
    const hook = "https://hooks.slack.com/services/T0/B0/SENTINEL-PATH";
    const file = writeConfig({ confluence: { notification_settings: { notification_recipients: hook } } });
    expect(err(loadConfig({ argv: ["--config", file] }))).toBe(
      `confluence.notification_settings.notification_recipients: expected a list of strings, got a string (not shown: the key is secret) (from ${file})`,
    );
    const variable = "MINUTES_CONFLUENCE__NOTIFICATION_SETTINGS__NOTIFICATION_RECIPIENTS";
    expect(err(loadConfig({ env: { [variable]: `["${hook}"` } }))).toBe(
      `confluence.notification_settings.notification_recipients: expected a JSON array or a comma-separated list of strings, got text starting with [ that is not valid JSON (not shown: the key is secret) (from environment variable ${variable})`,
    );
    expect(
      ok(loadConfig({ env: { [variable]: `${hook},ops@example.com` } })).confluence.notification_settings
        .notification_recipients,
    ).toEqual([hook, "ops@example.com"]);
  });
});

describe("ignoredSettingWarnings", () => {
  it("says the original integration's encrypted token is not read, and how to use the vault instead", () => {
    const load = (confluence: Record<string, unknown>) => {
      const r = loadConfig({ env: {}, overrides: { confluence } });
      if (Either.isLeft(r)) throw new Error(r.left.message);
      return r.right;
    };
    expect(ignoredSettingWarnings(load({}))).toEqual([]);
    const [warning, ...rest] = ignoredSettingWarnings(
      load({ encrypted_token: "gAAAAABfernet", encryption_key: "fernet-key-secret" }),
    );
    expect(rest).toEqual([]);
    expect(warning).toContain("confluence.encrypted_token");
    expect(warning).toContain("./minutes vault add");
    expect(warning).not.toContain("gAAAAABfernet");
    expect(warning).not.toContain("fernet-key-secret");
  });

  it("says gateway.public_url is accepted but not used", () => {
    const config = ok(loadConfig({ env: { MINUTES_GATEWAY__PUBLIC_URL: "https://minutes.example.com" } }));
    expect(config.gateway.public_url).toBe("https://minutes.example.com");
    expect(ignoredSettingWarnings(config)).toEqual([
      "gateway.public_url is not used (nothing reads it): remove it; the gateway's address is gateway.host and gateway.port, or whatever proxy serves it",
    ]);
    expect(ignoredSettingWarnings(ok(loadConfig({ env: {} })))).toEqual([]);
  });

  it("names the notification recipients that are not webhooks (e-mail, channels), without a URL's path", () => {
    const load = (notification_recipients: ReadonlyArray<string>) => {
      const r = loadConfig({
        env: {},
        overrides: { confluence: { notification_settings: { notification_recipients } } },
      });
      if (Either.isLeft(r)) throw new Error(r.left.message);
      return r.right;
    };
    expect(
      ignoredSettingWarnings(load(["https://hooks.example.com/T0/B0/x", "http://127.0.0.1:9/hook"])),
    ).toEqual([]);
    const warnings = ignoredSettingWarnings(
      load([
        "ops@example.com",
        "#meetings-channel",
        "http://hooks.example.com/services/T0/secret-path",
        "https://ok.example.com/h",
      ]),
    );
    expect(warnings).toHaveLength(1);
    const [warning] = warnings;
    expect(warning).toContain("confluence.notification_settings.notification_recipients");
    expect(warning).toContain(
      '"ops@example.com", "#meetings-channel", "http://hooks.example.com/…" are not notified',
    );
    expect(warning).not.toContain("secret-path");
    expect(warning).not.toContain("ok.example.com");
  });
});
