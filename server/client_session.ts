/**
 * One client connection on a chat server: its phases and the dispatch of
 * its frames, nothing else. Phases: handshake (only `hello`), anonymous
 * (account requests), authenticated (messaging; the router sends the
 * backlog and `synced`), anonymous again after logout, and closing. Before
 * login the peer gets a small frame limit, a deadline and an error budget,
 * and counts against the caps on unauthenticated connections (total and per
 * address; a connection over them is refused at once). Invalid frames get
 * one `error` frame with a stable code; once the session decided to close,
 * nothing more it sent is decoded. Messages, acknowledgements, receipts,
 * backlog and other servers are the router's (server/message_router.ts).
 *
 * @example
 * ```ts
 * import { ClientSession } from "@fastchat/server/client_session";
 * declare const conn: Deno.TcpConn;
 * declare const ctx: import("@fastchat/server/session_context").SessionContext;
 * new ClientSession(conn, ctx).run();
 * ```
 * @module
 */
import { type CapSlot, refuseConnection } from "@fastchat/lib/connection_caps";
import { FastChatError } from "@fastchat/lib/errors";
import { FramedConnection } from "@fastchat/lib/framed_conn";
import { PRELOGIN_MAX_FRAME } from "@fastchat/lib/frame";
import {
  type ClientFrame,
  type ClientFrameOf,
  decodeClientFrame,
  encodePayload,
  PROTOCOL_VERSION,
  type ServerFrame,
} from "@fastchat/lib/protocol";
import type { SessionGrant } from "./accounts.ts";
import { ConfirmationBatch } from "./confirmation_batch.ts";
import { isStoreOutage, storeUnavailable } from "./store_outage.ts";
import type { FileConnection, FileRequests } from "./file_requests.ts";
import type { RoutedSession } from "./message_router.ts";
import { IdleTimeout } from "./idle_timeout.ts";
import type { SessionContext } from "./session_context.ts";

export type { SessionContext, SessionLimits } from "./session_context.ts";

const enum Phase {
  Handshake,
  Anonymous,
  Authenticated,
}

/**
 * Server side of one client connection.
 *
 * @example
 * ```ts
 * import { ClientSession } from "@fastchat/server/client_session";
 * declare const s: ClientSession;
 * s.close("SERVER_SHUTTING_DOWN", "bye");
 * ```
 */
export class ClientSession implements RoutedSession {
  readonly #ctx: SessionContext;
  readonly #conn: FramedConnection;
  readonly addr: string;
  #phase = Phase.Handshake;
  #grant: SessionGrant | null = null;
  #errors = 0;
  #authTimer: ReturnType<typeof setTimeout> | undefined;
  #idle: IdleTimeout | null = null;
  /** Held while unauthenticated: this connection counts against the pre-auth caps. */
  #preAuthSlot: CapSlot | null = null;
  readonly #raw: Deno.Conn;
  /** `sent` and `delivered` confirmations, one frame per kind per burst. */
  readonly #confirmations = new ConfirmationBatch((f) => this.#send(f));

