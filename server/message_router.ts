/**
 * Routes direct messages: the one owner of every step between a sender's
 * `send` and its recipient's `msg`, and of the acknowledgements and receipts
 * that travel back.
 *
 * A message is built into its `msg` frame once (server/msg_frame.ts), handed
 * to the recipient's live sessions here and forwarded through the fabric
 * (server/fabric.ts) to servers where the recipient has sessions, and
 * queued for the write-behind store batch (server/write_behind_queue.ts).
 * Recipient acknowledgements complete messages (here, or routed back to the
 * server that accepted them) and turn into `delivered` receipts for the
 * sender, stored while the sender is offline. A session that joins gets its
 * stored receipts and backlog before the live messages that arrived
 * meanwhile (server/backlog_sync.ts); after the fabric lost messages
 * (a server came or went), every session gets its backlog again.
 *
 * @example
 * ```ts
 * import { MessageRouter } from "@fastchat/server/message_router";
 * import { ChatStore } from "@fastchat/server/store";
 * declare const store: ChatStore;
 * const router = new MessageRouter(store, { lingerMs: 2 });
 * await router.flush();
 * ```
 * @module
 */
import { type ClientFrameOf, encodePayload, KIND_CODES } from "@fastchat/lib/protocol";
import { FastChatError } from "@fastchat/lib/errors";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { type BacklogSession, BacklogSync } from "./backlog_sync.ts";
import {
  type Fabric,
  type FabricSink,
  LocalFabric,
  type RoutedAck,
  type RoutedReceipt,
} from "./fabric.ts";
import type { FileStore } from "./file_store.ts";
import { GroupDelivery } from "./group_delivery.ts";
import type { GroupLog, GroupLogEntry } from "./group_log.ts";
import { msgFrame } from "./msg_frame.ts";
import type { ForwardedGroupMessage, ForwardedMessage } from "./peer_protocol.ts";
import type { PresenceTracker } from "./presence.ts";
import { PresenceRetry } from "./presence_retry.ts";
import { RecentMessageKeys } from "./recent_message_keys.ts";
import type { ChatStore, EnvelopeRecord, MessageRef, StoredMessage } from "./store.ts";
import {
  type QueuedSender,
  type WriteBehindOptions,
  WriteBehindQueue,
} from "./write_behind_queue.ts";

/**
 * What the router needs from a connected, authenticated session: backlog
 * delivery (server/backlog_sync.ts) and the write-behind queue's `sent`.
 *
 * @example
 * ```ts
 * import type { RoutedSession } from "@fastchat/server/message_router";
 * declare const s: RoutedSession;
 * if (!s.congested) s.deliver(new Uint8Array([0x80]));
 * ```
 */
export interface RoutedSession extends BacklogSession, QueuedSender {}

/**
 * Router tuning: the write-behind queue's, plus its neighbours.
 *
 * @example
 * ```ts
 * import type { MessageRouterOptions } from "@fastchat/server/message_router";
 * import { LocalFabric } from "@fastchat/server/fabric";
 * const opts: MessageRouterOptions = { lingerMs: 1000, fabric: new LocalFabric() };
 * ```
 */
export interface MessageRouterOptions extends WriteBehindOptions {
  /** How the router reaches other servers (default: none, a server on its own). */
  fabric?: Fabric;
  /** Records which users are online here (cluster mode). */
  presence?: PresenceTracker;
  /** Live messages buffered per session while its backlog is sent (default 4 MiB). */
  syncBufferBytes?: number;
  /** The group log: group messages and membership events (none: no groups). */
  groupLog?: GroupLog;
  /** Files attached to messages, released when their recipients acknowledge them. */
  files?: FileStore;
}

/** Key of the one retry loop of link-up flush confirmations (not a user name). */
const LINK_UP = " link up";

/**
 * Live sessions, fan-out, acknowledgement and receipt routing, backlogs.
 *
 * @example
 * ```ts
 * import { MessageRouter } from "@fastchat/server/message_router";
 * declare const router: MessageRouter;
 * console.log(router.online("bob"));
 * ```
 */
