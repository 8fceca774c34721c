/**
 * The write-behind queue: makes accepted messages durable in batches, after
 * giving their recipients a chance to acknowledge them first.
 *
 * A message for a recipient who is online waits up to `lingerMs` for its
 * acknowledgement; acknowledged in time, it is never written (nothing is
 * left to lose). A message nobody is online to receive is written at once,
 * with everything queued before it (stored order stays acceptance order).
 * The sender is confirmed (`sent`) when its row is committed. Completions
 * (acknowledged stored messages), receipts for offline senders and receipts
 * their senders have shown are written in batches too.
 *
 * Statements are capped in rows and bytes (server/batch_insert.ts). A
 * batch the store refuses for a reason in its data is split until the bad
 * row stands alone; that row is set aside (logged) and its sender refused
 * with `STORE_FAILED`. An outage sets nothing aside: the batch is retried
 * with backoff. Above `highWater` unwritten messages, {@link
 * WriteBehindQueue.enqueue} returns a promise senders wait for (backpressure).
 *
 * @example
 * ```ts
 * import { WriteBehindQueue } from "@fastchat/server/write_behind_queue";
 * import type { ChatStore } from "@fastchat/server/store";
 * declare const store: ChatStore;
 * const queue = new WriteBehindQueue(store, { delivered: () => {} }, { lingerMs: 2 });
 * await queue.flush();
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { type Logger, nullLogger } from "@fastchat/lib/logger";
import { batchLength, type BatchLimits, writeIsolatingFailures } from "./batch_insert.ts";
import { MessageKeyTable } from "./message_key_table.ts";
import { turnNow } from "@fastchat/lib/turn_clock";
import { ROW_OVERHEAD, StoreSideWrites } from "./store_side_writes.ts";
import type { ChatStore, EnvelopeRecord, MessageRef, StoredMessage } from "./store.ts";

/**
 * The session waiting for a queued message's `sent`.
 *
 * @example
 * ```ts
 * import type { QueuedSender } from "@fastchat/server/write_behind_queue";
 * const sender: QueuedSender = {
 *   confirmSent: (id) => console.log("sent", id),
 *   rejectSent: (id, err) => console.log("refused", id, err.code),
 * };
 * ```
 */
export interface QueuedSender {
  /** The message is durable (or delivered). */
  confirmSent(id: string): void;
  /** The store refused the message for a reason in its data: it is not sent. */
  rejectSent(id: string, err: FastChatError): void;
}

/**
 * What the queue tells its owner.
 *
 * @example
 * ```ts
 * import type { WriteBehindEvents } from "@fastchat/server/write_behind_queue";
 * const events: WriteBehindEvents<never> = {
 *   delivered: (ref, stored) => console.log(ref.sender, "->", ref.recipient, ref.id, stored),
 * };
 * ```
 */
export interface WriteBehindEvents<S extends QueuedSender> {
  /**
   * `ref`'s recipient acknowledged it and nothing more is written for it:
   * its sender gets a `delivered` receipt. `stored`: the receipt was stored
   * with the completion. `sender`: the session still waiting for `sent`.
   */
  delivered(ref: MessageRef, stored: boolean, sender: S | null): void;
}

/**
 * Tuning of a {@link WriteBehindQueue}.
 *
 * @example
 * ```ts
 * import type { WriteBehindOptions } from "@fastchat/server/write_behind_queue";
 * const opts: WriteBehindOptions = { lingerMs: 2000, batchMax: 1000, highWater: 50_000 };
 * ```
 */
