/**
 * Which Confluence a record's page was seen to be the job's on (`page_verified_on`, the site's
 * address). Page ids restart in every site, so a record imported from another installation, or
 * kept while `base_url` changed, may name someone else's page: the publisher trusts a record's
 * page without reading its job property only on the site it verified it on. Existing records get
 * none: records imported before this column cannot be told apart, so each is verified once (one
 * property read at its job's next publication).
 */
import { Migration } from "@mikro-orm/migrations";

/** Adds `page_verified_on` to `confluence_publications`. */
export class Migration20261201000000_page_verified_on extends Migration {
  override up(): void {
    this.addSql("alter table confluence_publications add column page_verified_on text null");
  }

  override down(): void {
    this.addSql("alter table confluence_publications drop column page_verified_on");
  }
}