export class MessageRouter implements FabricSink {
  /** The write-behind queue behind this router. */
  readonly queue: WriteBehindQueue<RoutedSession>;
  readonly #fabric: Fabric;
  readonly #presence: PresenceTracker | undefined;
  readonly #log: Logger;
  readonly #backlog: BacklogSync;
  readonly #groups: GroupDelivery | undefined;
  /**
   * Origin server of messages forwarded to us, until their recipient
   * acknowledges (the most recent 200,000; an acknowledgement whose origin
   * was forgotten completes the message in the shared store instead).
   */
  readonly #origins = new RecentMessageKeys<string>(200_000);
  readonly #live = new Map<string, Set<RoutedSession>>();
  /** Login announcements other servers did not confirm in time, retried. */
  readonly #presenceRetry: PresenceRetry;
  /** Flush confirmations after a link came up that other servers did not give in time, retried. */
  readonly #linkUpRetry: PresenceRetry;
  /** Counters for metrics (the queue keeps its own). */
  readonly stats = { accepted: 0, delivered: 0, forwarded: 0 };

  constructor(store: ChatStore, opts: MessageRouterOptions = {}) {
    this.#log = opts.logger ?? nullLogger;
    this.#presence = opts.presence;
    this.queue = new WriteBehindQueue(store, {
      delivered: (ref, stored, sender) => {
        // A live receipt to the sending session also confirms `sent` (one frame, not two).
        if (sender && !this.#live.get(ref.sender)?.has(sender)) sender.confirmSent(ref.id);
        this.#receipt(ref, stored);
      },
    }, opts);
    this.#fabric = opts.fabric ?? new LocalFabric();
    this.#groups = opts.groupLog
      ? new GroupDelivery(opts.groupLog, this.#fabric, {
        deliverLocal: (user, payload, sender, id) => this.#deliverLocal(user, payload, sender, id),
        files: opts.files,
        logger: this.#log,
      })
      : undefined;
    this.#backlog = new BacklogSync(store, {
      flush: () => this.flush(),
    }, {
      bufferBytes: opts.syncBufferBytes ?? 4 * 1024 * 1024,
      logger: this.#log,
      groupLog: opts.groupLog,
    });
    this.#presenceRetry = new PresenceRetry({
      announce: (user) => this.#fabric.announce([user], true),
      online: (user) => this.#live.has(user),
      // What those servers held for the user is stored now: send the backlog again.
      confirmed: (user) => this.#resendTo(user),
      logger: this.#log,
    });
    this.#linkUpRetry = new PresenceRetry({
      // An empty announcement: every linked server writes what it accepted, then confirms.
      announce: () => this.#fabric.announce([], true),
      online: () => !this.#backlog.stopped,
      confirmed: () => this.#resyncAll("link up: flush confirmed"),
      subject: "link_up_flush",
      logger: this.#log,
    });
    this.#fabric.attach(this);
  }

  /** Whether `user` has a live session here. */
  online(user: string): boolean {
    return this.#live.has(user);
  }

  /** Number of users with live sessions. */
  get onlineUsers(): number {
    return this.#live.size;
  }

  /** Messages accepted but not yet durable or acknowledged. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Local users with live sessions. */
  localUsers(): string[] {
    return [...this.#live.keys()];
  }

  /** Live sessions of `user` here. */
  sessionsOf(user: string): number {
    return this.#live.get(user)?.size ?? 0;
  }

  /**
   * Makes `s` receive its user's messages: announces the user to other
   * servers (first session here), then sends its stored receipts and backlog,
   * then the live messages that arrived meanwhile. The session is told it is
   * in sync (`synced`) once this resolves.
   */
  async join(s: RoutedSession): Promise<void> {
    this.#backlog.begin(s);
    let set = this.#live.get(s.user);
    if (!set) this.#live.set(s.user, set = new Set());
    set.add(s);
    this.#presence?.add(s.user);
    try {
      // First session here: other servers flush what they accepted for this user
      // and forward from now on, so the backlog below is complete.
      if (set.size === 1 && await this.#fabric.announce([s.user], true) === false) {
        // Not confirmed in time: the backlog below may miss what a slow server still
        // held; announced again until confirmed, then sent the backlog again.
        this.#presenceRetry.start(s.user);
      }
      await this.#backlog.catchUp(s);
    } finally {
      this.#backlog.end(s);
    }
  }

  /** Stops delivery to `s`; its unconfirmed messages still get written. */
  leave(s: RoutedSession): void {
    const set = this.#live.get(s.user);
    if (!set?.delete(s)) return;
    if (set.size === 0) this.#live.delete(s.user);
    this.queue.forgetSender(s);
    this.#presence?.remove(s.user);
    if (set.size > 0) return;
    this.#fabric.announce([s.user], false).catch((e) =>
      // Other servers keep forwarding to us until their link drops: those
      // messages are stored by their origin and reach the user at its next login.
      this.#log.warn("presence_announce_failed", { user: s.user, error: String(e) })
    );
  }

  /**
   * Accepts a message `f` from `sender`. Returns a promise when the
   * write-behind queue is over its high-water mark: the caller should await
   * it before reading more from that sender (backpressure).
   */
  accept(sender: RoutedSession, f: ClientFrameOf<"send">): Promise<void> | void {
    const from = sender.user;
    if (this.queue.claim(from, f.id, sender)) return;
    this.stats.accepted++;
    const m: StoredMessage = {
      id: f.id,
      sender: from,
      recipient: f.to,
      kind: KIND_CODES[f.kind],
      body: f.body,
      sentAt: f.ts,
    };
    let live = false;
    let payload: Uint8Array | undefined;
    const set = this.#live.get(m.recipient);
    if (set) {
      payload = encodePayload(msgFrame(m, f.kid, f.env));
      for (const s of set) {
        if (this.#backlog.deliver(s, payload, from, f.id)) {
          this.stats.delivered++;
          live = true;
        }
      }
    }
    let fwd: ForwardedMessage | undefined;
    for (const server of this.#fabric.serversOf(m.recipient)) {
      fwd ??= [f.id, from, f.to, payload ??= encodePayload(msgFrame(m, f.kid, f.env))];
      this.#fabric.forward(server, fwd);
      this.stats.forwarded++;
      live = true;
    }
    const env: EnvelopeRecord | undefined = f.env && f.kid
      ? { recipient: f.to, kid: f.kid, sender: from, envelope: f.env }
      : undefined;
    return this.queue.enqueue(m, sender, !live, env);
  }

  /**
   * Accepts a group message `f` from `sender`: stored first, then confirmed
   * and fanned out (server/group_delivery.ts). A promise asks the caller to
   * pause reading from that sender.
   */
  acceptGroup(sender: RoutedSession, f: ClientFrameOf<"send">): Promise<void> | void {
    return this.#groupDelivery().accept(sender, f);
  }

  /**
   * Resolves once `sender`'s queued group messages are stored or refused
   * (undefined when none is queued): group requests wait for it, so they
   * take effect in the order the client sent them.
   */
  groupSendsSettled(sender: RoutedSession): Promise<void> | undefined {
    return this.#groups?.settled(sender);
  }

  /** Fans out stored membership events. */
  publishGroup(entries: GroupLogEntry[]): void {
    this.#groupDelivery().publish(entries);
  }

  /**
   * Acknowledgements from `by` of group messages and events ([from, id]), and
   * of messages that carried files (which releases the files for `by`).
   */
  ackGroups(by: RoutedSession, items: [string, string][], files: [string, string][]): void {
    this.#groups?.ack(by.user, items, files);
  }

  /** Group messages another server forwarded for members connected here. */
  deliverGroupForwarded(_origin: string, msgs: ForwardedGroupMessage[]): void {
    this.#groups?.deliverForwarded(msgs);
  }

  /** Group delivery counters (zero without groups). */
  get groupStats(): GroupDelivery["stats"] {
    return this.#groups?.stats ?? { stored: 0, delivered: 0, forwarded: 0, refused: 0 };
  }

  #groupDelivery(): GroupDelivery {
    if (!this.#groups) throw new FastChatError("BAD_REQUEST", "this server has no groups");
    return this.#groups;
  }

  #deliverLocal(user: string, payload: Uint8Array, sender: string, id: string): number {
    const set = this.#live.get(user);
    if (!set) return 0;
    let n = 0;
    for (const s of set) if (this.#backlog.deliver(s, payload, sender, id)) n++;
    return n;
  }

  /** Handles acknowledgements from `by` ([from, id]) for messages it received. */
  ack(by: RoutedSession, items: [string, string][]): void {
    for (const [from, id] of items) {
      const ref = { recipient: by.user, sender: from, id };
      if (this.queue.acknowledge(ref)) continue;
      const origin = this.#origins.get(from, id);
      if (origin !== undefined) {
        this.#origins.delete(from, id);
        this.#fabric.sendAck(origin, [by.user, from, id]);
      } else this.queue.complete(ref);
    }
  }

  /** Acknowledgements routed back to us (the origin) by other servers. */
  ackRouted(items: RoutedAck[]): void {
    for (const [recipient, sender, id] of items) {
      const ref = { recipient, sender, id };
      if (!this.queue.acknowledge(ref)) this.queue.complete(ref);
    }
  }

  /** `user` (a sender) has shown these receipts ([peer, id]): forget the stored copies. */
  receiptsShown(user: string, items: [string, string][]): void {
    this.queue.deleteReceipts(items.map(([peer, id]) => ({ sender: user, recipient: peer, id })));
  }

  /** Delivers messages another server forwarded for users connected here. */
  deliverForwarded(origin: string, msgs: ForwardedMessage[]): void {
    for (const [id, from, to, payload] of msgs) {
      const set = this.#live.get(to);
      if (!set) continue;
      this.#origins.set(from, id, origin);
      for (const s of set) if (this.#backlog.deliver(s, payload, from, id)) this.stats.delivered++;
    }
  }

  /**
   * Receipts another server sent for senders connected here. Unless that
   * server `stored` them already, those whose sender has gone are stored here.
   */
  receiptsRouted(items: RoutedReceipt[], stored = false): void {
    for (const [sender, recipient, id] of items) {
      const set = this.#live.get(sender);
      if (set) { for (const s of set) s.confirmDelivered(recipient, id, stored); }
      else if (!stored) this.queue.storeReceipt({ sender, recipient, id });
    }
  }

  /** An envelope addressed to `recipient`, from memory or the store. */
  envelope(recipient: string, kid: string): Promise<EnvelopeRecord | null> {
    return this.queue.envelope(recipient, kid);
  }

  /** Writes everything queued so far; resolves when it is committed. */
  async flush(): Promise<void> {
    await this.queue.flush();
    await this.#groups?.flush();
  }

  /**
   * Sends every live session its stored receipts and messages again
   * (clients drop duplicates): the safety net after a link came up or a
   * server left, for messages that were stored but could not be forwarded
   * and receipts stored while their sender's server could not be reached.
   * With `afterFlush` (a link came up), first asks the linked servers to
   * write what they accepted (an empty announcement), so the query sees
   * what they acknowledged while the link was down; if some server does
   * not confirm in time, it resyncs with what is stored and asks again with
   * backoff, resyncing once more when confirmed.
   */
  resync(reason: string, afterFlush = false): void {
    if (this.#backlog.stopped) return;
    if (!afterFlush) return this.#resyncAll(reason);
    this.#fabric.announce([], true).then((confirmed) => {
      this.#resyncAll(reason);
      if (confirmed === false) this.#linkUpRetry.start(LINK_UP);
    }).catch((e) => {
      this.#log.warn("resync_flush_failed", { reason, error: String(e) });
      this.#resyncAll(reason);
    });
  }

  #resyncAll(reason: string): void {
    if (this.#backlog.stopped) return;
    this.#log.info("resync", { reason });
    for (const user of this.#live.keys()) this.#resendTo(user);
  }

  /** Sends every live session of `user` its stored receipts and messages again. */
  #resendTo(user: string): void {
    for (const s of this.#live.get(user) ?? []) {
      this.#backlog.resend(s, () => this.#live.get(s.user)?.has(s) === true);
    }
  }

  /** The server is shutting down: requests to resync are ignored from now on. */
  stopResync(): void {
    this.#backlog.stop();
  }

  /** Stops background work (resyncs, presence batching); queued writes need {@link flush}. */
  close(): void {
    this.#backlog.stop();
    this.#presenceRetry.close();
    this.#linkUpRetry.close();
    this.#groups?.close();
    this.#presence?.close();
  }

  /**
   * Tells the sender its message was delivered: live here, or through the
   * server it is on. Unless `stored` (already recorded by the completing
   * statement), an undeliverable receipt is queued for the store.
   */
  #receipt(ref: MessageRef, stored = false): void {
    const set = this.#live.get(ref.sender);
    if (set) {
      for (const s of set) s.confirmDelivered(ref.recipient, ref.id, stored);
      return;
    }
    let sent = false;
    for (const server of this.#fabric.serversOf(ref.sender)) {
      sent = this.#fabric.sendReceipt(server, [ref.sender, ref.recipient, ref.id], stored) || sent;
    }
    if (!sent && !stored) this.queue.storeReceipt(ref);
  }
}
