/**
 * The bytes of a batch of outbox records, as the outbox log seals them:
 * exactly what `msgpackCodec().pack(records)` writes (so every log, old or
 * new, reads back with msgpackr), but for the common batch (sends whose
 * frames are flat and under 8 KiB, and confirmations) without msgpackr.
 *
 * Why: a saturated client writes every message it sends into its outbox
 * log (the batch of each 20 ms). msgpackr's general paths (extensions,
 * `Buffer` views built through Node's slower `FastBuffer`) made packing
 * those records ~8 % of the client's CPU per message in
 * `perf/client_hot_path_bench.ts`; the wire's flat encoder
 * (lib/flat_map_encoder.ts) writes the same bytes in about half the time.
 *
 * @example
 * ```ts
 * import { OutboxRecordEncoder } from "@fastchat/client/outbox_records";
 * import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
 * const enc = new OutboxRecordEncoder();
 * const bytes = enc.encode([{ done: ["m-1", "m-2"] }]);
 * msgpackCodec().unpack(bytes); // [{ done: ["m-1", "m-2"] }]
 * ```
 * @module
 */
import { FlatMapEncoder } from "@fastchat/lib/flat_map_encoder";
import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
import type { OutboxRecord } from "./outbox.ts";

/** Keys of a `send` frame, and of a confirmation record. */
const RECORD_KEYS = ["t", "id", "to", "kind", "ts", "body", "kid", "env", "file", "done"];
/** A one-key map as msgpackr writes it by default (16-bit header), then the key `add`. */
const ADD_PREFIX = Uint8Array.of(0xde, 0x00, 0x01, 0xa3, 0x61, 0x64, 0x64);
/** Records up to this size are encoded here (a larger one, a file's, goes to msgpackr). */
const FLAT_RECORD_BYTES = 65_536;
/** Batches up to this size reuse one buffer; larger ones get their own. */
const SCRATCH_KEPT = 65_536;

/**
 * Encodes outbox record batches; see the module doc. The result of
 * {@link OutboxRecordEncoder.encode} may be a view of a reused buffer: use
 * it (seal it) before the next call.
 *
 * @example
 * ```ts
 * import { OutboxRecordEncoder } from "@fastchat/client/outbox_records";
 * const enc = new OutboxRecordEncoder();
 * enc.encode([]); // Uint8Array [0x90]
 * ```
 */
export class OutboxRecordEncoder {
  readonly #flat = new FlatMapEncoder(RECORD_KEYS, { maxBytes: FLAT_RECORD_BYTES });
  readonly #packr = msgpackCodec();
  #scratch: Uint8Array<ArrayBuffer> = new Uint8Array(1024);
  /** Batches msgpackr encoded (a frame of another shape, or a large one). */
  fallbacks = 0;

  /** The MessagePack bytes of `records` (valid until the next call). */
  encode(records: readonly OutboxRecord[]): Uint8Array {
    return this.#fast(records) ?? (this.fallbacks++, this.#packr.pack(records));
  }

  #fast(records: readonly OutboxRecord[]): Uint8Array | null {
    const n = records.length;
    let out = this.#scratch;
    let at: number;
    if (n < 0x10) {
      out[0] = 0x90 | n;
      at = 1;
    } else if (n < 0x10000) {
      out[0] = 0xdc;
      out[1] = n >> 8;
      out[2] = n & 0xff;
      at = 3;
    } else return null;
    for (const r of records) {
      let part: Uint8Array | null;
      let prefix = false;
      if ("add" in r) {
        part = this.#flat.encodeTransient(r.add);
        prefix = true;
      } else part = this.#flat.encodeTransient(r);
      if (part === null) return null;
      const end = at + (prefix ? ADD_PREFIX.length : 0) + part.length;
      if (end > out.length) out = this.#grow(out, at, end);
      if (prefix) {
        out.set(ADD_PREFIX, at);
        at += ADD_PREFIX.length;
      }
      out.set(part, at);
      at += part.length;
    }
    return out.subarray(0, at);
  }

  /** A larger buffer holding `out`'s first `at` bytes; kept as scratch while small. */
  #grow(out: Uint8Array, at: number, need: number): Uint8Array<ArrayBuffer> {
    const bigger = new Uint8Array(Math.max(need, out.length * 2));
    bigger.set(out.subarray(0, at));
    if (bigger.length <= SCRATCH_KEPT) this.#scratch = bigger;
    return bigger;
  }
}
