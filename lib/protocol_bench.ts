/**
 * Encoding the hot frames a server writes per message: a `msg` frame to
 * the recipient and the sender's `delivered` receipts (batched, here 8 to
 * a frame), with the flat encoder (lib/flat_map_encoder.ts) against
 * msgpackr, which `encodePayload` falls back to for other frames.
 * `deno bench lib/protocol_bench.ts`.
 *
 * @module
 */
import { msgpackCodec } from "./msgpack_codec.ts";
import { encodePayload, type ServerFrame } from "./protocol.ts";

const packr = msgpackCodec({ compactMaps: true });
const body = crypto.getRandomValues(new Uint8Array(160));
const ids = Array.from({ length: 4096 }, (_, i) => `Xk3${String(i).padStart(19, "0")}`);
const msg = (i: number): ServerFrame => ({
  t: "msg",
  id: ids[i & 4095],
  from: "perf-a1xcazkd-17",
  to: "perf-a1xcazkd-42",
  kind: "dm",
  ts: 1796591023482,
  body,
  kid: "kid-0123456789abcdef",
});
const delivered: ServerFrame = {
  t: "delivered",
  items: ids.slice(0, 8).map((id) => ["perf-a1xcazkd-42", id]),
};
let i = 0;

Deno.bench("msg frame: encodePayload", { group: "msg", baseline: true }, () => {
  encodePayload(msg(i++));
});
Deno.bench("msg frame: msgpackr", { group: "msg" }, () => {
  packr.pack(msg(i++));
});
Deno.bench("delivered frame of 8: encodePayload", { group: "delivered", baseline: true }, () => {
  encodePayload(delivered);
});
Deno.bench("delivered frame of 8: msgpackr", { group: "delivered" }, () => {
  packr.pack(delivered);
});
