/**
 * A decoder for the common shape of protocol frames: a MessagePack map
 * whose keys come from a fixed list and whose values are scalars, ASCII
 * strings, binaries and arrays of those. Anything else (a key not listed,
 * a nested map, a non-ASCII or long string, a 64-bit integer, a float32,
 * an extension) gives `null`, and the caller decodes the frame with
 * msgpackr as before; the result is the object msgpackr would give.
 *
 * Why: msgpackr reads the keys of any input of 180 bytes or more as fresh
 * strings (its key cache serves only shorter inputs), and every fresh
 * string used as a property name must be looked up in V8's string table.
 * A chat message frame is ~250 bytes with seven keys; those look-ups were
 * 5–8 % of a server's CPU (Linux `perf` of a saturated run). Here a key is
 * matched by its bytes and the listed string (already internalized) is
 * used.
 *
 * @example
 * ```ts
 * import { FlatMapDecoder } from "@fastchat/lib/flat_map_decoder";
 * import { encodePayload } from "@fastchat/lib/protocol";
 * const dec = new FlatMapDecoder(["t", "rid"]);
 * dec.decode(encodePayload({ t: "ping", rid: 7 })); // { t: "ping", rid: 7 }
 * dec.decode(encodePayload({ t: "ping", rid: 7, user: "x" } as never)); // null: "user" is not listed
 * ```
 * @module
 */
import { AsciiInterner } from "./ascii_interner.ts";

/** Keys are matched by value: up to this many bytes, as one exact integer. */
const MAX_KEY_BYTES = 6;
/** Longer strings are left to msgpackr. */
const MAX_STRING_BYTES = 256;
/** Arrays nest at most this deep inside the map (a list of tuples is 2). */
const MAX_ARRAY_DEPTH = 2;

