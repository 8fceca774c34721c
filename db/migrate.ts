/**
 * Schema migrations: loads the ordered `db/migrations/NNNN_name.sql` files and
 * applies the missing ones exactly once, under an advisory lock, in one
 * transaction, recording a checksum of each so an edited file is caught.
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * import { migrate } from "@fastchat/db/migrate";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres");
 * const { applied } = await migrate(sql);
 * console.log("applied", applied);
 * await sql.end();
 * ```
 * @module
 */
import type postgres from "postgres";
import { FastChatError } from "@fastchat/lib/errors";
import { MIGRATION_FILES, parseMigrationFile } from "./migrations.ts";

/** One schema migration file, loaded and checksummed. */
export interface Migration {
  /** The `NNNN` prefix as a number; migrations apply in increasing order. */
  version: number;
  /** The part after the prefix, e.g. `"init"`. */
  name: string;
  /** The file name, e.g. `"0001_init.sql"`. */
  file: string;
  /** The SQL text (may hold several statements). */
  sql: string;
  /** Lower-case hex SHA-256 of the text with line endings normalised to `\n`. */
  checksum: string;
}

/** What {@link migrate} did: the versions it applied now, in order. */
export interface MigrateResult {
  /** Versions applied by this call; empty when the schema was up to date. */
  applied: number[];
}

/**
 * One open transaction, as seen by {@link migrateWith}: enough to run the
 * migration bookkeeping on any driver (postgres.js, PGlite, ...).
 */
export interface MigrationTransaction {
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs a script of one or more statements without parameters. */
  exec(text: string): Promise<void>;
}

/** Runs `fn` inside one transaction (committed when `fn` resolves). */
export type MigrationTransactor = <T>(
  fn: (tx: MigrationTransaction) => Promise<T>,
) => Promise<T>;

/** Key of the transaction-scoped advisory lock serialising migrators ("FCmg"). */
export const MIGRATION_LOCK_ID = 0x46436d67;

const CREATE_TABLE = `CREATE TABLE schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function readText(url: URL): Promise<string> {
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.text();
  } catch (fetchError) {
    // Inside a `deno compile` binary the embedded files are visible to the
    // file-system APIs; fall back to them for file: URLs.
    if (url.protocol === "file:") {
      try {
        return await Deno.readTextFile(url);
      } catch {
        // report the original failure below
      }
    }
    throw new FastChatError("INVALID_CONFIG", `cannot read migration ${url.href}`, {
      url: url.href,
    }, { cause: fetchError });
  }
}

/**
 * Loads every migration listed in {@link MIGRATION_FILES}, in order, from
 * beside this module (works from `file:`, `https:` and compiled binaries).
 *
 * @example
 * ```ts
 * import { listMigrations } from "@fastchat/db/migrate";
 * for (const m of await listMigrations()) console.log(m.version, m.file, m.checksum);
 * ```
 */
export async function listMigrations(): Promise<Migration[]> {
  const out: Migration[] = [];
  for (const file of MIGRATION_FILES) {
    const parsed = parseMigrationFile(file);
    if (!parsed) {
      throw new FastChatError("INVALID_CONFIG", `bad migration file name: ${file}`, { file });
    }
    const prev = out.at(-1);
    if (prev && parsed.version <= prev.version) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `migration ${file} is out of order after ${prev.file}`,
        { file },
      );
    }
    const sql = await readText(new URL(`./migrations/${file}`, import.meta.url));
    const checksum = await sha256Hex(sql.replaceAll("\r\n", "\n"));
    out.push({ ...parsed, file, sql, checksum });
  }
  return out;
}

async function applyMissing(
  tx: MigrationTransaction,
  migrations: Migration[],
): Promise<number[]> {
  await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`);
  const [{ present }] = await tx.query(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  if (!present) await tx.exec(CREATE_TABLE);
  const rows = await tx.query("SELECT version, name, checksum FROM schema_migrations");
  const done = new Map(rows.map((r) => [Number(r.version), r]));
  for (const m of migrations) {
    const row = done.get(m.version);
    if (row && row.checksum !== m.checksum) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `migration ${m.file} was changed after it was applied (checksum mismatch)`,
        { file: m.file, version: m.version, expected: String(row.checksum), actual: m.checksum },
      );
    }
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    await tx.exec(m.sql);
    await tx.query(
      "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
      [m.version, m.file, m.checksum],
    );
    applied.push(m.version);
  }
  return applied;
}

/**
 * Applies the missing migrations through any driver: `transact` must run its
 * callback in one transaction. Used by {@link migrate} and by the embedded
 * server (directly on PGlite).
 *
 * @example
 * ```ts
 * import { PGlite } from "@electric-sql/pglite";
 * import { migrateWith } from "@fastchat/db/migrate";
 * const db = await PGlite.create();
 * await migrateWith((fn) =>
 *   db.transaction((tx) =>
 *     fn({
 *       query: async (text, params) => (await tx.query(text, params)).rows as Record<string, unknown>[],
 *       exec: async (text) => void await tx.exec(text),
 *     })
 *   )
 * );
 * ```
 */
export async function migrateWith(
  transact: MigrationTransactor,
  migrations?: Migration[],
): Promise<MigrateResult> {
  const list = migrations ?? await listMigrations();
  const applied = await transact((tx) => applyMissing(tx, list));
  return { applied };
}

/**
 * Brings the schema of `sql`'s database (its `search_path`) up to date.
 * Idempotent and safe when several processes start at once: a transaction
 * advisory lock serialises them, so each migration is applied exactly once.
 * Throws `FastChatError("INVALID_CONFIG")` naming the file when an applied
 * migration's checksum no longer matches.
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * import { migrate } from "@fastchat/db/migrate";
 * const sql = connectStore("postgres://postgres@127.0.0.1:5432/test");
 * console.log(await migrate(sql)); // { applied: [1] } the first time, then { applied: [] }
 * await sql.end();
 * ```
 */
export function migrate<T extends Record<string, unknown>>(
  sql: postgres.Sql<T>,
  migrations?: Migration[],
): Promise<MigrateResult> {
  return migrateWith(
    (fn) =>
      sql.begin((tx) =>
        fn({
          query: async (text, params) =>
            Array.from(await tx.unsafe(text, params as postgres.ParameterOrJSON<never>[])),
          exec: async (text) => {
            await tx.unsafe(text);
          },
        })
      ) as Promise<never>,
    migrations,
  );
}
