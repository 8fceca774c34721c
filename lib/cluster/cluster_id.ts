/**
 * The cluster's identity: servers that share a database are one cluster,
 * and the database holds its id (table `cluster_identity`, one row with 32
 * random hex digits, made by migration 0006 when the schema is first
 * migrated). It is the default NATS subject namespace of `--fabric nats`,
 * so clusters with different databases that share one NATS never see each
 * other's traffic, while every server of one cluster finds the others
 * without being told a namespace.
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * import { readClusterId } from "@fastchat/lib/cluster/cluster_id";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres");
 * console.log(await readClusterId(sql)); // e.g. "3f0c9e1b7a5d4c2e9f8a6b1c0d2e4f6a"
 * await sql.end();
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { FastChatError } from "../errors.ts";

/**
 * What a cluster id looks like: 32 lowercase hex digits (also a valid NATS
 * subject token).
 *
 * @example
 * ```ts
 * import { CLUSTER_ID } from "@fastchat/lib/cluster/cluster_id";
 * CLUSTER_ID.test("0123456789abcdef0123456789abcdef"); // true
 * ```
 */
export const CLUSTER_ID: RegExp = /^[0-9a-f]{32}$/;

/**
 * Reads the cluster id of the (migrated) database behind `sql`. A database
 * without one (not migrated to version 6) is `INVALID_CONFIG`; one that
 * cannot be read fails as the query does.
 *
 * @example
 * ```ts
 * import { readClusterId } from "@fastchat/lib/cluster/cluster_id";
 * declare const sql: import("postgres").Sql;
 * const namespace = await readClusterId(sql); // the default NATS namespace
 * ```
 */
export async function readClusterId(sql: Sql): Promise<string> {
  let rows: { id: string }[];
  try {
    rows = await sql<{ id: string }[]>`select id from cluster_identity`;
  } catch (e) {
    if ((e as { code?: string }).code === "42P01") rows = []; // undefined_table: not migrated
    else throw e;
  }
  const id = rows[0]?.id;
  if (id === undefined || !CLUSTER_ID.test(id)) {
    throw new FastChatError(
      "INVALID_CONFIG",
      "the database has no cluster id: migrate it first (every server and load balancer does)",
    );
  }
  return id;
}
