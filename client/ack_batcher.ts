/**
 * Batches the acknowledgements of received messages: each inbox queues its
 * acks and an {@link AckBatcher} sends those of every inbox sharing it in
 * one event-loop turn, {@link ACK_DELAY_MS} after the first was queued. A
 * server then reads many in one wake-up instead of being woken once per
 * message. Nothing waits on an acknowledgement but the sender's `delivered`
 * receipt.
 *
 * @example
 * ```ts
 * import { AckBatcher } from "@fastchat/client/ack_batcher";
 * const acks = new AckBatcher();
 * acks.schedule({ flushAcks: () => console.log("acks out") });
 * ```
 * @module
 */

/** How long acknowledgements wait to share a turn with others. */
export const ACK_DELAY_MS = 5;

/** Something with acknowledgements to send (an `Inbox`). */
export interface AckSource {
  /** Sends the acknowledgements queued so far. */
  flushAcks(): void;
}

/**
 * One timer for the acknowledgements of many inboxes.
 *
 * @example
 * ```ts
 * import { AckBatcher } from "@fastchat/client/ack_batcher";
 * const acks = new AckBatcher(1);
 * const inbox = { flushAcks: () => console.log("sent") };
 * acks.schedule(inbox);
 * acks.cancel(inbox); // flushed by hand instead: the timer stops
 * ```
 */
export class AckBatcher {
  readonly delayMs: number;
  /**
   * A fresh set per flush, never `clear()`ed: V8 would allocate each new
   * table of this long-lived set in the old generation.
   */
  #waiting = new Set<AckSource>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(delayMs: number = ACK_DELAY_MS) {
    this.delayMs = delayMs;
  }

  /** Inboxes waiting for the timer. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Flushes `source` with the others at the end of the current delay. */
  schedule(source: AckSource): void {
    this.#waiting.add(source);
    this.#timer ??= setTimeout(() => this.#flush(), this.delayMs);
  }

  /** Forgets `source` (it flushed by itself); stops the timer when none waits. */
  cancel(source: AckSource): void {
    if (this.#waiting.delete(source) && this.#waiting.size === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #flush(): void {
    this.#timer = undefined;
    const sources = this.#waiting;
    this.#waiting = new Set();
    for (const s of sources) s.flushAcks();
  }
}

/**
 * The batcher of inboxes not given their own: every client of a process
 * shares it, so a load generator running many clients in one process sends
 * their acknowledgements in one turn (as one server wake-up per connection
 * instead of one per client timer).
 */
export const processAckBatcher: AckBatcher = new AckBatcher();
