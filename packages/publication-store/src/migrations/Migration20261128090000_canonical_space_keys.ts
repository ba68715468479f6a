/**
 * Records used to keep a global space's key as the event spelled it (`meetings`), while the page
 * went to Confluence's `MEETINGS`: statistics counted one space twice and `?space=MEETINGS` missed
 * the record. Keys are stored canonical now (`canonicalSpaceKey`: upper case, except personal
 * `~user` keys); this brings the existing records in line. Both dialects' `upper` and `like`.
 */
import { Migration } from "@mikro-orm/migrations";

/** Upper-cases the space keys of records in global spaces. */
export class Migration20261128090000_canonical_space_keys extends Migration {
  override up(): void {
    this.addSql(
      "update confluence_publications set confluence_space_key = upper(confluence_space_key) where confluence_space_key not like '~%' and confluence_space_key <> upper(confluence_space_key)",
    );
  }

  override down(): void {
    // The spelling each event used is not kept: the keys stay canonical.
  }
}
