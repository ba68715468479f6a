/**
 * The complete Minutes configuration. The `confluence` section keeps every key and default of
 * the original integration's "Complete Confluence Configuration"; `nats`, `database`,
 * `gateway`, `vault`, `publisher` and `logging` are ours. Every key has a default in
 * `defaultConfig`, so a config file only names what it changes.
 */

import { Redacted, Schema } from "effect";
import { MAX_ARCHIVE_AGE_DAYS } from "./Archive.js";
import { ConcealedId, PlainExpectedId, preview, withoutNatsCredentials } from "./config-text.js";
import { isCalendarDate, isIsoTimestamp } from "./ProtocolReady.js";

const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);

/**
 * An https URL; plain http is accepted for loopback hosts only (the local sandbox). A user name or
 * password in it is refused without showing the value: credentials belong in `confluence.username`
 * and the vault, and the client would fail on every request later.
 */
export const HttpsUrl = Schema.String.pipe(
  Schema.filter((s) => httpsUrlProblem(s) === undefined, {
    message: (issue) =>
      httpsUrlProblem(String(issue.actual)) === "userinfo"
        ? "must not contain a user name or password; put the user in confluence.username and the token in the vault"
        : `expected an https URL, got ${preview(issue.actual)}`,
  }),
);

const httpsUrlProblem = (s: string): "userinfo" | "not-https" | undefined => {
  // Checked on the raw text too, so a URL that does not parse is not quoted with its password.
  if (/^[^/]*\/\/[^/?#]*@/.test(s.trim())) return "userinfo";
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return "not-https";
  }
  if (u.username !== "" || u.password !== "") return "userinfo";
  return u.protocol === "https:" || (u.protocol === "http:" && isLoopbackHost(u.hostname))
    ? undefined
    : "not-https";
};

const NatsUrl = Schema.String.pipe(
  Schema.filter(
    (s) =>
      s
        .split(",")
        .every(
          (part) => /^(nats|tls|ws|wss):\/\/[^\s/]+$/.test(part.trim()) || /^[^\s/:]+:\d+$/.test(part.trim()),
        ),
    {
      // The value may carry a user name and password (nats://user:password@host:4222).
      message: (issue) =>
        `expected a NATS URL like nats://host:4222 (several separated by commas), got ${preview(typeof issue.actual === "string" ? withoutNatsCredentials(issue.actual) : issue.actual)}`,
    },
  ),
);

/**
 * A number rule whose message names what is allowed and what was found, e.g.
 * `expected a number of seconds greater than 0, got -1`.
 */
const numberRule = (what: string, ok: (n: number) => boolean) =>
  Schema.Number.pipe(
    Schema.filter(ok, {
      message: (issue) => `expected ${what}, got ${preview(issue.actual)}`,
      [PlainExpectedId]: what,
    }),
  );
const positive = (what: string) => numberRule(what, (n) => Number.isFinite(n) && n > 0);
const nonNegativeInt = (what: string) => numberRule(what, (n) => Number.isInteger(n) && n >= 0);
const positiveInt = (what: string) => numberRule(what, (n) => Number.isInteger(n) && n > 0);
const atLeastOneSecond = numberRule("a number of seconds of at least 1", (n) => Number.isFinite(n) && n >= 1);

/** A string rule: `what` says in plain words what is allowed (never a regular expression). */
const stringRule = (what: string, ok: (s: string) => boolean) =>
  Schema.String.pipe(
    Schema.filter(ok, {
      message: (issue) => `expected ${what}, got ${preview(issue.actual)}`,
      [PlainExpectedId]: what,
    }),
  );

/** A string that must say something: empty (an unset variable in a template) is refused. */
const nonEmpty = (what: string) => stringRule(what, (s) => s.trim() !== "");

/** A JetStream stream or consumer name, a subject token: what NATS accepts without escaping. */
const natsName = (what: string, max: number) =>
  stringRule(`${what}: 1 to ${max} letters, digits, - or _`, (s) =>
    new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`).test(s),
  );

/** A TCP port; 0 picks a free one. */
const Port = numberRule("a port number from 0 to 65535", (n) => Number.isInteger(n) && n >= 0 && n <= 65535);

/**
 * A PostgreSQL connection URL with a database name. The message never shows the value (it may
 * hold a password); it says which part is wrong.
 */
const PostgresUrl = Schema.String.pipe(
  Schema.filter((s) => postgresUrlProblem(s) === undefined, {
    message: (issue) =>
      `expected a PostgreSQL URL like postgresql://user:password@host:5432/minutes, got ${postgresUrlProblem(String(issue.actual)) ?? "another value"} (not shown: it may hold a password)`,
    [PlainExpectedId]: "a PostgreSQL URL like postgresql://user:password@host:5432/minutes",
  }),
);

