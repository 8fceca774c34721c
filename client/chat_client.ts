/**
 * The FastChat client library: account registration and login (keys derived
 * and sealed on the client), end-to-end encrypted direct messages, receipts,
 * an outbox that survives reconnects, and events for a UI or a load
 * generator. The terminal client and `perf/` are built on it.
 *
 * @example
 * ```ts
 * import { ChatClient } from "@fastchat/client/chat_client";
 * const alice = new ChatClient({
 *   server: { host: "127.0.0.1", port: 7701 },
 *   onEvent: (e) => console.log(JSON.stringify(e)),
 * });
 * await alice.login("alice", "correct horse battery staple");
 * const id = await alice.send("bob", "hello");
 * await alice.close();
 * ```
 * @module
 */
import {
  derivePasswordKeys,
  encryptText,
  exportPublicKeys,
  generateIdentity,
  type Identity,
  newKdfSalt,
  openIdentity,
  PBKDF2_ITERATIONS,
  type PublicKeys,
  randomBytes,
  safetyNumber,
  sealIdentity,
  toBase64Url,
} from "@fastchat/lib/crypto";
import { FastChatError } from "@fastchat/lib/errors";
import {
  type ClientFrameOf,
  type ServerFrame,
  type ServerFrameOf,
  USERNAME_RE,
} from "@fastchat/lib/protocol";
import type { ClientEvent } from "./events.ts";
import { KeyManager, type KeyState } from "./key_manager.ts";
import { type LbAddress, requestTicket } from "./lb_client.ts";
import { Outbox } from "./outbox.ts";
import { Inbox } from "./inbox.ts";
import { packBody } from "./message_body.ts";
import { ServerConnection } from "./server_connection.ts";
import { defaultHomeRoot, type HistoryRecord, UserHome } from "./user_home.ts";

export type { ClientEvent } from "./events.ts";

/** Where to connect, with the load balancer's ticket when it chose the server. */
export interface ServerTarget {
  host: string;
  port: number;
  ticket?: string;
}

/** Options of a {@link ChatClient}. */
export interface ChatClientOptions {
  /**
   * The server, or a function choosing one on each (re)connect — e.g.
   * {@link viaLoadBalancer}, which asks a load balancer for a ticket.
   */
  server: ServerTarget | (() => Promise<ServerTarget>);
  /** TLS with optional extra trusted roots (PEM). */
  tls?: { caCerts?: string[] };
  /** Home root; the user's files go to `<root>/<user>` (default `~/.fastchat`). */
  homeRoot?: string;
  /** Keep an encrypted local history (default true). */
  history?: boolean;
  /** PBKDF2 iterations for new accounts (default 600,000; at least 100,000). */
  kdfIterations?: number;
  /** Reconnect and resume automatically after a lost connection (default true). */
  reconnect?: boolean;
  /** Receives every event. */
  onEvent?: (e: ClientEvent) => void;
  /**
   * Makes the identity of a new account (default: a fresh RSA-OAEP +
   * Ed25519 identity). Load tests that register thousands of users may hand
   * out identities from a small pre-generated pool instead.
   */
  newIdentity?: () => Promise<Identity>;
}

interface Session {
  user: string;
  token: string;
  identity: Identity;
  publicKeys: PublicKeys;
  vaultKey: CryptoKey;
  home: UserHome;
  keys: KeyManager;
}

/**
 * One user's connection to FastChat.
 *
 * @example
 * ```ts
 * import { ChatClient } from "@fastchat/client/chat_client";
 * const c = new ChatClient({ server: { host: "127.0.0.1", port: 7701 } });
 * await c.register("carol", "a long passphrase");
 * console.log(c.whoami());
 * ```
 */
export class ChatClient {
  readonly #opts: ChatClientOptions;
  #conn: ServerConnection | null = null;
  #session: Session | null = null;
  readonly #outbox = new Outbox();
  readonly #inbox: Inbox;
  #closing = false;
  #reconnecting: Promise<void> | null = null;
  /** The current connection's LB ticket, until a request has used it. */
  #ticket: string | undefined;
  #idleWaiters: (() => void)[] = [];
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #syncWaiters: (() => void)[] = [];
  #synced = false;
  #earlyReceipts: ServerFrameOf<"delivered">[] = [];
  #receiptsShown = new Set<string>();

