/**
 * The messages a server forwarded to other servers and has not yet seen
 * acknowledged, as (server, sender, id). An acknowledgement acts on the store
 * only if it answers a message forwarded to that very server, so a server
 * cannot complete messages it never received. Bounded: past the limit the
 * older half of the entries is forgotten (their late acknowledgements are
 * refused and the messages stay stored, to be delivered again: nothing is
 * lost).
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
import { RecentMessageKeys } from "./recent_message_keys.ts";

/** Unacknowledged forwarded messages remembered by default. */
export const MAX_FORWARDED = 200_000;

/**
 * A bounded set of forwarded messages, the oldest forgotten first. Keyed by
 * (sender, id) in a {@link RecentMessageKeys} table, whose value is the
 * server the message went to, or the servers when it went to several (a
 * recipient with sessions on more than one): no key string is built per
 * look-up.
 *
 * @example
 * ```ts
 * import { ForwardedSet } from "@fastchat/server/forwarded_set";
 * const sent = new ForwardedSet(2);
 * sent.add("fc-2", "alice", "m-1");
 * sent.add("fc-2", "alice", "m-2");
 * sent.add("fc-2", "alice", "m-3"); // m-1 is forgotten
 * sent.take("fc-2", "alice", "m-1"); // false
 * sent.size; // 2
 * ```
 */
export class ForwardedSet {
  readonly #sent: RecentMessageKeys<string | string[]>;

  /** Remembers at most `max` messages (rounded up to an even number, at least 2). */
  constructor(max: number = MAX_FORWARDED) {
    this.#sent = new RecentMessageKeys(max);
  }

  /** Messages remembered: (sender, id) pairs, however many servers each went to. */
  get size(): number {
    return this.#sent.size;
  }

  /** Remembers that message `id` of `from` was forwarded to `server` (again: no change). */
  add(server: string, from: string, id: string): void {
    const to = this.#sent.get(from, id);
    if (to === undefined) this.#sent.set(from, id, server);
    else if (to !== server && (typeof to === "string" || !to.includes(server))) {
      this.#sent.set(from, id, typeof to === "string" ? [to, server] : [...to, server]);
    }
  }

  /** True (and forgets it) if message `id` of `from` was forwarded to `server` and not yet taken. */
  take(server: string, from: string, id: string): boolean {
    const to = this.#sent.get(from, id);
    if (to === undefined) return false;
    if (to === server) this.#sent.delete(from, id);
    else {
      if (typeof to === "string" || !to.includes(server)) return false;
      const rest = to.filter((s) => s !== server);
      this.#sent.set(from, id, rest.length === 1 ? rest[0] : rest);
    }
    return true;
  }
}
