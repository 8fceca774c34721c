/**
 * FastChat's database package: connecting to the store (PostgreSQL or the
 * embedded PGlite server), schema migrations, and the embedded server.
 *
 * @example
 * ```ts
 * import { connectStore, migrate, resolveDatabaseUrl } from "@fastchat/db";
 * const sql = connectStore(resolveDatabaseUrl());
 * await migrate(sql);
 * await sql.end();
 * ```
 * @module
 */
export {
  type ConnectOptions,
  connectStore,
  DEFAULT_EMBEDDED_URL,
  redactDatabaseUrl,
  resolveDatabaseUrl,
  type Store,
  waitForDatabase,
} from "./connect.ts";
export {
  listMigrations,
  migrate,
  type MigrateResult,
  migrateWith,
  type Migration,
  MIGRATION_LOCK_ID,
  type MigrationTransaction,
  type MigrationTransactor,
} from "./migrate.ts";
export { MIGRATION_FILES } from "./migrations.ts";
export { EmbeddedDatabase, type EmbeddedOptions, type EmbeddedStats } from "./embedded_server.ts";
export { embeddedDatabaseUrl, generatePassword, withPassword } from "./credentials.ts";