  constructor(opts: ChatClientOptions) {
    this.#opts = opts;
    this.#inbox = new Inbox({
      emit: (e) => this.#emit(e),
      sendAcks: (items) =>
        !!this.#conn && !this.#conn.closed && this.#conn.send({ t: "ack", items }),
      history: opts.history !== false,
    });
    this.#outbox.onError = (e) =>
      this.#emit({ event: "error", code: "INTERNAL", message: `outbox: ${e}` });
  }

  /** The logged-in user, or null. */
  get user(): string | null {
    return this.#session?.user ?? null;
  }

  /** Messages sent but not yet confirmed as stored. */
  get unconfirmed(): number {
    return this.#outbox.size;
  }

  #emit(e: ClientEvent): void {
    this.#opts.onEvent?.(e);
  }

  async #target(): Promise<ServerTarget> {
    const s = this.#opts.server;
    return typeof s === "function" ? await s() : s;
  }

  async #connect(): Promise<ServerConnection> {
    if (this.#conn && !this.#conn.closed) return this.#conn;
    const t = await this.#target();
    this.#synced = false;
    this.#ticket = t.ticket;
    let conn: ServerConnection | null = null;
    conn = await ServerConnection.connect({
      host: t.host,
      port: t.port,
      tls: this.#opts.tls,
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
  async #authConnection(): Promise<ServerConnection> {
    if (
      this.#conn && !this.#conn.closed && this.#ticket === undefined &&
      typeof this.#opts.server === "function"
    ) {
      this.#conn.close();
      this.#conn = null;
    }
    return await this.#connect();
  }

  #takeTicket(): { ticket?: string } {
    const ticket = this.#ticket;
    this.#ticket = undefined;
    return ticket ? { ticket } : {};
  }

  /** Creates an account: keys are generated here and only public keys and a sealed backup leave. */
  async register(user: string, password: string): Promise<void> {
    checkUsername(user);
    this.#requireLoggedOut();
    const iterations = this.#opts.kdfIterations ?? PBKDF2_ITERATIONS;
    const salt = newKdfSalt();
    const [pk, identity] = await Promise.all([
      derivePasswordKeys(password, salt, iterations),
      (this.#opts.newIdentity ?? generateIdentity)(),
    ]);
    const publicKeys = await exportPublicKeys(identity);
    const backup = await sealIdentity(identity, pk.vaultKey);
    const conn = await this.#authConnection();
    const ok = await conn.request({
      t: "register",
      user,
      auth: pk.authKey,
      kdf: { salt, iter: iterations },
      keys: publicKeys,
      backup,
      ...this.#takeTicket(),
    });
    const home = UserHome.at(this.#opts.homeRoot ?? defaultHomeRoot(), user);
    await home.writeIdentity(backup);
    await home.writeKdf({ salt, iter: iterations });
    await this.#begin(
      { user, token: ok.token!, identity, publicKeys, vaultKey: pk.vaultKey, home },
      null,
    );
  }

  /** Logs in; in a fresh home the keys are restored from the server-side sealed backup. */
  async login(user: string, password: string): Promise<void> {
    checkUsername(user);
    this.#requireLoggedOut();
    const conn = await this.#authConnection();
    const pre = await conn.request({ t: "prelogin", user });
    const home = UserHome.at(this.#opts.homeRoot ?? defaultHomeRoot(), user);
    const remembered = await home.readKdf();
    checkKdf(pre.kdf, remembered);
    const pk = await derivePasswordKeys(password, pre.kdf!.salt, pre.kdf!.iter);
    const ok = await conn.request({ t: "login", user, auth: pk.authKey, ...this.#takeTicket() });
    if (!remembered) await home.writeKdf(pre.kdf!);
    let identity: Identity | null = null;
    let publicKeys: PublicKeys | null = null;
    const local = await home.readIdentity();
    if (local) {
      try {
        identity = await openIdentity(local, pk.vaultKey);
        publicKeys = await exportPublicKeys(identity);
        if (
          !bytesEqual(publicKeys.enc, ok.keys!.enc) || !bytesEqual(publicKeys.sign, ok.keys!.sign)
        ) {
          identity = null; // stale local keys: the server's backup is authoritative
        }
      } catch {
        identity = null; // sealed under an old password
      }
    }
    if (!identity) {
      identity = await openIdentity(ok.backup!, pk.vaultKey);
      publicKeys = await exportPublicKeys(identity);
      await home.writeIdentity(ok.backup!);
    }
    let state: KeyState | null = null;
    try {
      state = await home.readState<KeyState>(pk.vaultKey);
    } catch {
      state = null;
    }
    await this.#begin(
      { user, token: ok.token!, identity, publicKeys: publicKeys!, vaultKey: pk.vaultKey, home },
      state,
    );
  }

  async #begin(s: Omit<Session, "keys">, state: KeyState | null): Promise<void> {
    const keys = new KeyManager({
      user: s.user,
      identity: s.identity,
      fetchKeys: async (u) => {
        const ok = await this.#request({ t: "keys", user: u });
        return ok.keys!;
      },
      fetchEnvelope: async (kid) => {
        const ok = await this.#request({ t: "envelope", kid });
        return { from: ok.from!, env: ok.env! };
      },
      onKeyChanged: (u, a, b) =>
        this.#emit({
          event: "key_changed",
          user: u,
          old_fingerprint: a,
          new_fingerprint: b,
          message:
            `WARNING: ${u}'s keys changed (${a} -> ${b}); ${u} is blocked. Compare with /verify ${u}, then /trust ${u}.`,
        }),
      onChange: () => this.#scheduleSave(),
    }, state);
    if (this.#opts.history !== false) {
      try {
        for (const r of await s.home.readHistory(s.vaultKey, null, 10_000)) {
          this.#inbox.markSeen(r.from, r.id);
        }
      } catch (e) {
        const err = FastChatError.from(e);
        this.#emit({
          event: "error",
          code: err.code,
          message: `local history unreadable: ${err.message}`,
        });
      }
    }
    this.#session = { ...s, keys };
    // What a previous run of this user left unconfirmed (a crash) goes out again.
    for (const frame of await this.#outbox.attach(s.home.outboxStorage(s.vaultKey))) {
      this.#conn?.send(frame);
    }
    this.#emit({
      event: "ready",
      user: s.user,
      server: this.#conn!.serverId,
      address: this.#conn!.address,
    });
    for (const f of this.#earlyReceipts.splice(0)) this.#showReceipts(f);
    this.#inbox.start(this.#session);
    await this.#backlogDone();
  }

  /** Resolves once the server said the stored backlog was sent and all of it was processed. */
  async #backlogDone(): Promise<void> {
    if (!this.#synced) {
      const conn = this.#conn;
      await new Promise<void>((resolve) => {
        this.#syncWaiters.push(resolve);
        // A lost connection must not leave login hanging.
        conn?.closedPromise.then(resolve);
      });
    }
    await this.#inbox.idle();
  }

  async #request(
    f: Parameters<ServerConnection["request"]>[0],
  ): Promise<ServerFrameOf<"ok">> {
    // A request the lost connection took with it waits for the reconnect and
    // goes out again (keys, envelope and logout are safe to repeat); only a
    // closed client or a reconnect that gave up reports an error.
    for (;;) {
      if (this.#reconnecting) await this.#reconnecting;
      const conn = this.#conn;
      if (!conn || conn.closed) {
        throw new FastChatError("NOT_CONNECTED", "not connected to a server");
      }
      try {
        return await conn.request(f);
      } catch (e) {
        if (!conn.closed || !this.#reconnecting || this.#closing) throw e;
      }
    }
  }

  /** Revokes the resume token and ends the session. */
  async logout(): Promise<void> {
    const s = this.#requireSession();
    await this.#saveNow();
    await this.#request({ t: "logout" });
    void s;
    this.#session = null;
    await this.#outbox.clear();
    this.#inbox.stop();
  }

  /** Encrypts and sends a direct message; resolves with its id once queued. */
  async send(to: string, text: string): Promise<string> {
    const s = this.#requireSession();
    checkUsername(to);
    const key = s.keys.outgoingReady(to) ?? await s.keys.outgoing(to);
    const id = toBase64Url(randomBytes(16));
    const ts = Date.now();
    const { iv, ct } = encryptText(key.key, text, {
      kind: "dm",
      from: s.user,
      to,
      id,
      sentAt: ts,
      kid: key.kid,
    });
    const frame: ClientFrameOf<"send"> = {
      t: "send",
      id,
      to,
      kind: "dm",
      ts,
      body: packBody(key.kid, iv, ct),
    };
    if (key.env) {
      frame.kid = key.kid;
      frame.env = key.env;
    }
    // The outbox log is written (batched with the sends of the next 5 ms)
    // while the frame goes out, and the history only after it: a message
    // the history shows is pending on disk until confirmed, so a crash
    // loses none of them (the next login resends what is pending).
    const { written } = await this.#outbox.enqueue(frame);
    this.#conn?.send(frame);
    written.then(
      () => {
        if (this.#opts.history === false) return;
        s.home.appendHistory(s.vaultKey, { id, peer: to, from: s.user, to, text, sentAt: ts })
          .catch((e) => this.#emit({ event: "error", code: "INTERNAL", message: `history: ${e}` }));
      },
      (e) => this.#emit({ event: "error", code: "INTERNAL", id, message: `outbox: ${e}` }),
    );
    if (this.#conn) await this.#conn.writable();
    return id;
  }

  /** Local history with `peer` (decrypted from the home). */
  history(peer: string, n = 20): Promise<HistoryRecord[]> {
    const s = this.#requireSession();
    return s.home.readHistory(s.vaultKey, peer, n);
  }

  /** The safety number of this user and `peer`, to compare out of band. */
  async verify(peer: string): Promise<string> {
    const s = this.#requireSession();
    checkUsername(peer);
    const theirs = await s.keys.contactKeys(peer);
    return await safetyNumber({ user: s.user, keys: s.publicKeys }, {
      user: peer,
      keys: theirs.raw,
    });
  }

  /**
   * While `peer` is blocked by a key change: safety numbers for the pinned
   * (old) and the new keys, to compare out of band before {@link trust}.
   */
  async pendingSafetyNumbers(peer: string): Promise<{ pinned: string; pending: string } | null> {
    const s = this.#requireSession();
    checkUsername(peer);
    const fresh = s.keys.pendingKeys(peer);
    const old = s.keys.pinned(peer);
    if (!fresh || !old) return null;
    const me = { user: s.user, keys: s.publicKeys };
    return {
      pinned: await safetyNumber(me, { user: peer, keys: old }),
      pending: await safetyNumber(me, { user: peer, keys: fresh }),
    };
  }

  /**
   * Trusts `peer`'s changed keys (re-pins them), unblocks sending and
   * processes the messages held meanwhile. `BAD_REQUEST` if none pending.
   */
  trust(peer: string): void {
    const s = this.#requireSession();
    checkUsername(peer);
    s.keys.trust(peer);
    this.#emit({ event: "trusted", user: peer });
    this.#inbox.releaseHeld(peer);
  }

  /** Who and where this client is. */
  whoami(): { user: string | null; server: string | null; address: string | null } {
    return {
      user: this.user,
      server: this.#conn?.serverId ?? null,
      address: this.#conn?.address ?? null,
    };
  }

  /** Resolves when every sent message has been confirmed (`sent`). */
  idle(): Promise<void> {
    if (this.#outbox.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Writes the key state now (it is otherwise saved at most every 2 s, and on close). */
  async persist(): Promise<void> {
    await this.#saveNow();
  }

  /** Persists state and closes the connection. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#saveNow();
    await this.#session?.home.flush();
    await this.#outbox.close(); // confirmations so far; what is pending stays on disk
    if (this.#conn) {
      this.#inbox.flushAcks();
      await this.#conn.end();
    }
  }

  #requireSession(): Session {
    if (!this.#session) throw new FastChatError("NOT_AUTHENTICATED", "log in first");
    return this.#session;
  }

  #requireLoggedOut(): void {
    if (this.#session) {
      throw new FastChatError(
        "ALREADY_AUTHENTICATED",
        `already logged in as ${this.#session.user}`,
      );
    }
  }

  /**
   * Saves the key state at most every 2 s (and on close). Losing the last
   * seconds in a crash is harmless: new outgoing keys are made on demand and
   * received ones are fetched again from the server's envelopes.
   */
  #scheduleSave(): void {
    if (this.#saveTimer !== undefined) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#saveNow().catch((e) =>
        this.#emit({ event: "error", code: "INTERNAL", message: `saving state: ${e}` })
      );
    }, 2000);
  }

  async #saveNow(): Promise<void> {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    const s = this.#session;
    if (s) await s.home.writeState(s.vaultKey, s.keys.snapshot());
  }

  #onPush(f: ServerFrame): void {
    switch (f.t) {
      case "msg":
        this.#inbox.push(f);
        return;
      case "sent":
        for (const id of f.ids) this.#confirmSent(id);
        if (this.#outbox.size === 0) { for (const w of this.#idleWaiters.splice(0)) w(); }
        return;
      case "delivered":
        if (!this.#session) this.#earlyReceipts.push(f); // shown after "ready"
        else this.#showReceipts(f);
        return;
      case "synced":
        this.#synced = true;
        for (const w of this.#syncWaiters.splice(0)) w();
        return;
      case "error": {
        if (f.id && this.#outbox.has(f.id)) {
          const frame = this.#outbox.get(f.id)!;
          if (f.code === "RATE_LIMITED") {
            setTimeout(() => this.#conn?.send(frame), f.retry ?? 100);
            return;
          }
          this.#outbox.remove(f.id);
          if (this.#outbox.size === 0) { for (const w of this.#idleWaiters.splice(0)) w(); }
        }
        this.#emit({ event: "error", code: f.code, message: f.message, id: f.id });
        return;
      }
      default:
        return;
    }
  }

  /**
   * Emits `delivered` once per message (stored receipts are re-sent until
   * acknowledged, so repeats are dropped) and acknowledges stored ones.
   */
  #showReceipts(f: ServerFrameOf<"delivered">): void {
    const items = f.items;
    for (const [peer, id] of items) {
      this.#confirmSent(id); // a receipt also confirms a message still in the outbox
      if (!f.stored) {
        // Live receipts come once; only stored ones are re-sent until acknowledged.
        this.#emit({ event: "delivered", id, to: peer });
        continue;
      }
      const key = peer + "\n" + id;
      if (this.#receiptsShown.has(key)) continue;
      if (this.#receiptsShown.size >= 200_000) this.#receiptsShown.clear();
      this.#receiptsShown.add(key);
      this.#emit({ event: "delivered", id, to: peer });
    }
    if (this.#outbox.size === 0) { for (const w of this.#idleWaiters.splice(0)) w(); }
    if (!f.stored) return;
    for (let i = 0; i < items.length; i += 4096) {
      this.#conn?.send({ t: "rack", items: items.slice(i, i + 4096) });
    }
  }

  /** The server took responsibility for message `id` (stored it, or it was delivered). */
  #confirmSent(id: string): void {
    const frame = this.#outbox.remove(id);
    if (!frame) return;
    if (frame.env && frame.kid) this.#session?.keys.envelopeStored(frame.to, frame.kid);
    this.#emit({ event: "sent", id });
  }

  #onClose(conn: ServerConnection, err?: FastChatError): void {
    if (conn !== this.#conn) return;
    if (this.#closing) return;
    // Not logged in (e.g. after a wrong password the server's auth timer
    // closes the idle connection): nothing was connected from the user's
    // view and nothing will be resumed, so this is not a `disconnected`.
    if (!this.#session) return;
    this.#emit({
      event: "disconnected",
      code: err?.code ?? "CONNECTION_CLOSED",
      message: err?.message ?? "connection closed",
    });
    if (this.#session && this.#opts.reconnect !== false && !this.#reconnecting) {
      this.#reconnecting = this.#reconnect().finally(() => this.#reconnecting = null);
    }
  }

  async #reconnect(): Promise<void> {
    for (let attempt = 0; !this.#closing && this.#session; attempt++) {
      const base = Math.min(5000, 100 * 2 ** attempt);
      await new Promise((r) => setTimeout(r, base / 2 + Math.random() * base / 2));
      const s = this.#session;
      try {
        const conn = await this.#connect();
        await conn.request({ t: "resume", token: s.token, ...this.#takeTicket() });
        this.#emit({
          event: "reconnected",
          user: s.user,
          server: conn.serverId,
          address: conn.address,
        });
        for (const frame of this.#outbox.values()) conn.send(frame);
        this.#inbox.flushAcks();
        return;
      } catch (e) {
        const err = FastChatError.from(e);
        if (err.code === "INVALID_TOKEN") {
          this.#emit({ event: "error", code: err.code, message: "session expired; log in again" });
          this.#session = null;
          return;
        }
        this.#conn?.close();
      }
    }
  }
}

/**
 * A `server` option that asks the load balancer at `lb` for a live server
 * and a ticket on every (re)connect. A reconnect asks the LB to avoid the
 * servers this client used in the last 10 s (the one it just lost, and any
 * it failed to reach), since the registry needs a few seconds to notice a
 * dead server.
 *
 * @example
 * ```ts
 * import { ChatClient, viaLoadBalancer } from "@fastchat/client/chat_client";
 * const c = new ChatClient({ server: viaLoadBalancer({ host: "127.0.0.1", port: 7700 }) });
 * ```
 */
export function viaLoadBalancer(
  lb: LbAddress,
  opts: { tls?: { caCerts?: string[] } } = {},
): () => Promise<ServerTarget> {
  const recent: { id: string; at: number }[] = [];
  return async () => {
    const now = Date.now();
    const avoid = recent.filter((r) => now - r.at < RECENT_SERVER_MS).map((r) => r.id);
    const t = await requestTicket(lb, { tls: opts.tls, avoid });
    recent.push({ id: t.server, at: now });
    if (recent.length > 4) recent.shift();
    return { host: t.host, port: t.port, ticket: t.ticket };
  };
}

/** How long a reconnect avoids a server this client used (see {@link viaLoadBalancer}). */
const RECENT_SERVER_MS = 10_000;

function checkUsername(user: string): void {
  if (!USERNAME_RE.test(user)) {
    throw new FastChatError(
      "INVALID_USERNAME",
      `invalid username ${JSON.stringify(user)}: use 1-32 of a-z 0-9 _ . -`,
    );
  }
}

/** Lowest PBKDF2 iteration count a client accepts (the protocol's floor). */
const MIN_KDF_ITERATIONS = 100_000;

/**
 * Refuses prelogin KDF settings weaker than the floor or different from the
 * ones remembered for this account, before the password is derived with them.
 */
function checkKdf(
  kdf: { salt: Uint8Array; iter: number } | undefined,
  remembered: { salt: Uint8Array; iter: number } | null,
): void {
  if (!kdf || kdf.iter < MIN_KDF_ITERATIONS) {
    throw new FastChatError(
      "KDF_DOWNGRADE",
      `server offered ${kdf?.iter ?? "no"} KDF iterations (floor ${MIN_KDF_ITERATIONS})`,
    );
  }
  if (!remembered) return;
  if (kdf.iter < remembered.iter || !bytesEqual(kdf.salt, remembered.salt)) {
    throw new FastChatError(
      "KDF_DOWNGRADE",
      `server offered KDF settings (${kdf.iter} iterations) other than this account's ` +
        `(${remembered.iter}); refusing to derive the password with them`,
    );
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
