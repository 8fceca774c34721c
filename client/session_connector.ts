/**
 * The client's connection to the service across its whole life: it picks a
 * server (directly, or through a load balancer's single-use ticket), keeps
 * the ticket for the next authenticating request, reports a lost connection,
 * reconnects with exponential backoff and resumes the session with its
 * token, and repeats requests that a dropped connection took with it. It
 * also tracks when the server has sent the stored backlog (`synced`).
 *
 * @example
 * ```ts
 * import { SessionConnector } from "@fastchat/client/session_connector";
 * const link = new SessionConnector({
 *   server: { host: "127.0.0.1", port: 7701 },
 *   onPush: (f) => console.log(f.t),
 *   session: () => null,
 *   onDisconnected: () => {},
 *   onResumed: () => {},
 *   onExpired: () => {},
 * });
 * const conn = await link.authConnection();
 * await conn.request({ t: "prelogin", user: "alice", ...link.takeTicket() });
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import type { ClientFrame, ServerFrame, ServerFrameOf } from "@fastchat/lib/protocol";
import { DEAD_AFTER_INTERVALS, DEFAULT_PING_MS } from "./link_watchdog.ts";
import { ServerConnection } from "./server_connection.ts";

/** Where to connect, with the load balancer's ticket when it chose the server. */
export interface ServerTarget {
  host: string;
  port: number;
  ticket?: string;
  /**
   * How to reach it, when the load balancer said: `false` plain TCP, or TLS
   * trusting `caCerts` (PEM) besides the system roots. Absent: the
   * connector's `tls` option decides.
   */
  tls?: false | { caCerts?: string[] };
}

/** Options of a {@link SessionConnector}. */
export interface SessionConnectorOptions {
  /** The server, or a function choosing one on each (re)connect. */
  server: ServerTarget | (() => Promise<ServerTarget>);
  /** TLS with optional extra trusted roots (PEM), for targets that do not say (see `ServerTarget.tls`). */
  tls?: { caCerts?: string[] };
  /** Reconnect and resume after a lost connection (default true). */
  reconnect?: boolean;
  /**
   * Ping a quiet server after this long; a connection quiet for three
   * intervals is dead and replaced, and a server that does not answer a
   * connect within three intervals (at most 15 s) is skipped (default 10 s;
   * 0: never ping). See `link_watchdog.ts`.
   */
  pingMs?: number;
  /** The wait before reconnect attempt `n` (default {@link backoffMs}). */
  backoff?: (attempt: number) => number;
  /** Every push frame but `synced` (which the connector consumes). */
  onPush: (f: ServerFrame) => void;
  /** The logged-in session to resume, or null (a lost connection is then no news). */
  session: () => { user: string; token: string } | null;
  /** The connection of a logged-in session was lost (a reconnect follows if enabled). */
  onDisconnected: (err: FastChatError) => void;
  /** The session was resumed on `conn`. */
  onResumed: (conn: ServerConnection) => void;
  /** The server refused the resume token: the session is over. */
  onExpired: (err: FastChatError) => void;
}

/** A request frame (its `rid` is added by the connection). */
export type RequestFrame = Parameters<ServerConnection["request"]>[0];

/** Longest wait between two reconnect attempts. */
const MAX_BACKOFF_MS = 5000;

/**
 * Owns the current {@link ServerConnection} and its replacement.
 *
 * @example
 * ```ts
 * import { SessionConnector } from "@fastchat/client/session_connector";
 * declare const link: SessionConnector;
 * const ok = await link.request({ t: "keys", user: "bob" }); // waits out a reconnect
 * console.log(ok.keys);
 * ```
 */
export class SessionConnector {
  readonly #opts: SessionConnectorOptions;
  #conn: ServerConnection | null = null;
  /** The current connection's LB ticket, until a request has used it. */
  #ticket: string | undefined;
  #stopped = false;
  #reconnecting: Promise<void> | null = null;
  #backoff: { timer: ReturnType<typeof setTimeout>; wake: () => void } | null = null;
  #synced = false;
  #syncWaiters: (() => void)[] = [];

  constructor(opts: SessionConnectorOptions) {
    this.#opts = opts;
  }

  /** The current connection (open or not), or null before the first. */
  get connection(): ServerConnection | null {
    return this.#conn;
  }

