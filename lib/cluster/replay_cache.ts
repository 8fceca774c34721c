/**
 * A bounded set of one-time values (ticket nonces), each remembered until
 * its own deadline. Expired entries are evicted in deadline order with a
 * min-heap, so every operation is O(log n) and memory never exceeds
 * `maxEntries`.
 *
 * When the cache is full of live entries it refuses new ones (`"full"`)
 * instead of evicting: forgetting a live nonce would let that ticket be
 * replayed, so the safe failure is to turn new tickets away until the
 * earliest entry expires. Capacity needed ≈ ticket rate × (TTL + skew):
 * the default 100 000 entries cover a sustained ~3 000 tickets/s at 30 s.
 *
 * @example
 * ```ts
 * import { ReplayCache } from "@fastchat/lib/cluster/replay_cache";
 * const seen = new ReplayCache({ maxEntries: 1000 });
 * seen.add("nonce-1", Date.now() + 30_000); // "added"
 * seen.add("nonce-1", Date.now() + 30_000); // "replayed"
 * ```
 * @module
 */

import { FastChatError } from "../errors.ts";

/** Default capacity of a {@link ReplayCache}. */
export const DEFAULT_REPLAY_CACHE_ENTRIES = 100_000;

/**
 * Outcome of {@link ReplayCache.add}.
 *
 * @example
 * ```ts
 * const cache = new ReplayCache();
 * const r: ReplayCacheResult = cache.add("nonce-1", Date.now() + 30_000); // "added"
 * ```
 */
export type ReplayCacheResult = "added" | "replayed" | "full";

/**
 * Options for {@link ReplayCache}.
 *
 * @example
 * ```ts
 * const opts: ReplayCacheOptions = { maxEntries: 10_000 };
 * ```
 */
export interface ReplayCacheOptions {
  /** Most entries kept at once (default {@link DEFAULT_REPLAY_CACHE_ENTRIES}). */
  maxEntries?: number;
}

interface Entry {
  deadline: number;
  key: string;
}

/**
 * Remembers keys until their deadlines; see the module docs for the
 * full-cache policy.
 *
 * @example
 * ```ts
 * declare const nonce: string, expiresAt: number; // from a ticket's claims
 * const cache = new ReplayCache();
 * if (cache.add(nonce, expiresAt) !== "added") throw new Error("replay or busy");
 * ```
 */
export class ReplayCache {
  /** Capacity. */
  readonly maxEntries: number;
  #deadlines: Map<string, number> = new Map();
  #heap: Entry[] = [];

  /** Creates an empty cache; throws `INVALID_CONFIG` for a bad `maxEntries`. */
  constructor(options: ReplayCacheOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_REPLAY_CACHE_ENTRIES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new FastChatError("INVALID_CONFIG", `maxEntries must be a positive integer: ${max}`);
    }
    this.maxEntries = max;
  }

  /** Number of live (not yet evicted) entries. */
  get size(): number {
    return this.#deadlines.size;
  }

  /**
   * Records `key` until `deadline` (exclusive, same clock as `now`). Evicts
   * expired entries first. Returns `"replayed"` if the key is still
   * remembered, `"full"` (and records nothing) if the cache is at capacity.
   */
  add(key: string, deadline: number, now: number = Date.now()): ReplayCacheResult {
    this.sweep(now);
    if (this.#deadlines.has(key)) return "replayed";
    if (deadline <= now) return "added"; // already dead: nothing to remember
    if (this.#deadlines.size >= this.maxEntries) return "full";
    this.#deadlines.set(key, deadline);
    this.#push({ deadline, key });
    return "added";
  }

  /** Whether `key` is remembered at time `now`. */
  has(key: string, now: number = Date.now()): boolean {
    const d = this.#deadlines.get(key);
    return d !== undefined && d > now;
  }

  /** Evicts every entry whose deadline is `<= now`; returns how many. */
  sweep(now: number = Date.now()): number {
    let n = 0;
    while (this.#heap.length > 0 && this.#heap[0].deadline <= now) {
      this.#deadlines.delete(this.#pop().key);
      n++;
    }
    return n;
  }

  /** The earliest deadline among remembered entries, if any. */
  nextDeadline(): number | undefined {
    return this.#heap[0]?.deadline;
  }

  /** Forgets everything. */
  clear(): void {
    this.#deadlines.clear();
    this.#heap = [];
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].deadline <= e.deadline) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = e;
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1].deadline < h[l].deadline ? l + 1 : l;
        if (h[c].deadline >= last.deadline) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
