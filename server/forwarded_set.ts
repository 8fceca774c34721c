/**
 * The messages a server forwarded to other servers and has not yet seen
 * acknowledged, as (server, sender, id). An acknowledgement acts on the store
 * only if it answers a message forwarded to that very server, so a server
 * cannot complete messages it never received. Bounded: past the limit the
 * oldest entry is forgotten (its late acknowledgement is refused and the
 * message stays stored, to be delivered again: nothing is lost).
 *
 * @example
 * ```ts
 * import { ForwardedSet } from "@fastchat/server/forwarded_set";
 * const sent = new ForwardedSet();
 * sent.add("fc-2", "alice", "m-1");
 * sent.take("fc-3", "alice", "m-1"); // false: not forwarded to fc-3
 * sent.take("fc-2", "alice", "m-1"); // true, and forgotten
 * ```
 * @module
 */
import { unlinkSlot } from "./message_key_map.ts";

/** Unacknowledged forwarded messages remembered by default. */
export const MAX_FORWARDED = 200_000;

interface Slot {
  server: string;
  from: string;
  /** Another (server, sender) under the same id. */
  next: Slot | undefined;
}

/**
 * A bounded set of forwarded messages, oldest forgotten first. Keyed by the
 * message id alone (a flat string from the decoder, its hash cached), with
 * server and sender compared on the entry: no key string built per look-up.
 * The chains of entries sharing an id are `MessageKeyMap`'s (its
 * `unlinkSlot`), with the server compared too.
 *
 * @example
 * ```ts
 * import { ForwardedSet } from "@fastchat/server/forwarded_set";
 * const sent = new ForwardedSet(2);
 * sent.add("fc-2", "alice", "m-1");
 * sent.add("fc-2", "alice", "m-2");
 * sent.add("fc-2", "alice", "m-3"); // m-1 forgotten
 * sent.take("fc-2", "alice", "m-1"); // false
 * sent.size; // 2
 * ```
 */
export class ForwardedSet {
  readonly #slots = new Map<string, Slot>();
  readonly #max: number;
  #size = 0;

  /** Remembers at most `max` messages (at least 1). */
  constructor(max: number = MAX_FORWARDED) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /** Messages remembered. */
  get size(): number {
    return this.#size;
  }

  /** Remembers that message `id` of `from` was forwarded to `server` (again: no change). */
  add(server: string, from: string, id: string): void {
    const head = this.#slots.get(id);
    for (let s = head; s !== undefined; s = s.next) {
      if (s.server === server && s.from === from) return;
    }
    if (this.#size >= this.#max) this.#evictOldest();
    this.#slots.set(id, { server, from, next: this.#slots.get(id) });
    this.#size++;
  }

  /** True (and forgets it) if message `id` of `from` was forwarded to `server` and not yet taken. */
  take(server: string, from: string, id: string): boolean {
    for (let s = this.#slots.get(id), prev; s !== undefined; prev = s, s = s.next) {
      if (s.server !== server || s.from !== from) continue;
      unlinkSlot(this.#slots, id, prev, s);
      this.#size--;
      return true;
    }
    return false;
  }

  /** Forgets the entries of the oldest id (the order ids were first added in). */
  #evictOldest(): void {
    for (const [id, slot] of this.#slots) {
      this.#slots.delete(id);
      for (let s: Slot | undefined = slot; s !== undefined; s = s.next) this.#size--;
      return;
    }
  }
}
