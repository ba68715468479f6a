/**
 * The ordered list of schema migrations. Registered explicitly (no glob loading) so the same
 * list runs from `src` under vitest and from `dist` in production. Append, never reorder.
 */
import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261126000000_initial } from "./migrations/Migration20261126000000_initial.js";
import { Migration20261126120000_meeting_date_archive } from "./migrations/Migration20261126120000_meeting_date_archive.js";
import { Migration20261127180000_status_latency_index } from "./migrations/Migration20261127180000_status_latency_index.js";
import { Migration20261128090000_canonical_space_keys } from "./migrations/Migration20261128090000_canonical_space_keys.js";
import { Migration20261201000000_page_verified_on } from "./migrations/Migration20261201000000_page_verified_on.js";
import { Migration20261202000000_protocol_stream_stored_at } from "./migrations/Migration20261202000000_protocol_stream_stored_at.js";
import { Migration20261203000000_protocol_record_deleted } from "./migrations/Migration20261203000000_protocol_record_deleted.js";

/** Every migration, oldest first; `PublicationStore.layer` applies the pending ones at start. */
export const MIGRATIONS: ReadonlyArray<MigrationObject> = [
  { name: "Migration20261126000000_initial", class: Migration20261126000000_initial },
  {
    name: "Migration20261126120000_meeting_date_archive",
    class: Migration20261126120000_meeting_date_archive,
  },
  {
    name: "Migration20261127180000_status_latency_index",
    class: Migration20261127180000_status_latency_index,
  },
  {
    name: "Migration20261128090000_canonical_space_keys",
    class: Migration20261128090000_canonical_space_keys,
  },
  { name: "Migration20261201000000_page_verified_on", class: Migration20261201000000_page_verified_on },
  {
    name: "Migration20261202000000_protocol_stream_stored_at",
    class: Migration20261202000000_protocol_stream_stored_at,
  },
  {
    name: "Migration20261203000000_protocol_record_deleted",
    class: Migration20261203000000_protocol_record_deleted,
  },
];
