/**
 * Holding up a server's writes to one table: a transaction on a connection
 * of its own takes an exclusive lock on the table and keeps it until
 * released, so every write to it waits (reads of other tables go on). For
 * tests of what a server does while its store writes are slow. PostgreSQL
 * only: PGlite serves one connection at a time, so the lock would hold up
 * everything.
 *
 * @example
 * ```ts
 * import { holdTableWrites } from "@fastchat/testing/table_lock";
 * import { connectStore } from "@fastchat/db/connect";
 * declare const url: string;
 * const sql = connectStore(url, { max: 1 });
 * const hold = await holdTableWrites(sql, "messages");
 * // … the servers accept messages they cannot write yet …
 * await hold.release();
 * await sql.end();
 * ```
 * @module
 */
import type postgres from "postgres";

/** A held table lock: {@link TableHold.release} ends the transaction. */
export interface TableHold {
  /** Releases the lock (again: no effect) and resolves once the transaction has ended. */
  release(): Promise<void>;
}

/**
 * Locks `table` in exclusive mode on one of `sql`'s connections and resolves
 * once the lock is held.
 *
 * @example
 * ```ts
 * import { holdTableWrites } from "@fastchat/testing/table_lock";
 * import type postgres from "postgres";
 * declare const sql: postgres.Sql;
 * const hold = await holdTableWrites(sql, "messages");
 * await hold.release();
 * ```
 */
export async function holdTableWrites(sql: postgres.Sql, table: string): Promise<TableHold> {
  let locked!: () => void;
  let release!: () => void;
  const isLocked = new Promise<void>((r) => locked = r);
  const held = new Promise<void>((r) => release = r);
  const tx = sql.begin(async (tx) => {
    await tx`lock table ${tx(table)} in exclusive mode`;
    locked();
    await held;
  });
  await Promise.race([isLocked, tx]);
  return {
    release: async () => {
      release();
      await tx;
    },
  };
}
