/**
 * Throwaway databases for tests: an embedded PGlite server always, and a
 * fresh database on the real PostgreSQL at `FASTCHAT_TEST_DATABASE_URL`
 * when that is set (CI sets it). Each test gets its own database, so tests
 * run in parallel and leave nothing behind.
 *
 * @example
 * ```ts
 * import { DB_KINDS, openTestDb } from "@fastchat/testing";
 * for (const kind of DB_KINDS) {
 *   const db = await openTestDb(kind);
 *   console.log(kind, db.url);
 *   await db.close();
 * }
 * ```
 * @module
 */
import postgres from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { EmbeddedDatabase } from "@fastchat/db/embedded";
import { migrate } from "@fastchat/db/migrate";

/** Kinds of database the suite runs against. */
export type DbKind = "pglite" | "postgres";

/** URL of the real PostgreSQL for tests (`FASTCHAT_TEST_DATABASE_URL`), or undefined. */
export const TEST_PG_URL: string | undefined = Deno.env.get("FASTCHAT_TEST_DATABASE_URL") ||
  undefined;

/** PGlite always; real PostgreSQL too when {@link TEST_PG_URL} is set. */
export const DB_KINDS: readonly DbKind[] = TEST_PG_URL ? ["pglite", "postgres"] : ["pglite"];

/** A throwaway, migrated database. */
export interface TestDb {
  kind: DbKind;
  url: string;
  /** Stops the embedded server, or drops the PostgreSQL database. */
  close(): Promise<void>;
}

/**
 * Creates an empty, migrated database of `kind` (`"postgres"` needs
 * {@link TEST_PG_URL}).
 *
 * @example
 * ```ts
 * import { openTestDb } from "@fastchat/testing";
 * const db = await openTestDb("pglite");
 * await db.close();
 * ```
 */
export async function openTestDb(kind: DbKind): Promise<TestDb> {
  if (kind === "pglite") {
    const db = await EmbeddedDatabase.start({ port: 0 });
    return { kind, url: db.url, close: () => db.close() };
  }
  const fresh = await createPostgresDatabase();
  try {
    const sql = connectStore(fresh.url, { max: 1 });
    try {
      await migrate(sql);
    } finally {
      await sql.end();
    }
  } catch (e) {
    await fresh.drop();
    throw e;
  }
  return { kind, url: fresh.url, close: fresh.drop };
}

/**
 * Runs `fn` with a connection pool (at most `max` connections, default 2) on
 * a throwaway database of `kind`, then ends the pool and closes the
 * database whatever `fn` did.
 *
 * @example
 * ```ts
 * import { withTestSql } from "@fastchat/testing";
 * const n = await withTestSql("pglite", async (sql) => (await sql`select 1 as n`)[0].n);
 * console.log(n); // 1
 * ```
 */
export async function withTestSql<T>(
  kind: DbKind,
  fn: (sql: postgres.Sql) => Promise<T>,
  opts: { max?: number } = {},
): Promise<T> {
  const db = await openTestDb(kind);
  try {
    const sql = connectStore(db.url, { max: opts.max ?? 2 });
    try {
      return await fn(sql);
    } finally {
      await sql.end();
    }
  } finally {
    await db.close();
  }
}

/**
 * Runs `fn` with the URL of a new, empty (not migrated) database on
 * {@link TEST_PG_URL}, then drops it, forcefully. Does nothing when
 * `TEST_PG_URL` is unset.
 *
 * @example
 * ```ts
 * import { withFreshPostgres } from "@fastchat/testing";
 * await withFreshPostgres(async (url) => console.log(url));
 * ```
 */
export async function withFreshPostgres(fn: (url: string) => Promise<void>): Promise<void> {
  if (!TEST_PG_URL) return;
  const fresh = await createPostgresDatabase();
  try {
    await fn(fresh.url);
  } finally {
    await fresh.drop();
  }
}

/**
 * {@link withFreshPostgres} with a connection pool (`connectStore`'s
 * defaults) on the new, empty database instead of its URL; the pool is ended
 * before the database is dropped. Does nothing when `TEST_PG_URL` is unset.
 *
 * @example
 * ```ts
 * import { withFreshPostgresSql } from "@fastchat/testing";
 * await withFreshPostgresSql(async (sql) => console.log(await sql`select 1 as one`));
 * ```
 */
export async function withFreshPostgresSql(
  fn: (sql: postgres.Sql) => Promise<void>,
): Promise<void> {
  await withFreshPostgres(async (url) => {
    const sql = connectStore(url);
    try {
      await fn(sql);
    } finally {
      await sql.end();
    }
  });
}

/** Creates `fc_test_<random>` next to {@link TEST_PG_URL}; `drop` removes it. */
async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_PG_URL) throw new Error("FASTCHAT_TEST_DATABASE_URL is not set");
  const name = `fc_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(TEST_PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (e) {
    await admin.end();
    throw e;
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * Inserts placeholder accounts (no usable credentials) for tests that need
 * users to exist: messages, groups and files refer to them.
 *
 * @example
 * ```ts
 * import { insertTestUsers, openTestDb } from "@fastchat/testing";
 * import { connectStore } from "@fastchat/db/connect";
 * const db = await openTestDb("pglite");
 * const sql = connectStore(db.url);
 * await insertTestUsers(sql, ["alice", "bob"]);
 * await sql.end();
 * await db.close();
 * ```
 */
export async function insertTestUsers(sql: postgres.Sql, names: string[]): Promise<void> {
  const bytes = (n: number) => new Uint8Array(n);
  for (const u of names) {
    await sql`insert into users (username, auth_hash, auth_salt, auth_params, kdf_salt,
      kdf_iterations, enc_key, sign_key, key_backup) values (${u}, ${bytes(32)},
      ${bytes(16)}, 'scrypt', ${bytes(16)}, 600000, ${bytes(294)}, ${bytes(32)}, ${bytes(100)})`;
  }
}
