/**
 * The hash of a message id that FastChat's own hash tables use instead of
 * V8's (whose first hash of a fresh string costs ~0.4 µs here, see
 * perf/string_hash_bench.ts): murmur-style mixing after every character, seeded
 * per table with random bits, since ids come from the network.
 *
 * @example
 * ```ts
 * import { idHash } from "@fastchat/lib/id_hash";
 * const slot = idHash("m-00000001", 12345) & 1023;
 * ```
 * @module
 */

/**
 * A hash table's hash of message id `id` under `seed`: never 0; its low bits
 * (all of them) pick the first slot probed.
 *
 * @example
 * ```ts
 * import { idHash } from "@fastchat/lib/id_hash";
 * idHash("m-00000001", 7) === idHash("m-00000001", 7); // true
 * idHash("m-00000001", 7) !== idHash("m-00000001", 8); // true (almost always)
 * ```
 */
export function idHash(id: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < id.length; i++) {
    h = Math.imul(h ^ id.charCodeAt(i), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= h >>> 13;
  // Never 0 (0 marks a free slot), and every bit kept: an `h | 1` here made
  // every first probe an odd slot, half the table, so probes ran longer.
  return h || 1;
}
