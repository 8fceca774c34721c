/**
 * A chat store on a throwaway database, with test users in it: the start of
 * every test of a server part that reads and writes through a
 * {@link ChatStore} against PGlite and (when configured) PostgreSQL.
 *
 * @example
 * ```ts
 * import { DB_KINDS, withTestStore } from "@fastchat/testing";
 * for (const kind of DB_KINDS) {
 *   await withTestStore(kind, ["alice", "bob"], async (store) => {
 *     console.log(await store.pendingFor("bob", 0, 10)); // []
 *   });
 * }
 * ```
 * @module
 */
import type postgres from "postgres";
import { ChatStore } from "@fastchat/server/store";
import { type DbKind, insertTestUsers, withTestSql } from "./test_db.ts";

/**
 * Runs `fn` with a {@link ChatStore} on a new database of `kind` (two
 * connections) in which `users` exist, then closes and removes it.
 *
 * @example
 * ```ts
 * import { withTestStore } from "@fastchat/testing";
 * await withTestStore("pglite", ["alice"], async (store, sql) => {
 *   console.log((await sql`select count(*)::int as n from users`)[0].n); // 1
 * });
 * ```
 */
export function withTestStore(
  kind: DbKind,
  users: string[],
  fn: (store: ChatStore, sql: postgres.Sql) => Promise<void>,
): Promise<void> {
  return withTestSql(kind, async (sql) => {
    await insertTestUsers(sql, users);
    await fn(new ChatStore(sql), sql);
  });
}
