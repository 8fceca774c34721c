/**
 * The live server registry: each chat server registers itself (id,
 * advertised client address and whether it speaks TLS, peer address, public
 * key) and heartbeats every second with its client count. A server is live
 * while its heartbeat is fresh (judged by the database clock, so machines
 * need not agree on time). Load balancers pick among live servers; servers
 * find their peers here. Each heartbeat also sweeps the dead: presence of
 * servers that stopped heartbeating, and the rows of servers dead for longer
 * than `forgetAfterMs` (a `kill -9` leaves a row; a clean shutdown deletes
 * its own).
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
import {
  allServers,
  checkForgetAfterMs,
  heartbeatStale,
  liveServers,
  type RegisteredServer,
  sweepDeadServers,
} from "@fastchat/lib/cluster/server_directory";
import { DEFAULT_FORGET_AFTER_MS, HEARTBEAT_MS, LIVENESS_MS } from "@fastchat/lib/cluster/timing";
import { FastChatError } from "@fastchat/lib/errors";
import { type Logger, nullLogger } from "@fastchat/lib/logger";

/** One registered server as others see it (read by `@fastchat/lib/cluster/server_directory`). */
export type ServerInfo = RegisteredServer;

export { DEFAULT_FORGET_AFTER_MS, HEARTBEAT_MS, LIVENESS_MS };

/** What a server publishes about itself. */
export interface Registration {
  id: string;
  /** Client-facing address, as clients must dial it. */
  host: string;
  port: number;
  /** Whether the client port speaks TLS. */
  tls: boolean;
  /** Where peers dial its server-to-server listener. */
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
  readonly #forgetAfterMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The heartbeat in progress, if any (deregister waits for it). */
  #beat: Promise<void> | null = null;
  #draining = false;
  #stopped = false;
  /** Called after each heartbeat with the live servers (for peer links). */
  onLive?: (servers: ServerInfo[]) => void;

  private constructor(
    sql: Sql,
    me: Registration,
    clients: () => number,
    log: Logger,
    forgetAfterMs: number,
  ) {
    this.#sql = sql;
    this.me = me;
    this.#clients = clients;
    this.#log = log;
    this.#forgetAfterMs = forgetAfterMs;
  }

  /**
   * Registers `me`; `INVALID_CONFIG` if another live server already uses
   * the id (the row of a dead one, or of our own previous incarnation at the
   * same address, is taken over), or if `forgetAfterMs` (default
   * {@link DEFAULT_FORGET_AFTER_MS}) is not longer than {@link LIVENESS_MS}.
   */
  static async register(
    sql: Sql,
    me: Registration,
    clients: () => number,
    opts: { heartbeatMs?: number; forgetAfterMs?: number; logger?: Logger } = {},
  ): Promise<ServerRegistry> {
    const forgetAfterMs = checkForgetAfterMs(opts.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS);
    if (!(await upsert(sql, me, 0))) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `server id ${me.id} is already registered by a live server; choose another --id`,
      );
    }
    // Presence rows of a previous incarnation are stale.
    await sql`delete from presence where server_id = ${me.id}`;
    const reg = new ServerRegistry(sql, me, clients, opts.logger ?? nullLogger, forgetAfterMs);
    reg.#timer = setInterval(() => reg.heartbeat(), opts.heartbeatMs ?? HEARTBEAT_MS);
    return reg;
  }

  /**
   * Sends one heartbeat and sweeps the dead (presence of dead servers, rows
   * of servers dead past the retention). A row that was forgotten while this
   * server could not reach the store (it looked dead) is registered again.
   */
  heartbeat(): Promise<void> {
    if (this.#beat || this.#stopped) return this.#beat ?? Promise.resolve();
    this.#beat = this.#heartbeat().finally(() => this.#beat = null);
    return this.#beat;
  }

  async #heartbeat(): Promise<void> {
    try {
      const clients = this.#clients();
      const beat = await this.#sql`update servers set heartbeat_at = now(), clients = ${clients}
        where id = ${this.me.id} returning id`;
      if (beat.length === 0 && !this.#stopped) {
        const restored = await upsert(this.#sql, this.me, clients);
        if (restored && this.#draining) await this.drain();
        this.#log.warn("registry_row_restored", { id: this.me.id, restored });
      }
      const forgotten = await sweepDeadServers(this.#sql, this.#forgetAfterMs);
      if (forgotten.length > 0) this.#log.info("dead_servers_forgotten", { ids: forgotten });
      if (this.onLive) this.onLive(await ServerRegistry.liveServers(this.#sql));
    } catch (e) {
      this.#log.warn("heartbeat_failed", { error: String(e) });
    }
  }

  /** Retention of dead servers' rows used by {@link heartbeat}'s sweep. */
  get forgetAfterMs(): number {
    return this.#forgetAfterMs;
  }

  /** Marks this server as draining (load balancers stop sending clients). */
  async drain(): Promise<void> {
    this.#draining = true;
    await this.#sql`update servers set draining = true where id = ${this.me.id}`;
  }

  /**
   * Stops heartbeats and removes this server and its presence (after the
   * heartbeat in progress, which could otherwise write the row back).
   */
  async deregister(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#beat;
    await this.#sql`delete from presence where server_id = ${this.me.id}`;
    await this.#sql`delete from servers where id = ${this.me.id}`;
  }

  /**
   * Servers with a fresh heartbeat (draining ones included; see `draining`).
   * Throws `STORE_UNAVAILABLE` when the store cannot be read.
   */
  static liveServers(sql: Sql): Promise<ServerInfo[]> {
    return liveServers(sql);
  }

  /** Every registered server, live or not (for status tables). */
  static allServers(sql: Sql): Promise<ServerInfo[]> {
    return allServers(sql);
  }
}

/**
 * Inserts `me`, or takes over its row when that row's holder is dead or held
 * this same address (a restart after a crash); false when a live server at
 * another address holds the id.
 */
async function upsert(sql: Sql, me: Registration, clients: number): Promise<boolean> {
  const rows = await sql`insert into servers
      (id, host, port, tls, peer_host, peer_port, public_key, clients)
    values (${me.id}, ${me.host}, ${me.port}, ${me.tls}, ${me.peerHost}, ${me.peerPort},
      ${me.publicKey}, ${clients})
    on conflict (id) do update set host = excluded.host, port = excluded.port,
      tls = excluded.tls, peer_host = excluded.peer_host, peer_port = excluded.peer_port,
      public_key = excluded.public_key, clients = excluded.clients, draining = false,
      started_at = now(), heartbeat_at = now()
    where ${heartbeatStale(sql)}
      -- we hold this address now, so its previous holder is gone (restart after a crash)
      or (servers.host = excluded.host and servers.port = excluded.port)
    returning id`;
  return rows.length > 0;
}
