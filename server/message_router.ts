/**
 * Routes direct messages between sessions and makes them durable.
 *
 * A message is forwarded to the recipient's live sessions at once and queued
 * for a batched, write-behind insert. The sender gets `sent` when the row is
 * committed, or earlier if the recipient acknowledged first (then the row is
 * never written: nothing is left to lose). Messages for recipients that are
 * online wait up to `lingerMs` for that acknowledgement; a message nobody is
 * online to receive is written at once (with everything queued before it, so
 * stored order stays acceptance order). Recipient acknowledgements delete
 * stored rows in batches and turn into `delivered` receipts for the sender,
 * kept in the store while the sender is offline.
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
import { FastChatError } from "@fastchat/lib/errors";
import { encodePayload, type ServerFrameOf } from "@fastchat/lib/protocol";
import { batchLength, type BatchLimits, writeIsolatingFailures } from "./batch_insert.ts";
import type { ForwardedMessage } from "./peer_protocol.ts";
import type { ChatStore, EnvelopeRecord, MessageRef, StoredMessage } from "./store.ts";
import { type Logger, nullLogger } from "@fastchat/lib/logger";

/** What the router needs from a connected, authenticated session. */
export interface RoutedSession {
  readonly user: string;
  /** Sends an encoded `msg` frame for message `key` (sender + "\n" + id); false if gone or too slow. */
  deliver(payload: Uint8Array, key: string): boolean;
  /** Queues a `sent` confirmation (batched by the session). */
  confirmSent(id: string): void;
  /**
   * Queues a `delivered` receipt (batched by the session); `stored` when the
   * store keeps it until the client acknowledges it (`rack`).
   */
  confirmDelivered(peer: string, id: string, stored: boolean): void;
  /**
   * The store refused message `id` for a reason in its data (it was set
   * aside, not stored): the sender must not count it as sent.
   */
  rejectSent(id: string, err: FastChatError): void;
}

/** How the router reaches users on other servers (cluster mode). */
export interface ClusterHooks {
  /** Peers where `user` has sessions. */
  serversOf(user: string): Iterable<string>;
  /** Forwards a message to a peer. */
  forward(peer: string, m: ForwardedMessage): void;
  /** Routes [recipient, from, id] back to the message's origin server. */
  sendAck(origin: string, item: [string, string, string]): void;
  /** Sends [sender, recipient, id] to a peer where the sender is; false if unreachable. */
  sendReceipt(peer: string, item: [string, string, string], stored: boolean): boolean;
}

/** Router tuning. */
export interface MessageRouterOptions {
  /** Keep delivered rows (marked delivered) instead of deleting them. */
  retain?: boolean;
  /**
   * A message delivered live is written only once it is this old and still
   * unacknowledged (default 1000 ms): online recipients acknowledge sooner,
   * so their messages never touch the store. (250 ms was too short under
   * load: at 100 clients with 64 messages in flight each, acknowledgements
   * take 150–700 ms and a third of all messages were written and deleted
   * again; the database then cost 30 µs of CPU per message, 1 µs at 1 s.)
   * The sender's `sent` waits for whichever comes first, so a crash in
   * between loses nothing the sender was told is safe (its client resends).
   * `flush()` writes everything.
   */
  lingerMs?: number;
  /** Largest rows per statement (default 1000). */
  batchMax?: number;
  /**
   * Largest payload bytes per statement (default 8 MiB; a larger single
   * message goes alone): a batch of big messages must never grow into a
   * statement the database refuses on every retry.
   */
  batchBytes?: number;
  /** Above this many unwritten messages senders are paused (default 50,000). */
  highWater?: number;
  logger?: Logger;
  cluster?: ClusterHooks;
}

const QUEUED = 0, WRITING = 1, SET_ASIDE = 2;
/** Bytes a stored row costs beyond its body (ids, names, row overhead). */
const ROW_OVERHEAD = 128;

interface PendingMessage {
  /** When it was accepted (performance.now()). */
  at: number;
  /** Acceptance order. */
  seq: number;
  key: string;
  row: StoredMessage;
  sender: RoutedSession | null;
  state: number;
  acked: boolean;
}