/** `null`: not decodable here. `FAIL` is internal to the value reader. */
const FAIL: unique symbol = Symbol("fail");
const EMPTY = new Uint8Array(0);
/** A float64 is read by copying its bytes here (no DataView per frame). */
const f64Bytes = new Uint8Array(8);
const f64 = new Float64Array(f64Bytes.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A listed key: its string and bytes, and the hit rate of its interned values. */
interface ListedKey {
  key: string;
  bytes: Uint8Array;
  intern: boolean;
  /** Bit i: the item at position i of each tuple in this key's list is interned. */
  tupleMask: number;
  probes: number;
  hits: number;
  /** Values still to decode without the cache (it missed too often). */
  paused: number;
}

/** Reused arrays of char codes, by string length. */
const charCodes: number[][] = [];
/** Slots of the cache of interned values (a power of two). */
const INTERN_SLOTS = 4096;
/** Look-ups per check of the cache's hit rate, and those skipped when it is under half. */
const INTERN_PROBES = 4096;
const INTERN_PAUSE = 65_536;

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

/**
 * Decodes flat frame maps whose keys are among `keys` (each of 1 to 6 ASCII
 * characters); see the module doc.
 *
 * @example
 * ```ts
 * import { FlatMapDecoder } from "@fastchat/lib/flat_map_decoder";
 * const dec = new FlatMapDecoder(["t", "ids"]);
 * // {"t": "sent", "ids": ["a"]}
 * const bytes = new Uint8Array([0x82, 0xa1, 0x74, 0xa4, 0x73, 0x65, 0x6e, 0x74, 0xa3, 0x69, 0x64, 0x73, 0x91, 0xa1, 0x61]);
 * dec.decode(bytes); // { t: "sent", ids: ["a"] }
 * ```
 */
export class FlatMapDecoder {
  /** Listed keys by length and first byte. */
  readonly #keys: (ListedKey[] | undefined)[] = new Array(
    256 * (MAX_KEY_BYTES + 1),
  );
  /** Interned string values by a hash of their bytes (one per slot, the latest). */
  readonly #interned = new AsciiInterner(INTERN_SLOTS);
  #b: Uint8Array = EMPTY;
  #at = 0;
  /** The listed key whose list of tuples is being decoded, if its tuples intern some items. */
  #tuples: ListedKey | null = null;

  /**
   * `intern`: listed keys whose string values repeat (type tags, user
   * names): each such value is returned as the same string instance every
   * time, whose hash V8 has computed and kept (and which it internalizes on
   * its first use as a property name), so that property and `Map`
   * look-ups with it do not hash a fresh string again (measured here:
   * `Map.get` with a fresh 4-character string 81–87 ns, with an
   * internalized one 23–26 ns). Values of 1–31 ASCII bytes (a fixstr); the
   * cache holds 4,096 of them, one per slot. When fewer than half of a
   * key's look-ups hit (more distinct values than that, or a peer sending
   * ever new ones) the cache is left alone for that key's next 65,536
   * values.
   *
   * `internInTuples`: listed keys whose value is a list of tuples (arrays)
   * with names at some positions, such as the `[from, id]` pairs of an
   * acknowledgement: the items at those positions are interned as above
   * (the ids beside them, all different, are not).
   */
  constructor(
    keys: readonly string[],
    intern: readonly string[] = [],
    internInTuples: Readonly<Record<string, readonly number[]>> = {},
  ) {
    for (const k of keys) {
      if (!/^[\x20-\x7e]{1,6}$/.test(k)) {
        throw new RangeError(`key ${JSON.stringify(k)} cannot be listed`);
      }
      const bytes = Uint8Array.from(k, (c) => c.charCodeAt(0));
      let tupleMask = 0;
      for (const i of internInTuples[k] ?? []) {
        if (!(Number.isInteger(i) && i >= 0 && i < 16)) {
          throw new RangeError(`bad tuple position ${i}`);
        }
        tupleMask |= 1 << i;
      }
      const entry = {
        key: k,
        bytes,
        intern: intern.includes(k),
        tupleMask,
        probes: 0,
        hits: 0,
        paused: 0,
      };
      (this.#keys[k.length * 256 + bytes[0]] ??= []).push(entry);
    }
    for (const k of [...intern, ...Object.keys(internInTuples)]) {
      if (!keys.includes(k)) throw new RangeError(`key ${JSON.stringify(k)} is not listed`);
    }
  }

  /** The map in `b`, or null when `b` is not of the shape decoded here. */
  decode(b: Uint8Array): Record<string, unknown> | null {
    const end = b.length;
    if (end === 0) return null;
    let n: number, at: number;
    const h = b[0];
    if ((h & 0xf0) === 0x80) {
      n = h & 0x0f;
      at = 1;
    } else if (h === 0xde && end >= 3) {
      n = (b[1] << 8) | b[2];
      at = 3;
    } else return null;
    this.#b = b;
    const out = this.#map(n, at);
    this.#b = EMPTY; // keep no frame alive
    return out;
  }

  #map(n: number, at: number): Record<string, unknown> | null {
    const b = this.#b, end = b.length;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      if (at >= end) return null;
      const kh = b[at];
      if ((kh & 0xe0) !== 0xa0) return null; // keys are fixstr
      const len = kh & 0x1f;
      if (len === 0 || len > MAX_KEY_BYTES || at + 1 + len > end) return null;
      const entry = this.#key(at + 1, len);
      if (entry === null) return null;
      this.#at = at + 1 + len;
      let value: unknown;
      if (entry.intern) value = this.#internedValue(entry, 0);
      else if (entry.tupleMask === 0) value = this.#value(0);
      else {
        this.#tuples = entry;
        value = this.#value(0);
        this.#tuples = null;
      }
      if (value === FAIL) return null;
      out[entry.key] = value;
      at = this.#at;
    }
    return at === end ? out : null;
  }

  #key(at: number, len: number): ListedKey | null {
    const b = this.#b;
    const candidates = this.#keys[len * 256 + b[at]];
    if (candidates === undefined) return null;
    next: for (const entry of candidates) {
      const bytes = entry.bytes;
      for (let i = 1; i < len; i++) if (b[at + i] !== bytes[i]) continue next;
      return entry;
    }
    return null;
  }

  /**
   * A value of an interned key (or tuple position): a short ASCII string from
   * the cache; anything else as usual, at `depth`.
   */
  #internedValue(k: ListedKey, depth: number): unknown {
    if (k.paused > 0) {
      k.paused--;
      return this.#value(depth);
    }
    if (++k.probes === INTERN_PROBES) {
      // More distinct values of this key than the cache holds (a server with
      // many users online): a miss costs more than a hit saves, so pause.
      if (k.hits < INTERN_PROBES / 2) k.paused = INTERN_PAUSE;
      k.probes = k.hits = 0;
    }
    const b = this.#b, at = this.#at;
    const h0 = at < b.length ? b[at] : 0;
    const n = h0 & 0x1f;
    if ((h0 & 0xe0) !== 0xa0 || n === 0 || at + 1 + n > b.length) {
      return this.#value(depth);
    }
    const hits = this.#interned.hits;
    const s = this.#interned.read(b, at + 1, n);
    if (s === null) return FAIL; // not ASCII
    if (this.#interned.hits !== hits) k.hits++;
    this.#at = at + 1 + n;
    return s;
  }

  #value(depth: number): unknown {
    const b = this.#b, end = b.length;
    let at = this.#at;
    if (at >= end) return FAIL;
    const h = b[at++];
    let n: number;
    if (h < 0x80) {
      this.#at = at;
      return h;
    }
    if (h >= 0xe0) {
      this.#at = at;
      return h - 0x100;
    }
    if ((h & 0xe0) === 0xa0) return this.#string(at, h & 0x1f);
    if ((h & 0xf0) === 0x90 || h === 0xdc) {
      if (depth >= MAX_ARRAY_DEPTH) return FAIL;
      if (h === 0xdc) {
        if (at + 2 > end) return FAIL;
        n = (b[at] << 8) | b[at + 1];
        at += 2;
      } else n = h & 0x0f;
      if (n > end - at) return FAIL; // every item takes a byte at least
      const arr = new Array(n);
      this.#at = at;
      // A tuple of a list whose items at some positions are interned (names in [name, id] pairs).
      const tuples = depth === 1 ? this.#tuples : null;
      for (let i = 0; i < n; i++) {
        const v = tuples !== null && i < 16 && (tuples.tupleMask >> i) & 1
          ? this.#internedValue(tuples, depth + 1)
          : this.#value(depth + 1);
        if (v === FAIL) return FAIL;
        arr[i] = v;
      }
      return arr;
    }
    switch (h) {
      case 0xc0:
        this.#at = at;
        return null;
      case 0xc2:
        this.#at = at;
        return false;
      case 0xc3:
        this.#at = at;
        return true;
      case 0xc4:
        if (at + 1 > end) return FAIL;
        return this.#bin(at + 1, b[at]);
      case 0xc5:
        if (at + 2 > end) return FAIL;
        return this.#bin(at + 2, (b[at] << 8) | b[at + 1]);
      case 0xc6:
        if (at + 4 > end) return FAIL;
        return this.#bin(at + 4, u32(b, at));
      case 0xcb:
        if (at + 8 > end) return FAIL;
        this.#at = at + 8;
        for (let i = 0; i < 8; i++) f64Bytes[littleEndian ? 7 - i : i] = b[at + i];
        return f64[0];
      case 0xcc:
        return this.#int(at, 1, b[at]);
      case 0xcd:
        return this.#int(at, 2, (b[at] << 8) | b[at + 1]);
      case 0xce:
        return this.#int(at, 4, u32(b, at));
      case 0xd0:
        return this.#int(at, 1, (b[at] << 24) >> 24);
      case 0xd1:
        return this.#int(at, 2, (((b[at] << 8) | b[at + 1]) << 16) >> 16);
      case 0xd2:
        return this.#int(at, 4, u32(b, at) | 0);
      case 0xd9:
        if (at + 1 > end) return FAIL;
        return this.#string(at + 1, b[at]);
      case 0xda:
        if (at + 2 > end) return FAIL;
        return this.#string(at + 2, (b[at] << 8) | b[at + 1]);
      default:
        return FAIL;
    }
  }

  #int(at: number, size: number, v: number): number | typeof FAIL {
    if (at + size > this.#b.length) return FAIL;
    this.#at = at + size;
    return v;
  }

  #bin(at: number, n: number): Uint8Array | typeof FAIL {
    if (n > this.#b.length - at) return FAIL;
    this.#at = at + n;
    return this.#b.subarray(at, at + n);
  }

  #string(at: number, n: number): string | typeof FAIL {
    const b = this.#b;
    if (n > MAX_STRING_BYTES || n > b.length - at) return FAIL;
    for (let i = at; i < at + n; i++) if (b[i] >= 0x80) return FAIL;
    this.#at = at + n;
    if (n === 0) return "";
    // One flat string from a reused array of char codes of this length.
    const codes = charCodes[n] ??= new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) codes[i] = b[at + i];
    return String.fromCharCode.apply(null, codes);
  }
}