  constructor(conn: Deno.Conn, ctx: SessionContext) {
    this.#ctx = ctx;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.addr = remote.hostname ?? "unknown";
    this.#raw = conn;
    this.#conn = new FramedConnection(conn, {
      maxFrame: PRELOGIN_MAX_FRAME,
      maxQueueBytes: ctx.limits.maxQueueBytes,
      writeStallMs: ctx.limits.writeStallMs,
      onFrame: (p) => {
        this.#idle?.seen();
        return this.#onFrame(p);
      },
      onClose: (err) => this.#onClose(err),
      onDecodeError: (err) => this.close(err.code, err.message),
    });
  }

  /** The authenticated user ("" before login). */
  get user(): string {
    return this.#grant?.user ?? "";
  }

  /**
   * Serves the connection until it closes. Over the caps on unauthenticated
   * connections it is refused at once (`RATE_LIMITED`, nothing read).
   */
  run(): Promise<void> {
    this.#preAuthSlot = this.#ctx.preAuth.admit(this.addr);
    if (!this.#preAuthSlot) {
      this.#ctx.logger.debug("connection_refused", { addr: this.addr });
      return refuseConnection(
        this.#raw,
        "too many unauthenticated connections; try again shortly",
      );
    }
    this.#ctx.sessions.add(this);
    this.#armAuthDeadline();
    this.#idle = new IdleTimeout(this.#ctx.limits.idleTimeoutMs ?? 0, (ms) => {
      this.close("TIMEOUT", `nothing received for ${ms} ms (not even a ping)`);
    });
    return this.#conn.start();
  }

  /** Starts the time allowed for handshake and login (again after logout). */
  #armAuthDeadline(): void {
    clearTimeout(this.#authTimer);
    this.#authTimer = setTimeout(() => {
      this.close("TIMEOUT", "handshake and login not completed in time");
    }, this.#ctx.limits.authTimeoutMs);
  }

  /** Sends an error frame, flushes, and closes. */
  close(code: FastChatError["code"], message: string): void {
    if (this.#conn.ending) return;
    this.#send({ t: "error", code, message });
    this.#conn.end(500);
  }

  #send(f: ServerFrame): boolean {
    // A reply granting a session (register, login, resume: the ones with
    // `expires`) tells the client the frame limit that applies from now on.
    if (f.t === "ok" && f.expires !== undefined && f.max === undefined) {
      f = { ...f, max: this.#ctx.limits.maxFrame };
    }
    return this.#conn.sendPayload(encodePayload(f));
  }

  deliver(payload: Uint8Array): boolean {
    return this.#conn.sendPayload(payload);
  }

  get congested(): boolean {
    return this.#conn.queuedBytes > this.#ctx.limits.maxQueueBytes / 2;
  }

  writable(): Promise<void> {
    return this.#conn.writable();
  }

  get closed(): boolean {
    return this.#conn.closed;
  }

  confirmSent(id: string): void {
    this.#confirmations.sent(id);
  }

  rejectSent(id: string, err: FastChatError): void {
    this.#send({ t: "error", id, code: err.code, message: err.message });
  }

  confirmDelivered(peer: string, id: string, stored: boolean): void {
    this.#confirmations.delivered(peer, id, stored);
  }

  #onClose(err?: FastChatError): void {
    clearTimeout(this.#authTimer);
    this.#idle?.stop();
    this.#preAuthSlot?.release();
    this.#preAuthSlot = null;
    this.#ctx.sessions.delete(this);
    if (this.#phase === Phase.Authenticated) this.#ctx.router.leave(this);
    if (err && err.code !== "CONNECTION_CLOSED") {
      this.#ctx.logger.info("connection_closed", { user: this.user, code: err.code });
    }
    this.#ctx.onClosed?.(this.user, err?.code);
  }

  #onFrame(payload: Uint8Array): void | Promise<void> {
    let frame: ClientFrame;
    try {
      frame = decodeClientFrame(payload);
    } catch (e) {
      return this.#reject(FastChatError.from(e, "BAD_FRAME"));
    }
    try {
      const r = this.#dispatch(frame);
      if (r) return r.catch((e) => this.#fail(frame, e));
    } catch (e) {
      this.#fail(frame, e);
    }
  }

  /** Answers a frame that could not be decoded; it counts against the error budget. */
  #reject(err: FastChatError): void {
    this.#send({ t: "error", code: err.code, message: err.message });
    this.#countError();
  }

  /** One more invalid frame: past the phase's budget the session closes. */
  #countError(): void {
    this.#errors++;
    const budget = this.#phase === Phase.Authenticated
      ? this.#ctx.limits.maxErrorsAfterAuth
      : this.#ctx.limits.maxErrorsBeforeAuth;
    if (this.#errors >= budget) this.close("TOO_MANY_ERRORS", "too many invalid frames");
  }

  #fail(frame: ClientFrame, e: unknown): void {
    // A database outage is no bug: a typed, retryable refusal, not INTERNAL.
    const err = isStoreOutage(e) ? storeUnavailable(e) : FastChatError.from(e);
    let message = err.message;
    if (err.code === "STORE_UNAVAILABLE") {
      this.#ctx.logger.warn("request_store_unavailable", { t: frame.t, error: String(e) });
    } else if (err.code === "INTERNAL") {
      this.#ctx.logger.error("request_failed", { t: frame.t, error: String(e) });
      message = "internal error";
    }
    const retry = typeof err.details?.retryMs === "number" ? err.details.retryMs : undefined;
    const reply: ServerFrame = { t: "error", code: err.code, message, retry };
    if ("rid" in frame) reply.rid = frame.rid;
    if (frame.t === "send") reply.id = frame.id;
    this.#send(reply);
    // An invalid request costs error budget (answered once, above).
    if (err.code === "BAD_REQUEST" || err.code === "NOT_AUTHENTICATED") this.#countError();
  }

  #dispatch(f: ClientFrame): void | Promise<void> {
    if (this.#phase === Phase.Handshake) {
      if (f.t !== "hello") {
        throw new FastChatError("HANDSHAKE_REQUIRED", "send hello first");
      }
      if (f.v !== PROTOCOL_VERSION) {
        this.close("UNSUPPORTED_VERSION", `server speaks protocol ${PROTOCOL_VERSION}`);
        return;
      }
      this.#phase = Phase.Anonymous;
      this.#send({
        t: "welcome",
        v: PROTOCOL_VERSION,
        server: this.#ctx.serverId,
        // What applies now; the login reply tells the raised limit.
        max: this.#conn.decoder.maxFrame,
      });
      return;
    }
    switch (f.t) {
      case "send":
        return this.#onSend(this.#authed(f));
      case "ack":
        this.#authed(f);
        if (f.items.length) this.#ctx.router.ack(this, f.items);
        if (f.groups?.length || f.files?.length) {
          this.#ctx.router.ackGroups(this, f.groups ?? [], f.files ?? []);
        }
        return;
      case "group":
        return this.#onGroup(this.#authed(f));
      case "upload":
      case "chunk":
      case "fetch":
        return this.#files().handle(this.#fileConnection, this.#authed(f));
      case "rack":
        this.#authed(f);
        this.#ctx.router.receiptsShown(this.user, f.items);
        return;
      case "ping":
        this.#send({ t: "pong", rid: f.rid });
        return;
      case "hello":
        throw new FastChatError("BAD_REQUEST", "duplicate hello");
      case "ticket":
        throw new FastChatError(
          "BAD_REQUEST",
          "this is a chat server; ask a load balancer for tickets",
        );
      case "register":
      case "prelogin":
      case "login":
      case "resume":
        return this.#onAuthRequest(f);
      case "logout":
        return this.#onLogout(this.#authed(f));
      case "keys":
        return this.#onKeys(this.#authed(f));
      case "envelope":
        return this.#onEnvelope(this.#authed(f));
    }
  }

  #authed<F extends ClientFrame>(f: F): F {
    if (this.#phase !== Phase.Authenticated) {
      throw new FastChatError("NOT_AUTHENTICATED", `log in before ${f.t}`);
    }
    return f;
  }

  async #onAuthRequest(
    f: ClientFrameOf<"register" | "prelogin" | "login" | "resume">,
  ): Promise<void> {
    if (this.#phase === Phase.Authenticated && f.t !== "prelogin") {
      throw new FastChatError("ALREADY_AUTHENTICATED", "log out first");
    }
    if (!this.#ctx.anonLimiter.take(this.addr)) {
      throw new FastChatError("RATE_LIMITED", "too many requests from this address", {
        retryMs: this.#ctx.anonLimiter.waitMs(this.addr),
      });
    }
    const accounts = this.#ctx.accounts;
    if (f.t !== "prelogin" && this.#ctx.tickets) await this.#ctx.tickets.check(f.t, f.ticket);
    if (f.t === "prelogin") {
      const kdf = await accounts.prelogin(f.user);
      this.#send({ t: "ok", rid: f.rid, user: f.user, kdf });
      return;
    }
    if (f.t === "register") {
      const g = await accounts.register(f);
      this.#send({ t: "ok", rid: f.rid, user: g.user, token: g.token, expires: g.expires });
      await this.#authenticated(g);
      return;
    }
    if (f.t === "login") {
      const g = await accounts.login(f.user, f.auth, this.addr);
      this.#send({
        t: "ok",
        rid: f.rid,
        user: g.user,
        token: g.token,
        expires: g.expires,
        keys: g.keys,
        backup: g.backup,
        kdf: g.kdf,
      });
      await this.#authenticated(g);
      return;
    }
    const g = await accounts.resume(f.token, this.addr);
    this.#send({ t: "ok", rid: f.rid, user: g.user, expires: g.expires });
    await this.#authenticated(g);
  }

  /** Switches to the authenticated phase and sends what waited for the user. */
  async #authenticated(g: SessionGrant): Promise<void> {
    clearTimeout(this.#authTimer);
    this.#authTimer = undefined; // a cleared Timeout still holds ~0.3 KiB per session
    this.#preAuthSlot?.release();
    this.#preAuthSlot = null;
    this.#grant = g;
    this.#phase = Phase.Authenticated;
    this.#errors = 0;
    this.#conn.decoder.maxFrame = this.#ctx.limits.maxFrame;
    await this.#ctx.router.join(this);
    this.#send({ t: "synced" });
  }

  async #onLogout(f: ClientFrameOf<"logout">): Promise<void> {
    await this.#ctx.accounts.logout(this.#grant!.sessionId);
    this.#ctx.router.leave(this);
    this.#grant = null;
    // Anonymous again: pre-login frame limit, error budget, deadline and caps.
    this.#phase = Phase.Anonymous;
    this.#errors = 0;
    this.#conn.decoder.maxFrame = PRELOGIN_MAX_FRAME;
    this.#send({ t: "ok", rid: f.rid });
    if (this.#conn.ending) return;
    this.#preAuthSlot = this.#ctx.preAuth.admit(this.addr);
    if (!this.#preAuthSlot) {
      this.close("RATE_LIMITED", "too many unauthenticated connections; try again shortly");
      return;
    }
    this.#armAuthDeadline();
  }

  async #onKeys(f: ClientFrameOf<"keys">): Promise<void> {
    const keys = await this.#ctx.accounts.publicKeys(f.user);
    this.#send({ t: "ok", rid: f.rid, user: f.user, keys });
  }

  async #onEnvelope(f: ClientFrameOf<"envelope">): Promise<void> {
    const e = await this.#ctx.router.envelope(this.user, f.kid);
    if (!e) throw new FastChatError("UNKNOWN_KEY", `no key envelope ${f.kid} for you`);
    this.#send({ t: "ok", rid: f.rid, kid: e.kid, from: e.sender, env: e.envelope });
  }

  async #onGroup(f: ClientFrameOf<"group">): Promise<void> {
    if (!this.#ctx.groups) throw new FastChatError("BAD_REQUEST", "this server has no groups");
    if (!this.#ctx.sendLimiter.take(this.user)) {
      throw new FastChatError("RATE_LIMITED", "too many requests", {
        retryMs: this.#ctx.sendLimiter.waitMs(this.user),
      });
    }
    // My group messages read before this request take effect first (a
    // message then `leave` must not be refused as from a non-member).
    await this.#ctx.router.groupSendsSettled(this);
    this.#send(await this.#ctx.groups.handle(this.user, f));
  }

  #files(): FileRequests {
    if (!this.#ctx.files) throw new FastChatError("BAD_REQUEST", "this server takes no files");
    return this.#ctx.files;
  }

  /** This connection as the file requests see it. */
  get #fileConnection(): FileConnection {
    return {
      user: this.user,
      send: (f) => this.#send(f),
      congested: this.congested,
      writable: () => this.writable(),
    };
  }

  #onSend(f: ClientFrameOf<"send">): void | Promise<void> {
    if (!this.#ctx.sendLimiter.take(this.user)) {
      throw new FastChatError("RATE_LIMITED", "sending too fast", {
        retryMs: this.#ctx.sendLimiter.waitMs(this.user),
      });
    }
    if (f.env && !f.kid) throw new FastChatError("BAD_REQUEST", "env requires kid");
    if (f.kind === "group") return this.#ctx.router.acceptGroup(this, f);
    if (f.file !== undefined) return this.#sendFile(f);
    const accounts = this.#ctx.accounts;
    if (accounts.isKnown(f.to)) return this.#ctx.router.accept(this, f);
    return accounts.exists(f.to).then((ok) => {
      if (!ok) throw new FastChatError("UNKNOWN_USER", `no such user: ${f.to}`);
      return this.#ctx.router.accept(this, f);
    });
  }

  /** A direct message carrying a file: the recipient gets its grant before the message. */
  async #sendFile(f: ClientFrameOf<"send">): Promise<void> {
    const accounts = this.#ctx.accounts;
    if (!accounts.isKnown(f.to) && !await accounts.exists(f.to)) {
      throw new FastChatError("UNKNOWN_USER", `no such user: ${f.to}`);
    }
    await this.#files().store.attach(f.file!, this.user, f.id, [f.to]);
    await this.#ctx.router.accept(this, f);
  }
}
