/**
 * Maps the `database` section of the Minutes configuration to `StoreConfig`, so apps never
 * spell the snake_case keys twice. Kept apart from the service so it needs no database.
 */
import type { MinutesConfig } from "@minutes/contracts";
import type { StoreConfig } from "./database.js";

/**
 * The store settings for the configured database.
 *
 * @example
 * PublicationStore.layer(storeConfigFromDatabaseConfig(config.database))
 */
export const storeConfigFromDatabaseConfig = (database: MinutesConfig["database"]): StoreConfig =>
  database.type === "postgresql"
    ? { type: "postgresql", url: database.url }
    : { type: "sqlite", sqlitePath: database.sqlite_path };
