/**
 * A FastChat chat server: listens on TCP (optionally TLS), serves
 * {@link ClientSession}s, and shuts down gracefully (stop accepting, tell
 * clients, flush the write-behind queue).
 *
 * @example
 * ```ts
 * import postgres from "postgres";
 * import { ChatServer } from "@fastchat/server/chat_server";
 * const server = await ChatServer.start({
 *   port: 0,
 *   sql: postgres("postgres://postgres@127.0.0.1:7432/postgres"),
 * });
 * console.log(server.address);
 * await server.close();
 * ```
 * @module
 */
import { FileRequests } from "./file_requests.ts";
import { FileStore } from "./file_store.ts";
import { GroupLog } from "./group_log.ts";
import { GroupRequests } from "./group_requests.ts";
import { GroupStore } from "./group_store.ts";
import type { Sql } from "postgres";
import { FastChatError } from "@fastchat/lib/errors";
import { ConnectionCaps, DEFAULT_PREAUTH_CAPS } from "@fastchat/lib/connection_caps";
import { DEFAULT_MAX_FRAME } from "@fastchat/lib/frame";
import { ioStats } from "@fastchat/lib/framed_conn";
import { acceptLoop, listen } from "@fastchat/lib/listener";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { MetricsRegistry } from "@fastchat/lib/metrics";
import { AccountService } from "./accounts.ts";
import { ClientSession, type SessionContext, type SessionLimits } from "./client_session.ts";
import { MessageRouter } from "./message_router.ts";
import { DEFAULT_SCRYPT, PasswordHasher, type ScryptParams } from "./password_hasher.ts";
import { DEFAULT_CLIENT_IDLE_MS } from "./idle_timeout.ts";
import { KeyedTokenBuckets } from "./rate_limiter.ts";
import { type Fabric, LocalFabric } from "./fabric.ts";
import {
  type ClusterFabric,
  type ClusterFabricOptions,
  startClusterFabric,
} from "./cluster_fabric.ts";
import { peerIoStats } from "./peer_link.ts";
import { PresenceTracker } from "./presence.ts";
import { ServerRegistry } from "./server_registry.ts";
import { ChatStore } from "./store.ts";
import { TicketGate } from "./ticket_gate.ts";

/**
 * Options of {@link ChatServer.start}.
 *
 * @example
 * ```ts
 * import type { ChatServerOptions } from "@fastchat/server/chat_server";
 * declare const sql: import("postgres").Sql;
 * const opts: ChatServerOptions = { sql, port: 0, cluster: { heartbeatMs: 1000 } };
 * ```
 */
export interface ChatServerOptions {
  sql: Sql;
  host?: string;
  port?: number;
  /** Server id; default `fc-<port>`. */
  id?: string;
  /** PEM certificate and key: serve TLS instead of plain TCP. */
  tls?: { cert: string; key: string };
  limits?: Partial<SessionLimits>;
  /** Sends per user per second (burst is twice that). */
  sendRate?: number;
  /** Unauthenticated requests per address per second (burst is 4x). */
  anonRate?: number;
  scrypt?: ScryptParams;
  /** Keep delivered messages instead of deleting them. */
  retain?: boolean;
  /** Write-behind linger in ms. */
  lingerMs?: number;
  tokenTtlMs?: number;
  logger?: Logger;
  /**
   * Join the cluster: register in the live server registry (heartbeats),
   * publish presence, and advertise `advertiseHost` (default: the bind host).
   * The fabric: direct peer links (`peerHost`, `peerPort`, `peerPingMs`), or
   * `nats` (namespace default: the database's cluster id); see
   * server/cluster_fabric.ts.
   */
  cluster?: ClusterFabricOptions & {
    advertiseHost?: string;
    /** Client port published to load balancers (default: the bound port; differs behind NAT). */
    advertisePort?: number;
    /** Peer address published to other servers (default: `advertiseHost` and the bound peer port). */
    advertisePeer?: { host: string; port?: number };
    heartbeatMs?: number;
    /** Registry rows of servers dead this long are deleted (default 10 liveness windows). */
    forgetAfterMs?: number;
  };
  /** Refuse logins and registrations without a load-balancer ticket. */
  requireTicket?: boolean;
  /** Largest group (default 1,000 members). */
  maxGroupMembers?: number;
  /** Largest file in bytes (default 100 MiB). */
  maxFileBytes?: number;
  /** How long a sent file waits for recipients who have not fetched it (default 7 days). */
  fileRetentionMs?: number;
}

