/**
 * The one way FastChat configures msgpackr: plain maps decode to plain
 * objects and no records extension is written, so every peer (and any other
 * MessagePack library) reads what we write. Frames on the wire use compact
 * map headers; local files and message bodies keep msgpackr's faster fixed
 * 16-bit headers, as they always have (their bytes are unchanged).
 *
 * Each call returns a new `Packr`: a module keeps its own, so no encoder
 * state is shared across modules.
 *
 * @example
 * ```ts
 * import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
 * const wire = msgpackCodec({ compactMaps: true });
 * const bytes = wire.pack({ t: "ping", rid: 1 });
 * wire.unpack(bytes); // { t: "ping", rid: 1 }
 * ```
 * @module
 */
import { Packr, REUSE_BUFFER_MODE } from "msgpackr";

/** Options of {@link msgpackCodec}. */
export interface MsgpackCodecOptions {
  /**
   * Write the smallest map header for each object (fixmap for up to 15
   * keys) instead of a 16-bit one: smaller frames, slightly slower encoding.
   * Default false.
   */
  compactMaps?: boolean;
}

/**
 * A new MessagePack encoder/decoder with FastChat's options.
 *
 * @example
 * ```ts
 * import { msgpackCodec } from "@fastchat/lib/msgpack_codec";
 * const codec = msgpackCodec();
 * const state = codec.unpack(codec.pack({ salt: new Uint8Array(16), iter: 3 }));
 * ```
 */
export function msgpackCodec(opts: MsgpackCodecOptions = {}): Packr {
  return new Packr({
    useRecords: false,
    mapsAsObjects: true,
    ...(opts.compactMaps ? { variableMapSize: true } : {}),
  });
}

/**
 * `codec.pack(value)` as a plain `Uint8Array` view of the encoder's buffer:
 * the same bytes, without the cost of a Node `Buffer` slice (in Deno a
 * `Buffer.subarray` takes several times as long as a typed-array view, and
 * every frame on the wire is one). msgpackr never writes over what it
 * returned before: each call starts after the previous one, and a full
 * buffer is replaced, not reused.
 *
 * @example
 * ```ts
 * import { msgpackCodec, packView } from "@fastchat/lib/msgpack_codec";
 * const codec = msgpackCodec({ compactMaps: true });
 * const a = packView(codec, { t: "ping", rid: 1 });
 * const b = packView(codec, { t: "ping", rid: 2 });
 * codec.unpack(a); // { t: "ping", rid: 1 }: still intact
 * ```
 */
export function packView(codec: Packr, value: unknown): Uint8Array {
  // In this mode msgpackr returns its whole buffer, with where the value starts and ends.
  const t = codec.pack(value, REUSE_BUFFER_MODE) as unknown as Uint8Array & {
    start: number;
    end: number;
  };
  return new Uint8Array(t.buffer, t.byteOffset + t.start, t.end - t.start);
}
