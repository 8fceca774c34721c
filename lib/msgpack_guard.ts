/**
 * A structural check of MessagePack bytes from the network, run before any
 * decoder allocates what their headers declare.
 *
 * msgpackr trusts declared sizes: it creates `new Array(count)` before
 * reading the first element, and V8 allocates such an array in full for a
 * count below 2^25 (256 MiB of holes). A 103-byte frame nesting twenty
 * array32 headers of 2^25-1 made a decoder allocate 4 GiB in 20 s and die
 * (measured on msgpackr 1.12.1). {@link checkMsgpack} walks the bytes once,
 * in O(n) time and O(depth) memory: every declared string, binary or count
 * must fit in the bytes that remain (each array element takes at least one
 * byte, each map entry two), map keys must be strings (as ours all are),
 * containers may nest no deeper than the caller needs, extension types
 * (which our encoders never write) are refused, and exactly one value must
 * fill the input (msgpackr's three-byte `undefined`, fixext1 0/0, is the one
 * extension accepted). Only then is msgpackr asked to decode.
 *
 * @example
 * ```ts
 * import { checkMsgpack } from "@fastchat/lib/msgpack_guard";
 * checkMsgpack(new Uint8Array([0x91, 0x01]), { maxDepth: 2 }); // [1]: fine
 * try {
 *   checkMsgpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]), { maxDepth: 2 });
 * } catch (e) {
 *   console.log((e as { code: string }).code); // "BAD_FRAME"
 * }
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";

/** What a decoder accepts. */
export interface MsgpackLimits {
  /** Containers nested inside each other, at most (the top-level map counts as 1). */
  maxDepth: number;
}

function refuse(what: string, at: number): never {
  throw new FastChatError("BAD_FRAME", `invalid MessagePack: ${what} at byte ${at}`, {
    offset: at,
  });
}

/** Bytes of a fixed-size value after its type byte, by type byte (0: not fixed-size). */
const FIXED = new Uint8Array(256);
FIXED[0xca] = 4; // float32
FIXED[0xcb] = 8; // float64
FIXED[0xcc] = 1; // uint8
FIXED[0xcd] = 2;
FIXED[0xce] = 4;
FIXED[0xcf] = 8;
FIXED[0xd0] = 1; // int8
FIXED[0xd1] = 2;
FIXED[0xd2] = 4;
FIXED[0xd3] = 8;

/**
 * Throws `FastChatError("BAD_FRAME")` unless `bytes` hold exactly one
 * MessagePack value whose every declared length and count fits in the bytes
 * present, whose map keys are strings and whose containers nest at most
 * `maxDepth` deep. Extension types and the reserved byte 0xc1 are refused.
 *
 * @example
 * ```ts
 * import { checkMsgpack } from "@fastchat/lib/msgpack_guard";
 * // {"t": "ping"}
 * checkMsgpack(new Uint8Array([0x81, 0xa1, 0x74, 0xa4, 0x70, 0x69, 0x6e, 0x67]), { maxDepth: 1 });
 * ```
 */
export function checkMsgpack(bytes: Uint8Array, limits: MsgpackLimits): void {
  const end = bytes.length;
  const maxDepth = limits.maxDepth;
  // Items still to read in each open container (outermost first), and
  // whether it is a map (its items alternate key, value).
  const open: number[] = [];
  const openMaps: boolean[] = [];
  let remaining = 1; // the top-level value
  let inMap = false;
  let pos = 0;
  for (;;) {
    if (remaining === 0) {
      if (open.length === 0) break;
      remaining = open.pop()!;
      inMap = openMaps.pop()!;
      continue;
    }
    const isKey = inMap && remaining % 2 === 0;
    remaining--;
    if (pos >= end) refuse("truncated value", pos);
    const at = pos;
    const t = bytes[pos++];
    if (isKey && !((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb))) {
      refuse("map key is not a string", at);
    }
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) continue;
    if (t === 0xd4 && pos + 2 <= end && bytes[pos] === 0 && bytes[pos + 1] === 0) {
      pos += 2; // msgpackr's `undefined` (fixext1, type 0): an absent optional field
      continue;
    }
    let skip = -1; // bytes of payload to step over
    let items = -1; // items of a container
    if (t <= 0x8f) items = (t & 0x0f) * 2;
    else if (t <= 0x9f) items = t & 0x0f;
    else if (t <= 0xbf) skip = t & 0x1f;
    else if (FIXED[t] !== 0) skip = FIXED[t];
    else {
      let lenBytes = 0;
      switch (t) {
        case 0xc4: // bin8
        case 0xd9: // str8
          lenBytes = 1;
          break;
        case 0xc5:
        case 0xda:
        case 0xdc: // array16
        case 0xde: // map16
          lenBytes = 2;
          break;
        case 0xc6:
        case 0xdb:
        case 0xdd: // array32
        case 0xdf: // map32
          lenBytes = 4;
          break;
        default:
          // 0xc1 (never used), ext 0xc7–0xc9 and fixext 0xd4–0xd8
          refuse(`type 0x${t.toString(16)} not accepted`, at);
      }
      if (end - pos < lenBytes) refuse("truncated length", at);
      let n = 0;
      for (let i = 0; i < lenBytes; i++) n = n * 256 + bytes[pos++];
      if (t === 0xdc || t === 0xdd) items = n;
      else if (t === 0xde || t === 0xdf) items = n * 2;
      else skip = n;
    }
    if (skip >= 0) {
      if (skip > end - pos) refuse(`declared ${skip} bytes, ${end - pos} present`, at);
      pos += skip;
      continue;
    }
    // Every item takes at least one byte: a count beyond the bytes left is a lie.
    if (items > end - pos) refuse(`declared ${items} items, ${end - pos} bytes present`, at);
    if (items === 0) continue;
    if (open.length >= maxDepth) refuse(`nesting deeper than ${maxDepth}`, at);
    open.push(remaining);
    openMaps.push(inMap);
    remaining = items;
    inMap = (t >= 0x80 && t <= 0x8f) || t === 0xde || t === 0xdf;
  }
  if (pos !== end) refuse(`${end - pos} trailing bytes`, pos);
}
