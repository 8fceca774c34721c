/**
 * Values by a message's (sender, id) pair, bounded: the most recent entries
 * are kept and, once the bound is reached, the older half is forgotten at
 * once. For the look-ups of the forwarded path, where an entry normally
 * lives only until the message is acknowledged but may outlive it when an
 * acknowledgement never comes (a peer that died, a recipient that left):
 * the router's origins of forwarded messages, and the forwarded messages a
 * server waits to see acknowledged (`ForwardedSet`).
 *
 * Two generations of {@link MessageKeyTable}: inserts go to the young one;
 * when it holds half the bound, it becomes the old one and the old one is
 * dropped whole. Look-ups try the young generation, then the old one (only
 * if it holds anything). So the bound costs nothing per message (no
 * insertion-order list to keep, unlike a `Map` evicting its oldest key), and
 * what is forgotten is always older than everything kept.
 *
 * @example
 * ```ts
 * import { RecentMessageKeys } from "@fastchat/server/recent_message_keys";
 * const origins = new RecentMessageKeys<string>(4);
 * origins.set("alice", "m-1", "fc-2");
 * origins.set("alice", "m-2", "fc-2");
 * origins.set("alice", "m-3", "fc-3"); // m-1 and m-2 become the old generation
 * origins.set("alice", "m-4", "fc-3");
 * origins.set("alice", "m-5", "fc-3"); // m-1 and m-2 are forgotten
 * console.log(origins.get("alice", "m-1"), origins.get("alice", "m-3"), origins.size); // undefined fc-3 3
 * ```
 * @module
 */
import { MessageKeyTable } from "./message_key_table.ts";

/**
 * The most recent values by (sender, id), at most {@link RecentMessageKeys.max}.
 *
 * @example
 * ```ts
 * import { RecentMessageKeys } from "@fastchat/server/recent_message_keys";
 * const keys = new RecentMessageKeys<number>();
 * keys.set("alice", "m-00000001", 1);
 * keys.delete("alice", "m-00000001"); // true
 * keys.has("alice", "m-00000001"); // false
 * ```
 */
export class RecentMessageKeys<V> {
  /** Entries held at most: the bound asked for, rounded up to an even number, at least 2. */
  readonly max: number;
  readonly #half: number;
  #young = new MessageKeyTable<V>();
  #old = new MessageKeyTable<V>();

  /** Keeps at most `max` entries (default 200,000). */
  constructor(max: number = 200_000) {
    this.#half = Math.max(1, Math.ceil(Math.floor(max) / 2) || 1);
    this.max = this.#half * 2;
  }

  /** Entries held. */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** The value of (`sender`, `id`), if held. */
  get(sender: string, id: string): V | undefined {
    const v = this.#young.get(sender, id);
    if (v !== undefined || this.#old.size === 0) return v;
    return this.#old.get(sender, id);
  }

  /** Whether (`sender`, `id`) is held. */
  has(sender: string, id: string): boolean {
    return this.#young.has(sender, id) || (this.#old.size > 0 && this.#old.has(sender, id));
  }

  /**
   * Sets the value of (`sender`, `id`); an entry already held keeps its
   * generation. A new one may first turn the young generation old and
   * forget the old one.
   */
  set(sender: string, id: string, value: V): void {
    if (this.#old.size > 0 && this.#old.has(sender, id)) {
      this.#old.set(sender, id, value);
      return;
    }
    if (this.#young.size >= this.#half && !this.#young.has(sender, id)) {
      this.#old = this.#young;
      this.#young = new MessageKeyTable<V>();
    }
    this.#young.set(sender, id, value);
  }

  /** Removes (`sender`, `id`); returns whether it was held. */
  delete(sender: string, id: string): boolean {
    return this.#young.delete(sender, id) || (this.#old.size > 0 && this.#old.delete(sender, id));
  }
}
