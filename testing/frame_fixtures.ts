/**
 * Fixtures for the MessagePack codec tests: a seeded random source (so a
 * fuzz failure reproduces), a `msg` frame of the usual shape and a hex
 * view of bytes for readable comparisons.
 *
 * @module
 */

/**
 * A deterministic random source in [0, 1): the same `seed`, the same sequence.
 *
 * @example
 * ```ts
 * import { seededRandom } from "@fastchat/testing/frame_fixtures";
 * const r = seededRandom(42);
 * r() === seededRandom(42)(); // true
 * ```
 */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

/**
 * A `msg` frame as a server sends it: a 22-character id, two names, a
 * millisecond timestamp past 2³² and a 160-byte body.
 *
 * @example
 * ```ts
 * import { msgFrameFixture } from "@fastchat/testing/frame_fixtures";
 * msgFrameFixture().body.length; // 160
 * ```
 */
export function msgFrameFixture(): {
  t: string;
  id: string;
  from: string;
  to: string;
  kind: string;
  ts: number;
  body: Uint8Array;
} {
  return {
    t: "msg",
    id: "AAAAAAAAAAAAAAAAAAAAAA",
    from: "alice",
    to: "bob",
    kind: "dm",
    ts: 1765000000123,
    body: new Uint8Array(160).fill(7),
  };
}

/**
 * `bytes` as lowercase hex (null stays null), so that a mismatch prints readably.
 *
 * @example
 * ```ts
 * import { hexOf } from "@fastchat/testing/frame_fixtures";
 * hexOf(new Uint8Array([1, 171])); // "01ab"
 * ```
 */
export function hexOf(bytes: Uint8Array | null): string | null {
  return bytes && Array.from(bytes, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Numbers at every edge of MessagePack's integer widths (fixint, 8, 16 and
 * 32 bits both signed and not, and past them as float64), and floats.
 *
 * @example
 * ```ts
 * import { MSGPACK_NUMBERS } from "@fastchat/testing/frame_fixtures";
 * MSGPACK_NUMBERS.includes(65536); // true
 * ```
 */
export const MSGPACK_NUMBERS: readonly number[] = [
  0,
  -0,
  31,
  32,
  127,
  128,
  255,
  256,
  65535,
  65536,
  4294967295,
  4294967296,
  2 ** 53 - 1,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -2147483648,
  -2147483649,
  0.5,
  -1e300,
  NaN,
  Infinity,
];
