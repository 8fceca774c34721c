/**
 * One client connection on the load balancer: `hello` → `welcome`, then
 * `{t:"ticket", rid}` → `{t:"ok", rid, ticket, server, host, port, tls?}`
 * naming a live chat server and how to reach it (`tls: true` when its port
 * speaks TLS; absent for plain TCP) (or `{t:"error", rid, code}`, e.g. `NO_SERVERS`). The LB
 * carries no chat traffic, so a connection gets a 4 KiB frame limit, a
 * handshake deadline, an idle deadline, and is closed at the first invalid
 * frame (with an `error` frame saying why); nothing it sends after that is
 * decoded. Every LB connection is unauthenticated: past the caps in total
 * and per address, a new one is refused at once (`RATE_LIMITED`, nothing
 * read).
 *
 * @example
 * ```ts
 * import { LbSession } from "@fastchat/lb/lb_session";
 * declare const conn: Deno.Conn;
 * declare const ctx: import("@fastchat/lb/lb_session").LbSessionContext;
 * new LbSession(conn, ctx).run();
 * ```
 * @module
 */
import { type CapSlot, type ConnectionCaps, refuseConnection } from "@fastchat/lib/connection_caps";
import { type ErrorCode, FastChatError } from "@fastchat/lib/errors";
import { errorFrame } from "@fastchat/lib/error_frame";
import { FramedConnection } from "@fastchat/lib/framed_conn";
import type { Logger } from "@fastchat/lib/logger";
import {
  type ClientFrame,
  decodeClientFrame,
  encodePayload,
  PROTOCOL_VERSION,
  type ServerFrame,
} from "@fastchat/lib/protocol";
import type { AddressLimiter } from "./address_limiter.ts";
import type { ServerPicker } from "./server_picker.ts";

/** The retry hint of a ticket refused because the registry cannot be read, ms. */
const REGISTRY_RETRY_MS = 1000;
import type { TicketSigner } from "./ticket_signer.ts";

/**
 * Limits applied to each LB connection.
 *
 * @example
 * ```ts
 * import { DEFAULT_LB_LIMITS, type LbLimits } from "@fastchat/lb/lb_session";
 * const limits: LbLimits = { ...DEFAULT_LB_LIMITS, handshakeTimeoutMs: 2_000 };
 * ```
 */
export interface LbLimits {
  /** Largest inbound frame (bytes). */
  maxFrame: number;
  /** Time allowed between connecting and `hello`. */
  handshakeTimeoutMs: number;
  /** A handshaken connection idle this long is closed. */
  idleTimeoutMs: number;
  /** Open connections at most; more are refused at once with `RATE_LIMITED`. */
  maxConnections: number;
  /** Open connections at most from one address; more are refused at once with `RATE_LIMITED`. */
  maxPerAddress: number;
}

/**
 * Default {@link LbLimits}: 4 KiB frames, 5 s handshake, 10 s idle, 10 000
 * connections, 32 per address.
 */
export const DEFAULT_LB_LIMITS: LbLimits = {
  maxFrame: 4096,
  handshakeTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  maxConnections: 10_000,
  maxPerAddress: 32,
};

/**
 * What a session needs from its load balancer.
 *
 * @example
 * ```ts
 * import type { LbSessionContext } from "@fastchat/lb/lb_session";
 * declare const ctx: LbSessionContext;
 * console.log(ctx.lbId, ctx.sessions.size);
 * ```
 */
export interface LbSessionContext {
  /** Sent in `welcome.server`. */
  lbId: string;
  picker: ServerPicker;
  signer: TicketSigner;
  ticketTtlMs: number;
  /** One token per connection, and per extra ticket on a connection. */
  limiter: AddressLimiter;
  limits: LbLimits;
  /** Counts open connections against `limits.maxConnections` and `limits.maxPerAddress`. */
  caps: ConnectionCaps;
  logger: Logger;
  sessions: Set<LbSession>;
  /** Called after each ticket sent, with the chosen server id. */
  onTicket?: (serverId: string) => void;
}

/**
 * Server side of one LB connection.
 *
 * @example
 * ```ts
 * import { LbSession } from "@fastchat/lb/lb_session";
 * declare const s: LbSession;
 * s.close("SERVER_SHUTTING_DOWN", "load balancer is stopping");
 * ```
 */
export class LbSession {
  /** The peer's address (rate-limit key). */
  readonly addr: string;
  readonly #ctx: LbSessionContext;
  readonly #conn: FramedConnection;
  #welcomed = false;
  #tickets = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refusal: { message: string; retry: number } | null = null;
  #slot: CapSlot | null = null;
  readonly #raw: Deno.Conn;

