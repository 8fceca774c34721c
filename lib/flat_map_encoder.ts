/**
 * An encoder for the common shape of protocol frames, the counterpart of
 * `FlatMapDecoder`: a plain object whose keys come from a fixed list and
 * whose values are integers, floats, booleans, null, ASCII strings, byte
 * arrays and arrays of those (nested up to two deep). It writes the bytes
 * msgpackr writes for the same object, with FastChat's options; anything
 * else (a key not listed, a nested object, a non-ASCII string, `undefined`,
 * a frame over `maxBytes`, 8 KiB by default) gives `null`, and the caller
 * packs the frame with msgpackr as before.
 *
 * Why: msgpackr is general (records, extensions, references, growing
 * buffers) and hands out `Buffer` views, which this runtime builds through
 * Node's slower `FastBuffer` path. Encoding a `msg` frame took 2–2.5 µs of
 * a saturated server's CPU per frame in profiles (`pack`, `writeBuffer`,
 * `FastBuffer`), ~14 % of its busy time; here, with the keys' bytes written
 * once at construction, it is about half of that.
 *
 * The result is a view into the encoder's slab (see byte_slab.ts): it
 * stays valid and is never written again, and it keeps its 16 KiB slab
 * alive, as msgpackr's results keep its buffer alive.
 *
 * @example
 * ```ts
 * import { FlatMapEncoder } from "@fastchat/lib/flat_map_encoder";
 * import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
 * const enc = new FlatMapEncoder(["t", "rid"], { compactMaps: true });
 * const bytes = enc.encode({ t: "ping", rid: 7 })!;
 * msgpackCodec({ compactMaps: true }).unpack(bytes); // { t: "ping", rid: 7 }
 * enc.encode({ t: "ping", rid: 7, user: "x" }); // null: "user" is not listed
 * ```
 * @module
 */
import { ByteSlab } from "./byte_slab.ts";

/** Default {@link FlatMapEncoderOptions.maxBytes}. */
export const MAX_FLAT_FRAME_BYTES = 8192;
/** Arrays nest at most this deep inside the map (a list of tuples is 2). */
const MAX_ARRAY_DEPTH = 2;
/** Room after the limit for the key, header or number that crosses it. */
const SLACK = 64;

/** Options of {@link FlatMapEncoder}, as `msgpackCodec`'s. */
export interface FlatMapEncoderOptions {
  /**
   * Smallest map header (a fixmap: up to 15 keys) as `msgpackCodec({
   * compactMaps: true })` writes; otherwise the 16-bit header msgpackr
   * writes by default. Default false.
   */
  compactMaps?: boolean;
  /**
   * Larger frames are left to msgpackr; the encoder keeps a scratch array
   * of this size. Default {@link MAX_FLAT_FRAME_BYTES}, at most 16 MiB.
   */
  maxBytes?: number;
}

/**
 * Encodes flat frames whose keys are among `keys`; see the module doc.
 *
 * @example
 * ```ts
 * import { FlatMapEncoder } from "@fastchat/lib/flat_map_encoder";
 * const enc = new FlatMapEncoder(["t", "ids"], { compactMaps: true });
 * enc.encode({ t: "sent", ids: ["a"] });
 * // Uint8Array [0x82, 0xa1, 0x74, 0xa4, 0x73, 0x65, 0x6e, 0x74, 0xa3, 0x69, 0x64, 0x73, 0x91, 0xa1, 0x61]
 * ```
 */
export class FlatMapEncoder {
  /** Each listed key's bytes as a MessagePack fixstr. */
  readonly #keys = new Map<string, Uint8Array>();
  readonly #compact: boolean;
  readonly #slab: ByteSlab;
  readonly #max: number;
  readonly #buf: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;
  #at = 0;