const keyOf = (sender: string, id: string): string => sender + "\n" + id;

/**
 * In-memory routing table plus write-behind queue.
 *
 * @example
 * ```ts
 * import { MessageRouter } from "@fastchat/server/message_router";
 * declare const router: MessageRouter;
 * console.log(router.online("bob"));
 * ```
 */
export class MessageRouter {
  readonly #store: ChatStore;
  readonly #opts: Required<Omit<MessageRouterOptions, "logger" | "cluster">>;
  readonly #cluster: ClusterHooks | undefined;
  /** Origin server of messages forwarded to us, until their recipient acknowledges (bounded). */
  readonly #origins = new Map<string, string>();
  readonly #log: Logger;
  readonly #live = new Map<string, Set<RoutedSession>>();
  readonly #pending = new Map<string, PendingMessage>();
  readonly #envelopes = new Map<string, EnvelopeRecord>();
  #writes: PendingMessage[] = [];
  #envWrites: EnvelopeRecord[] = [];
  #completes: MessageRef[] = [];
  #receipts: MessageRef[] = [];
  #receiptDeletes: MessageRef[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDue = 0;
  #flushing: Promise<void> | null = null;
  #drainWaiters: (() => void)[] = [];
  #failures = 0;
  #seq = 0;
  /** Messages up to this `seq` are written without lingering (one had no live recipient). */
  #urgentThrough = -1;
  /** Counters for metrics. */
  readonly stats = {
    accepted: 0,
    delivered: 0,
    forwarded: 0,
    written: 0,
    skipped: 0,
    completed: 0,
    /** Store round trips of the write-behind queue, and their total time. */
    storeBatches: 0,
    storeMs: 0,
    storeErrors: 0,
    /** Runs of the write-behind drain (each does at least one store batch unless idle). */
    drains: 0,
    /** Rows the store refused for a reason in their data, logged and dropped (senders told). */
    setAside: 0,
  };

