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

/** Texts to one contact, not sealed yet. */
interface OpenBatch {
  from: string;
  to: string;
  key: OutgoingKey;
  first: string;
  items: BatchItem[];
  chars: number;
}

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
  readonly #open = new Map<string, OpenBatch>();
  #scheduled = false;

  /** `deliver` takes each sealed frame with the texts it carries, in order. */
  constructor(deliver: Deliver) {
    this.#deliver = deliver;
  }

  /** Frames still to be sealed (one per contact with texts waiting). */
  get frames(): number {
    return this.#open.size;
  }

  /**
   * Queues `text` from `from` to `to` under `key` and returns its id; it is
   * sealed and delivered at the end of the tick, or at once when it is
   * longer than {@link MAX_BATCHED_TEXT}.
   */
  add(from: string, to: string, text: string, key: OutgoingKey): string {
    let open = this.#open.get(to);
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
    if (!open) {
      open = { from, to, key, first: randomId(16), items: [], chars: 0 };
      this.#open.set(to, open);
    }
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
    for (const open of this.#open.values()) this.#seal(open);
  }

  #seal(open: OpenBatch): void {
    this.#open.delete(open.to);
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
