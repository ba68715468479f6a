/**
 * The complete Minutes configuration. The `confluence` section keeps every key and default of
 * the original integration's "Complete Confluence Configuration"; `nats`, `database`,
 * `gateway`, `vault`, `publisher` and `logging` are ours. Every key has a default in
 * `defaultConfig`, so a config file only names what it changes.
 */
import { Schema } from "effect";

const isLoopbackHost = (host: string): boolean =>
  host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);

/** An https URL; plain http is accepted for loopback hosts only (the local sandbox). */
export const HttpsUrl = Schema.String.pipe(
  Schema.filter(
    (s) => {
      try {
        const u = new URL(s);
        return u.protocol === "https:" || (u.protocol === "http:" && isLoopbackHost(u.hostname));
      } catch {
        return false;
      }
    },
    { message: (issue) => `expected an https URL, got ${JSON.stringify(issue.actual)}` },
  ),
);

const NatsUrl = Schema.String.pipe(
  Schema.filter(
    (s) =>
      s
        .split(",")
        .every(
          (part) => /^(nats|tls|ws|wss):\/\/[^\s/]+$/.test(part.trim()) || /^[^\s/:]+:\d+$/.test(part.trim()),
        ),
    { message: (issue) => `expected a NATS URL like nats://host:4222, got ${JSON.stringify(issue.actual)}` },
  ),
);

const positive = (what: string) =>
  Schema.Number.pipe(
    Schema.filter((n) => Number.isFinite(n) && n > 0, {
      message: (issue) => `expected ${what}, got ${JSON.stringify(issue.actual)}`,
    }),
  );
const nonNegativeInt = (what: string) =>
  Schema.Number.pipe(
    Schema.filter((n) => Number.isInteger(n) && n >= 0, {
      message: (issue) => `expected ${what}, got ${JSON.stringify(issue.actual)}`,
    }),
  );
const positiveInt = (what: string) =>
  Schema.Number.pipe(
    Schema.filter((n) => Number.isInteger(n) && n > 0, {
      message: (issue) => `expected ${what}, got ${JSON.stringify(issue.actual)}`,
    }),
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
  archive_after_days: positiveInt("a whole number of days greater than 0"),
  page_labels: Schema.Array(Schema.String),
  content_macros: ContentMacros,
  /** Title of the year page under `parent_page_id` when `use_page_hierarchy` is on (`YYYY` replaced). */
  hierarchy_year_title: Schema.String.pipe(Schema.minLength(1)),
  /** Title of the month page under the year page (`YYYY`, `MM` replaced). */
  hierarchy_month_title: Schema.String.pipe(Schema.minLength(1)),
  /** Title of the index page `create_index_page` keeps under each route's parent. */
  index_page_title: Schema.String.pipe(Schema.minLength(1)),
  /** How many meetings, newest first, an index page lists (older ones are counted, not listed). */
  index_max_entries: positiveInt("a whole number of entries greater than 0"),
  /** Title of the page under each route's parent that `archive_old_pages` moves old meetings under. */
  archive_page_title: Schema.String.pipe(Schema.minLength(1)),
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
  notification_recipients: Schema.Array(Schema.String),
});