  constructor(keys: readonly string[], opts: FlatMapEncoderOptions = {}) {
    for (const k of keys) {
      if (!/^[\x20-\x7e]{1,31}$/.test(k)) {
        throw new RangeError(`key ${JSON.stringify(k)} cannot be listed`);
      }
      this.#keys.set(
        k,
        Uint8Array.from([0xa0 | k.length, ...Array.from(k, (c) => c.charCodeAt(0))]),
      );
    }
    this.#compact = opts.compactMaps ?? false;
    const max = opts.maxBytes ?? MAX_FLAT_FRAME_BYTES;
    if (!(Number.isInteger(max) && max >= 16 && max <= 1 << 24)) {
      throw new RangeError(`bad maxBytes ${max}`);
    }
    this.#max = max;
    this.#buf = new Uint8Array(max + SLACK);
    this.#view = new DataView(this.#buf.buffer);
    this.#slab = new ByteSlab();
  }

  /** The MessagePack bytes of `frame`, or null when it is not of the shape encoded here. */
  encode(frame: object): Uint8Array<ArrayBuffer> | null {
    const bytes = this.encodeTransient(frame);
    return bytes && this.#slab.copy(bytes);
  }

  /**
   * As {@link FlatMapEncoder.encode}, without the copy: a view of the
   * encoder's scratch array, overwritten by its next call. For a caller
   * that copies the bytes on at once (into a larger buffer).
   *
   * @example
   * ```ts
   * import { FlatMapEncoder } from "@fastchat/lib/flat_map_encoder";
   * const enc = new FlatMapEncoder(["t"]);
   * const out = new Uint8Array(64);
   * const bytes = enc.encodeTransient({ t: "ping" })!;
   * out.set(bytes); // before the next call reuses them
   * ```
   */
  encodeTransient(frame: object): Uint8Array<ArrayBuffer> | null {
    if (frame === null || Object.getPrototypeOf(frame) !== Object.prototype) return null;
    const b = this.#buf;
    let at = this.#compact ? 1 : 3;
    let n = 0;
    for (const key in frame) {
      const kb = this.#keys.get(key);
      if (kb === undefined) return null;
      // Keys are a few bytes: a loop beats `set`'s call.
      for (let j = 0; j < kb.length; j++) b[at + j] = kb[j];
      this.#at = at + kb.length;
      if (!this.#value((frame as Record<string, unknown>)[key], 0)) return null;
      at = this.#at;
      if (at > this.#max) return null;
      n++;
    }
    if (this.#compact) {
      if (n > 15) return null;
      b[0] = 0x80 | n;
    } else {
      b[0] = 0xde;
      b[1] = n >> 8;
      b[2] = n & 0xff;
    }
    return b.subarray(0, at);
  }

  /** Writes `v` at `#at`; false if it is not of the shape encoded here or too large. */
  #value(v: unknown, depth: number): boolean {
    const b = this.#buf;
    let at = this.#at;
    switch (typeof v) {
      case "string":
        return this.#string(v);
      case "number":
        if (v >>> 0 === v) {
          if (v < 0x80) b[at++] = v;
          else if (v < 0x100) {
            b[at++] = 0xcc;
            b[at++] = v;
          } else if (v < 0x10000) {
            b[at++] = 0xcd;
            b[at++] = v >> 8;
            b[at++] = v & 0xff;
          } else {
            b[at++] = 0xce;
            this.#view.setUint32(at, v);
            at += 4;
          }
        } else if (v >> 0 === v) {
          if (v >= -0x20) b[at++] = 0x100 + v;
          else if (v >= -0x80) {
            b[at++] = 0xd0;
            b[at++] = v + 0x100;
          } else if (v >= -0x8000) {
            b[at++] = 0xd1;
            this.#view.setInt16(at, v);
            at += 2;
          } else {
            b[at++] = 0xd2;
            this.#view.setInt32(at, v);
            at += 4;
          }
        } else {
          b[at++] = 0xcb;
          this.#view.setFloat64(at, v);
          at += 8;
        }
        this.#at = at;
        return true;
      case "boolean":
        b[at] = v ? 0xc3 : 0xc2;
        this.#at = at + 1;
        return true;
      case "object":
        if (v === null) {
          b[at] = 0xc0;
          this.#at = at + 1;
          return true;
        }
        if (v instanceof Uint8Array) return this.#bytes(v);
        if (Array.isArray(v)) return this.#array(v, depth);
        return false;
      default:
        return false;
    }
  }

  /**
   * Writes at `at` the header of a length `n` in its smallest form: `c8`
   * with one byte (none if 0), `c16` with two, `c32` with four; returns the
   * end.
   */
  #header(at: number, n: number, c8: number, c16: number, c32: number): number {
    const b = this.#buf;
    if (n < 0x100 && c8 !== 0) {
      b[at] = c8;
      b[at + 1] = n;
      return at + 2;
    }
    if (n < 0x10000) {
      b[at] = c16;
      b[at + 1] = n >> 8;
      b[at + 2] = n & 0xff;
      return at + 3;
    }
    b[at] = c32;
    this.#view.setUint32(at + 1, n);
    return at + 5;
  }

  /** An ASCII string (anything else is left to msgpackr, whose UTF-8 paths differ by length). */
  #string(s: string): boolean {
    const n = s.length;
    let at = this.#at;
    if (at + n > this.#max) return false;
    const b = this.#buf;
    if (n < 0x20) b[at++] = 0xa0 | n;
    else at = this.#header(at, n, 0xd9, 0xda, 0xdb);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      b[at++] = c;
    }
    this.#at = at;
    return true;
  }

  #bytes(v: Uint8Array): boolean {
    const n = v.length;
    let at = this.#at;
    if (at + n > this.#max) return false;
    at = this.#header(at, n, 0xc4, 0xc5, 0xc6);
    this.#buf.set(v, at);
    this.#at = at + n;
    return true;
  }

  #array(v: unknown[], depth: number): boolean {
    if (depth >= MAX_ARRAY_DEPTH || Object.getPrototypeOf(v) !== Array.prototype) return false;
    const n = v.length;
    if (this.#at + n > this.#max) return false; // every item takes a byte at least
    if (n < 0x10) this.#buf[this.#at++] = 0x90 | n;
    else this.#at = this.#header(this.#at, n, 0, 0xdc, 0xdd);
    for (let i = 0; i < n; i++) {
      if (!this.#value(v[i], depth + 1) || this.#at > this.#max) return false;
    }
    return true;
  }
}
