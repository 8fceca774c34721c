/**
 * The FastChat load balancer: a small TCP (optionally TLS) service speaking
 * FastChat framing that hands each client a signed, short-lived ticket
 * naming a live chat server, chosen from the server registry by a
 * {@link ServerPicker}. It carries no chat traffic. On start it publishes
 * its public key into `lb_keys` so chat servers can verify its tickets.
 * Every few seconds it sweeps the registry: servers dead for longer than
 * `forgetAfterMs` are forgotten (chat servers' heartbeats do the same; the
 * LB does it too so the registry is kept clean when no server is left).
 *
 * @example
 * ```ts
 * import { connectStore, migrate } from "@fastchat/db";
 * import { LoadBalancer } from "@fastchat/lb/lb_server";
 * import { loadOrCreateSigner } from "@fastchat/lb/key_file";
 * const sql = connectStore("postgres://postgres@127.0.0.1:7432/postgres");
 * await migrate(sql);
 * const lb = await LoadBalancer.start({
 *   sql,
 *   port: 0,
 *   algorithm: "least-connections",
 *   signer: await loadOrCreateSigner("data/lb-key.json"),
 * });
 * console.log(lb.id, lb.address);
 * await lb.close();
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { closeIfOpen } from "@fastchat/lib/already_gone";
import { ConnectionCaps } from "@fastchat/lib/connection_caps";
import { FastChatError } from "@fastchat/lib/errors";
import { acceptLoop, listen } from "@fastchat/lib/listener";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { AddressLimiter } from "./address_limiter.ts";
import { publishLbKey } from "./lb_key_store.ts";
import {
  DEFAULT_LB_LIMITS,
  type LbLimits,
  LbSession,
  type LbSessionContext,
} from "./lb_session.ts";
import {
  checkForgetAfterMs,
  liveServers,
  sweepDeadServers,
} from "@fastchat/lib/cluster/server_directory";
import { DEFAULT_FORGET_AFTER_MS } from "@fastchat/lib/cluster/timing";
import { type CandidateServer, type PickAlgorithm, ServerPicker } from "./server_picker.ts";
import { DEFAULT_TICKET_TTL_MS, MAX_TICKET_TTL_MS } from "@fastchat/lib/cluster/ticket_format";
import type { TicketSigner } from "./ticket_signer.ts";

/** Default port of the load balancer. */
export const DEFAULT_LB_PORT = 7700;
/** Default ticket requests per address per second (burst four times that). */
export const DEFAULT_LB_RATE = 20;
/** Default interval of the load balancer's registry sweep (forgetting dead servers). */
export const DEFAULT_SWEEP_MS = 5_000;

/**
 * Options of {@link LoadBalancer.start}.
 *
 * @example
 * ```ts
 * import type { LoadBalancerOptions } from "@fastchat/lb/lb_server";
 * declare const sql: import("postgres").Sql;
 * declare const signer: import("@fastchat/lb/ticket_signer").TicketSigner;
 * const opts: LoadBalancerOptions = { sql, signer, port: 0, algorithm: "random" };
 * ```
 */
export interface LoadBalancerOptions {
  /** The store holding `servers` and `lb_keys` (migrated). */
  sql: Sql;
  /** Signs tickets; its public key is published into `lb_keys`. */
  signer: TicketSigner;
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /** Port (default {@link DEFAULT_LB_PORT}; 0 = any free port). */
  port?: number;
  /** LB id sent in `welcome` (default `lb-<port>`). */
  id?: string;
  /** Server selection (default `round-robin`). */
  algorithm?: PickAlgorithm;
  /** Ticket lifetime in ms (default 30 s, at most 5 min). */
  ticketTtlMs?: number;
  /** PEM certificate and key: serve TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
  /** Ticket requests per address per second; 0 = unlimited (default {@link DEFAULT_LB_RATE}). */
  rate?: number;
  limits?: Partial<LbLimits>;
  /** Minimum time between registry reads (default 250 ms). */
  refreshMs?: number;
  /** Reads the live servers (default: the `servers` table of `sql`). */
  fetchServers?: () => Promise<readonly CandidateServer[]>;
  /** Registry rows of servers dead this long are deleted (default 10 liveness windows). */
  forgetAfterMs?: number;
  /** Interval of that sweep (default {@link DEFAULT_SWEEP_MS}; 0 = no sweep by this LB). */
  sweepMs?: number;
  logger?: Logger;
}

/**
 * A running load balancer.
 *
 * @example
 * ```ts
 * import { LoadBalancer } from "@fastchat/lb/lb_server";
 * declare const lb: LoadBalancer;
 * console.log(lb.id, lb.address, lb.algorithm, lb.ticketsIssued);
 * ```
 */
export class LoadBalancer {
  /** LB id (`welcome.server`). */
  readonly id: string;
  /** Bound host. */
  readonly host: string;
  /** Bound port. */
  readonly port: number;
  /** Selection algorithm in use. */
  readonly algorithm: PickAlgorithm;
  /** Id of the ticket-signing key (as published in `lb_keys`). */
  readonly keyId: string;
  /** The server picker (its snapshot is useful for status and tests). */
  readonly picker: ServerPicker;
  readonly #listener: Deno.Listener;
  readonly #ctx: LbSessionContext;
  readonly #loop: Promise<void>;
  /** Connections being served (each settles once its socket is closed). */
  readonly #serving = new Set<Promise<void>>();
  #closing = false;
  #issued = 0;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  /** The sweep in progress, if any (close waits for it). */
  #sweeping: Promise<void> | null = null;

