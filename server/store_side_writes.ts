/**
 * The write-behind queue's writes besides messages: key envelopes (kept in
 * memory until stored, so recipients can fetch them at once), completions of
 * stored messages their recipients acknowledged, receipts for senders who
 * are offline, and deletions of stored receipts their senders have shown.
 * Each kind is one statement per round, capped in rows (and, for envelopes,
 * bytes); a row the store refuses for a reason in its data is set aside
 * (server/batch_insert.ts) and the rest are written.
 *
 * @example
 * ```ts
 * import { StoreSideWrites } from "@fastchat/server/store_side_writes";
 * import type { ChatStore } from "@fastchat/server/store";
 * declare const store: ChatStore;
 * const side = new StoreSideWrites(store, {
 *   retain: false,
 *   delivered: (ref) => console.log("receipt stored for", ref.sender),
 *   setAside: (what, row, err) => console.error(what, row, err),
 * });
 * side.storeReceipt({ sender: "alice", recipient: "bob", id: "m-00000001" });
 * await side.writeEnvelopes({ maxRows: 1000, maxBytes: 8 << 20 });
 * await side.writeRest({ maxRows: 1000, maxBytes: 8 << 20 });
 * ```
 * @module
 */
import { batchLength, type BatchLimits, writeIsolatingFailures } from "./batch_insert.ts";
import type { ChatStore, EnvelopeRecord, MessageRef } from "./store.ts";

/** Bytes a stored row costs beyond its body (ids, names, row overhead). */
export const ROW_OVERHEAD = 128;

/**
 * What {@link StoreSideWrites} tells its owner.
 *
 * @example
 * ```ts
 * import type { SideWriteEvents } from "@fastchat/server/store_side_writes";
 * const events: SideWriteEvents = {
 *   retain: true,
 *   delivered: (ref) => console.log(ref.id),
 *   setAside: (what) => console.log("refused", what),
 * };
 * ```
 */
export interface SideWriteEvents {
  /** Completions mark rows delivered instead of deleting them. */
  retain: boolean;
  /** A stored message was completed and its receipt stored with it. */
  delivered(ref: MessageRef): void;
  /** The store refused `row` (of queue `what`) for a reason in its data: it was dropped. */
  setAside(what: string, row: Record<string, unknown>, error: unknown): void;
}

/**
 * Envelopes, completions, receipts and receipt deletions waiting for the store.
 *
 * @example
 * ```ts
 * import { StoreSideWrites } from "@fastchat/server/store_side_writes";
 * declare const side: StoreSideWrites;
 * if (side.pending) console.log(side.completed, "completed so far");
 * ```
 */
export class StoreSideWrites {
  readonly #store: ChatStore;
  readonly #events: SideWriteEvents;
  readonly #envelopes = new Map<string, EnvelopeRecord>();
  #envWrites: EnvelopeRecord[] = [];
  #completes: MessageRef[] = [];
  #receipts: MessageRef[] = [];
  #receiptDeletes: MessageRef[] = [];
  /** Stored messages completed (deleted or marked delivered). */
  completed = 0;
  /**
   * Completions that found no undelivered row: a repeated acknowledgement
   * (a message redelivered after a resync and acknowledged again), a forged
   * one, or a message whose row was not written yet, whose receipt then
   * waits for the recipient's next login. Counted, since only the last is a
   * fault, and a late receipt is otherwise invisible on the server.
   */
  unmatched = 0;

  constructor(store: ChatStore, events: SideWriteEvents) {
    this.#store = store;
    this.#events = events;
  }

  /** Whether anything waits for the store. */
  get pending(): boolean {
    return this.#envWrites.length > 0 || this.#completes.length > 0 ||
      this.#receipts.length > 0 || this.#receiptDeletes.length > 0;
  }

  /** Queues `env` unless it is queued already; returns whether it was queued now. */
  addEnvelope(env: EnvelopeRecord): boolean {
    const key = env.recipient + "\n" + env.kid;
    if (this.#envelopes.has(key)) return false;
    this.#envelopes.set(key, env);
    this.#envWrites.push(env);
    return true;
  }

  /** An envelope addressed to `recipient`, from memory or the store. */
  async envelope(recipient: string, kid: string): Promise<EnvelopeRecord | null> {
    return this.#envelopes.get(recipient + "\n" + kid) ??
      await this.#store.getEnvelope(recipient, kid);
  }

  /** Deletes (or, retaining, marks delivered) a stored message its recipient acknowledged. */
  complete(ref: MessageRef): void {
    this.#completes.push(ref);
  }

  /** Stores a receipt for a sender who is not online anywhere. */
  storeReceipt(ref: MessageRef): void {
    this.#receipts.push(ref);
  }

  /** Deletes stored receipts their sender has shown. */
  deleteReceipts(refs: MessageRef[]): void {
    for (const r of refs) this.#receiptDeletes.push(r);
  }

  /** Writes one statement of queued envelopes (they go before the messages that carry them). */
  async writeEnvelopes(limits: BatchLimits): Promise<void> {
    if (this.#envWrites.length === 0) return;
    const n = batchLength(this.#envWrites, (e) => e.envelope.length + ROW_OVERHEAD, limits);
    const envs = this.#envWrites.slice(0, n);
    await writeIsolatingFailures(
      envs,
      (xs) => this.#store.insertEnvelopes(xs),
      (e, err) =>
        this.#events.setAside(
          "envelope",
          { recipient: e.recipient, kid: e.kid, sender: e.sender },
          err,
        ),
    );
    this.#envWrites.splice(0, envs.length);
    for (const e of envs) this.#envelopes.delete(e.recipient + "\n" + e.kid);
  }

  /** Writes one statement each of completions, receipts and receipt deletions. */
  async writeRest(limits: BatchLimits): Promise<void> {
    if (this.#completes.length > 0) {
      const refs = this.#completes.slice(0, limits.maxRows);
      let refused = 0;
      const done = await writeIsolatingFailures(
        refs,
        (xs) => this.#store.completeMessages(xs, this.#events.retain),
        (r, err) => {
          refused++;
          this.#events.setAside("completion", { ...r }, err);
        },
      );
      this.#completes.splice(0, refs.length);
      this.completed += done.length;
      this.unmatched += refs.length - refused - done.length;
      for (const r of done) this.#events.delivered(r); // stored with the completion
    }
    if (this.#receipts.length > 0) {
      const refs = this.#receipts.slice(0, limits.maxRows);
      await writeIsolatingFailures(
        refs,
        (xs) => this.#store.insertReceipts(xs),
        (r, err) => this.#events.setAside("receipt", { ...r }, err),
      );
      this.#receipts.splice(0, refs.length);
    }
    if (this.#receiptDeletes.length > 0) {
      const refs = this.#receiptDeletes.slice(0, limits.maxRows);
      await writeIsolatingFailures(
        refs,
        (xs) => this.#store.deleteReceipts(xs),
        (r, err) => this.#events.setAside("receipt_delete", { ...r }, err),
      );
      this.#receiptDeletes.splice(0, refs.length);
    }
  }
}
