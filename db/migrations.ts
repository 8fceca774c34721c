/**
 * The ordered list of schema migration files: the one source of truth for
 * which `db/migrations/NNNN_name.sql` files exist and in which order they are
 * applied. A static list (rather than a directory listing) keeps migrations
 * loadable from a `file:` URL, a published `https:` URL and a `deno compile`
 * binary alike; `migrations_test.ts` checks it against the directory.
 *
 * @example
 * ```ts
 * import { MIGRATION_FILES } from "@fastchat/db/migrations";
 * console.log(MIGRATION_FILES[0]); // "0001_init.sql"
 * ```
 * @module
 */

/**
 * File names under `db/migrations/`, in the order they are applied. Append
 * new files here; never reorder, rename or edit a file that has shipped.
 *
 * @example
 * ```ts
 * import { MIGRATION_FILES } from "@fastchat/db/migrations";
 * for (const file of MIGRATION_FILES) console.log(file);
 * ```
 */
export const MIGRATION_FILES: readonly string[] = Object.freeze([
  "0001_init.sql",
  "0002_cluster.sql",
  "0003_login_guard.sql",
  "0004_groups_files.sql",
  "0005_server_tls.sql",
  "0006_cluster_id.sql",
]);

/** The shape every migration file name must have: `NNNN_snake_name.sql`. */
const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/**
 * Splits a migration file name into its version and name, or returns
 * `undefined` when the name does not follow `NNNN_snake_name.sql`.
 *
 * @example
 * ```ts
 * import { parseMigrationFile } from "@fastchat/db/migrations";
 * parseMigrationFile("0001_init.sql"); // { version: 1, name: "init" }
 * parseMigrationFile("init.sql"); // undefined
 * ```
 */
export function parseMigrationFile(
  file: string,
): { version: number; name: string } | undefined {
  const m = FILE_PATTERN.exec(file);
  if (!m) return undefined;
  return { version: Number(m[1]), name: m[2] };
}
