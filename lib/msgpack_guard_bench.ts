/**
 * What the structural pre-scan adds to decoding a typical frame: a `msg`
 * frame of about 100 bytes (a short chat line) and an `ack` of 20 items.
 * `deno bench lib/msgpack_guard_bench.ts`.
 *
 * @module
 */
import { checkMsgpack } from "./msgpack_guard.ts";
import { msgpackCodec } from "./msgpack_codec.ts";
import { decodeServerFrame, encodePayload } from "./protocol.ts";

const packr = msgpackCodec({ compactMaps: true });
const msg = encodePayload({
  t: "msg",
  id: "m-0123456789abcdef",
  from: "alice",
  to: "bob",
  kind: "dm",
  ts: 1_700_000_000_000,
  body: new Uint8Array(40).fill(7),
});
const ack = encodePayload({
  t: "delivered",
  items: Array.from(
    { length: 20 },
    (_, i) => ["bob", `m-0123456789ab${String(i).padStart(4, "0")}`],
  ),
  stored: true,
});
console.log(`msg frame: ${msg.length} bytes; delivered frame: ${ack.length} bytes`);
const limits = { maxDepth: 3 };

Deno.bench(`checkMsgpack: ${msg.length} B msg frame`, { group: "msg", baseline: true }, () => {
  checkMsgpack(msg, limits);
});
Deno.bench(`msgpackr unpack: ${msg.length} B msg frame`, { group: "msg" }, () => {
  packr.unpack(msg);
});
Deno.bench(`decodeServerFrame (check + unpack + validate): msg`, { group: "msg" }, () => {
  decodeServerFrame(msg);
});

Deno.bench(
  `checkMsgpack: ${ack.length} B delivered, 20 items`,
  { group: "ack", baseline: true },
  () => {
    checkMsgpack(ack, limits);
  },
);
Deno.bench(`msgpackr unpack: ${ack.length} B delivered, 20 items`, { group: "ack" }, () => {
  packr.unpack(ack);
});
