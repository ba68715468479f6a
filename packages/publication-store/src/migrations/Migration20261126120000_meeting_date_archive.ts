/**
 * Page organisation: the meeting's date on each record (the index page lists and sorts by it, the
 * archive job selects by it) and when the page was archived. Both nullable, so existing records
 * stay valid; the next publication of a job fills its meeting date in.
 */
import { Migration } from "@mikro-orm/migrations";

/** Adds `meeting_date` and `archived_at` to `confluence_publications`. */
export class Migration20261126120000_meeting_date_archive extends Migration {
  override up(): void {
    const pg = this.getKnex().client.dialect === "postgresql";
    const instant = pg ? "timestamptz(3)" : "datetime";
    const date = pg ? "varchar(10)" : "text";
    this.addSql(`alter table confluence_publications add column meeting_date ${date} null`);
    this.addSql(`alter table confluence_publications add column archived_at ${instant} null`);
    // The index page reads one space/parent; the archive job reads published records by date.
    this.addSql(
      "create index confluence_publications_location_index on confluence_publications (confluence_space_key, parent_page_id)",
    );
    this.addSql(
      "create index confluence_publications_meeting_date_index on confluence_publications (publication_status, meeting_date)",
    );
  }

  override down(): void {
    this.addSql("drop index if exists confluence_publications_meeting_date_index");
    this.addSql("drop index if exists confluence_publications_location_index");
    this.addSql("alter table confluence_publications drop column archived_at");
    this.addSql("alter table confluence_publications drop column meeting_date");
  }
}
