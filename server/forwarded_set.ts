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

/** Unacknowledged forwarded messages remembered by default. */
export const MAX_FORWARDED = 200_000;

/** Lengths first: no two (server, from, id) triples share a key, whatever characters they hold. */
const keyOf = (server: string, from: string, id: string) =>
  `${server.length}:${from.length}:${server}${from}${id}`;

/**
 * A bounded set of forwarded messages, oldest forgotten first.
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
  readonly #keys = new Set<string>();
  readonly #max: number;

  /** Remembers at most `max` messages (at least 1). */
  constructor(max: number = MAX_FORWARDED) {
    this.#max = Math.max(1, Math.floor(max));
  }

  /** Messages remembered. */
  get size(): number {
    return this.#keys.size;
  }

  /** Remembers that message `id` of `from` was forwarded to `server` (again: no change). */
  add(server: string, from: string, id: string): void {
    const key = keyOf(server, from, id);
    if (this.#keys.has(key)) return;
    if (this.#keys.size >= this.#max) this.#keys.delete(this.#keys.values().next().value!);
    this.#keys.add(key);
  }

  /** True (and forgets it) if message `id` of `from` was forwarded to `server` and not yet taken. */
  take(server: string, from: string, id: string): boolean {
    return this.#keys.delete(keyOf(server, from, id));
  }
}
