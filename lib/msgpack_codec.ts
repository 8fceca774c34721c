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
import { Packr } from "msgpackr";

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
