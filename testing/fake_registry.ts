/**
 * Fake rows of the server registry (the `servers` table), so tests can show
 * the load balancer and the servers live, stale and draining chat servers
 * without running them.
 *
 * @example
 * ```ts
 * import { insertServer } from "@fastchat/testing";
 * declare const sql: import("postgres").Sql;
 * await insertServer(sql, { id: "fc-1", port: 7701 });
 * await insertServer(sql, { id: "fc-old", port: 7702, ageMs: 10_000 }); // dead
 * ```
 * @module
 */
import type { Sql } from "postgres";

/** A fake registry row; `ageMs` is how old its heartbeat is (default 0: live). */
export interface FakeServer {
  id: string;
  port: number;
  host?: string;
  /** Whether its client port speaks TLS (default false). */
  tls?: boolean;
  clients?: number;
  draining?: boolean;
  ageMs?: number;
}

/**
 * Inserts (or replaces) a `servers` row with its heartbeat `ageMs` ago by
 * the database clock (its peer port is `port + 1000`, its key all zeros).
 *
 * @example
 * ```ts
 * import { insertServer } from "@fastchat/testing";
 * declare const sql: import("postgres").Sql;
 * await insertServer(sql, { id: "fc-1", port: 7701, clients: 3 });
 * await insertServer(sql, { id: "fc-2", port: 7702, draining: true });
 * ```
 */
export async function insertServer(sql: Sql, s: FakeServer): Promise<void> {
  const host = s.host ?? "127.0.0.1";
  const clients = s.clients ?? 0;
  const draining = s.draining ?? false;
  const ageMs = s.ageMs ?? 0;
  const tls = s.tls ?? false;
  await sql`insert into servers
      (id, host, port, tls, peer_host, peer_port, public_key, clients, draining, heartbeat_at)
    values (${s.id}, ${host}, ${s.port}, ${tls}, ${host}, ${s.port + 1000}, ${new Uint8Array(32)},
      ${clients}, ${draining}, now() - ${ageMs} * interval '1 millisecond')
    on conflict (id) do update set host = excluded.host, port = excluded.port, tls = excluded.tls,
      clients = excluded.clients, draining = excluded.draining,
      heartbeat_at = excluded.heartbeat_at`;
}
