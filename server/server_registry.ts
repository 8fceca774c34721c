/**
 * The live server registry: each chat server registers itself (id,
 * advertised client and peer addresses, public key) and heartbeats every
 * second with its client count. A server is live while its heartbeat is
 * fresh (judged by the database clock, so machines need not agree on time).
 * Load balancers pick among live servers; servers find their peers here.
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { ServerRegistry } from "@fastchat/server/server_registry";
 * const sql = postgres("postgres://postgres@127.0.0.1:7432/postgres");
 * console.log(await ServerRegistry.liveServers(sql));
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { HEARTBEAT_MS, LIVENESS_MS } from "@fastchat/lib/cluster";
import { plainBytes } from "@fastchat/lib/crypto/bytes";
import { FastChatError } from "@fastchat/lib/errors";
import { type Logger, nullLogger } from "@fastchat/lib/logger";

/** One registered server as others see it. */
export interface ServerInfo {
  id: string;
  host: string;
  port: number;
  peerHost: string;
  peerPort: number;
  publicKey: Uint8Array;
  clients: number;
  draining: boolean;
  /** Milliseconds since its last heartbeat (database clock). */
  ageMs: number;
}

export { HEARTBEAT_MS, LIVENESS_MS };

function toInfo(r: Record<string, unknown>): ServerInfo {
  return {
    id: r.id as string,
    host: r.host as string,
    port: r.port as number,
    peerHost: r.peer_host as string,
    peerPort: r.peer_port as number,
    publicKey: plainBytes(r.public_key as Uint8Array),
    clients: r.clients as number,
    draining: r.draining as boolean,
    ageMs: Number(r.age_ms),
  };
}

/** What a server publishes about itself. */
export interface Registration {
  id: string;
  host: string;
  port: number;
  peerHost: string;
  peerPort: number;
  publicKey: Uint8Array;
}

/**
 * Registration and heartbeats of one server.
 *
 * @example
 * ```ts
 * import { ServerRegistry } from "@fastchat/server/server_registry";
 * declare const sql: import("postgres").Sql;
 * declare const me: import("@fastchat/server/server_registry").Registration;
 * const reg = await ServerRegistry.register(sql, me, () => 0);
 * await reg.deregister();
 * ```
 */
export class ServerRegistry {
  readonly #sql: Sql;
  readonly me: Registration;
  readonly #clients: () => number;
  readonly #log: Logger;
  #timer: ReturnType<typeof setInterval> | undefined;
  #beating = false;
  #stopped = false;
  /** Called after each heartbeat with the live servers (for peer links). */
  onLive?: (servers: ServerInfo[]) => void;

  private constructor(sql: Sql, me: Registration, clients: () => number, log: Logger) {
    this.#sql = sql;
    this.me = me;
    this.#clients = clients;
    this.#log = log;
  }

  /**
   * Registers `me`; `INVALID_CONFIG` if another live server already uses
   * the id (the row of a dead one, or of our own previous incarnation at the
   * same address, is taken over).
   */
  static async register(
    sql: Sql,
    me: Registration,
    clients: () => number,
    opts: { heartbeatMs?: number; logger?: Logger } = {},
  ): Promise<ServerRegistry> {
    const rows = await sql`insert into servers (id, host, port, peer_host, peer_port, public_key)
      values (${me.id}, ${me.host}, ${me.port}, ${me.peerHost}, ${me.peerPort}, ${me.publicKey})
      on conflict (id) do update set host = excluded.host, port = excluded.port,
        peer_host = excluded.peer_host, peer_port = excluded.peer_port,
        public_key = excluded.public_key, clients = 0, draining = false,
        started_at = now(), heartbeat_at = now()
      where servers.heartbeat_at < now() - ${LIVENESS_MS} * interval '1 millisecond'
        -- we hold this address now, so its previous holder is gone (restart after a crash)
        or (servers.host = excluded.host and servers.port = excluded.port)
      returning id`;
    if (rows.length === 0) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `server id ${me.id} is already registered by a live server; choose another --id`,
      );
    }
    // Presence rows of a previous incarnation are stale.
    await sql`delete from presence where server_id = ${me.id}`;
    const reg = new ServerRegistry(sql, me, clients, opts.logger ?? nullLogger);
    reg.#timer = setInterval(() => reg.heartbeat(), opts.heartbeatMs ?? HEARTBEAT_MS);
    return reg;
  }

  /** Sends one heartbeat and purges servers (and their presence) that died. */
  async heartbeat(): Promise<void> {
    if (this.#beating || this.#stopped) return;
    this.#beating = true;
    try {
      await this.#sql`update servers set heartbeat_at = now(), clients = ${this.#clients()}
        where id = ${this.me.id}`;
      await this.#sql`delete from presence where server_id in (select id from servers
        where heartbeat_at < now() - ${LIVENESS_MS} * interval '1 millisecond')`;
      if (this.onLive) this.onLive(await ServerRegistry.liveServers(this.#sql));
    } catch (e) {
      this.#log.warn("heartbeat_failed", { error: String(e) });
    } finally {
      this.#beating = false;
    }
  }

  /** Marks this server as draining (load balancers stop sending clients). */
  async drain(): Promise<void> {
    await this.#sql`update servers set draining = true where id = ${this.me.id}`;
  }

  /** Stops heartbeats and removes this server and its presence. */
  async deregister(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#sql`delete from presence where server_id = ${this.me.id}`;
    await this.#sql`delete from servers where id = ${this.me.id}`;
  }

  /** Servers with a fresh heartbeat (draining ones included; see `draining`). */
  static async liveServers(sql: Sql): Promise<ServerInfo[]> {
    const rows = await sql`select id, host, port, peer_host, peer_port, public_key, clients,
        draining, (extract(epoch from (now() - heartbeat_at)) * 1000)::int8 as age_ms
      from servers where heartbeat_at >= now() - ${LIVENESS_MS} * interval '1 millisecond'
      order by id`;
    return rows.map(toInfo);
  }

  /** Every registered server, live or not (for status tables). */
  static async allServers(sql: Sql): Promise<ServerInfo[]> {
    const rows = await sql`select id, host, port, peer_host, peer_port, public_key, clients,
        draining, (extract(epoch from (now() - heartbeat_at)) * 1000)::int8 as age_ms
      from servers order by id`;
    return rows.map(toInfo);
  }
}
