/**
 * The client's link to one chat server: TCP or TLS connect, version
 * handshake, request/response matching by `rid`, and push frames (`msg`,
 * `sent`, `delivered`, unsolicited `error`) handed to a callback.
 *
 * @example
 * ```ts
 * import { ServerConnection } from "@fastchat/client/server_connection";
 * const conn = await ServerConnection.connect({
 *   host: "127.0.0.1",
 *   port: 7701,
 *   onPush: (f) => console.log(f.t),
 * });
 * await conn.request({ t: "ping" });
 * conn.close();
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { errorFromFrame } from "@fastchat/lib/error_frame";
import { FramedConnection } from "@fastchat/lib/framed_conn";
import { DEFAULT_PING_MS, LinkWatchdog } from "./link_watchdog.ts";
import {
  type ClientFrame,
  decodeServerFrame,
  encodePayload,
  PROTOCOL_VERSION,
  type ServerFrame,
  type ServerFrameOf,
} from "@fastchat/lib/protocol";

/** Options of {@link ServerConnection.connect}. */
export interface ServerConnectionOptions {
  host: string;
  port: number;
  /** Use TLS; `caCerts` (PEM) trusts extra roots such as a self-signed test CA. */
  tls?: { caCerts?: string[] };
  /** Frames not answering a request. */
  onPush: (frame: ServerFrame) => void;
  /** Called once when the connection closes. */
  onClose?: (err?: FastChatError) => void;
  /** Timeout for connect+handshake and for each request (default 15 s). */
  timeoutMs?: number;
  /** Timeout for connect+handshake alone (default `timeoutMs`). */
  connectTimeoutMs?: number;
  /**
   * Ping the server after this long without a frame from it; close the
   * connection as dead (`TIMEOUT`) after three such intervals (default 10 s;
   * 0: never). See `link_watchdog.ts`.
   */
  pingMs?: number;
  /** Outbound queue bound in bytes (default 4 MiB); `writable()` waits below half. */
  maxQueueBytes?: number;
}

type Request = ClientFrame extends infer F ? F extends { rid: number } ? Omit<F, "rid"> : never
  : never;

/**
 * A handshaken connection to a chat server.
 *
 * @example
 * ```ts
 * import { ServerConnection } from "@fastchat/client/server_connection";
 * declare const conn: ServerConnection;
 * console.log(conn.serverId, conn.address);
 * ```
 */
