/**
 * When JetStream stored the event a protocol came from (`stream_stored_at`, the NATS server's
 * clock), so that `saveProtocol` orders events across a stream created anew by comparing NATS
 * times with NATS times, not with the publisher host's `updated_at` (a host clock behind the
 * server's let an older event replace a newer protocol). Nullable: existing protocols have none,
 * and `saveProtocol` falls back to `updated_at` for them, with a margin for clock skew.
 */
import { Migration } from "@mikro-orm/migrations";

/** Adds `stream_stored_at` to `minutes_protocols`. */
export class Migration20261202000000_protocol_stream_stored_at extends Migration {
  override up(): void {
    const pg = this.getKnex().client.dialect === "postgresql";
    // The instant type of the other columns: epoch milliseconds in SQLite, timestamptz(3) here.
    this.addSql(
      `alter table minutes_protocols add column stream_stored_at ${pg ? "timestamptz(3)" : "datetime"} null`,
    );
  }

  override down(): void {
    this.addSql("alter table minutes_protocols drop column stream_stored_at");
  }
}
