/**
 * Reads of the server registry (table `servers`, written by the chat
 * servers' registration and heartbeats): which servers are live, where they
 * listen for clients and peers, and how many clients they hold. Liveness is
 * judged by the database clock ({@link LIVENESS_MS}), so chat servers (which
 * find their peers here) and load balancers (which pick among them) agree on
 * who is alive without synchronised clocks. This is the one place that
 * writes the liveness condition in SQL ({@link heartbeatFresh},
 * {@link heartbeatStale}) and the sweep that forgets servers dead for longer
 * than a retention ({@link sweepDeadServers}).
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * import { liveServers } from "@fastchat/lib/cluster/server_directory";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres");
 * for (const s of await liveServers(sql)) {
 *   console.log(s.id, `${s.tls ? "tls" : "tcp"}://${s.host}:${s.port}`, s.clients);
 * }
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
 *   id: "fc-7701", host: "127.0.0.1", port: 7701, tls: false, peerHost: "127.0.0.1",
 *   peerPort: 40001, publicKey: new Uint8Array(32), clients: 3, draining: false, ageMs: 420,
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
  /** Whether that port speaks TLS (clients must connect with TLS). */
  tls: boolean;
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
 *   id: "fc-7701", host: "127.0.0.1", port: 7701, tls: false, clients: 3, draining: false,
 *   ageMs: 420, live: true,
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
    tls: r.tls === true,
    peerHost: r.peer_host as string,
    peerPort: Number(r.peer_port),
    publicKey: u8(r.public_key as Uint8Array),
    clients: Number(r.clients),
    draining: r.draining as boolean,
    ageMs,
    live: ageMs <= LIVENESS_MS,
  };
}

function storeError(e: unknown, what: "read" | "sweep" = "read"): FastChatError {
  if (e instanceof FastChatError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new FastChatError(
    "STORE_UNAVAILABLE",
    `cannot ${what} the server registry: ${message}`,
    undefined,
    { cause: e },
  );
}

async function select(sql: Sql, liveOnly: boolean): Promise<ServerStatus[]> {
  try {
    const rows = await sql`select id, host, port, tls, peer_host, peer_port, public_key, clients,
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

/**
 * Checks a retention for {@link sweepDeadServers}: a safe integer of
 * milliseconds longer than {@link LIVENESS_MS} (a shorter one would delete
 * live servers); throws `INVALID_CONFIG` naming `flag` otherwise.
 *
 * @example
 * ```ts
 * import { checkForgetAfterMs } from "@fastchat/lib/cluster/server_directory";
 * checkForgetAfterMs(35_000); // 35000
 * ```
 */
export function checkForgetAfterMs(ms: number, flag = "--forget-after"): number {
  if (!Number.isSafeInteger(ms) || ms <= LIVENESS_MS) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `${flag} must be a whole number of milliseconds above the liveness window ` +
        `(${LIVENESS_MS} ms), got ${ms}`,
    );
  }
  return ms;
}

/**
 * One idempotent statement, run by every chat server's heartbeat and by
 * load balancers: deletes the presence rows of every dead server (heartbeat
 * older than {@link LIVENESS_MS}) and the registry rows of servers dead for
 * longer than `forgetAfterMs`, and returns the ids of the servers forgotten
 * now. Safe to run concurrently from several processes (a row deleted by
 * another is skipped). Throws `INVALID_CONFIG` for a retention that is not
 * longer than the liveness window (see {@link checkForgetAfterMs}),
 * `STORE_UNAVAILABLE` when the store fails.
 *
 * @example
 * ```ts
 * import { sweepDeadServers } from "@fastchat/lib/cluster/server_directory";
 * import { DEFAULT_FORGET_AFTER_MS } from "@fastchat/lib/cluster/timing";
 * declare const sql: import("postgres").Sql;
 * const forgotten = await sweepDeadServers(sql, DEFAULT_FORGET_AFTER_MS);
 * if (forgotten.length > 0) console.log("forgot", forgotten);
 * ```
 */
export async function sweepDeadServers(sql: Sql, forgetAfterMs: number): Promise<string[]> {
  checkForgetAfterMs(forgetAfterMs);
  try {
    // Both parts see the same snapshot: servers forgotten now are stale too,
    // so their presence goes with them.
    const rows = await sql`with dead_presence as (
        delete from presence where server_id in (select id from servers where ${
      heartbeatStale(sql)
    })
      )
      delete from servers
      where servers.heartbeat_at < now() - ${forgetAfterMs} * interval '1 millisecond'
      returning id`;
    return rows.map((r) => r.id as string).sort();
  } catch (e) {
    throw storeError(e, "sweep");
  }
}
