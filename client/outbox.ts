/**
 * The client's outbox: messages handed to the server and not yet confirmed
 * (`sent`, or a receipt). It is resent after every reconnect, and it is
 * kept on disk (sealed, in the user's home) before a message goes out, so a
 * crash or `kill -9` of the client loses nothing its history already shows:
 * the next login resends what was pending. Writes are batched (one sealed
 * append per {@link WRITE_LINGER_MS} of sends, one promise per batch); a
 * message the server confirms before its batch is written is left out of it
 * (the server holds it: nothing to recover). Confirmations ride along with the next burst
 * or go out within {@link DONE_LINGER_MS} (a confirmation lost in a crash
 * only means a resend, which the recipient drops as a duplicate). The outbox
 * is bounded: `add` waits while it is full (backpressure).
 *
 * The outbox is also the one owner of what the server says about pending
 * messages: {@link Outbox.confirm} takes `sent` confirmations and
 * {@link Outbox.receipts} takes `delivered` receipts (a stored receipt is
 * shown once, though the server re-sends it until it is acknowledged), and
 * {@link Outbox.idle} resolves once nothing is pending.
 *
 * @example
 * ```ts
 * import { Outbox } from "@fastchat/client/outbox";
 * const outbox = new Outbox({ maxPending: 100 });
 * await outbox.add({ t: "send", id: "m-00000001", to: "bob", kind: "dm", ts: 1, body: new Uint8Array(1) });
 * outbox.remove("m-00000001"); // confirmed
 * ```
 * @module
 */
import type { ClientFrameOf, ServerFrameOf } from "@fastchat/lib/protocol";
import { OutboxTable } from "./outbox_table.ts";

/** A queued message. */
export type OutboxFrame = ClientFrameOf<"send">;

/** One entry of the outbox log: a message added, or messages confirmed. */
export type OutboxRecord = { add: OutboxFrame } | { done: string[] };

/** Where an outbox keeps its log (see `UserHome.outboxStorage`). */
export interface OutboxStorage {
  /** Appends records durably (one write per call). */
  append(records: OutboxRecord[]): Promise<void>;
  /** All records written so far, oldest first (a torn final write is ignored). */
  load(): Promise<OutboxRecord[]>;
  /** Replaces the whole log with `records` atomically. */
  replace(records: OutboxRecord[]): Promise<void>;
  /** Releases what the storage holds open. */
  close(): void;
}

/** One receipt of a `delivered` frame, as the outbox judged it. */
export interface Receipt {
  /** The message delivered. */
  id: string;
  /** Its recipient. */
  to: string;
  /** The message, when the receipt also confirmed it (it was still pending). */
  confirmed?: OutboxFrame;
  /** A stored receipt: the server re-sends it until acknowledged (`rack`). */
  stored: boolean;
  /** False for a repeat of a stored receipt already shown. */
  show: boolean;
}

/**
 * Records appended before an empty outbox truncates its log: a sealed
 * record is ~150 bytes per message, and a truncation (a file-system
 * metadata update, 3.5 % of a saturated load worker's CPU at 256) is then
 * paid once per few thousand messages.
 */
const COMPACT_AFTER = 4096;
/**
 * How long the first record of a batch waits for others to share its write.
 * Each write seals its batch (one AEAD operation, as costly as sealing
 * the message itself) and a busy sender sends one message every few ms: at
 * 5 ms nearly every message had a write of its own; at 20 ms about four
 * share one, and messages the server confirms within the linger are never
 * written (measured: about 15 % less CPU per message on the client hot path,
 * `perf/client_hot_path_bench.ts`). The frames go out meanwhile; only the
 * history waits for the write.
 */
export const WRITE_LINGER_MS = 20;
/** Longest a confirmation waits for a send to share a write with. */
export const DONE_LINGER_MS = 1000;
/** Stored receipts remembered as shown (the set starts over when full). */
const MAX_RECEIPTS_SHOWN = 200_000;

