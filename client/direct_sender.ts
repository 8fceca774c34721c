/**
 * Direct texts on their way to the wire. Texts a client sends to one
 * contact within the same tick are sealed together — one AEAD operation,
 * one frame, one store write and one receipt for up to
 * {@link MAX_BATCH_MESSAGES} texts — when the tick ends (a microtask); a
 * lone text is sealed as it always was. Ids are handed out at once
 * (client/message_batch.ts), so callers see no difference. Nothing waits in
 * here beyond the current tick: backpressure stays with the outbox and the
 * link, which the caller checks before {@link DirectSender.add}.
 *
 * @example
 * ```ts
 * import { DirectSender } from "@fastchat/client/direct_sender";
 * import type { OutgoingKey } from "@fastchat/client/key_manager";
 * declare const key: OutgoingKey;
 * const sender = new DirectSender((frame, first, items) => console.log(frame.id, first, items.length));
 * sender.add("alice", "bob", "one", key);
 * sender.add("alice", "bob", "two", key); // both leave in one frame at the end of the tick
 * ```
 * @module
 */
import { randomId } from "@fastchat/lib/crypto";
import type { ClientFrameOf } from "@fastchat/lib/protocol";
import type { OutgoingKey } from "./key_manager.ts";
import { sealDirectContent } from "./message_body.ts";
import {
  batchWireId,
  MAX_BATCH_CHARS,
  MAX_BATCH_MESSAGES,
  MAX_BATCHED_TEXT,
  memberId,
} from "./message_batch.ts";
import { type BatchItem, encodeContent } from "./message_content.ts";

/**
 * Takes a sealed frame with the texts it carries, in order: the `i`-th has
 * the id `memberId(first, i)` (client/message_batch.ts).
 */
export type Deliver = (frame: ClientFrameOf<"send">, first: string, items: BatchItem[]) => void;

/** Texts to one contact, not sealed yet (while `open`; kept for the contact's next tick after). */
interface OpenBatch {
  from: string;
  to: string;
  key: OutgoingKey;
  first: string;
  items: BatchItem[];
  chars: number;
  open: boolean;
  /** Its place in this tick's opening order (when reopened after a full batch, the later one). */
  slot: number;
}

/** Contacts whose batch records are kept between ticks; past this, all are dropped at a flush. */
const KEPT_CONTACTS = 256;

/**
 * Seals direct texts, per contact and tick, into as few frames as it may.
 *
 * @example
 * ```ts
 * import { DirectSender } from "@fastchat/client/direct_sender";
 * const sender = new DirectSender((frame) => console.log(frame.id));
 * sender.flush(); // nothing open: nothing happens
 * ```
 */
export class DirectSender {
  readonly #deliver: Deliver;
  /**
   * A batch record per recent contact, reused tick after tick: a `Map` entry
   * added and deleted every tick reallocates the map's table as it goes
   * (garbage the load workers' scavenges copied).
   */
  readonly #batches = new Map<string, OpenBatch>();
  /** Batches opened this tick, in order (a contact reopened after a full batch comes twice: its `slot` is the later). */
  readonly #opened: OpenBatch[] = [];
  #openedCount = 0;
  #openCount = 0;
  #scheduled = false;

  /** `deliver` takes each sealed frame with the texts it carries, in order. */
  constructor(deliver: Deliver) {
    this.#deliver = deliver;
  }

  /** Frames still to be sealed (one per contact with texts waiting). */
  get frames(): number {
    return this.#openCount;
  }

  /**
   * Queues `text` from `from` to `to` under `key` and returns its id; it is
   * sealed and delivered at the end of the tick, or at once when it is
   * longer than {@link MAX_BATCHED_TEXT}.
   */
  add(from: string, to: string, text: string, key: OutgoingKey): string {
    const batch = this.#batches.get(to);
    let open = batch?.open ? batch : undefined;
    if (
      open &&
      (open.key !== key || open.from !== from || open.items.length >= MAX_BATCH_MESSAGES ||
        open.chars + text.length > MAX_BATCH_CHARS)
    ) {
      this.#seal(open); // full, or a new key: this one leaves now, in order
      open = undefined;
    }
    if (text.length > MAX_BATCHED_TEXT) {
      if (open) this.#seal(open);
      const id = randomId(16);
      const ts = Date.now();
      const frame = sealDirectContent(from, to, encodeContent({ type: "text", text }), key, id, ts);
      this.#deliver(frame, id, [{ ts, text }]);
      return id;
    }
    if (!open) open = this.#open(batch, from, to, key);
    const id = memberId(open.first, open.items.length);
    open.items.push({ ts: Date.now(), text });
    open.chars += text.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return id;
  }

  /** Seals and delivers every open batch now. */
  flush(): void {
    this.#scheduled = false;
    const opened = this.#opened;
    // Index by index: a batch delivered here may lead to more texts (and batches) at once.
    for (let i = 0; i < this.#openedCount; i++) {
      const b = opened[i];
      if (b.open && b.slot === i) this.#seal(b);
    }
    this.#openedCount = 0;
    if (this.#batches.size > KEPT_CONTACTS) {
      this.#batches.clear();
      this.#opened.length = 0; // nor does the list keep the dropped records
    }
  }

  /** A new batch to `to` in `batch`'s record (or a new record), listed as opened this tick. */
  #open(batch: OpenBatch | undefined, from: string, to: string, key: OutgoingKey): OpenBatch {
    const first = randomId(16);
    if (batch) {
      batch.from = from;
      batch.key = key;
      batch.first = first;
      batch.items = [];
      batch.chars = 0;
      batch.open = true;
      batch.slot = this.#openedCount;
    } else {
      batch = { from, to, key, first, items: [], chars: 0, open: true, slot: this.#openedCount };
      this.#batches.set(to, batch);
    }
    this.#opened[this.#openedCount++] = batch;
    this.#openCount++;
    return batch;
  }

  #seal(open: OpenBatch): void {
    open.open = false;
    this.#openCount--;
    const { from, to, key, first, items } = open;
    const n = items.length;
    const frame = n === 1
      ? sealDirectContent(
        from,
        to,
        encodeContent({ type: "text", text: items[0].text }),
        key,
        first,
        items[0].ts,
      )
      : sealDirectContent(
        from,
        to,
        encodeContent({ type: "batch", items }),
        key,
        batchWireId(first, n),
        items[0].ts,
      );
    this.#deliver(frame, first, items);
  }
}