  private constructor(listener: Deno.Listener, ctx: LbSessionContext, algorithm: PickAlgorithm) {
    const addr = listener.addr as Deno.NetAddr;
    this.#listener = listener;
    this.#ctx = ctx;
    this.id = ctx.lbId;
    this.host = addr.hostname;
    this.port = addr.port;
    this.algorithm = algorithm;
    this.keyId = ctx.signer.keyId;
    this.picker = ctx.picker;
    ctx.onTicket = () => this.#issued++;
    this.#loop = this.#accept();
  }

  /**
   * Publishes the signer's key, then listens. Throws `INVALID_CONFIG` for
   * bad options or an unusable address, `STORE_UNAVAILABLE` if the key
   * cannot be published.
   */
  static async start(opts: LoadBalancerOptions): Promise<LoadBalancer> {
    const forgetAfterMs = checkForgetAfterMs(opts.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS);
    const sweepMs = opts.sweepMs ?? DEFAULT_SWEEP_MS;
    if (!Number.isSafeInteger(sweepMs) || sweepMs < 0) {
      throw new FastChatError("INVALID_CONFIG", "sweep interval must be a non-negative integer");
    }
    const ttl = opts.ticketTtlMs ?? DEFAULT_TICKET_TTL_MS;
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_TICKET_TTL_MS) {
      throw new FastChatError("INVALID_CONFIG", `ticket TTL must be 1-${MAX_TICKET_TTL_MS} ms`);
    }
    const logger = opts.logger ?? nullLogger;
    const algorithm = opts.algorithm ?? "round-robin";
    const sql = opts.sql;
    const picker = new ServerPicker({
      algorithm,
      fetch: opts.fetchServers ?? (() => liveServers(sql)),
      refreshMs: opts.refreshMs,
      onRefreshError: (e) => logger.warn("registry_read_failed", { error: e.message }),
    });
    const limiter = new AddressLimiter({ rate: opts.rate ?? DEFAULT_LB_RATE });
    await publishLbKey(sql, opts.signer);
    const host = opts.host ?? "127.0.0.1";
    const port = opts.port ?? DEFAULT_LB_PORT;
    let listener: Deno.Listener;
    try {
      listener = listen({ host, port, tls: opts.tls });
    } catch (e) {
      if (e instanceof FastChatError) throw e; // ADDRESS_IN_USE
      throw new FastChatError(
        "INVALID_CONFIG",
        `cannot listen on ${host}:${port}: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    const bound = (listener.addr as Deno.NetAddr).port;
    const limits = { ...DEFAULT_LB_LIMITS, ...opts.limits };
    let caps: ConnectionCaps;
    try {
      caps = new ConnectionCaps({
        maxTotal: limits.maxConnections,
        maxPerAddress: limits.maxPerAddress,
      });
    } catch (e) {
      listener.close();
      throw new FastChatError("INVALID_CONFIG", (e as Error).message);
    }
    const ctx: LbSessionContext = {
      lbId: opts.id ?? `lb-${bound}`,
      picker,
      signer: opts.signer,
      ticketTtlMs: ttl,
      limiter,
      limits,
      caps,
      logger,
      sessions: new Set(),
    };
    const lb = new LoadBalancer(listener, ctx, algorithm);
    if (sweepMs > 0) {
      lb.#sweepTimer = setInterval(() => lb.#sweep(sql, forgetAfterMs), sweepMs);
    }
    return lb;
  }

  /** Forgets servers dead past the retention (one statement; other LBs and servers race safely). */
  #sweep(sql: Sql, forgetAfterMs: number): void {
    if (this.#sweeping || this.#closing) return;
    const log = this.#ctx.logger;
    this.#sweeping = sweepDeadServers(sql, forgetAfterMs).then(
      (ids) => void (ids.length > 0 && log.info("dead_servers_forgotten", { ids })),
      (e) => log.warn("registry_sweep_failed", { error: FastChatError.from(e).message }),
    ).finally(() => this.#sweeping = null);
  }

  /** `host:port` clients connect to. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Open client connections. */
  get connections(): number {
    return this.#ctx.sessions.size;
  }

  /** Connections refused at the connection caps since start. */
  get connectionsRefused(): number {
    return this.#ctx.caps.refused;
  }

  /** Tickets handed out since start. */
  get ticketsIssued(): number {
    return this.#issued;
  }

  #accept(): Promise<void> {
    return acceptLoop(this.#listener, {
      closing: () => this.#closing,
      serve: (conn) => {
        const served = new LbSession(conn, this.#ctx).run();
        this.#serving.add(served);
        const done = () => this.#serving.delete(served);
        served.then(done, done);
        return served;
      },
      logger: this.#ctx.logger,
    });
  }

  /**
   * Stops accepting and closes open connections (telling them why);
   * resolves once every socket is closed.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#sweepTimer);
    closeIfOpen(this.#listener);
    await this.#sweeping;
    await this.#loop;
    for (const s of [...this.#ctx.sessions]) {
      s.close("SERVER_SHUTTING_DOWN", "load balancer is stopping; retry");
    }
    await Promise.allSettled([...this.#serving]);
  }
}
