/**
 * The load balancer's read-only view of the server registry (table
 * `servers`, written by chat servers' heartbeats): which servers are live,
 * with their advertised client address and client count. Liveness is judged
 * by the database clock, exactly like the chat servers' own registry, so the
 * LB and the servers agree on who is alive without synchronised clocks.
 *
 * The LB reads the table itself instead of importing the chat server's
 * registry module: chat servers depend on this package (ticket verification),
 * so depending back on them would make the two packages circular.
 *
 * @example
 * ```ts
 * import { connectStore } from "@fastchat/db";
 * import { liveServers } from "@fastchat/lb/live_servers";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres");
 * for (const s of await liveServers(sql)) console.log(s.id, `${s.host}:${s.port}`, s.clients);
 * await sql.end();
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { LIVENESS_MS } from "@fastchat/lib/cluster";
import { FastChatError } from "@fastchat/lib/errors";

/** A server whose heartbeat is older than this is dead (shared with the servers). */
export { LIVENESS_MS };

/**
 * One registered chat server as the LB sees it.
 *
 * @example
 * ```ts
 * import type { ServerSummary } from "@fastchat/lb/live_servers";
 * const s: ServerSummary = {
 *   id: "fc-7701", host: "127.0.0.1", port: 7701, clients: 3, draining: false, ageMs: 420,
 * };
 * ```
 */
export interface ServerSummary {
  /** Server id (also what tickets name). */
  id: string;
  /** Advertised client-facing host. */
  host: string;
  /** Advertised client-facing port. */
  port: number;
  /** Connected clients at its last heartbeat. */
  clients: number;
  /** Whether it is shutting down (gets no new clients). */
  draining: boolean;
  /** Milliseconds since its last heartbeat (database clock). */
  ageMs: number;
  /** Whether its heartbeat is fresh (see {@link LIVENESS_MS}). */
  live: boolean;
}

function toSummary(r: Record<string, unknown>): ServerSummary {
  const ageMs = Number(r.age_ms);
  return {
    id: r.id as string,
    host: r.host as string,
    port: Number(r.port),
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

/**
 * Servers with a fresh heartbeat, ordered by id (draining ones included; see
 * `draining`). Throws `STORE_UNAVAILABLE` when the store cannot be read.
 *
 * @example
 * ```ts
 * import { liveServers } from "@fastchat/lb/live_servers";
 * declare const sql: import("postgres").Sql;
 * const open = (await liveServers(sql)).filter((s) => !s.draining);
 * ```
 */
export async function liveServers(sql: Sql): Promise<ServerSummary[]> {
  try {
    const rows = await sql`select id, host, port, clients, draining,
        (extract(epoch from (now() - heartbeat_at)) * 1000)::int8 as age_ms
      from servers where heartbeat_at >= now() - ${LIVENESS_MS} * interval '1 millisecond'
      order by id`;
    // The query's filter is authoritative; `live` is true for all of these.
    return rows.map((r) => ({ ...toSummary(r), live: true }));
  } catch (e) {
    throw storeError(e);
  }
}

/**
 * Every registered server, live or not, ordered by id (for status tables).
 * Throws `STORE_UNAVAILABLE` when the store cannot be read.
 *
 * @example
 * ```ts
 * import { allServers } from "@fastchat/lb/live_servers";
 * declare const sql: import("postgres").Sql;
 * const dead = (await allServers(sql)).filter((s) => !s.live);
 * ```
 */
export async function allServers(sql: Sql): Promise<ServerSummary[]> {
  try {
    const rows = await sql`select id, host, port, clients, draining,
        (extract(epoch from (now() - heartbeat_at)) * 1000)::int8 as age_ms
      from servers order by id`;
    return rows.map(toSummary);
  } catch (e) {
    throw storeError(e);
  }
}