  /** The current connection if it is open. */
  async connect(): Promise<ServerConnection> {
    if (this.#conn && !this.#conn.closed) return this.#conn;
    const s = this.#opts.server;
    const t = typeof s === "function" ? await s() : s;
    this.#synced = false;
    this.#ticket = t.ticket;
    const pingMs = this.#opts.pingMs ?? DEFAULT_PING_MS;
    let conn: ServerConnection | null = null;
    conn = await ServerConnection.connect({
      host: t.host,
      port: t.port,
      tls: t.tls === undefined ? this.#opts.tls : t.tls || undefined,
      pingMs,
      connectTimeoutMs: pingMs > 0 ? Math.min(15_000, DEAD_AFTER_INTERVALS * pingMs) : undefined,
      onPush: (f) => this.#onPush(f),
      // A close during the handshake is reported by connect() itself.
      onClose: (err) => conn && this.#onClose(conn, err),
    });
    this.#conn = conn;
    return conn;
  }

  /**
   * A connection whose LB ticket (if any) is still unused: tickets are
   * single-use, so a retry after a failed login asks the LB again.
   */
  async authConnection(): Promise<ServerConnection> {
    if (
      this.#conn && !this.#conn.closed && this.#ticket === undefined &&
      typeof this.#opts.server === "function"
    ) {
      this.#conn.close();
      this.#conn = null;
    }
    return await this.connect();
  }

  /** The current connection's ticket for a request to carry (once). */
  takeTicket(): { ticket?: string } {
    const ticket = this.#ticket;
    this.#ticket = undefined;
    return ticket ? { ticket } : {};
  }

  /**
   * Sends a request. One the lost connection took with it waits for the
   * reconnect and goes out again (use it for requests safe to repeat); only
   * a stopped connector or a reconnect that gave up reports an error.
   */
  async request(f: RequestFrame): Promise<ServerFrameOf<"ok">> {
    for (;;) {
      if (this.#reconnecting) await this.#reconnecting;
      const conn = this.#conn;
      if (!conn || conn.closed) {
        throw new FastChatError("NOT_CONNECTED", "not connected to a server");
      }
      try {
        return await conn.request(f);
      } catch (e) {
        if (!conn.closed || !this.#reconnecting || this.#stopped) throw e;
      }
    }
  }

  /** Sends a frame on the current connection; false when there is none open. */
  send(frame: ClientFrame): boolean {
    return this.#conn?.send(frame) ?? false;
  }

  /** Whether {@link SessionConnector.writable} would resolve at once. */
  get isWritable(): boolean {
    return this.#conn?.isWritable ?? true;
  }

  /** Resolves when the current connection's outbound queue has room. */
  async writable(): Promise<void> {
    if (this.#conn) await this.#conn.writable();
  }

  /** Resolves once the server said the stored backlog was sent (or the connection closed). */
  async synced(): Promise<void> {
    if (this.#synced) return;
    const conn = this.#conn;
    await new Promise<void>((resolve) => {
      this.#syncWaiters.push(resolve);
      // A lost connection must not leave login hanging.
      conn?.closedPromise.then(resolve);
    });
  }

  /** No more reconnects: a lost connection from now on is expected. */
  stop(): void {
    this.#stopped = true;
    if (this.#backoff) {
      clearTimeout(this.#backoff.timer);
      this.#backoff.wake();
    }
  }

  /** Stops, writes what is queued on the connection and closes it. */
  async end(): Promise<void> {
    this.stop();
    if (this.#conn) await this.#conn.end();
    await this.#reconnecting;
  }

  #onPush(f: ServerFrame): void {
    if (f.t !== "synced") return this.#opts.onPush(f);
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #onClose(conn: ServerConnection, err?: FastChatError): void {
    if (conn !== this.#conn || this.#stopped) return;
    // Not logged in (e.g. after a wrong password the server's auth timer
    // closes the idle connection): nothing was connected from the user's
    // view and nothing will be resumed, so this is not a `disconnected`.
    if (!this.#opts.session()) return;
    this.#opts.onDisconnected(
      err ?? new FastChatError("CONNECTION_CLOSED", "connection closed"),
    );
    if (this.#opts.session() && this.#opts.reconnect !== false && !this.#reconnecting) {
      this.#reconnecting = this.#reconnect().finally(() => this.#reconnecting = null);
    }
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 0; !this.#stopped && this.#opts.session(); attempt++) {
      await this.#sleep((this.#opts.backoff ?? backoffMs)(attempt));
      const s = this.#opts.session();
      if (this.#stopped || !s) return;
      try {
        const conn = await this.connect();
        if (this.#stopped) return conn.close(); // closed meanwhile: resume nothing
        await conn.request({ t: "resume", token: s.token, ...this.takeTicket() });
        this.#opts.onResumed(conn);
        return;
      } catch (e) {
        const err = FastChatError.from(e);
        if (err.code === "INVALID_TOKEN") {
          this.#opts.onExpired(err);
          return;
        }
        // Any other failure (server down, LB without servers, a ticket the
        // server refused) is retried after a longer wait, on a new connection.
        this.#conn?.close();
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#backoff = null;
        resolve();
      };
      this.#backoff = { timer: setTimeout(wake, ms), wake };
    });
  }
}

/**
 * The wait before reconnect attempt `attempt` (0-based): exponential from
 * 100 ms up to {@link MAX_BACKOFF_MS}, with jitter in its upper half so
 * clients that lost the same server do not come back in step.
 *
 * @example
 * ```ts
 * import { backoffMs } from "@fastchat/client/session_connector";
 * const ms = backoffMs(0); // between 50 and 100
 * ```
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt);
  return base / 2 + random() * base / 2;
}
