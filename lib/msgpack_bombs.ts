/**
 * Structured MessagePack bombs: small inputs whose headers declare far more
 * than they hold (huge arrays, maps, strings, extensions; deep nesting).
 * Tests and the fuzz harness (`deno task fuzz`) feed them to every decoder.
 *
 * @example
 * ```ts
 * import { msgpackBombs } from "@fastchat/lib/msgpack_bombs";
 * for (const [name, bytes] of msgpackBombs()) console.log(name, bytes.length);
 * ```
 * @module
 */

const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
/** fixmap {"t": <value>} around `value`. */
const inT = (value: number[]): number[] => [0x81, 0xa1, 0x74, ...value];

/**
 * Named bombs, each well under 200 bytes (the deep-nesting one excepted,
 * which is 100,000 bytes of one-byte headers).
 *
 * @example
 * ```ts
 * import { msgpackBombs } from "@fastchat/lib/msgpack_bombs";
 * console.log(msgpackBombs().size > 10); // true
 * ```
 */
export function msgpackBombs(): Map<string, Uint8Array> {
  const b = new Map<string, number[]>();
  b.set("array32 of 2^32-1", [0xdd, ...u32(0xffffffff), 0xc0]);
  b.set("map32 of 2^32-1", [0xdf, ...u32(0xffffffff), 0xa1, 0x74, 0xc0]);
  b.set("array32 in t", inT([0xdd, ...u32(0x0fffffff), 0xc0, 0xc0]));
  b.set("map32 in t", inT([0xdf, ...u32(0x0fffffff), 0xa1, 0x61, 0xc0]));
  b.set("str32 of 2^32-1", inT([0xdb, ...u32(0xffffffff), 0x61]));
  b.set("bin32 of 2^32-1", inT([0xc6, ...u32(0xffffffff), 0x00]));
  b.set("ext32 of 2^32-1", inT([0xc9, ...u32(0xffffffff), 0x01, 0x00]));
  b.set("fixext record", inT([0xd4, 0x72, 0x00]));
  b.set("timestamp ext", inT([0xd6, 0xff, 0, 0, 0, 1]));
  b.set(
    "nested array32s",
    inT(Array.from({ length: 20 }, () => [0xdd, ...u32(0xffffffff)]).flat()),
  );
  // V8 preallocates `new Array(n)` for n below 2^25: each level of this
  // 103-byte frame made msgpackr allocate 256 MiB and fill it with holes
  // before reading the next byte (8 levels: 8 s of CPU and 2 GiB; 20: OOM).
  b.set(
    "nested array32s of 2^25-1",
    inT(Array.from({ length: 20 }, () => [0xdd, ...u32(0x01ffffff)]).flat()),
  );
  b.set("nested map16s", inT(Array.from({ length: 30 }, () => [0xde, 0xff, 0xff, 0xa0]).flat()));
  b.set("array16 of empty arrays", inT([0xdc, 0xff, 0xff, ...new Array(60).fill(0x90)]));
  b.set("items array of huge tuples", [
    0x82,
    0xa1,
    0x74,
    0xa3,
    0x61,
    0x63,
    0x6b,
    0xa5,
    0x69,
    0x74,
    0x65,
    0x6d,
    0x73,
    0x91,
    0xdd,
    ...u32(0x7fffffff),
  ]);
  b.set("deep fixarrays", new Array(100_000).fill(0x91));
  // msgpackr builds non-string map keys in full, before reading their items.
  b.set("array32 as a map key", [0x81, 0xdd, ...u32(0xffffffff), 0xc0]);
  b.set("array32 key in a nested map", inT([0x81, 0x91, 0x91, 0xdd, ...u32(0xffffffff), 0xc0]));
  b.set("two array16 keys", [0x82, 0xdc, 0xff, 0xff, 0xc0, 0xdc, 0xff, 0xff, 0xc0]);
  b.set("reserved 0xc1", inT([0xc1]));
  b.set("truncated str8", inT([0xd9, 0xff, 0x61]));
  b.set("empty input", []);
  return new Map([...b].map(([k, v]) => [k, new Uint8Array(v)]));
}
