/**
 * Length-prefixed binary framing: every frame is a 4-byte big-endian payload
 * length followed by the payload. {@link FrameDecoder} reassembles frames from
 * arbitrary chunks (partial reads, several frames per read, byte-by-byte).
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
 * const dec = new FrameDecoder(1024);
 * const wire = encodeFrame(new Uint8Array([1, 2, 3]));
 * console.log(dec.push(wire.subarray(0, 2)).length); // 0
 * console.log(dec.push(wire.subarray(2))[0]); // Uint8Array [1, 2, 3]
 * ```
 * @module
 */
import { ByteSlab } from "./byte_slab.ts";
import { FastChatError } from "./errors.ts";

/**
 * Copies of the frames of one read: up to 8 KiB from 64 KiB slabs. A frame
 * kept for long keeps its slab alive, so at most 64 KiB per kept frame.
 * (With 1 KiB from 8 KiB slabs, a busy connection's reads of 10–15 frames,
 * 2–3 KiB, each got an `ArrayBuffer` of their own: 4 µs apiece here, and
 * `ByteSlab.take` was 5–7 % of a saturated process's CPU.)
 */
const readBlocks = new ByteSlab(65_536);

/** Size of the length prefix in bytes. */
export const FRAME_HEADER_BYTES = 4;
/** Default maximum payload size once a peer is authenticated (1 MiB). */
export const DEFAULT_MAX_FRAME = 1024 * 1024;
/** Default maximum payload size before login (64 KiB). */
export const PRELOGIN_MAX_FRAME = 64 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * Prefixes `payload` with its length.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "@fastchat/lib/frame";
 * encodeFrame(new Uint8Array(3)); // Uint8Array(7) [0, 0, 0, 3, 0, 0, 0]
 * ```
 */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

function frameLength(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

/**
 * Incremental decoder for length-prefixed frames. Returned payloads are
 * copies owned by the caller: the frames completed by one `push` are views
 * of one copy (small copies share 64 KiB slabs), never of the caller's
 * chunk or the decoder's buffer. A frame longer than {@link maxFrame} throws
 * `FRAME_TOO_LARGE` as soon as its header is seen (nothing is buffered for
 * it); the stream cannot be resynchronised after that, so close the peer.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder } from "@fastchat/lib/frame";
 * const dec = new FrameDecoder(16);
 * const two = new Uint8Array([...encodeFrame(new Uint8Array([7])), ...encodeFrame(new Uint8Array([8]))]);
 * console.log(dec.push(two).length); // 2
 * ```
 */
export class FrameDecoder {
  /** Largest accepted payload; may be raised after authentication. */
  maxFrame: number;
  #buf: Uint8Array = EMPTY;
  #len = 0;

  constructor(maxFrame: number = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    return this.#len;
  }

  /** Bytes of buffer held for a frame that spans reads (0 between frames). */
  get reserved(): number {
    return this.#buf.length;
  }

  /** Feeds a chunk; returns every frame it completes, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    let data: Uint8Array;
    let off = 0;
    if (this.#len === 0) {
      data = chunk;
    } else {
      this.#append(chunk);
      data = this.#buf.subarray(0, this.#len);
    }
    const end = data.length;
    while (end - off >= FRAME_HEADER_BYTES) {
      const len = frameLength(data, off);
      if (len > this.maxFrame) {
        this.#len = 0;
        throw new FastChatError(
          "FRAME_TOO_LARGE",
          `frame of ${len} bytes exceeds the limit of ${this.maxFrame}`,
          { size: len, limit: this.maxFrame },
        );
      }
      if (end - off - FRAME_HEADER_BYTES < len) break;
      off += FRAME_HEADER_BYTES + len;
    }
    if (off > 0) {
      // One copy for every frame this chunk completes, from a slab when
      // small (a fresh ArrayBuffer costs 1.5–3 µs here, see byte_slab.ts):
      // the frames are views of it, so a frame kept for longer keeps at most
      // one slab (64 KiB) or one read's worth alive.
      const block = readBlocks.copy(data.subarray(0, off));
      for (let at = 0; at < off;) {
        const len = frameLength(block, at);
        frames.push(block.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + len));
        at += FRAME_HEADER_BYTES + len;
      }
    }
    const rest = end - off;
    if (rest === 0) {
      this.#len = 0;
      // A frame that spanned reads grew the buffer (a login frame with keys
      // is several KiB): let it go rather than hold it for the whole life of
      // an idle connection. It is only reallocated when a frame spans reads.
      if (this.#buf.length > 0) this.#buf = EMPTY;
    } else if (data === chunk) {
      this.#len = 0;
      this.#append(chunk.subarray(off));
    } else if (off > 0) {
      this.#buf.copyWithin(0, off, end);
      this.#len = rest;
    }
    return frames;
  }

  #append(bytes: Uint8Array): void {
    const need = this.#len + bytes.length;
    if (need > this.#buf.length) {
      // Never reserve more than one maximal frame plus a read's worth.
      const grown = new Uint8Array(Math.max(need, Math.min(this.#buf.length * 2, need + 65536)));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#len);
    this.#len = need;
  }
}