/**
 * A running chat server.
 *
 * @example
 * ```ts
 * import { ChatServer } from "@fastchat/server/chat_server";
 * declare const s: ChatServer;
 * console.log(s.id, s.port, s.connections);
 * ```
 */
export class ChatServer {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly router: MessageRouter;
  /** The NATS subject namespace of a server on `--fabric nats`, else null. */
  natsNamespace: string | null = null;
  readonly #listener: Deno.Listener;
  readonly #ctx: SessionContext;
  #closing = false;
  #loop: Promise<void>;
  #closeListeners = new Set<(user: string, code: string | undefined) => void>();
  #registry: ServerRegistry | null = null;
  readonly #fabric: Fabric;
  /** Deletes expired files (hourly). */
  readonly #fileExpiry: ReturnType<typeof setInterval>;

  private constructor(
    listener: Deno.Listener,
    ctx: SessionContext,
    router: MessageRouter,
    fabric: Fabric,
  ) {
    const addr = listener.addr as Deno.NetAddr;
    this.#listener = listener;
    this.#ctx = ctx;
    this.id = ctx.serverId;
    this.host = addr.hostname;
    this.port = addr.port;
    this.router = router;
    this.#fabric = fabric;
    this.#fileExpiry = setInterval(() => {
      ctx.files?.store.expire().catch((e) =>
        // Retried at the next tick; nothing is lost by a late expiry.
        ctx.logger.warn("file_expiry_failed", { error: String(e) })
      );
    }, 3600_000);
    Deno.unrefTimer(this.#fileExpiry);
    this.#loop = this.#accept();
  }

  /** Starts listening. */
  static async start(opts: ChatServerOptions): Promise<ChatServer> {
    const host = opts.host ?? "127.0.0.1";
    const port = opts.port ?? 7701;
    const listener = listen({ host, port, tls: opts.tls });
    const bound = (listener.addr as Deno.NetAddr).port;
    const logger = opts.logger ?? nullLogger;
    const serverId = opts.id ?? `fc-${bound}`;
    const limits: SessionLimits = {
      maxFrame: DEFAULT_MAX_FRAME,
      maxQueueBytes: 8 * 1024 * 1024,
      authTimeoutMs: 10_000,
      idleTimeoutMs: DEFAULT_CLIENT_IDLE_MS,
      writeStallMs: 30_000,
      maxErrorsBeforeAuth: 3,
      maxErrorsAfterAuth: 20,
      maxPreAuthConnections: DEFAULT_PREAUTH_CAPS.maxTotal,
      maxPreAuthPerAddress: DEFAULT_PREAUTH_CAPS.maxPerAddress,
      ...opts.limits,
    };
    let preAuth: ConnectionCaps;
    try {
      preAuth = new ConnectionCaps({
        maxTotal: limits.maxPreAuthConnections,
        maxPerAddress: limits.maxPreAuthPerAddress,
      });
    } catch (e) {
      listener.close();
      throw new FastChatError("INVALID_CONFIG", (e as Error).message);
    }
    // The fabric exists before the router, which attaches itself to it.
    let started: ClusterFabric | null = null;
    try {
      if (opts.cluster) {
        started = await startClusterFabric(opts.sql, serverId, host, opts.cluster, logger);
      }
    } catch (e) {
      listener.close();
      throw e;
    }
    const fabric: Fabric = started?.fabric ?? new LocalFabric();
    const store = new ChatStore(opts.sql);
    const groupLog = new GroupLog(opts.sql);
    const fileStore = new FileStore(opts.sql, {
      maxFileBytes: opts.maxFileBytes,
      retentionMs: opts.fileRetentionMs,
    });
    const router = new MessageRouter(store, {
      groupLog,
      files: fileStore,
      retain: opts.retain,
      lingerMs: opts.lingerMs,
      logger,
      fabric,
      presence: opts.cluster ? new PresenceTracker(opts.sql, serverId, { logger }) : undefined,
      syncBufferBytes: limits.maxQueueBytes / 2,
    });
    const sendRate = opts.sendRate ?? 5000;
    const anonRate = opts.anonRate ?? 5;
    const ctx: SessionContext = {
      serverId,
      tickets: new TicketGate(opts.sql, serverId, opts.requireTicket ?? false),
      accounts: new AccountService(store, new PasswordHasher(opts.scrypt ?? DEFAULT_SCRYPT), {
        tokenTtlMs: opts.tokenTtlMs,
      }),
      router,
      limits,
      preAuth,
      sendLimiter: new KeyedTokenBuckets(sendRate, sendRate * 2),
      anonLimiter: new KeyedTokenBuckets(anonRate, anonRate * 4),
      logger,
      sessions: new Set(),
      groups: new GroupRequests(
        new GroupStore(opts.sql, { maxMembers: opts.maxGroupMembers }),
        (entries) => router.publishGroup(entries),
      ),
      files: new FileRequests(fileStore),
    };
    const server = new ChatServer(listener, ctx, router, fabric);
    ctx.onClosed = (user, code) => {
      for (const l of server.#closeListeners) l(user, code);
    };
    server.natsNamespace = started?.natsNamespace ?? null;
    if (opts.cluster && started) {
      // Over NATS no peer dials this server: it publishes no peer port (0), and a key nobody uses.
      const { mesh, keys } = started;
      const advertise = opts.cluster.advertiseHost ?? host;
      try {
        const pub = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
        const registry = await ServerRegistry.register(
          opts.sql,
          {
            id: serverId,
            host: advertise,
            port: opts.cluster.advertisePort ?? bound,
            tls: opts.tls !== undefined,
            peerHost: opts.cluster.advertisePeer?.host ?? advertise,
            peerPort: opts.cluster.advertisePeer?.port ?? mesh?.port ?? 0,
            publicKey: pub,
          },
          () => server.connections,
          {
            heartbeatMs: opts.cluster.heartbeatMs,
            forgetAfterMs: opts.cluster.forgetAfterMs,
            logger,
          },
        );
        server.#registry = registry;
        if (mesh) {
          // The registry's live list is who the mesh links with.
          registry.onLive = (live) => mesh.update(live);
          mesh.update(await ServerRegistry.liveServers(opts.sql));
        }
      } catch (e) {
        await fabric.close();
        listener.close();
        throw e;
      }
    }
    return server;
  }

  /** `host:port` clients connect to. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Open client connections. */
  get connections(): number {
    return this.#ctx.sessions.size;
  }

  #accept(): Promise<void> {
    return acceptLoop(this.#listener, {
      closing: () => this.#closing,
      serve: (conn) => new ClientSession(conn, this.#ctx).run(),
      logger: this.#ctx.logger,
    });
  }

  /** Message, socket and memory counters (logged at shutdown). */
  stats(): Record<string, number> {
    const st = this.router.stats;
    const q = this.router.queue.stats;
    const mem = Deno.memoryUsage();
    return {
      connections: this.connections,
      rssBytes: mem.rss,
      heapTotalBytes: mem.heapTotal,
      heapUsedBytes: mem.heapUsed,
      externalBytes: mem.external,
      accepted: st.accepted,
      delivered: st.delivered,
      forwarded: st.forwarded,
      stored: q.written,
      unstored: q.skipped,
      completed: q.completed,
      completedWithoutRow: q.unmatched,
      socketReads: ioStats.reads,
      socketWrites: ioStats.writes,
      framesIn: ioStats.framesIn,
      framesOut: ioStats.framesOut,
      peerReads: peerIoStats.reads,
      peerWrites: peerIoStats.writes,
      peerFramesIn: peerIoStats.framesIn,
      peerFramesOut: peerIoStats.framesOut,
    };
  }

  /** Prometheus metrics of this server. */
  metrics(): MetricsRegistry {
    const m = new MetricsRegistry({ server: this.id });
    const st = this.router.stats;
    const q = this.router.queue.stats;
    m.gauge("fastchat_connections", "Open client connections", () => this.connections);
    m.gauge(
      "fastchat_preauth_connections",
      "Client connections not logged in",
      () => this.#ctx.preAuth.total,
    );
    m.counter(
      "fastchat_connections_refused_total",
      "Connections refused at the caps on unauthenticated connections",
      () => this.#ctx.preAuth.refused,
    );
    m.gauge(
      "fastchat_online_users",
      "Users with a live session here",
      () => this.router.onlineUsers,
    );
    m.gauge(
      "fastchat_write_queue",
      "Messages waiting for the write-behind store batch",
      () => this.router.backlog,
    );
    m.gauge(
      "process_resident_memory_bytes",
      "Resident set size",
      () => Deno.memoryUsage().rss,
    );
    m.gauge("fastchat_heap_total_bytes", "V8 heap reserved", () => Deno.memoryUsage().heapTotal);
    m.gauge("fastchat_heap_used_bytes", "V8 heap in use", () => Deno.memoryUsage().heapUsed);
    m.gauge(
      "fastchat_external_bytes",
      "Memory of ArrayBuffers and other objects outside the V8 heap",
      () => Deno.memoryUsage().external,
    );
    m.gauge(
      "fastchat_peer_links",
      "Established links to peer servers",
      () => this.linkedPeers.length,
    );
    m.counter(
      "fastchat_socket_reads_total",
      "Socket reads (clients and peers)",
      () => ioStats.reads,
    );
    m.counter(
      "fastchat_socket_writes_total",
      "Socket writes (clients and peers)",
      () => ioStats.writes,
    );
    m.counter("fastchat_frames_in_total", "Frames received", () => ioStats.framesIn);
    m.counter("fastchat_frames_out_total", "Frames sent", () => ioStats.framesOut);
    m.counter("fastchat_messages_in_total", "Messages accepted from senders", () => st.accepted);
    m.counter(
      "fastchat_messages_out_total",
      "Messages delivered to local sessions",
      () => st.delivered,
    );
    m.counter(
      "fastchat_messages_forwarded_total",
      "Messages forwarded to peer servers",
      () => st.forwarded,
    );
    m.counter("fastchat_messages_stored_total", "Messages written to the store", () => q.written);
    m.counter(
      "fastchat_messages_unstored_total",
      "Messages acknowledged before they needed storing",
      () => q.skipped,
    );
    m.counter(
      "fastchat_messages_completed_total",
      "Stored messages completed by acknowledgements",
      () => q.completed,
    );
    m.counter(
      "fastchat_completions_unmatched_total",
      "Acknowledgements that found no undelivered stored message (repeats, or a row not yet written)",
      () => q.unmatched,
    );
    m.counter(
      "fastchat_store_batches_total",
      "Write-behind store round trips",
      () => q.storeBatches,
    );
    m.counter(
      "fastchat_store_seconds_total",
      "Time spent in write-behind store round trips",
      () => q.storeMs / 1000,
    );
    m.counter(
      "fastchat_store_errors_total",
      "Failed write-behind store round trips",
      () => q.storeErrors,
    );
    return m;
  }

  /** Live peers with an established link (cluster mode). */
  get linkedPeers(): string[] {
    return this.#fabric.linkedPeers;
  }

  /**
   * Resolves when a connection matching `pred` (user, close code) ends.
   * For operators' hooks and tests.
   */
  sessionClosed(pred: (user: string, code: string | undefined) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const l = (user: string, code: string | undefined) => {
        if (!pred(user, code)) return;
        this.#closeListeners.delete(l);
        resolve();
      };
      this.#closeListeners.add(l);
    });
  }

  /**
   * Graceful shutdown: leave the load balancers' rotation, stop accepting,
   * tell clients to reconnect elsewhere, write what is queued, deregister.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.router.stopResync();
    await this.#registry?.drain().catch((e) =>
      // Load balancers keep offering this server until its heartbeats stop.
      this.#ctx.logger.warn("drain_failed", { error: String(e) })
    );
    try {
      this.#listener.close();
    } catch {
      // Throws only when already closed (BadResource): nothing is left to release.
    }
    await this.#loop;
    for (const s of [...this.#ctx.sessions]) {
      s.close("SERVER_SHUTTING_DOWN", "server is shutting down; reconnect");
    }
    await this.router.flush();
    clearInterval(this.#fileExpiry);
    await this.#fabric.close();
    this.router.close();
    await this.#registry?.deregister().catch((e) =>
      this.#ctx.logger.warn("deregister_failed", { error: String(e) })
    );
  }
}