  constructor(store: ChatStore, opts: MessageRouterOptions = {}) {
    this.#store = store;
    this.#log = opts.logger ?? nullLogger;
    this.#cluster = opts.cluster;
    this.#opts = {
      retain: opts.retain ?? false,
      lingerMs: opts.lingerMs ?? 1000,
      batchMax: opts.batchMax ?? 1000,
      batchBytes: opts.batchBytes ?? 8 * 1024 * 1024,
      highWater: opts.highWater ?? 50_000,
    };
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
    return this.#writes.length;
  }

  /** Makes `s` receive live messages for its user. */
  attach(s: RoutedSession): void {
    let set = this.#live.get(s.user);
    if (!set) this.#live.set(s.user, set = new Set());
    set.add(s);
  }

  /** Stops live delivery to `s`; its unconfirmed messages still get written. */
  detach(s: RoutedSession): void {
    const set = this.#live.get(s.user);
    if (set?.delete(s) && set.size === 0) this.#live.delete(s.user);
    for (const p of this.#writes) if (p.sender === s) p.sender = null;
  }

  /**
   * Accepts a message from `sender`. Returns a promise when the write-behind
   * queue is over its high-water mark: the caller should await it before
   * reading more from that peer (backpressure).
   */
  accept(
    sender: RoutedSession,
    m: StoredMessage,
    frame: ServerFrameOf<"msg">,
    env?: EnvelopeRecord,
  ): Promise<void> | void {
    const key = keyOf(m.sender, m.id);
    const dup = this.#pending.get(key);
    if (dup) {
      if (dup.sender === null) dup.sender = sender;
      return;
    }
    this.stats.accepted++;
    if (env) {
      const ek = env.recipient + "\n" + env.kid;
      if (!this.#envelopes.has(ek)) {
        this.#envelopes.set(ek, env);
        this.#envWrites.push(env);
      }
    }
    const p: PendingMessage = {
      at: performance.now(),
      seq: this.#seq++,
      key,
      row: m,
      sender,
      state: QUEUED,
      acked: false,
    };
    this.#pending.set(key, p);
    this.#writes.push(p);
    let live = false;
    let payload: Uint8Array | undefined;
    const set = this.#live.get(m.recipient);
    if (set) {
      payload = encodePayload(frame);
      for (const s of set) {
        if (s.deliver(payload, key)) {
          this.stats.delivered++;
          live = true;
        }
      }
    }
    if (this.#cluster) {
      let fwd: ForwardedMessage | undefined;
      for (const peer of this.#cluster.serversOf(m.recipient)) {
        fwd ??= [frame.id, frame.from, frame.to, payload ??= encodePayload(frame)];
        this.#cluster.forward(peer, fwd);
        this.stats.forwarded++;
        live = true;
      }
    }
    if (!live) this.#urgentThrough = p.seq;
    this.#schedule();
    if (this.#writes.length > this.#opts.highWater) {
      return new Promise((resolve) => this.#drainWaiters.push(resolve));
    }
  }

  /** Handles acknowledgements from `by` for messages it received. */
  ack(by: RoutedSession, items: [string, string][]): void {
    for (const [from, id] of items) this.#ackOne(by.user, from, id, true);
    this.#schedule();
  }

  /** Acknowledgements routed back to us (the origin) by peers: [recipient, from, id]. */
  ackRouted(items: [string, string, string][]): void {
    for (const [recipient, from, id] of items) this.#ackOne(recipient, from, id, false);
    this.#schedule();
  }

  #ackOne(user: string, from: string, id: string, mayRoute: boolean): void {
    const key = keyOf(from, id);
    const p = this.#pending.get(key);
    if (p && p.row.recipient === user) {
      if (p.acked) return;
      p.acked = true;
      if (p.state === QUEUED && !this.#opts.retain) {
        // Never written: confirm both ways now; the writer skips it. A live
        // receipt to the sending session also confirms `sent` (one frame, not two).
        this.#pending.delete(p.key);
        this.stats.skipped++;
        if (p.sender && !this.#live.get(from)?.has(p.sender)) p.sender.confirmSent(id);
        this.#receipt({ recipient: user, sender: from, id });
      }
      // WRITING: the writer completes it after the insert commits.
      return;
    }
    const origin = mayRoute ? this.#origins.get(key) : undefined;
    if (origin !== undefined && this.#cluster) {
      this.#origins.delete(key);
      this.#cluster.sendAck(origin, [user, from, id]);
      return;
    }
    this.#completes.push({ recipient: user, sender: from, id });
  }

  /** `user` (a sender) has shown these receipts ([peer, id]): forget the stored copies. */
  receiptsShown(user: string, items: [string, string][]): void {
    for (const [peer, id] of items) {
      this.#receiptDeletes.push({ sender: user, recipient: peer, id });
    }
    this.#schedule();
  }

  /** Delivers messages a peer forwarded for users connected here. */
  deliverForwarded(origin: string, msgs: ForwardedMessage[]): void {
    for (const [id, from, to, payload] of msgs) {
      const set = this.#live.get(to);
      if (!set) continue;
      const key = keyOf(from, id);
      if (this.#origins.size >= 200_000) {
        this.#origins.delete(this.#origins.keys().next().value!);
      }
      this.#origins.set(key, origin);
      for (const s of set) if (s.deliver(payload, key)) this.stats.delivered++;
    }
  }

  /**
   * Receipts a peer sent for senders connected here: [sender, recipient, id].
   * Unless the peer `stored` them already, those whose sender has gone are stored here.
   */
  receiptsRouted(items: [string, string, string][], stored = false): void {
    for (const [sender, recipient, id] of items) {
      const set = this.#live.get(sender);
      if (set) { for (const s of set) s.confirmDelivered(recipient, id, stored); }
      else if (!stored) this.#receipts.push({ sender, recipient, id });
    }
    this.#schedule();
  }

  /** An envelope addressed to `recipient`, from memory or the store. */
  async envelope(recipient: string, kid: string): Promise<EnvelopeRecord | null> {
    return this.#envelopes.get(recipient + "\n" + kid) ??
      await this.#store.getEnvelope(recipient, kid);
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
    if (this.#cluster) {
      for (const peer of this.#cluster.serversOf(ref.sender)) {
        sent = this.#cluster.sendReceipt(peer, [ref.sender, ref.recipient, ref.id], stored) ||
          sent;
      }
    }
    if (!sent && !stored) this.#receipts.push(ref);
  }

  /** Local users with live sessions. */
  localUsers(): string[] {
    return [...this.#live.keys()];
  }

  /** Live sessions of `user` here. */
  sessionsOf(user: string): number {
    return this.#live.get(user)?.size ?? 0;
  }

  /** Arms the drain timer for the earliest due work (re-arming it if that is sooner). */
  #schedule(): void {
    if (this.#flushing) return; // a running drain reschedules when done
    let delay = 0;
    if (!this.#otherWork()) {
      // Only the head's linger decides, however long the queue: rows younger
      // than it cannot be written yet (a drain would find nothing to do and
      // re-arm itself at once; it used to, spinning, once 1,000 were queued).
      const head = this.#writes[0];
      if (!head) return;
      // Acknowledged entries wait for their linger too: dropping them needs no
      // store round trip, so there is no hurry (and no timer per acknowledgement).
      delay = head.seq <= this.#urgentThrough
        ? 0
        : Math.max(0, head.at + this.#opts.lingerMs - performance.now());
    }
    const due = performance.now() + delay;
    if (this.#timer !== undefined) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#flushing) this.#run(false);
    }, delay);
  }

  /** Starts the one drain that may run at a time. */
  #run(force: boolean): Promise<void> {
    const running = this.#drain(force).finally(() => {
      this.#flushing = null;
      if (this.#hasWork()) this.#schedule();
    });
    this.#flushing = running;
    return running;
  }

  #otherWork(): boolean {
    return this.#envWrites.length > 0 || this.#completes.length > 0 || this.#receipts.length > 0 ||
      this.#receiptDeletes.length > 0;
  }

  #hasWork(): boolean {
    return this.#writes.length > 0 || this.#otherWork();
  }

  /** Whether the write queue's head may be taken now. */
  #writesReady(force: boolean): boolean {
    const head = this.#writes[0];
    return head !== undefined &&
      (force || head.seq <= this.#urgentThrough ||
        head.at + this.#opts.lingerMs <= performance.now());
  }

  /** Writes everything queued so far; resolves when it is committed. */
  async flush(): Promise<void> {
    while (this.#flushing || this.#hasWork()) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      if (this.#flushing) await this.#flushing;
      else await this.#run(true);
    }
  }

  async #drain(force: boolean): Promise<void> {
    this.stats.drains++;
    while (this.#otherWork() || this.#writesReady(force)) {
      const t0 = performance.now();
      try {
        await this.#writeBatch(force);
        this.#failures = 0;
        this.stats.storeBatches++;
        this.stats.storeMs += performance.now() - t0;
      } catch (e) {
        this.#failures++;
        this.stats.storeErrors++;
        const delay = Math.min(5000, 50 * 2 ** this.#failures);
        this.#log.error("store_write_failed", { error: String(e), retryMs: delay });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.#writes.length <= this.#opts.highWater / 2) {
      for (const w of this.#drainWaiters.splice(0)) w();
    }
  }

  /** Statement limits for rows of `sizeOf` bytes. */
  get #limits(): BatchLimits {
    return { maxRows: this.#opts.batchMax, maxBytes: this.#opts.batchBytes };
  }

  /**
   * Logs a row the store refused for a reason in its data and drops it, so
   * the queue behind it goes on. `what` names the queue it came from.
   */
  #setAside(what: string, row: Record<string, unknown>, error: unknown): void {
    this.stats.setAside++;
    this.#log.error("store_row_set_aside", { what, ...row, error: String(error) });
  }

  async #writeBatch(force: boolean): Promise<void> {
    const limits = this.#limits;
    if (this.#envWrites.length > 0) {
      const n = batchLength(this.#envWrites, (e) => e.envelope.length + ROW_OVERHEAD, limits);
      const envs = this.#envWrites.slice(0, n);
      await writeIsolatingFailures(
        envs,
        (xs) => this.#store.insertEnvelopes(xs),
        (e, err) =>
          this.#setAside("envelope", { recipient: e.recipient, kid: e.kid, sender: e.sender }, err),
      );
      this.#envWrites.splice(0, envs.length);
      for (const e of envs) this.#envelopes.delete(e.recipient + "\n" + e.kid);
    }
    if (this.#writesReady(force)) {
      // The oldest messages, up to the first one still young enough to be
      // acknowledged, at most one statement's rows and bytes.
      const cutoff = performance.now() - this.#opts.lingerMs;
      const urgent = this.#urgentThrough;
      const n = batchLength(
        this.#writes,
        (p) => p.row.body.length + ROW_OVERHEAD,
        limits,
        (w) => force || w.acked || w.seq <= urgent || w.at <= cutoff,
      );
      const batch = this.#writes.slice(0, n);
      const rows: PendingMessage[] = [];
      for (const p of batch) {
        if (p.state === SET_ASIDE || (p.acked && !this.#opts.retain)) continue;
        p.state = WRITING;
        rows.push(p);
      }
      try {
        await writeIsolatingFailures(
          rows,
          (ps) => this.#store.insertMessages(ps.map((p) => p.row)),
          (p, err) => this.#rejectMessage(p, err),
        );
      } finally {
        // Rows set aside leave the queue even when a later half failed to write.
        if (this.#writes.some((p) => p.state === SET_ASIDE)) {
          this.#writes = this.#writes.filter((p) => p.state !== SET_ASIDE);
        }
      }
      this.#writes.splice(0, batch.length - batch.filter((p) => p.state === SET_ASIDE).length);
      for (const p of batch) {
        if (p.state !== WRITING) continue;
        this.stats.written++;
        this.#pending.delete(p.key);
        p.sender?.confirmSent(p.row.id);
        if (p.acked) {
          this.#completes.push({ recipient: p.row.recipient, sender: p.row.sender, id: p.row.id });
        }
      }
    }
    if (this.#completes.length > 0) {
      const refs = this.#completes.slice(0, limits.maxRows);
      const done = await writeIsolatingFailures(
        refs,
        (xs) => this.#store.completeMessages(xs, this.#opts.retain),
        (r, err) => this.#setAside("completion", { ...r }, err),
      );
      this.#completes.splice(0, refs.length);
      this.stats.completed += done.length;
      for (const r of done) this.#receipt(r, true); // stored with the completion
    }
    if (this.#receipts.length > 0) {
      const refs = this.#receipts.slice(0, limits.maxRows);
      await writeIsolatingFailures(
        refs,
        (xs) => this.#store.insertReceipts(xs),
        (r, err) => this.#setAside("receipt", { ...r }, err),
      );
      this.#receipts.splice(0, refs.length);
    }
    if (this.#receiptDeletes.length > 0) {
      const refs = this.#receiptDeletes.slice(0, limits.maxRows);
      await writeIsolatingFailures(
        refs,
        (xs) => this.#store.deleteReceipts(xs),
        (r, err) => this.#setAside("receipt_delete", { ...r }, err),
      );
      this.#receiptDeletes.splice(0, refs.length);
    }
  }

  /**
   * A message the store refused: it leaves the queue, and its sender (still
   * waiting for `sent`) gets `STORE_FAILED` for it instead. If its recipient
   * already acknowledged it, it was delivered and nothing is lost.
   */
  #rejectMessage(p: PendingMessage, error: unknown): void {
    p.state = SET_ASIDE;
    this.#pending.delete(p.key);
    this.#setAside("message", {
      id: p.row.id,
      sender: p.row.sender,
      recipient: p.row.recipient,
      bytes: p.row.body.length,
    }, error);
    if (p.acked) {
      // Delivered and acknowledged already: nothing needs the row.
      const { id, sender, recipient } = p.row;
      if (p.sender && !this.#live.get(sender)?.has(p.sender)) p.sender.confirmSent(id);
      this.#receipt({ recipient, sender, id });
      return;
    }
    p.sender?.rejectSent(
      p.row.id,
      new FastChatError("STORE_FAILED", "the server could not store this message"),
    );
  }
}
