/**
 * The initial schema: the original integration's `confluence_publications` table (plus the
 * exactly-once and lease columns), the protocols Minutes keeps for retries after the stream has
 * expired an event, and the page version history. Hand-written SQL for both dialects so the
 * schema is reviewed here, not derived from entity metadata at run time. Statuses and triggers
 * have no CHECK constraints: contracts own those lists, and SQLite cannot alter a CHECK in place.
 */
import { Migration } from "@mikro-orm/migrations";

/** Creates `confluence_publications`, `minutes_protocols` and `confluence_publication_versions`. */
export class Migration20261126000000_initial extends Migration {
  override up(): void {
    const pg = isPostgres(this);
    // SQLite stores instants as epoch milliseconds (MikroORM's convention); PostgreSQL keeps
    // millisecond precision so the paging cursor compares equal to what it read.
    const id = pg ? "serial primary key" : "integer primary key autoincrement";
    const instant = pg ? "timestamptz(3)" : "datetime";
    const big = pg ? "bigint" : "integer";
    const str = (n: number): string => (pg ? `varchar(${n})` : "text");

    this.addSql(`create table confluence_publications (
      id ${id},
      job_id ${str(200)} not null,
      confluence_page_id ${str(64)} null,
      confluence_page_url text null,
      confluence_space_key ${str(255)} not null,
      parent_page_id ${str(64)} null,
      page_title text null,
      publication_status ${str(20)} not null default 'pending',
      created_at ${instant} not null,
      updated_at ${instant} not null,
      error_message text null,
      retry_count integer not null default 0,
      last_retry_at ${instant} null,
      content_hash ${str(128)} null,
      page_version integer null,
      stream_sequence ${big} null,
      attempts integer not null default 0,
      error_tag ${str(100)} null,
      "trigger" ${str(20)} not null default 'event',
      published_at ${instant} null,
      latency_ms ${big} null,
      claimed_by ${str(255)} null,
      claimed_until ${instant} null,
      constraint confluence_publications_job_id_unique unique (job_id)
    )`);
    this.addSql(
      "create index confluence_publications_updated_at_id_index on confluence_publications (updated_at, id)",
    );
    this.addSql(
      "create index confluence_publications_status_index on confluence_publications (publication_status, updated_at)",
    );
    this.addSql(
      "create index confluence_publications_space_index on confluence_publications (confluence_space_key, updated_at)",
    );

    this.addSql(`create table minutes_protocols (
      job_id ${str(200)} not null primary key,
      markdown text not null,
      filename ${str(255)} not null,
      metadata text not null default '{}',
      content_hash ${str(128)} not null,
      stream_sequence ${big} null,
      occurred_at ${instant} not null,
      received_at ${instant} not null,
      updated_at ${instant} not null
    )`);

    this.addSql(`create table confluence_publication_versions (
      id ${id},
      publication_id integer not null references confluence_publications (id) on delete cascade,
      job_id ${str(200)} not null,
      page_id ${str(64)} not null,
      page_version integer not null,
      content_hash ${str(128)} not null,
      page_title text not null,
      "trigger" ${str(20)} not null,
      created_at ${instant} not null,
      constraint confluence_publication_versions_page_version_unique unique (page_id, page_version)
    )`);
    this.addSql(
      "create index confluence_publication_versions_job_id_index on confluence_publication_versions (job_id)",
    );
  }

  override down(): void {
    this.addSql("drop table if exists confluence_publication_versions");
    this.addSql("drop table if exists minutes_protocols");
    this.addSql("drop table if exists confluence_publications");
  }
}

// internal

/** The knex client names its dialect; MikroORM's PostgreSQL client reports `postgresql`. */
const isPostgres = (migration: Migration): boolean => migration.getKnex().client.dialect === "postgresql";
