/**
 * What the server says about the messages this client sent, as the user's
 * events: a `sent` confirmation (stored, or delivered first) becomes one
 * `sent` event and a receipt one `delivered` event per text of the frame
 * (a frame of batched texts `E-n` stands for `E`, `E_1`, …). The client's
 * own messages (group-key handovers) show neither, also when their receipt
 * arrives in a later session. Receipts the server stored are acknowledged
 * (`rack`) once shown, so it stops re-sending them.
 *
 * @example
 * ```ts
 * import { ReceiptEvents } from "@fastchat/client/receipt_events";
 * const receipts = new ReceiptEvents({
 *   emit: (e) => console.log(e),
 *   ackStored: (items) => console.log("rack", items),
 *   envelopeStored: () => {},
 *   handovers: { noteHandover: () => {}, takeHandover: () => false },
 *   onChange: () => {},
 * });
 * receipts.show([{ id: "m-00000001", to: "bob", stored: true, show: true }]);
 * // { event: "delivered", id: "m-00000001", to: "bob" }, then rack [["bob", "m-00000001"]]
 * ```
 * @module
 */
import type { ClientEvent } from "./events.ts";
import { batchMembers } from "./message_batch.ts";
import type { OutboxFrame, Receipt } from "./outbox.ts";

/** Internal message ids remembered for this session at most (oldest forgotten first). */
const MAX_INTERNAL = 10_000;
/** Stored receipts acknowledged per `rack` frame at most. */
const RACK_ITEMS = 4096;

/**
 * What {@link ReceiptEvents} reports to and asks of its client.
 *
 * @example
 * ```ts
 * import type { ReceiptEventsDeps } from "@fastchat/client/receipt_events";
 * const deps: ReceiptEventsDeps = {
 *   emit: () => {},
 *   ackStored: () => {},
 *   envelopeStored: () => {},
 *   handovers: { noteHandover: () => {}, takeHandover: () => false },
 *   onChange: () => {},
 * };
 * ```
 */
/**
 * Whom a sent frame was for, as the user wrote it: a user name, or `#group`.
 *
 * @example
 * ```ts
 * import { recipientOf } from "@fastchat/client/receipt_events";
 * recipientOf({ to: "team", kind: "group" }); // "#team"
 * recipientOf({ to: "bob", kind: "dm" }); // "bob"
 * ```
 */
export function recipientOf(frame: Pick<OutboxFrame, "to" | "kind">): string {
  return frame.kind === "group" ? `#${frame.to}` : frame.to;
}

export interface ReceiptEventsDeps {
  emit(e: ClientEvent): void;
  /** Acknowledges receipts the server stored: `[recipient, id]` pairs for one `rack` frame. */
  ackStored(items: [string, string][]): void;
  /** The server has stored the session-key envelope `kid` for `to`: stop attaching it. */
  envelopeStored(to: string, kid: string): void;
  /** Group-key handovers whose receipts may come in a later session (kept in saved state). */
  handovers: { noteHandover(id: string): void; takeHandover(id: string): boolean };
  /** Saved state changed (a handover noted or taken). */
  onChange(): void;
}

/**
 * `sent` and `delivered` events of the messages a client sent.
 *
 * @example
 * ```ts
 * import { ReceiptEvents } from "@fastchat/client/receipt_events";
 * const events: unknown[] = [];
 * const receipts = new ReceiptEvents({
 *   emit: (e) => events.push(e),
 *   ackStored: () => {},
 *   envelopeStored: () => {},
 *   handovers: { noteHandover: () => {}, takeHandover: () => false },
 *   onChange: () => {},
 * });
 * receipts.confirmed({ t: "send", id: "AAAAAAAAAAAAAAAAAAAAAA-2", to: "bob", kind: "dm", ts: 1, body: new Uint8Array() });
 * events.length; // 2: one per text of the batch
 * ```
 */
export class ReceiptEvents {
  readonly #d: ReceiptEventsDeps;
  /** Ids of messages the client sends for itself: no sent/delivered events. */
  readonly #internal = new Set<string>();

  constructor(deps: ReceiptEventsDeps) {
    this.#d = deps;
  }

  /** `id` is a message the client sends for itself (a group-key handover). */
  markInternal(id: string): void {
    if (this.#internal.size >= MAX_INTERNAL) {
      this.#internal.delete(this.#internal.values().next().value!);
    }
    this.#internal.add(id);
    // Its receipt may come in a later session: the saved handovers remember it.
    this.#d.handovers.noteHandover(id);
    this.#d.onChange();
  }

  /** The server took responsibility for `frame` (stored it, or it was delivered). */
  confirmed(frame: OutboxFrame): void {
    if (frame.env && frame.kid) this.#d.envelopeStored(frame.to, frame.kid);
    // A client that never sent one looks nothing up: the first `Set` look-up with
    // an id string hashes it, ~0.4 µs in this runtime (perf/string_hash_bench.ts).
    if (this.#internal.size > 0 && this.#internal.has(frame.id)) return;
    const to = recipientOf(frame);
    for (const id of batchMembers(frame.id)) this.#d.emit({ event: "sent", id, to });
  }

  /** Emits `sent` and `delivered` for `receipts` and acknowledges the stored ones. */
  show(receipts: Receipt[]): void {
    const stored: [string, string][] = [];
    for (const r of receipts) {
      if (r.confirmed) this.confirmed(r.confirmed); // a receipt also confirms a pending message
      const handover = this.#d.handovers.takeHandover(r.id);
      if (handover) this.#d.onChange();
      if (r.show && !handover && !(this.#internal.size > 0 && this.#internal.has(r.id))) {
        for (const id of batchMembers(r.id)) this.#d.emit({ event: "delivered", id, to: r.to });
      }
      if (r.stored) stored.push([r.to, r.id]);
    }
    for (let i = 0; i < stored.length; i += RACK_ITEMS) {
      this.#d.ackStored(stored.slice(i, i + RACK_ITEMS));
    }
  }
}