export class ServerConnection {
  /** Server id from the handshake. */
  serverId = "";
  /**
   * The server's inbound frame limit as it last advertised it: the pre-login
   * limit from `welcome`, raised by the `max` of a login/register/resume reply.
   */
  maxFrame = 0;
  readonly #fc: FramedConnection;
  readonly #opts: ServerConnectionOptions;
  readonly #pending = new Map<number, {
    resolve: (f: ServerFrameOf<"ok">) => void;
    reject: (e: FastChatError) => void;
    timer: ReturnType<typeof setTimeout>;
  }>();
  #rid = 1;
  #overflowReported = false;
  #welcome: { resolve: () => void; reject: (e: FastChatError) => void } | null = null;
  #watchdog: LinkWatchdog | null = null;
  #closedResolve!: () => void;
  /** Resolves when the connection has closed. */
  readonly closedPromise: Promise<void> = new Promise((r) => this.#closedResolve = r);

  readonly #maxQueue: number;

  private constructor(conn: Deno.Conn, opts: ServerConnectionOptions) {
    this.#opts = opts;
    this.#maxQueue = opts.maxQueueBytes ?? 4 * 1024 * 1024;
    this.#fc = new FramedConnection(conn, {
      maxQueueBytes: this.#maxQueue,
      onOverflow: () => this.#overflowed(),
      onFrame: (p) => this.#onFrame(p),
      onClose: (err) => this.#onClose(err),
    });
  }

  /** `host:port` of the server. */
  get address(): string {
    return `${this.#opts.host}:${this.#opts.port}`;
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#fc.closed;
  }

  /** Connects and completes the version handshake. */
  static async connect(opts: ServerConnectionOptions): Promise<ServerConnection> {
    const timeoutMs = opts.connectTimeoutMs ?? opts.timeoutMs ?? 15_000;
    const conn = await connectWithin(opts, timeoutMs);
    if (!opts.tls) (conn as Deno.TcpConn).setNoDelay(true);
    const sc = new ServerConnection(conn, opts);
    const welcomed = new Promise<void>((resolve, reject) => sc.#welcome = { resolve, reject });
    sc.#fc.start();
    sc.#fc.sendPayload(
      encodePayload({ t: "hello", v: PROTOCOL_VERSION, agent: "fastchat-client/0.1" }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        welcomed,
        new Promise<never>((_, reject) =>
          timer = setTimeout(
            () => reject(new FastChatError("TIMEOUT", `no handshake from ${sc.address}`)),
            timeoutMs,
          )
        ),
      ]);
    } catch (e) {
      sc.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    const pingMs = opts.pingMs ?? DEFAULT_PING_MS;
    if (pingMs > 0 && !sc.closed) {
      sc.#watchdog = new LinkWatchdog({
        intervalMs: pingMs,
        // The pong (or any frame) is what counts; its reply needs no handling.
        ping: () => sc.request({ t: "ping" }).catch(() => {}),
        dead: (quietMs) =>
          sc.#fc.close(
            new FastChatError("TIMEOUT", `nothing from ${sc.address} for ${quietMs} ms: link lost`),
          ),
      });
    }
    return sc;
  }

  /** Sends a request and resolves with its `ok` reply; rejects with the server's error code. */
  request(frame: Request): Promise<ServerFrameOf<"ok">> {
    if (this.#fc.closed) {
      return Promise.reject(new FastChatError("NOT_CONNECTED", "connection is closed"));
    }
    const rid = this.#rid++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(new FastChatError("TIMEOUT", `no reply to ${frame.t} from ${this.address}`));
      }, this.#opts.timeoutMs ?? 15_000);
      this.#pending.set(rid, { resolve, reject, timer });
      this.#fc.sendPayload(encodePayload({ ...frame, rid } as ClientFrame));
    });
  }

  /** Sends a frame that expects no reply; false if closed. */
  send(frame: ClientFrame): boolean {
    return this.#fc.sendPayload(encodePayload(frame));
  }

  /** Whether {@link ServerConnection.writable} would resolve at once (no promise needed). */
  get isWritable(): boolean {
    return this.#fc.closed || this.#fc.queuedBytes <= this.#maxQueue / 2;
  }

  /** Resolves when the outbound queue has room. */
  writable(): Promise<void> {
    return this.#fc.writable();
  }

  /** Closes the connection. */
  close(): void {
    this.#fc.close();
  }

  /** Writes what is queued, then closes. */
  end(): Promise<void> {
    return this.#fc.end();
  }

  /**
   * A frame did not fit the outbound queue and was dropped (the connection
   * stays open; senders that await `writable()` rarely get here). A dropped
   * message stays in the outbox and goes out again after a reconnect, a
   * dropped acknowledgement means a redelivery, and a dropped request times
   * out; said once per connection so a flood of them does not flood stderr.
   */
  #overflowed(): void {
    if (this.#overflowReported) return;
    this.#overflowReported = true;
    console.error(
      `fastchat: outbound queue to ${this.address} is full; frames are dropped until it drains`,
    );
  }

  #onFrame(payload: Uint8Array): void {
    this.#watchdog?.seen();
    let f: ServerFrame;
    try {
      f = decodeServerFrame(payload);
    } catch (e) {
      this.#fc.close(FastChatError.from(e, "BAD_FRAME"));
      return;
    }
    if (f.t === "welcome") {
      this.serverId = f.server;
      this.maxFrame = f.max;
      this.#welcome?.resolve();
      this.#welcome = null;
      return;
    }
    if ((f.t === "ok" || f.t === "error" || f.t === "pong") && f.rid !== undefined) {
      const p = this.#pending.get(f.rid);
      if (p) {
        this.#pending.delete(f.rid);
        clearTimeout(p.timer);
        if (f.t === "error") p.reject(toError(f));
        else {
          if (f.t === "ok" && f.max !== undefined) this.maxFrame = f.max;
          p.resolve(f as ServerFrameOf<"ok">);
        }
        return;
      }
    }
    if (f.t === "error" && this.#welcome) {
      this.#welcome.reject(toError(f));
      this.#welcome = null;
      return;
    }
    this.#opts.onPush(f);
  }

  #onClose(err?: FastChatError): void {
    this.#watchdog?.stop();
    this.#closedResolve();
    let e = err ?? new FastChatError("CONNECTION_CLOSED", `connection to ${this.address} closed`);
    if (this.#welcome && (e.code === "FRAME_TOO_LARGE" || e.code === "BAD_FRAME")) {
      // Not a FastChat peer (or TLS on one side only).
      e = new FastChatError(
        "CONNECT_FAILED",
        `no FastChat handshake from ${this.address} (is it a TLS port? try --tls)`,
      );
    }
    this.#welcome?.reject(e);
    this.#welcome = null;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.#pending.clear();
    this.#opts.onClose?.(err);
  }
}

/**
 * Converts an `error` frame into a {@link FastChatError} (see
 * {@link errorFromFrame}; a `retry` hint becomes `details.retryMs`).
 *
 * @example
 * ```ts
 * import { toError } from "@fastchat/client/server_connection";
 * toError({ t: "error", code: "RATE_LIMITED", message: "busy", retry: 500 }).details?.retryMs; // 500
 * ```
 */
export const toError: (f: ServerFrameOf<"error">) => FastChatError = errorFromFrame;

/**
 * Opens the TCP (or TLS) connection, giving up after `timeoutMs`: a server
 * whose host is cut off never answers the SYN, and the kernel would retry
 * for minutes.
 */
async function connectWithin(
  opts: ServerConnectionOptions,
  timeoutMs: number,
): Promise<Deno.Conn> {
  const where = `${opts.host}:${opts.port}`;
  const failed = (e: unknown) =>
    new FastChatError("CONNECT_FAILED", `cannot connect to ${where}: ${(e as Error).message}`);
  if (!opts.tls) {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      return await Deno.connect({ hostname: opts.host, port: opts.port, signal });
    } catch (e) {
      throw failed(signal.aborted ? new Error(`no answer in ${timeoutMs} ms`) : e);
    }
  }
  // Deno.connectTls takes no signal: race it, and close a late connection.
  const connecting = Deno.connectTls({
    hostname: opts.host,
    port: opts.port,
    caCerts: opts.tls.caCerts,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs));
  try {
    const first = await Promise.race([connecting, timedOut]);
    if (first !== "timeout") return first;
  } catch (e) {
    throw failed(e);
  } finally {
    clearTimeout(timer);
  }
  connecting.then((c) => c.close(), () => {}); // too late: nobody waits for it
  throw failed(new Error(`no answer in ${timeoutMs} ms`));
}