  constructor(conn: Deno.Conn, ctx: LbSessionContext) {
    this.#ctx = ctx;
    this.addr = (conn.remoteAddr as Deno.NetAddr).hostname ?? "unknown";
    this.#raw = conn;
    this.#conn = new FramedConnection(conn, {
      maxFrame: ctx.limits.maxFrame,
      maxQueueBytes: 64 * 1024,
      writeStallMs: ctx.limits.idleTimeoutMs,
      onFrame: (p) => this.#onFrame(p),
      onClose: (err) => this.#onClose(err),
      onDecodeError: (err) => this.close(err.code, err.message),
    });
  }

  /** Serves the connection until it closes. */
  run(): Promise<void> {
    const ctx = this.#ctx;
    this.#slot = ctx.caps.admit(this.addr);
    if (!this.#slot) {
      ctx.logger.debug("connection_refused", { addr: this.addr });
      return refuseConnection(this.#raw, "load balancer is at its connection limit; retry");
    }
    ctx.sessions.add(this);
    // A rate-limited peer is told so when its first frame arrives (its
    // request is still not decoded).
    if (!ctx.limiter.take(this.addr)) {
      this.#refusal = {
        message: "too many requests from this address",
        retry: ctx.limiter.waitMs(this.addr),
      };
    }
    this.#arm(ctx.limits.handshakeTimeoutMs, "no hello in time");
    return this.#conn.start();
  }

  /** Sends an error frame, flushes, and closes. */
  close(code: ErrorCode, message: string, rid?: number): void {
    if (this.#conn.ending) return;
    clearTimeout(this.#timer);
    this.#send({ t: "error", rid, code, message });
    this.#conn.end(500);
  }

  #send(f: ServerFrame): void {
    this.#conn.sendPayload(encodePayload(f));
  }

  #arm(ms: number, why: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.close("TIMEOUT", why), ms);
  }

  #onClose(err?: FastChatError): void {
    clearTimeout(this.#timer);
    this.#slot?.release();
    this.#slot = null;
    this.#ctx.sessions.delete(this);
    if (err && err.code !== "CONNECTION_CLOSED") {
      this.#ctx.logger.debug("connection_closed", { addr: this.addr, code: err.code });
    }
  }

  #onFrame(payload: Uint8Array): void | Promise<void> {
    if (this.#refusal) {
      clearTimeout(this.#timer);
      const { message, retry } = this.#refusal;
      this.#send({ t: "error", code: "RATE_LIMITED", message, retry });
      this.#conn.end(500);
      return;
    }
    let f: ClientFrame;
    try {
      f = decodeClientFrame(payload);
    } catch (e) {
      const err = FastChatError.from(e, "BAD_FRAME");
      return this.close(err.code, err.message);
    }
    if (!this.#welcomed) {
      if (f.t !== "hello") return this.close("HANDSHAKE_REQUIRED", "send hello first");
      if (f.v !== PROTOCOL_VERSION) {
        return this.close(
          "UNSUPPORTED_VERSION",
          `load balancer speaks protocol ${PROTOCOL_VERSION}`,
        );
      }
      this.#welcomed = true;
      this.#send({
        t: "welcome",
        v: PROTOCOL_VERSION,
        server: this.#ctx.lbId,
        max: this.#ctx.limits.maxFrame,
      });
      this.#arm(this.#ctx.limits.idleTimeoutMs, "idle");
      return;
    }
    switch (f.t) {
      case "ticket":
        return this.#onTicket(f.rid, f.avoid);
      case "ping":
        this.#send({ t: "pong", rid: f.rid });
        this.#arm(this.#ctx.limits.idleTimeoutMs, "idle");
        return;
      case "hello":
        return this.close("BAD_REQUEST", "duplicate hello");
      default:
        return this.close(
          "BAD_REQUEST",
          `this is a load balancer: it answers only ticket requests, not ${f.t}; ` +
            "connect to the server named in the ticket",
          "rid" in f ? f.rid : undefined,
        );
    }
  }

  async #onTicket(rid: number, avoid?: string[]): Promise<void> {
    const ctx = this.#ctx;
    clearTimeout(this.#timer);
    try {
      // The connection's token paid for its first ticket.
      if (this.#tickets > 0 && !ctx.limiter.take(this.addr)) {
        throw new FastChatError("RATE_LIMITED", "too many requests from this address", {
          retryMs: ctx.limiter.waitMs(this.addr),
        });
      }
      this.#tickets++;
      const s = await ctx.picker.pick(avoid);
      const ticket = await ctx.signer.issue({
        serverId: s.id,
        host: s.host,
        port: s.port,
        ttlMs: ctx.ticketTtlMs,
      });
      this.#send({
        t: "ok",
        rid,
        ticket,
        server: s.id,
        host: s.host,
        port: s.port,
        // Only when true: clients that predate the flag still accept the reply for plain servers.
        ...(s.tls ? { tls: true } : {}),
      });
      ctx.logger.debug("ticket_issued", { addr: this.addr, server: s.id });
      ctx.onTicket?.(s.id);
    } catch (e) {
      let err = FastChatError.from(e);
      let message = err.message;
      if (err.code === "INTERNAL") {
        ctx.logger.error("ticket_failed", { error: String(e) });
        message = "internal error";
      } else if (err.code === "STORE_UNAVAILABLE") {
        // The cause (logged) names the database's address: not for clients.
        ctx.logger.warn("ticket_store_unavailable", { error: err.message });
        message = "the load balancer cannot read the server registry; try again shortly";
        err = new FastChatError("STORE_UNAVAILABLE", message, { retryMs: REGISTRY_RETRY_MS });
      } else {
        ctx.logger.debug("ticket_refused", { addr: this.addr, code: err.code, message });
      }
      this.#send(errorFrame(err, { rid, message }));
    }
    if (!this.#conn.closed) this.#arm(ctx.limits.idleTimeoutMs, "idle");
  }
}
