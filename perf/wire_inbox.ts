/**
 * What a `perf --driver wire` client keeps of the frames pushed to it, so
 * that it reports each message and receipt once, as the real client does.
 *
 * Servers deliver at least once: when a link comes up, a server leaves, or
 * a user's presence is confirmed after a retry, the server sends a live
 * session its stored receipts and unacknowledged messages again, and the
 * client drops what it has already shown. The real client does that with
 * its inbox's {@link SeenIds} and its outbox; {@link WireInbox} does the
 * same for the wire driver: a `message` event once per (sender, id), a
 * `sent` once per id, a `delivered` once per id. Every copy is still
 * acknowledged (`ack` for a message, `rack` for a stored receipt), so the
 * server forgets it.
 *
 * @example
 * ```ts
 * import { WireInbox } from "./wire_inbox.ts";
 * const events: string[] = [];
 * const inbox = new WireInbox("x".repeat(100), (e) => events.push(e.event));
 * inbox.sent("m1", "bob");
 * inbox.push({ t: "delivered", items: [["bob", "m1"]] });
 * inbox.push({ t: "delivered", items: [["bob", "m1"]] }); // a resync's copy
 * events; // ["sent", "delivered"]
 * ```
 * @module
 */
import type { ClientEvent } from "@fastchat/client/chat_client";
import { SeenIds } from "@fastchat/client/seen_ids";
import type { ServerFrame } from "@fastchat/lib/protocol";

/**
 * Sent ids awaiting confirmation and receipt, ids shown, and the
 * acknowledgements to send.
 *
 * @example
 * ```ts
 * import { WireInbox } from "./wire_inbox.ts";
 * const inbox = new WireInbox("hi", (e) => console.log(e.event));
 * const body = new Uint8Array();
 * inbox.push({ t: "msg", id: "m1", from: "bob", to: "me", kind: "dm", ts: 0, body }); // true
 * inbox.takeAcks(); // [["bob", "m1"]]
 * ```
 */
export class WireInbox {
  readonly #text: string;
  readonly #emit: (e: ClientEvent) => void;
  /**
   * Sent and not yet receipted, by id: its recipient until `sent` confirms
   * it, then null (its receipt names the recipient).
   */
  readonly #unreceipted = new Map<string, string | null>();
  readonly #seen = new SeenIds();
  #acks: [string, string][] = [];
  #racks: [string, string][] = [];

  /** `text` is what every received message stands for (its body is not opened). */
  constructor(text: string, emit: (e: ClientEvent) => void) {
    this.#text = text;
    this.#emit = emit;
  }

  /** Message `id` to `to` was sent: its confirmation and receipt are awaited. */
  sent(id: string, to: string): void {
    this.#unreceipted.set(id, to);
  }

  /** Sent messages not yet receipted. */
  get unreceipted(): number {
    return this.#unreceipted.size;
  }

  /** Takes one pushed frame; true when it queued acknowledgements to send. */
  push(f: ServerFrame): boolean {
    switch (f.t) {
      case "msg":
        if (f.kind !== "dm") return false;
        if (!this.#seen.has(f.from, f.id)) {
          this.#seen.add(f.from, f.id);
          this.#emit({
            event: "message",
            id: f.id,
            from: f.from,
            to: f.to,
            text: this.#text,
            sent_at: f.ts,
          });
        }
        this.#acks.push([f.from, f.id]); // every copy: the server forgets it
        return true;
      case "sent":
        for (const id of f.ids) {
          const to = this.#unreceipted.get(id);
          if (to === undefined || to === null) continue; // not ours, or confirmed
          this.#unreceipted.set(id, null);
          this.#emit({ event: "sent", id, to });
        }
        return false;
      case "delivered":
        for (const [to, id] of f.items) {
          const unconfirmed = this.#unreceipted.get(id);
          if (unconfirmed === undefined) continue; // a copy of a receipt already shown
          this.#unreceipted.delete(id);
          if (unconfirmed !== null) this.#emit({ event: "sent", id, to }); // delivered first
          this.#emit({ event: "delivered", id, to });
        }
        if (!f.stored) return false;
        for (const item of f.items) this.#racks.push(item);
        return true;
      case "error":
        this.#emit({
          event: "error",
          code: f.code,
          message: f.message,
          id: f.id,
          // A message of ours refused before its confirmation: its recipient.
          to: f.id === undefined ? undefined : this.#unreceipted.get(f.id) ?? undefined,
        });
        return false;
      default:
        return false;
    }
  }

  /** The acknowledgements (`ack`) and receipt acknowledgements (`rack`) queued, emptied. */
  takeAcks(): { acks: [string, string][]; racks: [string, string][] } {
    const out = { acks: this.#acks, racks: this.#racks };
    this.#acks = [];
    this.#racks = [];
    return out;
  }
}
