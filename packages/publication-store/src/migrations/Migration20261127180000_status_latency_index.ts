/**
 * The latency percentiles of `stats` read the published and archived records ordered by
 * `latency_ms` (`order by latency_ms limit 1 offset ?`). Without an index both dialects sorted the
 * whole table on every call; with `(publication_status, latency_ms)` they read the index range of
 * each status in order. Plain `create index`: it holds the table's write lock while it builds,
 * once, at the start of the version that brings it.
 */
import { Migration } from "@mikro-orm/migrations";

/** Adds `confluence_publications_status_latency_index` on `(publication_status, latency_ms)`. */
export class Migration20261127180000_status_latency_index extends Migration {
  override up(): void {
    this.addSql(
      "create index confluence_publications_status_latency_index on confluence_publications (publication_status, latency_ms)",
    );
  }

  override down(): void {
    this.addSql("drop index if exists confluence_publications_status_latency_index");
  }
}