export interface WriteBehindOptions {
  /** Keep delivered rows (marked delivered) instead of deleting them. */
  retain?: boolean;
  /**
   * A message is written only once it is this old and still unacknowledged
   * (default 2000 ms): online recipients acknowledge sooner, so their
   * messages never touch the store. (250 ms was too short under load: at
   * 100 clients with 64 messages in flight each, acknowledgements take
   * 150–700 ms and a third of all messages were written and deleted again;
   * the database then cost 30 µs of CPU per message, 1 µs at 1 s. On a
   * busier machine, at 3,700–4,400 msgs/s, 1 s was too short in turn: a
   * quarter to a third of the messages were written, then deleted with a
   * stored receipt the sender acknowledged and the store deleted again, at
   * ~60 µs of database CPU each: 15–22 µs per message delivered; at 2 s,
   * 3–10 % and 1.4–5 µs.) The sender's `sent` waits for whichever comes
   * first, so a crash in between loses nothing the sender was told is safe
   * (its client resends); the price of a longer linger is a later `sent`
   * for a message whose online recipient does not acknowledge it.
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
}

const QUEUED = 0, WRITING = 1, SET_ASIDE = 2;

interface PendingMessage<S> {
  /** When it was accepted (performance.now() as first read in its turn: `turnNow`). */
  at: number;
  /** Acceptance order. */
  seq: number;
  row: StoredMessage;
  sender: S | null;
  state: number;
  acked: boolean;
}

/**
 * Batched, lingering writer of messages, envelopes, completions and receipts.
 *
 * @example
 * ```ts
 * import { WriteBehindQueue } from "@fastchat/server/write_behind_queue";
 * declare const queue: WriteBehindQueue;
 * console.log(queue.length, queue.stats.written);
 * ```
 */
export class WriteBehindQueue<S extends QueuedSender = QueuedSender> {
  readonly #store: ChatStore;
  readonly #events: WriteBehindEvents<S>;
  readonly #opts: Required<Omit<WriteBehindOptions, "logger">>;
  readonly #log: Logger;
  readonly #pending = new MessageKeyTable<PendingMessage<S>>();
  /** Envelopes, completions and receipts. */
  readonly #side: StoreSideWrites;
  #writes: PendingMessage<S>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDue = 0;
  #flushing: Promise<void> | null = null;
  #drainWaiters: (() => void)[] = [];
  #failures = 0;
  #seq = 0;
  /** Messages up to this `seq` are written without lingering (one had no live recipient). */
  #urgentThrough = -1;
  /** Entries of `#writes` acknowledged before being written: dropped by {@link #compact}. */
  #skippedInWrites = 0;
  /** A message batch is being written: `#writes` must keep its order and length until it ends. */
  #writingMessages = false;
  /** Counters for metrics. */
  readonly stats = {
    written: 0,
    /** Messages acknowledged before they needed writing. */
    skipped: 0,
    /** Stored messages completed by acknowledgements. */
    completed: 0,
    /** Acknowledgements of messages not (or no longer) stored undelivered (see StoreSideWrites). */
    unmatched: 0,
    /** Store round trips, and their total time. */
    storeBatches: 0,
    storeMs: 0,
    storeErrors: 0,
    /** Runs of the drain (each does at least one store batch unless idle). */
    drains: 0,
    /** Rows the store refused for a reason in their data, logged and dropped (senders told). */
    setAside: 0,
  };

