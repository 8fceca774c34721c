/**
 * A map keyed by a message's (sender, id) pair without building a key
 * string per look-up.
 *
 * The hot path used `sender + "\n" + id` as a `Map` key: every `get`,
 * `set` and `delete` allocated a cons string that V8 then had to flatten
 * (a second allocation and a copy) to hash. At window 64 the three maps
 * keyed this way (the write-behind queue's pending messages, the router's
 * origins of forwarded messages) took ~10 % of a server's CPU in a profile.
 * Here the id alone is the `Map` key (a flat string straight from the
 * decoder, its hash cached in the string) and the sender is compared on
 * the entry; ids two senders share (clients choose them, so a hostile one
 * may copy another's) chain on the same slot. The hottest such map, the
 * write-behind queue's pending messages, is now a `MessageKeyTable`
 * (message_key_table.ts: open addressing, faster under churn); this one
 * stays where the oldest entry must be found (`deleteOldest`).
 *
 * @example
 * ```ts
 * import { MessageKeyMap } from "@fastchat/server/message_key_map";
 * const m = new MessageKeyMap<number>();
 * m.set("alice", "m-00000001", 1);
 * m.set("bob", "m-00000001", 2); // same id, other sender: its own entry
 * console.log(m.get("alice", "m-00000001"), m.get("bob", "m-00000001"), m.size); // 1 2 2
 * m.delete("alice", "m-00000001");
 * console.log(m.get("alice", "m-00000001"), m.size); // undefined 1
 * ```
 * @module
 */

interface Slot<V> {
  sender: string;
  value: V;
  /** Another sender's entry under the same id. */
  next: Slot<V> | undefined;
}

/** An entry of a chain of entries that share a message id; `next`, the following one. */
export interface ChainedSlot<S> {
  next: S | undefined;
}

/**
 * Removes `slot`, found after `prev` (undefined: `slot` is the head) on the
 * chain of `id` in `slots`: the chain a map keyed by message id keeps of
 * entries that share the id. Used by {@link MessageKeyMap} and by
 * `ForwardedSet`, which compares more than the sender on its entries.
 *
 * @example
 * ```ts
 * import { unlinkSlot } from "@fastchat/server/message_key_map";
 * type Slot = { sender: string; next: Slot | undefined };
 * const tail: Slot = { sender: "bob", next: undefined };
 * const slots = new Map<string, Slot>([["m-1", { sender: "alice", next: tail }]]);
 * unlinkSlot(slots, "m-1", slots.get("m-1"), tail); // bob's entry
 * unlinkSlot(slots, "m-1", undefined, slots.get("m-1")!); // alice's, the last
 * console.log(slots.size); // 0
 * ```
 */
export function unlinkSlot<S extends ChainedSlot<S>>(
  slots: Map<string, S>,
  id: string,
  prev: S | undefined,
  slot: S,
): void {
  if (prev) prev.next = slot.next;
  else if (slot.next) slots.set(id, slot.next);
  else slots.delete(id);
}

/**
 * Values keyed by (sender, message id).
 *
 * @example
 * ```ts
 * import { MessageKeyMap } from "@fastchat/server/message_key_map";
 * const origins = new MessageKeyMap<string>();
 * origins.set("alice", "m-00000001", "srv-2");
 * console.log(origins.has("alice", "m-00000001")); // true
 * ```
 */
export class MessageKeyMap<V> {
  readonly #slots = new Map<string, Slot<V>>();
  #size = 0;

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  /** The value of (`sender`, `id`), if any. */
  get(sender: string, id: string): V | undefined {
    for (let s = this.#slots.get(id); s !== undefined; s = s.next) {
      if (s.sender === sender) return s.value;
    }
    return undefined;
  }

  /** Whether (`sender`, `id`) has an entry. */
  has(sender: string, id: string): boolean {
    for (let s = this.#slots.get(id); s !== undefined; s = s.next) {
      if (s.sender === sender) return true;
    }
    return false;
  }

  /** Sets the value of (`sender`, `id`). */
  set(sender: string, id: string, value: V): void {
    const head = this.#slots.get(id);
    for (let s = head; s !== undefined; s = s.next) {
      if (s.sender === sender) {
        s.value = value;
        return;
      }
    }
    const slot: Slot<V> = { sender, value, next: head };
    this.#slots.set(id, slot);
    this.#size++;
  }

  /** Removes (`sender`, `id`); returns whether it was there. */
  delete(sender: string, id: string): boolean {
    for (let s = this.#slots.get(id), prev; s !== undefined; prev = s, s = s.next) {
      if (s.sender !== sender) continue;
      unlinkSlot(this.#slots, id, prev, s);
      this.#size--;
      return true;
    }
    return false;
  }

  /**
   * Removes the entry of the oldest id still present (insertion order of
   * ids; an id's later senders go with it); returns whether one was removed.
   */
  deleteOldest(): boolean {
    for (const [id, slot] of this.#slots) {
      return this.delete(slot.sender, id);
    }
    return false;
  }

  /** Removes every entry. */
  clear(): void {
    this.#slots.clear();
    this.#size = 0;
  }
}