/** The `confluence` section: the original integration's keys, plus deployment details. */
export const ConfluenceConfig = Schema.Struct({
  enabled: Schema.Boolean,
  base_url: HttpsUrl,
  username: Schema.String,
  api_token: Schema.Redacted(Schema.String),
  encrypted_token: Schema.String,
  encryption_key: Schema.Redacted(Schema.String),
  space_key: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9~_]{1,255}$/, {
      message: (issue) => `expected a Confluence space key, got ${JSON.stringify(issue.actual)}`,
    }),
  ),
  parent_page_id: Schema.NullOr(
    Schema.Union(
      Schema.String.pipe(
        Schema.pattern(/^[0-9]{1,20}$/, {
          message: (i) => `expected a numeric page id, got ${JSON.stringify(i.actual)}`,
        }),
      ),
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
  page_title_format: Schema.String.pipe(Schema.minLength(1, { message: () => "must not be empty" })),
  content_format: Schema.Literal("storage"),
  include_metadata: Schema.Boolean,
  notification_settings: NotificationSettings,
  advanced_settings: AdvancedSettings,
  /** `cloud` or `datacenter`; `null` detects it from `base_url`. */
  deployment: Schema.NullOr(Schema.Literal("cloud", "datacenter")),
  /** Cloud id, for scoped API tokens sent through the api.atlassian.com gateway. */
  cloud_id: Schema.NullOr(Schema.String),
  /** Language of Confluence error messages: `en` or `ru`. */
  locale: Schema.Literal("en", "ru"),
  on_manual_edit: OnManualEdit,
  /** Extra CA certificates (PEM file) for Confluence behind a private CA. */
  ca_file: Schema.NullOr(Schema.String),
  routing_rules: Schema.Array(RoutingRule),
  /** Optional page template file with `{{content}}`, `{{date}}`, `{{topic}}`, ... placeholders. */
  page_template: Schema.NullOr(Schema.String),
  /** Allow a small safe set of raw HTML tags (br, sub, sup, u, kbd, mark) in protocols. */
  allow_safe_html: Schema.Boolean,
});

/** `nats`: the event stream and the publisher's durable consumer. */
export const NatsConfig = Schema.Struct({
  url: NatsUrl,
  stream: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/)),
  /** First token of every subject; a second installation on the same server needs its own. */
  subject_prefix: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9_-]{1,32}$/, {
      message: (i) => `expected letters, digits, - or _ (one subject token), got ${JSON.stringify(i.actual)}`,
    }),
  ),
  consumer: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/)),
  duplicate_window_seconds: positive("a number of seconds greater than 0"),
  max_age_days: positive("a number of days greater than 0"),
  ack_wait_seconds: positive("a number of seconds greater than 0"),
  max_deliver: positiveInt("a whole number greater than 0"),
  backoff_seconds: Schema.Array(positive("a number of seconds greater than 0")),
  concurrency: positiveInt("a whole number greater than 0"),
});

/** `database`: SQLite by default; PostgreSQL for several publisher instances. */
export const DatabaseConfig = Schema.Struct({
  type: Schema.Literal("sqlite", "postgresql"),
  sqlite_path: Schema.String,
  url: Schema.NullOr(Schema.Redacted(Schema.String)),
});

/** `gateway`: the REST front door. */
export const GatewayConfig = Schema.Struct({
  host: Schema.String,
  port: nonNegativeInt("a port number"),
  api_keys: Schema.Array(Schema.Redacted(Schema.String)),
  auth_health: Schema.Boolean,
  auth_metrics: Schema.Boolean,
  body_limit_bytes: positiveInt("a number of bytes greater than 0"),
  rate_limit_per_minute: positiveInt("a whole number greater than 0"),
  publish_wait_ms: nonNegativeInt("a number of milliseconds ≥ 0"),
  public_url: Schema.NullOr(Schema.String),
});

/** `vault`: where the encrypted Confluence token lives. */
export const VaultConfig = Schema.Struct({
  /** `null`: `$XDG_CONFIG_HOME/minutes/tokens.vault`. */
  file: Schema.NullOr(Schema.String),
  password: Schema.NullOr(Schema.Redacted(Schema.String)),
});

/** `publisher`: behaviour of the publishing pipeline. */
export const PublisherConfig = Schema.Struct({
  webhook_secret: Schema.NullOr(Schema.Redacted(Schema.String)),
  shutdown_grace_seconds: positive("a number of seconds greater than 0"),
});

/** `logging`. */
export const LoggingConfig = Schema.Struct({
  level: Schema.Literal("trace", "debug", "info", "warn", "error", "fatal", "silent"),
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
export const defaultConfig: MinutesConfigInput = {
  confluence: {
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
    auth_health: false,
    auth_metrics: false,
    body_limit_bytes: 1_048_576,
    rate_limit_per_minute: 600,
    publish_wait_ms: 5_000,
    public_url: null,
  },
  vault: { file: null, password: null },
  publisher: { webhook_secret: null, shutdown_grace_seconds: 20 },
  logging: { level: "info" },
};
