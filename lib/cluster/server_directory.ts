/**
 * Reads of the server registry (table `servers`, written by the chat
 * servers' registration and heartbeats): which servers are live, where they
 * listen for clients and peers, and how many clients they hold. Liveness is
 * judged by the database clock ({@link LIVENESS_MS}), so chat servers (which
 * find their peers here) and load balancers (which pick among them) agree on
 * who is alive without synchronised clocks. This is the one place that
 * writes the liveness condition in SQL ({@link heartbeatFresh},
 * {@link heartbeatStale}).
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * import { liveServers } from "@fastchat/lib/cluster/server_directory";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres");
 * for (const s of await liveServers(sql)) console.log(s.id, `${s.host}:${s.port}`, s.clients);
 * await sql.end();
 * ```
 * @module
 */
import type { PendingQuery, Row, Sql } from "postgres";
import { FastChatError } from "../errors.ts";
import { LIVENESS_MS } from "./timing.ts";

/**
 * One registered chat server as its peers and the load balancers see it.
 *
 * @example
 * ```ts
 * import type { RegisteredServer } from "@fastchat/lib/cluster/server_directory";
 * const s: RegisteredServer = {
 *   id: "fc-7701", host: "127.0.0.1", port: 7701, peerHost: "127.0.0.1", peerPort: 40001,
 *   publicKey: new Uint8Array(32), clients: 3, draining: false, ageMs: 420,
 * };
 * ```
 */
export interface RegisteredServer {
  /** Server id (also what tickets name). */
  id: string;
  /** Advertised client-facing host. */
  host: string;
  /** Advertised client-facing port. */
  port: number;
  /** Where it accepts server-to-server links. */
  peerHost: string;
  /** Its peer port. */
  peerPort: number;
  /** Its Ed25519 public key (authenticates its peer links). */
  publicKey: Uint8Array;
  /** Connected clients at its last heartbeat. */
  clients: number;
  /** Whether it is shutting down (gets no new clients). */
  draining: boolean;
  /** Milliseconds since its last heartbeat (database clock). */
  ageMs: number;
}

/**
 * A registered server with its liveness, as {@link liveServers} and
 * {@link allServers} return it.
 *
 * @example
 * ```ts
 * import type { ServerStatus } from "@fastchat/lib/cluster/server_directory";
 * const dead = (all: ServerStatus[]) => all.filter((s) => !s.live);
 * ```
 */
export interface ServerStatus extends RegisteredServer {
  /** Whether its heartbeat is fresh (see {@link LIVENESS_MS}). */
  live: boolean;
}

/**
 * What a status table shows of a server (no peer address or key).
 *
 * @example
 * ```ts
 * import type { ServerSummary } from "@fastchat/lib/cluster/server_directory";
 * const s: ServerSummary = {
 *   id: "fc-7701", host: "127.0.0.1", port: 7701, clients: 3, draining: false, ageMs: 420,
 *   live: true,
 * };
 * ```
 */
export type ServerSummary = Omit<ServerStatus, "peerHost" | "peerPort" | "publicKey">;

/**
 * The SQL condition "heartbeat no older than {@link LIVENESS_MS}" on
 * `servers.heartbeat_at` (database clock), for use inside a query.
 *
 * @example
 * ```ts
 * import { heartbeatFresh } from "@fastchat/lib/cluster/server_directory";
 * declare const sql: import("postgres").Sql;
 * const [{ n }] = await sql`select count(*)::int as n from servers where ${heartbeatFresh(sql)}`;
 * ```
 */
export function heartbeatFresh(sql: Sql): PendingQuery<Row[]> {
  return sql`servers.heartbeat_at >= now() - ${LIVENESS_MS} * interval '1 millisecond'`;
}

/**
 * The SQL condition "heartbeat older than {@link LIVENESS_MS}" on
 * `servers.heartbeat_at`: the negation of {@link heartbeatFresh}.
 *
 * @example
 * ```ts
 * import { heartbeatStale } from "@fastchat/lib/cluster/server_directory";
 * declare const sql: import("postgres").Sql;
 * await sql`delete from presence where server_id in
 *   (select id from servers where ${heartbeatStale(sql)})`;
 * ```
 */
export function heartbeatStale(sql: Sql): PendingQuery<Row[]> {
  return sql`servers.heartbeat_at < now() - ${LIVENESS_MS} * interval '1 millisecond'`;
}

const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function toStatus(r: Row): ServerStatus {
  const ageMs = Number(r.age_ms);
  return {
    id: r.id as string,
    host: r.host as string,
    port: Number(r.port),
    peerHost: r.peer_host as string,
    peerPort: Number(r.peer_port),
    publicKey: u8(r.public_key as Uint8Array),
    clients: Number(r.clients),
    draining: r.draining as boolean,
    ageMs,
    live: ageMs <= LIVENESS_MS,
  };
}

function storeError(e: unknown): FastChatError {
  if (e instanceof FastChatError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new FastChatError(
    "STORE_UNAVAILABLE",
    `cannot read the server registry: ${message}`,
    undefined,
    { cause: e },
  );
}

async function select(sql: Sql, liveOnly: boolean): Promise<ServerStatus[]> {
  try {
    const rows = await sql`select id, host, port, peer_host, peer_port, public_key, clients,
        draining, (extract(epoch from (now() - heartbeat_at)) * 1000)::int8 as age_ms
      from servers ${liveOnly ? sql`where ${heartbeatFresh(sql)}` : sql``}
      order by id`;
    return rows.map(toStatus);
  } catch (e) {
    throw storeError(e);
  }
}

/**
 * Servers with a fresh heartbeat, ordered by id (draining ones included; see
 * `draining`). Throws `STORE_UNAVAILABLE` when the store cannot be read.
 *
 * @example
 * ```ts
 * import { liveServers } from "@fastchat/lib/cluster/server_directory";
 * declare const sql: import("postgres").Sql;
 * const open = (await liveServers(sql)).filter((s) => !s.draining);
 * ```
 */
export async function liveServers(sql: Sql): Promise<ServerStatus[]> {
  // The query's filter is authoritative; `live` is true for all of these.
  return (await select(sql, true)).map((s) => ({ ...s, live: true }));
}

/**
 * Every registered server, live or not, ordered by id (for status tables).
 * Throws `STORE_UNAVAILABLE` when the store cannot be read.
 *
 * @example
 * ```ts
 * import { allServers } from "@fastchat/lib/cluster/server_directory";
 * declare const sql: import("postgres").Sql;
 * const dead = (await allServers(sql)).filter((s) => !s.live);
 * ```
 */
export function allServers(sql: Sql): Promise<ServerStatus[]> {
  return select(sql, false);
}