  constructor(store: ChatStore, events: WriteBehindEvents<S>, opts: WriteBehindOptions = {}) {
    this.#store = store;
    this.#events = events;
    this.#log = opts.logger ?? nullLogger;
    this.#opts = {
      retain: opts.retain ?? false,
      lingerMs: opts.lingerMs ?? 2000,
      batchMax: opts.batchMax ?? 1000,
      batchBytes: opts.batchBytes ?? 8 * 1024 * 1024,
      highWater: opts.highWater ?? 50_000,
    };
    this.#side = new StoreSideWrites(store, {
      retain: this.#opts.retain,
      delivered: (ref) => this.#events.delivered(ref, true, null),
      setAside: (what, row, error) => this.#setAside(what, row, error),
    });
  }

  /** Messages queued and not yet written, skipped or set aside. */
  get length(): number {
    return this.#writes.length;
  }

  /**
   * Whether message `id` of `from` is queued already (a resend): if its
   * sender had gone, `sender` now waits for its `sent`.
   */
  claim(from: string, id: string, sender: S): boolean {
    const dup = this.#pending.get(from, id);
    if (!dup) return false;
    if (dup.sender === null) dup.sender = sender;
    return true;
  }

  /**
   * Queues message `m` of `sender` (and the key envelope it carries).
   * `urgent`: nobody was online to receive it, so it is written without
   * lingering. Returns a promise when the queue is over its high-water
   * mark: the caller should await it before reading more from that sender.
   */
  enqueue(
    m: StoredMessage,
    sender: S,
    urgent: boolean,
    env?: EnvelopeRecord,
  ): Promise<void> | void {
    const envQueued = env !== undefined && this.#side.addEnvelope(env);
    const p: PendingMessage<S> = {
      at: turnNow(), // one clock read per socket read, not per message
      seq: this.#seq++,
      row: m,
      sender,
      state: QUEUED,
      acked: false,
    };
    this.#pending.set(m.sender, m.id, p);
    this.#writes.push(p);
    if (urgent) this.#urgentThrough = p.seq;
    // An armed timer is due no later than this message's linger (the head is
    // older): only urgent work can need it sooner.
    if (urgent || envQueued || this.#timer === undefined) this.#schedule();
    if (this.#writes.length > this.#opts.highWater) {
      return new Promise((resolve) => this.#drainWaiters.push(resolve));
    }
  }

  /**
   * `ref.recipient` acknowledged `ref`. Returns false if the message is not
   * queued here (it may be stored: then {@link complete} it).
   */
  acknowledge(ref: MessageRef): boolean {
    const p = this.#pending.get(ref.sender, ref.id);
    if (!p || p.row.recipient !== ref.recipient) return false;
    if (p.acked) return true;
    p.acked = true;
    if (p.state === QUEUED && !this.#opts.retain) {
      // Never written: confirmed both ways now; the writer skips it.
      this.#pending.delete(p.row.sender, p.row.id);
      this.stats.skipped++;
      this.#skippedInWrites++;
      this.#compact();
      this.#events.delivered(ref, false, p.sender);
    }
    // WRITING: the writer completes it after the insert commits.
    return true;
  }

  /**
   * Drops acknowledged, never written entries from the write queue once they
   * are half of it (amortised O(1) per acknowledgement). Left to their
   * linger, every message of a busy server would stay reachable for
   * `lingerMs`: long enough for the young generation to promote it, so the
   * old generation grew by ~1 KiB per message and a full mark-compact
   * stalled the server every few seconds (measured at 2,000 msgs/s).
   */
  #compact(): void {
    const n = this.#skippedInWrites;
    if (n < 64 || n * 2 < this.#writes.length || this.#writingMessages) return;
    this.#writes = this.#writes.filter((p) => !(p.acked && p.state === QUEUED));
    this.#skippedInWrites = 0;
  }

  /** Deletes (or, retaining, marks delivered) a stored message its recipient acknowledged. */
  complete(ref: MessageRef): void {
    this.#side.complete(ref);
    this.#schedule();
  }

  /** Stores a receipt for a sender who is not online anywhere. */
  storeReceipt(ref: MessageRef): void {
    this.#side.storeReceipt(ref);
    this.#schedule();
  }

  /** Deletes stored receipts their sender has shown. */
  deleteReceipts(refs: MessageRef[]): void {
    this.#side.deleteReceipts(refs);
    this.#schedule();
  }

  /** `sender` has gone: its messages are still written, nobody is told. */
  forgetSender(sender: S): void {
    for (const p of this.#writes) if (p.sender === sender) p.sender = null;
  }

  /** An envelope addressed to `recipient`, from memory or the store. */
  envelope(recipient: string, kid: string): Promise<EnvelopeRecord | null> {
    return this.#side.envelope(recipient, kid);
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

  /** Arms the drain timer for the earliest due work (re-arming it if that is sooner). */
  #schedule(): void {
    if (this.#flushing) return; // a running drain reschedules when done
    const now = performance.now();
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
        : Math.max(0, head.at + this.#opts.lingerMs - now);
    }
    const due = now + delay;
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
    return this.#side.pending;
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

  /**
   * Logs a row the store refused for a reason in its data and drops it, so
   * the queue behind it goes on. `what` names the queue it came from.
   */
  #setAside(what: string, row: Record<string, unknown>, error: unknown): void {
    this.stats.setAside++;
    this.#log.error("store_row_set_aside", { what, ...row, error: String(error) });
  }

  /** One round of statements: envelopes, due messages, completions, receipts. */
  async #writeBatch(force: boolean): Promise<void> {
    const limits = { maxRows: this.#opts.batchMax, maxBytes: this.#opts.batchBytes };
    await this.#side.writeEnvelopes(limits);
    if (this.#writesReady(force)) await this.#writeMessages(force, limits);
    await this.#side.writeRest(limits);
    this.stats.completed = this.#side.completed;
    this.stats.unmatched = this.#side.unmatched;
  }

  /**
   * Writes the oldest messages, up to the first one still young enough to be
   * acknowledged, at most one statement's rows and bytes; confirms their senders.
   */
  async #writeMessages(force: boolean, limits: BatchLimits) {
    const cutoff = performance.now() - this.#opts.lingerMs;
    const urgent = this.#urgentThrough;
    const n = batchLength(
      this.#writes,
      (p) => p.row.body.length + ROW_OVERHEAD,
      limits,
      (w) => force || w.acked || w.seq <= urgent || w.at <= cutoff,
    );
    const batch = this.#writes.slice(0, n);
    const rows: PendingMessage<S>[] = [];
    let skipped = 0;
    for (const p of batch) {
      if (p.state === SET_ASIDE) continue;
      // Acknowledged before any attempt: never written. One left WRITING by a
      // failed attempt may have committed all the same: it is written again
      // (idempotent) and completed, so its receipt is stored, not lost.
      if (p.acked && p.state === QUEUED && !this.#opts.retain) {
        skipped++;
        continue;
      }
      p.state = WRITING;
      rows.push(p);
    }
    this.#writingMessages = true;
    try {
      await writeIsolatingFailures(
        rows,
        (ps) => this.#store.insertMessages(ps.map((p) => p.row)),
        (p, err) => this.#rejectMessage(p, err),
      );
    } finally {
      this.#writingMessages = false;
      // Rows set aside leave the queue even when a later half failed to write.
      if (this.#writes.some((p) => p.state === SET_ASIDE)) {
        this.#writes = this.#writes.filter((p) => p.state !== SET_ASIDE);
      }
    }
    this.#writes.splice(0, batch.length - batch.filter((p) => p.state === SET_ASIDE).length);
    this.#skippedInWrites -= skipped;
    for (const p of batch) {
      if (p.state !== WRITING) continue;
      this.stats.written++;
      this.#pending.delete(p.row.sender, p.row.id);
      p.sender?.confirmSent(p.row.id);
      if (p.acked) {
        this.#side.complete({ recipient: p.row.recipient, sender: p.row.sender, id: p.row.id });
      }
    }
  }

  /**
   * A message the store refused: it leaves the queue, and its sender (still
   * waiting for `sent`) gets `STORE_FAILED` for it instead. If its recipient
   * already acknowledged it, it was delivered and nothing is lost.
   */
  #rejectMessage(p: PendingMessage<S>, error: unknown): void {
    p.state = SET_ASIDE;
    this.#pending.delete(p.row.sender, p.row.id);
    const { id, sender, recipient } = p.row;
    this.#setAside("message", { id, sender, recipient, bytes: p.row.body.length }, error);
    if (p.acked) {
      // Delivered and acknowledged already: nothing needs the row.
      this.#events.delivered({ recipient, sender, id }, false, p.sender);
      return;
    }
    p.sender?.rejectSent(
      id,
      new FastChatError("STORE_FAILED", "the server could not store this message"),
    );
  }
}
