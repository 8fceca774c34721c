/**
 * Seeded random streams: everything random in a load run comes from them.
 * Each client has independent streams derived from `(seed, client index,
 * purpose)`, so changing e.g. the send model does not change whom a client
 * writes to, and the same seed gives the same run.
 *
 * @example
 * ```ts
 * import { streamRng } from "./seeded_rng.ts";
 * const rng = streamRng("s1", 3, "recipients");
 * rng(); // in [0, 1), the same on every run
 * ```
 * @module
 */

/**
 * A generator of uniform numbers in [0, 1).
 *
 * @example
 * ```ts
 * import { type Rng, streamRng } from "./seeded_rng.ts";
 * const rng: Rng = streamRng("seed", 0, "timing");
 * rng(); // in [0, 1)
 * ```
 */
export type Rng = () => number;

/**
 * 32-bit FNV-1a hash of a string, finished with a murmur3 mix.
 *
 * @example
 * ```ts
 * import { hash32 } from "./seeded_rng.ts";
 * hash32("abc") === hash32("abc"); // true
 * ```
 */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Mulberry32: a small, fast, seeded PRNG (period 2^32), plenty for load shapes.
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./seeded_rng.ts";
 * const r = mulberry32(42);
 * r(); // in [0, 1)
 * ```
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * What a random stream is used for; each has its own sequence.
 *
 * @example
 * ```ts
 * import { type Stream, streamRng } from "./seeded_rng.ts";
 * const s: Stream = "payload";
 * streamRng("seed", 3, s);
 * ```
 */
export type Stream = "recipients" | "payload" | "timing";

/**
 * The seeded stream `purpose` of client `index`: seed + client index (+ purpose).
 *
 * @example
 * ```ts
 * import { streamRng } from "./seeded_rng.ts";
 * streamRng("x", 0, "timing")() === streamRng("x", 0, "timing")(); // true
 * ```
 */
export function streamRng(seed: string, index: number, purpose: Stream): Rng {
  return mulberry32(hash32(`${seed}/${index}/${purpose}`));
}