/** Writers waiting for the current linger to end: one timer for every outbox of the process. */
let lingerWaiters: (() => void)[] = [];
let lingerTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * Resolves at the end of the current write linger (at most
 * {@link WRITE_LINGER_MS} from now). A load generator runs many outboxes
 * in one process: they share one timer instead of starting one each per
 * batch.
 */
function lingerOver(): Promise<void> {
  return new Promise((resolve) => {
    lingerWaiters.push(resolve);
    lingerTimer ??= setTimeout(() => {
      lingerTimer = undefined;
      const waiters = lingerWaiters;
      lingerWaiters = [];
      for (const w of waiters) w();
    }, WRITE_LINGER_MS);
  });
}

/**
 * Pending messages by id, persisted through an {@link OutboxStorage}.
 *
 * @example
 * ```ts
 * import { Outbox } from "@fastchat/client/outbox";
 * const outbox = new Outbox();
 * console.log(outbox.size); // 0
 * ```
 */
export class Outbox {
  readonly maxPending: number;
  /** Records appended before an empty outbox truncates its log (default {@link COMPACT_AFTER}). */
  readonly compactAfter: number;
  /** Pending messages by id, in order, each marked once its `add` record is written. */
  readonly #frames = new OutboxTable<OutboxFrame>();
  #storage: OutboxStorage | null = null;
  /**
   * Messages added since the last batch was taken, oldest first: the next
   * batch is those of them still pending (one confirmed meanwhile is not written).
   */
  #unwritten: OutboxFrame[] = [];
  /** Settles when the next batch is written: shared by all its messages. */
  #batch: PromiseWithResolvers<void> | null = null;
  /** Confirmations are due on disk (a flush, or their linger is over) even without a send. */
  #doneDue = false;
  /** The running writer, if any. */
  #writer: Promise<void> | null = null;
  #logged = 0;
  /** Confirmed ids not yet written (of messages whose `add` was written). */
  #done: string[] = [];
  #doneTimer: ReturnType<typeof setTimeout> | undefined;
  #roomWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  /** `peer\nid` of stored receipts shown. */
  readonly #receiptsShown = new Set<string>();
  /** Receipts that came before {@link Outbox.releaseReceipts} (held until the user is ready). */
  #heldReceipts: ServerFrameOf<"delivered">[] | null = [];
  /**
   * Called when a background write (a confirmation) fails. A lost
   * confirmation only means the message is resent after a crash (and the
   * recipient drops the repeat), so the default reports it and goes on.
   */
  onError: (e: unknown) => void = (e) =>
    console.error(`fastchat outbox: writing confirmations failed: ${e}`);

  constructor(opts: { maxPending?: number; compactAfter?: number } = {}) {
    this.maxPending = opts.maxPending ?? 10_000;
    this.compactAfter = opts.compactAfter ?? COMPACT_AFTER;
  }

  /** Messages pending. */
  get size(): number {
    return this.#frames.size;
  }

  /** Whether `id` is pending. */
  has(id: string): boolean {
    return this.#frames.has(id);
  }

  /** The pending message `id`. */
  get(id: string): OutboxFrame | undefined {
    return this.#frames.get(id);
  }

  /** Pending messages, oldest first. */
  values(): OutboxFrame[] {
    return this.#frames.values();
  }

