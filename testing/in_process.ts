/**
 * A chat server or a load balancer running in the test's own process, on a
 * free port over a test database, for the length of a callback: started
 * before it, closed after it even when it throws.
 *
 * @example
 * ```ts
 * import { openTestDb, RawPeer, withChatServer } from "@fastchat/testing";
 * const db = await openTestDb("pglite");
 * await withChatServer(db, { sendRate: 100 }, async (server) => {
 *   const peer = await RawPeer.connect("127.0.0.1", server.port);
 *   peer.close();
 * });
 * await db.close();
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { LoadBalancer, type LoadBalancerOptions } from "@fastchat/lb/lb_server";
import { TicketSigner } from "@fastchat/lb/ticket_signer";
import { ChatServer, type ChatServerOptions } from "@fastchat/server/chat_server";
import type { TestDb } from "./test_db.ts";
import type { RawPeer } from "./raw_peer.ts";
import { waitUntil } from "@fastchat/lib/wait_until";

/**
 * Runs `fn` with an in-process chat server on a free port over `db` (cheap
 * scrypt cost; `extra` overrides any option), and always closes it.
 *
 * @example
 * ```ts
 * import { withChatServer } from "@fastchat/testing";
 * import type { TestDb } from "@fastchat/testing";
 * declare const db: TestDb;
 * await withChatServer(db, {}, async (server) => console.log(server.port));
 * ```
 */
export async function withChatServer(
  db: TestDb,
  extra: Partial<ChatServerOptions>,
  fn: (s: ChatServer) => Promise<void>,
): Promise<void> {
  const sql = connectStore(db.url, { max: 2 });
  try {
    const server = await ChatServer.start({
      sql,
      port: 0,
      scrypt: { N: 1024, r: 8, p: 1 },
      ...extra,
    });
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  } finally {
    await sql.end();
  }
}

/**
 * Runs `fn` with a load balancer on a free port over the database at `url`
 * (a fresh ticket key and no rate limit unless `opts` says otherwise), and
 * always closes it. `fn` also gets a connection to the database.
 *
 * @example
 * ```ts
 * import { insertServer, withLoadBalancer } from "@fastchat/testing";
 * declare const url: string;
 * await withLoadBalancer(url, {}, async (lb, sql) => {
 *   await insertServer(sql, { id: "fc-1", port: 7701 });
 *   console.log(lb.port);
 * });
 * ```
 */
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

/**
 * Starts one in-process chat server per connection pool in `pools` (cheap
 * scrypt cost, no login rate limit, 100 ms heartbeats, plus `cluster(i)` for
 * server i and `extra` for all), pushing each onto `started` as it starts (so the caller's
 * cleanup closes the ones that did), and resolves once every server has a
 * peer link to every other.
 *
 * @example
 * ```ts
 * import { startLinkedServers } from "@fastchat/testing";
 * import type { ChatServer } from "@fastchat/server/chat_server";
 * import type { Sql } from "postgres";
 * declare const pools: Sql[];
 * const servers: ChatServer[] = [];
 * try {
 *   await startLinkedServers(pools, servers);
 * } finally {
 *   for (const s of servers) await s.close();
 * }
 * ```
 */
export async function startLinkedServers(
  pools: Sql[],
  started: ChatServer[],
  cluster: (i: number) => ChatServerOptions["cluster"] = () => ({}),
  extra: Partial<ChatServerOptions> = {},
): Promise<void> {
  for (const [i, sql] of pools.entries()) {
    started.push(
      await ChatServer.start({
        sql,
        port: 0,
        scrypt: { N: 1024, r: 8, p: 1 },
        anonRate: 1000,
        ...extra,
        cluster: { heartbeatMs: 100, ...cluster(i) },
      }),
    );
  }
  await waitUntil(
    () => started.every((s) => s.linkedPeers.length === pools.length - 1),
    15_000,
    `the ${pools.length} servers to link`,
  );
}

/**
 * Closes what a test of linked servers opened on them: its raw peers first
 * (waiting until each connection has closed), then the servers (their
 * pools and database are the caller's).
 *
 * @example
 * ```ts
 * import { closePeersAndServers, type RawPeer } from "@fastchat/testing";
 * import type { ChatServer } from "@fastchat/server/chat_server";
 * const peers: RawPeer[] = [];
 * const servers: ChatServer[] = [];
 * await closePeersAndServers(peers, servers);
 * ```
 */
export async function closePeersAndServers(peers: RawPeer[], servers: ChatServer[]): Promise<void> {
  for (const p of peers) {
    p.close();
    await p.closed;
  }
  for (const s of servers) await s.close();
}
