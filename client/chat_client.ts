/**
 * The FastChat client library: account registration and login (keys derived
 * and sealed on the client), end-to-end encrypted direct messages, receipts,
 * an outbox that survives reconnects, and events for a UI or a load
 * generator. The terminal client and `perf/` are built on it.
 *
 * {@link ChatClient} wires the parts, each the one owner of its concept:
 * `SessionConnector` (server choice, tickets, reconnect and resume),
 * `LoginFlow` (password, KDF, identity), `OutgoingMessages` (sealing direct
 * sends into the outbox, onto the wire and into the history), `Outbox`
 * (pending sends and their receipts), `ReceiptEvents` (their `sent` and
 * `delivered` events), `Inbox` (received messages and acknowledgements),
 * `KeyManager` (contact and session keys) and `StateSaver` (saving the key
 * state).
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
import { FastChatError } from "@fastchat/lib/errors";
import type { ServerFrame } from "@fastchat/lib/protocol";
import type { ClientEvent } from "./events.ts";
import { Inbox } from "./inbox.ts";
import { KeyManager } from "./key_manager.ts";
import { checkUsername, type LoggedIn, LoginFlow } from "./login_flow.ts";
import { Outbox } from "./outbox.ts";
import { batchMembers } from "./message_batch.ts";
import { OutgoingMessages, type SendingSession } from "./outgoing_messages.ts";
import { encodeContent } from "./message_content.ts";
import { GroupChat } from "./group_chat.ts";
import { downloadsDir, FileTransfers } from "./file_transfers.ts";
import { SenderKeyRing, type SenderKeySnapshot } from "./sender_keys.ts";
import { checkGroupName } from "@fastchat/lib/group_name";
import type { ServerConnection } from "./server_connection.ts";
import { SessionConnector } from "./session_connector.ts";
import { ReceiptEvents, recipientOf } from "./receipt_events.ts";
import { StateSaver } from "./state_saver.ts";
import type { HistoryRecord } from "./user_home.ts";
import type { ChatClientOptions } from "./chat_client_options.ts";

export type { ClientEvent } from "./events.ts";
export { viaLoadBalancer } from "./lb_client.ts";
export type { ServerTarget } from "./session_connector.ts";
export type { ChatClientOptions } from "./chat_client_options.ts";

type Session = SendingSession;

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
  readonly #link: SessionConnector;
  readonly #login: LoginFlow;
  readonly #outbox = new Outbox();
  readonly #inbox: Inbox;
  readonly #saver: StateSaver;
  readonly #ring = new SenderKeyRing();
  readonly #groups: GroupChat;
  /** `sent` and `delivered` events of what this client sends. */
  readonly #receipts: ReceiptEvents;
  readonly #files: FileTransfers;
  /** Direct messages on their way out: outbox, wire, history. */
  readonly #out: OutgoingMessages;
  #session: Session | null = null;

  constructor(opts: ChatClientOptions) {
    this.#opts = opts;
    const emit = (e: ClientEvent) => this.#emit(e);
    this.#link = new SessionConnector({
      server: opts.server,
      tls: opts.tls,
      reconnect: opts.reconnect,
      pingMs: opts.pingMs,
      onPush: (f) => this.#onPush(f),
      session: () => this.#session,
      onDisconnected: (err) =>
        emit({ event: "disconnected", code: err.code, message: err.message }),
      onResumed: (conn) => this.#resumed(conn),
      onExpired: (err) => {
        emit({ event: "error", code: err.code, message: "session expired; log in again" });
        this.#session = null;
      },
    });
    this.#login = new LoginFlow({
      link: this.#link,
      homeRoot: opts.homeRoot,
      kdfIterations: opts.kdfIterations,
      newIdentity: opts.newIdentity,
      emit,
    });
    this.#files = new FileTransfers({
      request: (f) => this.#link.request(f),
      emit,
      downloads: () => downloadsDir(this.#requireSession().home.dir),
    });
    this.#groups = new GroupChat({
      me: () => this.#requireSession().user,
      request: (r) => this.#link.request({ t: "group", ...r }),
      sendDirect: (to, content) => this.#out.sendDirect(to, content, null, undefined, true),
      sendFrame: async (frame) => void await this.#out.queue(frame),
      ring: this.#ring,
      onChange: () => this.#saver.schedule(),
    });
    this.#inbox = new Inbox({
      emit,
      sendAcks: (items, groups, files) =>
        this.#link.send({
          t: "ack",
          items,
          ...(groups ? { groups } : {}),
          ...(files ? { files } : {}),
        }),
      // Only a full queue is waited for (a closed one resolves at once: no spin;
      // after a reconnect `#resumed` flushes the acks).
      ackRoom: () => {
        const conn = this.#link.connection;
        return conn && !conn.closed && !conn.isWritable ? conn.writable() : null;
      },
      history: opts.history !== false,
      senderKeys: this.#ring,
      onChange: () => this.#saver.schedule(),
      onGroupEvent: (ev) => this.#groups.onEvent(ev),
      onFile: (m) => this.#files.download(m),
    });
    this.#saver = new StateSaver({
      write: async () => {
        const s = this.#session;
        if (!s) return;
        await s.home.writeState(s.vaultKey, s.keys.snapshot());
        await s.home.writeGroupKeys(s.vaultKey, this.#ring.snapshot());
      },
      onError: (e) => emit({ event: "error", code: "INTERNAL", message: `saving state: ${e}` }),
    });
    this.#receipts = new ReceiptEvents({
      emit,
      ackStored: (items) => this.#link.send({ t: "rack", items }),
      envelopeStored: (to, kid) => this.#session?.keys.envelopeStored(to, kid),
      handovers: this.#ring,
      onChange: () => this.#saver.schedule(),
    });
    this.#out = new OutgoingMessages({
      outbox: this.#outbox,
      link: this.#link,
      session: () => this.#session,
      markInternal: (id) => this.#receipts.markInternal(id),
      history: opts.history !== false,
      emit,
    });
    const outboxError = (e: unknown, id?: string) =>
      emit({ event: "error", code: "INTERNAL", id, message: `outbox: ${e}` });
    this.#outbox.onError = (e) => outboxError(e);
    this.#outbox.onWriteFailed = (frames, e) =>
      frames.forEach((f) => batchMembers(f.id).forEach((id) => outboxError(e, id)));
  }

  /** The logged-in user, or null. */
  get user(): string | null {
    return this.#session?.user ?? null;
  }

  /** Message frames sent (or about to be sealed) but not yet confirmed as stored. */
  get unconfirmed(): number {
    return this.#outbox.size + this.#out.frames;
  }

  #emit(e: ClientEvent): void {
    this.#opts.onEvent?.(e);
  }

  /** Creates an account: keys are generated here and only public keys and a sealed backup leave. */
  async register(user: string, password: string): Promise<void> {
    checkUsername(user);
    this.#requireLoggedOut();
    await this.#begin(await this.#login.register(user, password));
  }

  /** Logs in; in a fresh home the keys are restored from the server-side sealed backup. */
  async login(user: string, password: string): Promise<void> {
    checkUsername(user);
    this.#requireLoggedOut();
    await this.#begin(await this.#login.login(user, password));
  }

  async #begin({ state, ...s }: LoggedIn): Promise<void> {
    const keys = new KeyManager({
      user: s.user,
      identity: s.identity,
      fetchKeys: async (u) => (await this.#link.request({ t: "keys", user: u })).keys!,
      fetchEnvelope: async (kid) => {
        const ok = await this.#link.request({ t: "envelope", kid });
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
      onChange: () => this.#saver.schedule(),
    }, state);
    await this.#inbox.rememberHistory(s);
    this.#groups.reset();
    try {
      this.#ring.load(await s.home.readGroupKeys<SenderKeySnapshot>(s.vaultKey));
    } catch (e) {
      this.#ring.load(null);
      this.#emit({
        event: "error",
        code: FastChatError.from(e).code,
        message: `group keys unreadable (${e}); members will send them again`,
      });
    }
    this.#session = { ...s, keys };
    // What a previous run of this user left unconfirmed (a crash) goes out again.
    for (const frame of await this.#outbox.attach(s.home.outboxStorage(s.vaultKey))) {
      this.#link.send(frame);
    }
    const conn = this.#link.connection!;
    this.#emit({ event: "ready", user: s.user, server: conn.serverId, address: conn.address });
    this.#receipts.show(this.#outbox.releaseReceipts());
    this.#inbox.start(this.#session);
    // Resolves once the stored backlog was sent and all of it was processed.
    await this.#link.synced();
    await this.#inbox.idle();
  }

  /** Revokes the resume token and ends the session. */
  async logout(): Promise<void> {
    this.#requireSession();
    this.#out.flush();
    await this.#saver.saveNow();
    await this.#link.request({ t: "logout" });
    this.#session = null;
    await this.#outbox.clear();
    this.#inbox.stop();
  }

  /**
   * Encrypts and sends a message to a user, or to a group written `#name`;
   * resolves with its id once queued (direct texts of one tick to one
   * contact are sealed together when the tick ends).
   */
  async send(to: string, text: string): Promise<string> {
    this.#requireSession();
    const id = this.#out.trySend(to, text);
    if (id !== null) return id;
    if (to.startsWith("#")) {
      return await this.#groups.send(
        checkGroupName(to.slice(1)),
        encodeContent({ type: "text", text }),
      );
    }
    return await this.#out.sendDirect(to, encodeContent({ type: "text", text }), text);
  }

  /**
   * A group request: `create` (with `users`), `add`, `remove`, `promote`
   * (with `user`), `leave`, `members`, `list`. The listings emit `members` /
   * `groups` events and resolve with them.
   */
  async group(
    op: "create" | "add" | "remove" | "promote" | "leave" | "members" | "list",
    group?: string,
    arg?: string | string[],
  ): Promise<void> {
    this.#requireSession();
    const name = group === undefined ? undefined : checkGroupName(group.replace(/^#/, ""));
    const ok = await this.#groups.request({
      op,
      group: name,
      ...(Array.isArray(arg) ? { users: arg } : arg === undefined ? {} : { user: arg }),
    });
    if (op === "members" && name) {
      this.#emit({
        event: "members",
        group: name,
        members: (ok.members ?? []).map(([user, admin]) => ({ user, admin })),
      });
    }
    if (op === "list") {
      this.#emit({
        event: "groups",
        groups: (ok.groups ?? []).map(([n, admin, members]) => ({ name: n, admin, members })),
      });
    }
  }

  /**
   * Sends the file at `path` to a user or `#group`: uploaded encrypted in
   * chunks, then its key and description go in an end-to-end-encrypted
   * message. Resolves with the message id once queued.
   */
  async sendFile(to: string, path: string): Promise<string> {
    this.#requireSession();
    const group = to.startsWith("#") ? checkGroupName(to.slice(1)) : null;
    if (!group) checkUsername(to);
    const { description } = await this.#files.upload(path);
    const content = encodeContent({ type: "file", file: description });
    if (group) return await this.#groups.send(group, content, description.file);
    return await this.#out.sendDirect(to, content, null, description.file);
  }

  /**
   * {@link ChatClient.send} of a direct text, without a promise, when its
   * session key is ready and the outbox and the link have room: its id, or
   * null (nothing sent: use `send`). Throws what `send` rejects a bad name with.
   */
  trySend(to: string, text: string): string | null {
    return this.#out.trySend(to, text);
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
    return await s.keys.safetyNumber(s.publicKeys, peer);
  }

  /**
   * While `peer` is blocked by a key change: safety numbers for the pinned
   * (old) and the new keys, to compare out of band before {@link trust}.
   */
  async pendingSafetyNumbers(peer: string): Promise<{ pinned: string; pending: string } | null> {
    const s = this.#requireSession();
    checkUsername(peer);
    return await s.keys.pendingSafetyNumbers(s.publicKeys, peer);
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
    const conn = this.#link.connection;
    return { user: this.user, server: conn?.serverId ?? null, address: conn?.address ?? null };
  }

  /** Received files being downloaded now (or waiting for a download slot). */
  get downloading(): number {
    return this.#files.downloading;
  }

  /**
   * Resolves once every download has ended (written and verified, or failed:
   * a failed one resumes from its stored chunks at the next login).
   */
  downloadsSettled(): Promise<void> {
    return this.#files.downloadsSettled();
  }

  /** Resolves when every sent message has been confirmed (`sent`) and is in the history. */
  async idle(): Promise<void> {
    this.#out.flush();
    await this.#outbox.idle();
    await this.#out.settled();
  }

  /** Writes the key state now (it is otherwise saved at most every 2 s, and on close). */
  async persist(): Promise<void> {
    await this.#saver.saveNow();
  }

  /** Persists state and closes the connection. */
  async close(): Promise<void> {
    this.#out.flush(); // into the outbox: what is not confirmed is sent again next time
    this.#link.stop();
    await this.#saver.saveNow();
    await this.#outbox.close(); // confirmations so far; what is pending stays on disk
    await this.#out.settled();
    await this.#session?.home.flush();
    this.#inbox.flushAcks();
    await this.#link.end();
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

  #resumed(conn: ServerConnection): void {
    const s = this.#session!;
    this.#emit({
      event: "reconnected",
      user: s.user,
      server: conn.serverId,
      address: conn.address,
    });
    for (const frame of this.#outbox.values()) conn.send(frame);
    this.#inbox.flushAcks();
  }

  #onPush(f: ServerFrame): void {
    switch (f.t) {
      case "msg":
        return this.#inbox.push(f);
      case "chunk":
        return this.#files.onChunk(f);
      case "sent":
        for (const frame of this.#outbox.confirm(f.ids)) this.#receipts.confirmed(frame);
        return;
      case "delivered": // held by the outbox until "ready"
        return this.#receipts.show(this.#outbox.receipts(f));
      case "error": {
        const frame = f.id === undefined ? undefined : this.#outbox.get(f.id);
        // Refused for now (too fast, the server's database down): sent again after the hint.
        if (frame && (f.code === "RATE_LIMITED" || f.code === "STORE_UNAVAILABLE")) {
          setTimeout(() => this.#link.send(frame), f.retry ?? 100);
          return;
        }
        if (frame) this.#outbox.remove(frame.id); // refused: it will never be stored
        const to = frame && recipientOf(frame); // a message of ours: whom it was for
        for (const id of f.id === undefined ? [undefined] : batchMembers(f.id)) {
          this.#emit({ event: "error", code: f.code, message: f.message, id, to });
        }
        return;
      }
      default:
        return;
    }
  }
}
