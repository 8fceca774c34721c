/**
 * The forwarded-message set on the peer fabric's hot path: every forwarded
 * message is added once and taken once when the peer acknowledges it, on
 * id strings fresh from the decoder as on the wire (their hash is computed
 * at the first look-up), with 3,200 messages in flight (50 clients of a
 * server at window 64). The decode is in every row and in the baseline.
 * `deno bench server/forwarded_set_bench.ts`.
 *
 * @module
 */
import { Packr } from "msgpackr";
import { randomId } from "@fastchat/lib/crypto";
import { ForwardedSet } from "./forwarded_set.ts";

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const senders = Array.from({ length: 100 }, (_, i) => `perf-a1xcazkd-${i}`);
const FRAMES = 65_536;
const LIVE = 3_200;
const frames = Array.from(
  { length: FRAMES },
  (_, i) => packr.pack({ from: senders[i % senders.length], id: randomId(16) }),
);
type Ref = { from: string; id: string };

let i = 0, a = 0, b = 0;
const one = new ForwardedSet();
const two = new ForwardedSet();

Deno.bench("decode only (two frames)", { group: "per message", baseline: true }, () => {
  packr.unpack(frames[i++ & (FRAMES - 1)]);
  packr.unpack(frames[(i + FRAMES - LIVE) & (FRAMES - 1)]);
});

Deno.bench("add, then take when acknowledged", { group: "per message" }, () => {
  const n = a & (FRAMES - 1);
  const f = packr.unpack(frames[n]) as Ref;
  one.add("fc-2", f.from, f.id);
  const g = packr.unpack(frames[(n + FRAMES - LIVE) & (FRAMES - 1)]) as Ref;
  if (!one.take("fc-2", g.from, g.id) && a >= LIVE) throw new Error("lost");
  a++;
});

Deno.bench("forwarded to two servers, taken from both", { group: "per message" }, () => {
  const n = b++ & (FRAMES - 1);
  const f = packr.unpack(frames[n]) as Ref;
  two.add("fc-2", f.from, f.id);
  two.add("fc-3", f.from, f.id);
  const g = packr.unpack(frames[(n + FRAMES - LIVE) & (FRAMES - 1)]) as Ref;
  two.take("fc-3", g.from, g.id);
  two.take("fc-2", g.from, g.id);
});

Deno.bench("add 4096 messages past a bound of 1024 (forgetting)", () => {
  const s = new ForwardedSet(1024);
  for (let k = 0; k < 4096; k++) s.add("fc-2", senders[k & 63], `m-${k}`);
});
