/**
 * The messages a client has shown, by sender and id, so that a redelivery
 * (the server re-sends what it has no acknowledgement for) is shown once
 * only. Ids are kept in one set per sender: no `from + id` string is built
 * per message, and each entry holds only the id string the decoder made.
 * Bounded: when {@link SeenIds.max} entries are held, it starts over.
 *
 * @example
 * ```ts
 * import { SeenIds } from "@fastchat/client/seen_ids";
 * const seen = new SeenIds();
 * seen.add("alice", "m-00000001");
 * seen.has("alice", "m-00000001"); // true
 * seen.has("bob", "m-00000001"); // false: another sender's id
 * ```
 * @module
 */

/**
 * Shown messages by sender.
 *
 * @example
 * ```ts
 * import { SeenIds } from "@fastchat/client/seen_ids";
 * const seen = new SeenIds(2);
 * seen.add("a", "1");
 * seen.add("a", "2");
 * seen.add("b", "3"); // full: it starts over with this one
 * seen.size; // 1
 * ```
 */
export class SeenIds {
  readonly #bySender = new Map<string, Set<string>>();
  #size = 0;

  constructor(readonly max: number = 200_000) {}

  /** Entries held. */
  get size(): number {
    return this.#size;
  }

  /** Whether message `id` of `from` was shown. */
  has(from: string, id: string): boolean {
    return this.#bySender.get(from)?.has(id) ?? false;
  }

  /** Records message `id` of `from` as shown (forgetting everything first when full). */
  add(from: string, id: string): void {
    if (this.#size >= this.max) this.clear();
    let ids = this.#bySender.get(from);
    if (ids === undefined) {
      ids = new Set();
      this.#bySender.set(from, ids);
    }
    const before = ids.size;
    ids.add(id);
    this.#size += ids.size - before;
  }

  /** Forgets everything. */
  clear(): void {
    this.#bySender.clear();
    this.#size = 0;
  }
}