const postgresUrlProblem = (s: string): string | undefined => {
  if (s.trim() === "") return "an empty string";
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return "text that is not a URL";
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
    return "a URL that does not start with postgres:// or postgresql://";
  if (url.pathname.replace(/^\//, "") === "") return "a URL without a database name (add /<database>)";
  return undefined;
};

/** Log levels; accepted in any case (`INFO` is `info`). */
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
const LogLevelName = Schema.Literal(...LOG_LEVELS);
const LogLevel = Schema.transform(
  stringRule(`one of ${LOG_LEVELS.map((l) => JSON.stringify(l)).join(", ")} (any case)`, (s) =>
    (LOG_LEVELS as ReadonlyArray<string>).includes(s.trim().toLowerCase()),
  ),
  LogLevelName,
  {
    strict: true,
    decode: (s) => s.trim().toLowerCase() as typeof LogLevelName.Type,
    encode: (level) => level,
  },
);

/** A nullable path or URL: `null` means none, an empty string means nothing and is refused. */
const optionalText = (what: string) => Schema.NullOr(nonEmpty(`${what} (or null for none)`));

/**
 * When a Confluence token expires, from how an operator writes it: a date `YYYY-MM-DD` is the end
 * of that day, UTC (`23:59:59Z`: the token still works that day, and the day shown is the day
 * written); an ISO 8601 date-time needs a time zone (`2026-12-05T17:00:00Z`, `…+01:00`), since
 * an expiry read in the wrong zone would be hours off. `undefined` for anything else.
 *
 * @example
 * tokenExpiryFromText("2026-12-05")?.toISOString() // "2026-12-05T23:59:59.000Z"
 */
export const tokenExpiryFromText = (text: string): Date | undefined => {
  const s = text.trim();
  if (isCalendarDate(s)) return new Date(`${s}T23:59:59Z`);
  return isIsoTimestamp(s) ? new Date(s) : undefined;
};

/** `confluence.token_expires_at`: an ISO date or date-time, decoded to the instant (see {@link tokenExpiryFromText}). */
const TokenExpiresAt = Schema.transform(
  stringRule(
    "an ISO date YYYY-MM-DD (the token expires at the end of that day, UTC) or an ISO date-time with a time zone, such as 2026-12-05T17:00:00Z",
    (s) => tokenExpiryFromText(s) !== undefined,
  ),
  Schema.DateFromSelf,
  {
    strict: true,
    decode: (s) => tokenExpiryFromText(s) ?? new Date(Number.NaN),
    encode: (date) => date.toISOString(),
  },
);

/** `on_manual_edit`: what to do when a person edited our page since our last version. */
export const OnManualEdit = Schema.Literal("overwrite", "skip", "fail");
export type OnManualEdit = typeof OnManualEdit.Type;

const ContentMacros = Schema.Struct({
  add_toc: Schema.Boolean,
  add_date_macro: Schema.Boolean,
  add_info_panel: Schema.Boolean,
});

/** A routing rule: the first rule whose conditions all match decides space, parent and labels. */
export const RoutingRule = Schema.Struct({
  name: Schema.optional(Schema.String),
  match: Schema.Struct({
    source: Schema.optional(Schema.String),
    labels: Schema.optional(Schema.Array(Schema.String)),
    topic_pattern: Schema.optional(Schema.String),
    filename_pattern: Schema.optional(Schema.String),
  }),
  space_key: Schema.optional(Schema.String),
  parent_page_id: Schema.optional(Schema.NullOr(Schema.String)),
  labels: Schema.optional(Schema.Array(Schema.String)),
});
export type RoutingRule = typeof RoutingRule.Type;

const AdvancedSettings = Schema.Struct({
  use_page_hierarchy: Schema.Boolean,
  create_index_page: Schema.Boolean,
  archive_old_pages: Schema.Boolean,
  // Bounded like a run's `olderThanDays`: a far larger age puts the cut-off date outside what a
  // `Date` holds, and every scheduled run would fail.
  archive_after_days: numberRule(
    `a whole number of days from 1 to ${MAX_ARCHIVE_AGE_DAYS}`,
    (n) => Number.isInteger(n) && n > 0 && n <= MAX_ARCHIVE_AGE_DAYS,
  ),
  page_labels: Schema.Array(Schema.String),
  content_macros: ContentMacros,
  /** Title of the year page under `parent_page_id` when `use_page_hierarchy` is on (`YYYY` replaced). */
  hierarchy_year_title: nonEmpty("a page title (YYYY is replaced by the year)"),
  /** Title of the month page under the year page (`YYYY`, `MM` replaced). */
  hierarchy_month_title: nonEmpty("a page title (YYYY and MM are replaced)"),
  /** Title of the index page `create_index_page` keeps under each route's parent. */
  index_page_title: nonEmpty("a page title"),
  /** How many meetings, newest first, an index page lists (older ones are counted, not listed). */
  index_max_entries: positiveInt("a whole number of entries greater than 0"),
  /** Title of the page under each route's parent that `archive_old_pages` moves old meetings under. */
  archive_page_title: nonEmpty("a page title"),
  /** How often each publisher runs the archive job when `archive_old_pages` is on. */
  archive_interval_minutes: positiveInt("a whole number of minutes greater than 0"),
  /**
   * `move`: under the archive page (every plan, both deployments). `cloud_archive`: Confluence
   * Cloud's own archive (`POST /wiki/rest/api/content/archive`, paid plans); on Data Center
   * pages are moved instead.
   */
  archive_method: Schema.Literal("move", "cloud_archive"),
});

const NotificationSettings = Schema.Struct({
  notify_on_publish: Schema.Boolean,
  notify_on_error: Schema.Boolean,
  // Never quoted in messages: a webhook URL carries its secret in the path.
  notification_recipients: Schema.Array(Schema.String).annotations({ [ConcealedId]: true }),
});

/**
 * `confluence.auth_method`: how Minutes signs in. `token` (the default): Cloud gets Basic with the
 * account e-mail and an API token, Data Center a personal access token as Bearer. `basic`: Data
 * Center gets Basic with `username` and that user's password (Data Center before 7.9, or with
 * personal access tokens switched off); the password comes from where the token would (the vault
 * entry for `base_url` and `username`, else `api_token`). Cloud takes no passwords over REST, so
 * there `basic` is what `token` already is: the e-mail and an API token as Basic.
 */
export const ConfluenceAuthMethod = Schema.Literal("token", "basic");
export type ConfluenceAuthMethod = typeof ConfluenceAuthMethod.Type;

/** The `confluence` section: the original integration's keys, plus deployment details. */
export const ConfluenceConfig = Schema.Struct({
  enabled: Schema.Boolean,
  base_url: HttpsUrl,
  username: Schema.String,
  api_token: Schema.Redacted(Schema.String),
  /** `token` or `basic` (see {@link ConfluenceAuthMethod}); `basic` needs `username`. */
  auth_method: ConfluenceAuthMethod,
  /**
   * When `api_token` expires (Confluence cannot tell): null when unknown. A token from the vault
   * has its own expiry, recorded with it (`minutes vault add --expires`).
   */
  token_expires_at: Schema.NullOr(TokenExpiresAt),
  /**
   * How many days before its expiry the token in use gives `/status/confluence` a warning (the
   * status stays `ok`; only an expired token makes it `degraded`) and the publishers warn (0: only
   * once it has expired).
   */
  token_expiry_warning_days: nonNegativeInt("a whole number of days ≥ 0"),
  encrypted_token: Schema.String,
  encryption_key: Schema.Redacted(Schema.String),
  space_key: stringRule("a Confluence space key: 1 to 255 letters, digits, _ or ~", (s) =>
    /^[A-Za-z0-9~_]{1,255}$/.test(s),
  ),
  parent_page_id: Schema.NullOr(
    Schema.Union(
      stringRule("a numeric page id", (s) => /^[0-9]{1,20}$/.test(s)),
      Schema.transform(Schema.Int, Schema.String, {
        strict: true,
        decode: (n) => String(n),
        encode: (s) => Number(s),
      }),
    ),
  ),
  auto_publish: Schema.Boolean,
  timeout: positive("a number of seconds greater than 0"),
  max_retries: nonNegativeInt("a whole number ≥ 0"),
  retry_delay: positive("a number of seconds greater than 0"),
  page_title_format: nonEmpty("a page title format such as YYYYMMDD - {topic}"),
  content_format: Schema.Literal("storage"),
  include_metadata: Schema.Boolean,
  notification_settings: NotificationSettings,
  advanced_settings: AdvancedSettings,
  /** `cloud` or `datacenter`; `null` detects it from `base_url`. */
  deployment: Schema.NullOr(Schema.Literal("cloud", "datacenter")),
  /** Cloud id, for scoped API tokens sent through the api.atlassian.com gateway. */
  cloud_id: optionalText("a Confluence Cloud id"),
  /** Language of Confluence error messages: `en` or `ru`. */
  locale: Schema.Literal("en", "ru"),
  on_manual_edit: OnManualEdit,
  /** Extra CA certificates (PEM file) for Confluence behind a private CA. */
  ca_file: optionalText("the path of a PEM file"),
  routing_rules: Schema.Array(RoutingRule),
  /** Optional page template file with `{{content}}`, `{{date}}`, `{{topic}}`, ... placeholders. */
  page_template: optionalText("the path of a template file"),
  /** Allow a small safe set of raw HTML tags (sub, sup, u, kbd, mark) in protocols; `<br>` always works. */
  allow_safe_html: Schema.Boolean,
}).pipe(
  // Basic auth without a user name would fail only at the first request, as a client error that
  // names the client's field rather than this key.
  Schema.filter((c) =>
    c.auth_method === "basic" && c.username.trim() === ""
      ? {
          path: ["username"],
          message:
            "is required when confluence.auth_method is basic: the user name that signs in with the password (MINUTES_CONFLUENCE__USERNAME)",
        }
      : undefined,
  ),
);

/** `nats`: the event stream and the publisher's durable consumer. */
export const NatsConfig = Schema.Struct({
  url: NatsUrl,
  stream: natsName("a JetStream stream name", 64),
  /** First token of every subject; a second installation on the same server needs its own. */
  subject_prefix: natsName("one subject token", 32),
  consumer: natsName("a JetStream consumer name", 64),
  duplicate_window_seconds: positive("a number of seconds greater than 0"),
  max_age_days: positive("a number of days greater than 0"),
  // The ack wait is how long a message in progress may go unanswered (the publisher's consumer has
  // no JetStream backoff, which would shrink it to the backoff's first value); the publisher keeps
  // it alive three times a period, which under a second cannot be relied on. The backoff seconds
  // are the publisher's own nak delays, one per delivery.
  ack_wait_seconds: atLeastOneSecond,
  max_deliver: positiveInt("a whole number greater than 0"),
  backoff_seconds: Schema.Array(atLeastOneSecond),
  concurrency: positiveInt("a whole number greater than 0"),
});

/** `database`: SQLite by default; PostgreSQL for several publisher instances. */
export const DatabaseConfig = Schema.Struct({
  type: Schema.Literal("sqlite", "postgresql"),
  sqlite_path: nonEmpty("the path of the SQLite file"),
  /** `postgres://` or `postgresql://` with a database name; required for `type: postgresql`. */
  url: Schema.NullOr(Schema.Redacted(PostgresUrl)),
}).pipe(
  Schema.filter((db) =>
    db.type === "postgresql" && db.url === null
      ? { path: ["url"], message: "is required when database.type is postgresql (DATABASE_URL)" }
      : undefined,
  ),
);

/** `gateway`: the REST front door. */
export const GatewayConfig = Schema.Struct({
  /** An empty host would make Node listen on every interface: refused. */
  host: stringRule("a host name or IP address to listen on (0.0.0.0 or :: for every interface)", (s) =>
    /^\S+$/.test(s),
  ),
  port: Port,
  api_keys: Schema.Array(Schema.Redacted(Schema.String)),
  /**
   * Operators' keys: the only ones that may import, export, clean up, delete, replay and run the
   * archive once any are set (`api_keys` then serve intake, publishing and reading). Empty: every
   * key may do everything.
   */
  admin_api_keys: Schema.Array(Schema.Redacted(Schema.String)),
  auth_health: Schema.Boolean,
  auth_metrics: Schema.Boolean,
  body_limit_bytes: positiveInt("a number of bytes greater than 0"),
  rate_limit_per_minute: positiveInt("a whole number greater than 0"),
  publish_wait_ms: nonNegativeInt("a number of milliseconds ≥ 0"),
  /**
   * Accepted and ignored: nothing reads it (links the gateway returns are Confluence's page URLs,
   * and the OpenAPI document names no server). Kept so configuration files that set it still
   * load; a value set here is named in a warning at start (see {@link ignoredSettingWarnings}).
   */
  public_url: optionalText("the gateway's public URL"),
});

/** `vault`: where the encrypted Confluence token lives. */
export const VaultConfig = Schema.Struct({
  /** `null`: `$XDG_CONFIG_HOME/minutes/tokens.vault`. */
  file: optionalText("the path of the vault file"),
  password: Schema.NullOr(Schema.Redacted(Schema.String)),
});

/** `publisher`: behaviour of the publishing pipeline. */
export const PublisherConfig = Schema.Struct({
  webhook_secret: Schema.NullOr(Schema.Redacted(Schema.String)),
  shutdown_grace_seconds: positive("a number of seconds greater than 0"),
  /**
   * Worker threads that convert protocols, so the event loop keeps serving Confluence, NATS and
   * the database meanwhile; 0 converts on the event loop. `null`: one per core beyond the second, at most 4.
   */
  render_threads: Schema.NullOr(
    nonNegativeInt("a whole number of threads ≥ 0 (0: convert on the event loop)"),
  ),
  /**
   * Longest a protocol's conversion may take: then it is stopped (its render thread terminated)
   * and the publication fails for good (`RenderTimeoutError`), since some valid Markdown takes the
   * converter time that grows with the square of its length. With `render_threads` 0, protocols
   * over 4 KB convert on a thread started for them, so that this holds for them too.
   */
  render_timeout_seconds: positive("a number of seconds greater than 0"),
});

/** `logging`. */
export const LoggingConfig = Schema.Struct({
  level: LogLevel,
});

/** The whole configuration. */
export const MinutesConfig = Schema.Struct({
  confluence: ConfluenceConfig,
  nats: NatsConfig,
  database: DatabaseConfig,
  gateway: GatewayConfig,
  vault: VaultConfig,
  publisher: PublisherConfig,
  logging: LoggingConfig,
}).annotations({ identifier: "MinutesConfig" });
export type MinutesConfig = typeof MinutesConfig.Type;
/** The configuration as written in `config.json` (plain JSON values). */
export type MinutesConfigInput = typeof MinutesConfig.Encoded;

/** Every default, in the JSON form of `config.json`. The `confluence` block is the original's. */
/**
 * Warnings for settings that are accepted (configuration files that set them keep loading) but
 * not used, each saying what to do instead: the original integration's encrypted token and
 * e-mail recipients, and `gateway.public_url`. The services log them at start.
 */
export const ignoredSettingWarnings = (config: MinutesConfig): ReadonlyArray<string> => {
  const warnings: Array<string> = [];
  if (config.confluence.encrypted_token !== "" || Redacted.value(config.confluence.encryption_key) !== "")
    warnings.push(
      "confluence.encrypted_token and confluence.encryption_key (the original integration's encrypted token) are not read: save the token in the vault with `./minutes vault add --url <base_url> --username <username>` and remove them",
    );
  const ignored = config.confluence.notification_settings.notification_recipients.filter(
    (recipient) => !isWebhookRecipient(recipient),
  );
  if (ignored.length > 0)
    warnings.push(
      `confluence.notification_settings.notification_recipients: ${ignored.map(describeRecipient).join(", ")} ${ignored.length === 1 ? "is" : "are"} not notified: Minutes posts outcomes only to webhook URLs (https, or http on this host), such as a Slack or Teams incoming webhook; every outcome is also on the NATS outcome stream for other channels`,
    );
  if (config.gateway.public_url !== null)
    warnings.push(
      "gateway.public_url is not used (nothing reads it): remove it; the gateway's address is gateway.host and gateway.port, or whatever proxy serves it",
    );
  return warnings;
};

/** Whether a notification recipient is a webhook Minutes posts to: an https URL, or http on loopback. */
export const isWebhookRecipient = (recipient: string): boolean => {
  try {
    const url = new URL(recipient);
    const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
    return url.protocol === "https:" || (url.protocol === "http:" && loopback);
  } catch {
    return false;
  }
};

/**
 * A recipient as a warning may show it: a URL only as scheme and host (webhook URLs carry their
 * secret in the path), anything else (an e-mail address, a channel name) as written, cut short.
 */
const describeRecipient = (recipient: string): string => {
  try {
    const url = new URL(recipient);
    if (url.host !== "") return JSON.stringify(`${url.protocol}//${url.host}/…`);
  } catch {
    // not a URL
  }
  return JSON.stringify(recipient.length > 60 ? `${recipient.slice(0, 60)}…` : recipient);
};

export const defaultConfig: MinutesConfigInput = {
  confluence: {
    enabled: false,
    base_url: "https://your-domain.atlassian.net/wiki",
    username: "your-email@domain.com",
    api_token: "",
    auth_method: "token",
    token_expires_at: null,
    token_expiry_warning_days: 14,
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
      hierarchy_year_title: "YYYY",
      hierarchy_month_title: "YYYY-MM",
      index_page_title: "Meeting protocols",
      index_max_entries: 1000,
      archive_page_title: "Archive",
      archive_interval_minutes: 1440,
      archive_method: "move",
    },
    deployment: null,
    cloud_id: null,
    locale: "en",
    on_manual_edit: "fail",
    ca_file: null,
    routing_rules: [],
    page_template: null,
    allow_safe_html: false,
  },
  nats: {
    url: "nats://127.0.0.1:4222",
    stream: "MINUTES_PROTOCOLS",
    subject_prefix: "minutes",
    consumer: "minutes-publisher",
    duplicate_window_seconds: 120,
    max_age_days: 30,
    ack_wait_seconds: 60,
    max_deliver: 5,
    backoff_seconds: [5, 30, 120, 600],
    concurrency: 4,
  },
  database: { type: "sqlite", sqlite_path: "minutes.sqlite", url: null },
  gateway: {
    host: "127.0.0.1",
    port: 8080,
    api_keys: [],
    admin_api_keys: [],
    auth_health: false,
    auth_metrics: false,
    body_limit_bytes: 1_048_576,
    rate_limit_per_minute: 600,
    publish_wait_ms: 5_000,
    public_url: null,
  },
  vault: { file: null, password: null },
  publisher: {
    webhook_secret: null,
    shutdown_grace_seconds: 20,
    render_threads: null,
    // The largest protocol the gateway takes (1 MB of ordinary Markdown, the demo's protocols
    // repeated) converts in about 4 s on the 2-core benchmark VM: 30 s leaves room for a busy
    // machine, and a pathological protocol holds a thread (or a message) for half a minute at most.
    render_timeout_seconds: 30,
  },
  logging: { level: "info" },
};
