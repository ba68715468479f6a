/**
 * What is left of a deleted record: `record_deleted_at` and `record_deleted_sequence` on its job's
 * protocol (which stays, so that the job can be published again). A consumer created anew on a
 * kept stream starts where the store says work stopped (`streamProgress`), and a protocol without
 * a record must be told apart there: one whose record was deleted through the API is done with (its
 * old event must not bring the record back), one saved by a publisher that stopped before it made
 * the record still has its event to come. Existing protocols get neither: records deleted before
 * this column left no mark, and their jobs' events count as not yet handled.
 */
import { Migration } from "@mikro-orm/migrations";

/** Adds `record_deleted_at` and `record_deleted_sequence` to `minutes_protocols`. */
export class Migration20261203000000_protocol_record_deleted extends Migration {
  override up(): void {
    const pg = this.getKnex().client.dialect === "postgresql";
    // The instant and sequence types of the other columns (epoch milliseconds and integer in SQLite).
    this.addSql(
      `alter table minutes_protocols add column record_deleted_at ${pg ? "timestamptz(3)" : "datetime"} null`,
    );
    this.addSql(
      `alter table minutes_protocols add column record_deleted_sequence ${pg ? "bigint" : "integer"} null`,
    );
  }

  override down(): void {
    this.addSql("alter table minutes_protocols drop column record_deleted_sequence");
    this.addSql("alter table minutes_protocols drop column record_deleted_at");
  }
}