  /**
   * Starts persisting to `storage`; returns the messages a previous run left
   * pending (now pending again, to be resent), and compacts the log.
   */
  async attach(storage: OutboxStorage): Promise<OutboxFrame[]> {
    const restored = new Map<string, OutboxFrame>();
    for (const r of await storage.load()) {
      if ("add" in r) restored.set(r.add.id, r.add);
      else for (const id of r.done) restored.delete(id);
    }
    const fresh = [...restored.values()].filter((f) => !this.#frames.has(f.id));
    for (const f of fresh) this.#frames.add(f.id, f);
    this.#storage = storage;
    const pending = this.#frames.values();
    const all = pending.map((add) => ({ add }));
    await storage.replace(all);
    // Every pending message is in the log now (a send queued meanwhile is written again: harmless).
    for (const f of pending) this.#frames.markWritten(f.id);
    this.#logged = all.length;
    return fresh;
  }

  /** Adds a message; resolves once it is on disk (and there was room for it). */
  async add(frame: OutboxFrame): Promise<void> {
    await (await this.enqueue(frame)).written;
  }

  /**
   * Adds a message once there is room and starts writing it; `written`
   * settles when it is on disk (sends of one tick share one write). If the
   * write fails the message leaves the outbox and `written` rejects.
   */
  async enqueue(frame: OutboxFrame): Promise<{ written: Promise<void> }> {
    while (this.#frames.size >= this.maxPending) {
      await new Promise<void>((r) => this.#roomWaiters.push(r));
    }
    return { written: this.tryEnqueue(frame)! };
  }

  /**
   * {@link Outbox.enqueue} without waiting: null when the outbox is full,
   * else the promise that settles when the message is on disk. It is the
   * promise of the whole batch (one per write, not one per message), and a
   * rejection nobody handles is not reported as unhandled (see
   * {@link Outbox.onWriteFailed}). A message confirmed before its batch is
   * written is never written at all: the server holds it already.
   */
  tryEnqueue(frame: OutboxFrame): Promise<void> | null {
    if (this.#frames.size >= this.maxPending) return null;
    if (!this.#frames.add(frame.id, frame)) return this.#batch?.promise ?? Promise.resolve();
    if (!this.#storage) return Promise.resolve();
    this.#unwritten.push(frame);
    if (!this.#batch) {
      this.#batch = Promise.withResolvers<void>();
      this.#batch.promise.catch(() => {}); // reported through onWriteFailed and the callers
    }
    this.#writer ??= this.#run();
    return this.#batch.promise;
  }

  /**
   * Called with the messages of a batch whose write failed: they left the
   * outbox (their sends fail) and their `written` promises reject.
   */
  onWriteFailed: (frames: OutboxFrame[], e: unknown) => void = () => {};

  /** Removes a confirmed (or refused) message; returns it if it was pending. */
  remove(id: string): OutboxFrame | undefined {
    const frame = this.#frames.delete(id);
    if (!frame) return undefined;
    this.#wake();
    // Confirmed before its add was written: neither record is needed.
    if (this.#storage && this.#frames.deletedWasWritten) {
      this.#done.push(id);
      if (this.#doneTimer === undefined) {
        this.#doneTimer = setTimeout(() => {
          this.#doneTimer = undefined;
          this.#writeDone().catch((e) => this.onError(e));
        }, DONE_LINGER_MS);
        Deno.unrefTimer(this.#doneTimer); // close() writes what is left
      }
    }
    return frame;
  }

  /** The server stored the messages `ids`: returns those that were pending. */
  confirm(ids: Iterable<string>): OutboxFrame[] {
    const out: OutboxFrame[] = [];
    for (const id of ids) {
      const frame = this.remove(id);
      if (frame) out.push(frame);
    }
    return out;
  }

  /**
   * Takes a `delivered` frame: each receipt confirms its message if still
   * pending (a delivery implies it was stored), and says whether to show
   * it. Held (returns none) until {@link Outbox.releaseReceipts}.
   */
  receipts(f: ServerFrameOf<"delivered">): Receipt[] {
    if (this.#heldReceipts) {
      this.#heldReceipts.push(f);
      return [];
    }
    const out: Receipt[] = [];
    for (const [to, id] of f.items) {
      const confirmed = this.remove(id);
      let show = true;
      if (f.stored) {
        // Only stored receipts are re-sent (until acknowledged); live ones come once.
        const key = to + "\n" + id;
        if (this.#receiptsShown.has(key)) show = false;
        else {
          if (this.#receiptsShown.size >= MAX_RECEIPTS_SHOWN) this.#receiptsShown.clear();
          this.#receiptsShown.add(key);
        }
      }
      const stored = f.stored === true;
      out.push(confirmed ? { id, to, confirmed, stored, show } : { id, to, stored, show });
    }
    return out;
  }

  /** Stops holding receipts (the user is ready); returns those held so far, judged. */
  releaseReceipts(): Receipt[] {
    const held = this.#heldReceipts ?? [];
    this.#heldReceipts = null;
    return held.flatMap((f) => this.receipts(f));
  }

  /** Resolves when no message is pending. */
  idle(): Promise<void> {
    if (this.#frames.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  /** Resolves when every change so far is on disk. */
  async flush(): Promise<void> {
    await this.#writeDone();
    await this.#drained();
  }

  /** Writes the confirmations so far (with the sends pending a write); rejects if that fails. */
  async #writeDone(): Promise<void> {
    clearTimeout(this.#doneTimer);
    this.#doneTimer = undefined;
    if (this.#done.length === 0 || !this.#storage) return;
    this.#doneDue = true;
    this.#writer ??= this.#run(false);
    await this.#drained();
    if (this.#doneError !== null) {
      const e = this.#doneError;
      this.#doneError = null;
      throw e;
    }
  }

  /** Writes what is left and stops persisting; pending messages stay on disk. */
  async close(): Promise<void> {
    await this.flush();
    this.#storage?.close();
    this.#storage = null;
  }

  /**
   * Forgets every pending message (logout), on disk too; stops persisting
   * and holds receipts again until the next {@link Outbox.releaseReceipts}.
   */
  async clear(): Promise<void> {
    this.#frames.clear();
    this.#unwritten = [];
    this.#heldReceipts ??= [];
    this.#done = [];
    clearTimeout(this.#doneTimer);
    this.#doneTimer = undefined;
    this.#wake();
    const storage = this.#storage;
    this.#storage = null;
    await this.#drained();
    await storage?.replace([]);
    storage?.close();
  }

  #wake(): void {
    // Runs per confirmed message: no array copied when nobody waits.
    if (this.#roomWaiters.length > 0) { for (const w of this.#roomWaiters.splice(0)) w(); }
    if (this.#frames.size === 0 && this.#idleWaiters.length > 0) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  /** A failed write of confirmations alone, for {@link Outbox.flush} to report. */
  #doneError: unknown = null;

  /** Writes the batches due, one write each, until none is left. */
  async #run(linger = true): Promise<void> {
    try {
      // Sends of the next few ms share one write (the frames go out meanwhile;
      // only the history waits for it).
      if (linger) await lingerOver();
      while ((this.#unwritten.length > 0 || this.#doneDue) && this.#storage) {
        // Those still pending and not yet written (a message confirmed before
        // its write is never written); marked now, so a confirmation from here
        // on is logged as `done`. A fresh array, not `length = 0`.
        const adds = this.#unwritten.filter((f) => this.#frames.markWritten(f.id));
        this.#unwritten = [];
        const batch = this.#batch;
        this.#batch = null;
        this.#doneDue = false;
        const records: OutboxRecord[] = adds.map((add) => ({ add }));
        // Confirmations so far share this write. A confirmation lost with a
        // failed write only means a resend after a crash (dropped as a repeat).
        if (this.#done.length > 0) records.push({ done: this.#done.splice(0) });
        const storage = this.#storage;
        try {
          if (records.length === 0) {
            // Every send of the batch was confirmed before its write: nothing to write.
          } else if (this.#frames.size === 0 && this.#logged + records.length > this.compactAfter) {
            await storage.replace([]); // nothing pending: the log can start over
            this.#logged = 0;
          } else {
            await storage.append(records);
            this.#logged += records.length;
          }
          batch?.resolve();
        } catch (e) {
          const failed = adds.filter((f) => this.#frames.delete(f.id) !== undefined);
          this.#wake();
          if (failed.length > 0) this.onWriteFailed(failed, e);
          if (adds.length === 0) this.#doneError = e;
          batch?.reject(e);
        }
      }
      // Detached (closed or cleared): nothing to persist.
      this.#unwritten = [];
      this.#batch?.resolve();
      this.#batch = null;
      this.#doneDue = false;
    } finally {
      // Set before this promise settles: a message queued from now on starts a new writer.
      this.#writer = null;
    }
  }

  async #drained(): Promise<void> {
    while (this.#writer) await this.#writer;
  }
}
