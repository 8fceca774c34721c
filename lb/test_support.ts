/**
 * Test support for the load balancer (not published): fake registry rows,
 * so tests can simulate live, stale and draining chat servers without
 * running them, and a started-and-stopped {@link LoadBalancer}.
 *
 * @example
 * ```ts
 * import { insertServer } from "./test_support.ts";
 * declare const sql: import("postgres").Sql;
 * await insertServer(sql, { id: "fc-1", port: 7701 });
 * await insertServer(sql, { id: "fc-old", port: 7702, ageMs: 10_000 }); // dead
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { LoadBalancer, type LoadBalancerOptions } from "./lb_server.ts";
import { TicketSigner } from "./ticket_signer.ts";

/** A fake registry row; `ageMs` is how old its heartbeat is (default 0: live). */
export interface FakeServer {
  id: string;
  port: number;
  host?: string;
  clients?: number;
  draining?: boolean;
  ageMs?: number;
}

/** Inserts (or replaces) a `servers` row with its heartbeat `ageMs` ago by the database clock. */
export async function insertServer(sql: Sql, s: FakeServer): Promise<void> {
  const host = s.host ?? "127.0.0.1";
  const clients = s.clients ?? 0;
  const draining = s.draining ?? false;
  const ageMs = s.ageMs ?? 0;
  await sql`insert into servers
      (id, host, port, peer_host, peer_port, public_key, clients, draining, heartbeat_at)
    values (${s.id}, ${host}, ${s.port}, ${host}, ${s.port + 1000}, ${new Uint8Array(32)},
      ${clients}, ${draining}, now() - ${ageMs} * interval '1 millisecond')
    on conflict (id) do update set host = excluded.host, port = excluded.port,
      clients = excluded.clients, draining = excluded.draining,
      heartbeat_at = excluded.heartbeat_at`;
}

/** Runs `fn` with a load balancer on a free port over the database at `url`. */
export async function withLoadBalancer(
  url: string,
  opts: Partial<LoadBalancerOptions>,
  fn: (lb: LoadBalancer, sql: Sql) => Promise<void>,
): Promise<void> {
  const sql = connectStore(url, { max: 2 });
  let lb: LoadBalancer | undefined;
  try {
    lb = await LoadBalancer.start({
      sql,
      signer: opts.signer ?? await TicketSigner.generate(),
      port: 0,
      rate: 0,
      ...opts,
    });
    await fn(lb, sql);
  } finally {
    await lb?.close();
    await sql.end();
  }
}
