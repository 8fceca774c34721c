/**
 * Short ASCII strings read from bytes, returned as the same string instance
 * each time the same bytes come again (a direct-mapped cache, one string
 * per slot). `FlatMapDecoder` keeps one for the frame values it interns
 * (names, key ids), and client/message_body.ts one for the key ids of
 * received bodies.
 *
 * Why: a string made fresh from bytes has no hash yet, and V8 computes it
 * on the first `Map` or `Set` look-up with it, which in this runtime is slow
 * (`perf/string_hash_bench.ts`: `Map.set` + `delete` with fresh 22-character
 * ids 0.38–0.75 µs, with the same strings hashed before 0.03–0.04 µs). A
 * value that repeats, such as the key id of every message from one
 * contact, then pays that once: the cached instance keeps its hash. A hit
 * costs a hash and a comparison of the bytes (no allocation). Measured for
 * received key ids (5,000 ids over 50 clients' maps, looked up in random
 * order, so mostly cache misses either way): read and look-up 0.18–0.20 µs
 * against 0.23–0.29 µs with a fresh string.
 *
 * @example
 * ```ts
 * import { AsciiInterner } from "@fastchat/lib/ascii_interner";
 * const interner = new AsciiInterner(1024);
 * const bytes = new TextEncoder().encode("kid-0123456789");
 * const a = interner.read(bytes, 0, bytes.length);
 * const b = interner.read(bytes.slice(), 0, bytes.length);
 * console.log(a, a === b); // "kid-0123456789" true (one instance)
 * ```
 * @module
 */

/** Longest string cached; longer ones are made fresh each time. */
export const MAX_INTERNED_LENGTH = 64;

/**
 * A cache of strings by their bytes; see the module doc. Only ASCII is
 * read: each byte becomes one character, and any other byte gives null.
 *
 * @example
 * ```ts
 * import { AsciiInterner } from "@fastchat/lib/ascii_interner";
 * const interner = new AsciiInterner(4096);
 * interner.read(new Uint8Array([0x61, 0x62]), 0, 2); // "ab"
 * interner.read(new Uint8Array([0xc3, 0xa9]), 0, 2); // null: not ASCII
 * ```
 */
export class AsciiInterner {
  readonly #slots: (string | undefined)[];
  readonly #mask: number;
  /** Reads answered from the cache (for tests, and a caller's hit rate). */
  hits = 0;

  /** `slots`: how many strings the cache holds, a power of two. */
  constructor(slots: number) {
    if (!(Number.isInteger(slots) && slots > 0 && (slots & (slots - 1)) === 0)) {
      throw new RangeError(`slots must be a power of two, not ${slots}`);
    }
    this.#slots = new Array(slots);
    this.#mask = slots - 1;
  }

  /**
   * The string of the `n` bytes of `b` at `at` (the caller has checked they
   * are there): the cached instance if it is there; null if a byte is not ASCII.
   */
  read(b: Uint8Array, at: number, n: number): string | null {
    if (n > MAX_INTERNED_LENGTH) return fresh(b, at, n);
    let h = 0x811c9dc5 ^ n; // FNV-1a
    for (let i = at; i < at + n; i++) h = Math.imul(h ^ b[i], 0x01000193);
    const slot = (h >>> 0) & this.#mask;
    const cached = this.#slots[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === b[at + i]) i++;
      if (i === n) {
        this.hits++;
        return cached; // equal to an ASCII string: ASCII
      }
    }
    const s = fresh(b, at, n);
    if (s !== null) this.#slots[slot] = s;
    return s;
  }
}

/**
 * One flat string of the bytes (a string built char by char is a rope that
 * a look-up flattens); null if one is not ASCII.
 */
function fresh(b: Uint8Array, at: number, n: number): string | null {
  for (let i = at; i < at + n; i++) if (b[i] >= 0x80) return null;
  return String.fromCharCode.apply(null, b.subarray(at, at + n) as unknown as number[]);
}
