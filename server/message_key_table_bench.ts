/**
 * What a server pays per message for its look-ups by (sender, id): one
 * message's pattern (look-up and insert when it arrives, look-up and delete
 * when it is acknowledged) with 6,400 messages in flight (100 clients,
 * window 64), on id strings fresh from the decoder as on the wire (their
 * hash is computed at the first look-up): `deno bench
 * server/message_key_table_bench.ts`. The decode itself is in every row and in
 * the "decode only" baseline, so the difference is the map's.
 *
 * @module
 */
import { Packr } from "msgpackr";
import { randomId } from "@fastchat/lib/crypto";
import { MessageKeyTable } from "./message_key_table.ts";
import { RecentMessageKeys } from "./recent_message_keys.ts";

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const senders = Array.from({ length: 100 }, (_, i) => `perf-a1xcazkd-${i}`);
const FRAMES = 65_536;
const LIVE = 6_400;
const frames = Array.from(
  { length: FRAMES },
  (_, i) => packr.pack({ from: senders[i % senders.length], id: randomId(16) }),
);
type Ref = { from: string; id: string };

let i = 0;
const recent = new RecentMessageKeys<number>(200_000);
const keyTable = new MessageKeyTable<number>();
const idMap = new Map<string, number>();

Deno.bench("decode only (two frames)", { group: "per message", baseline: true }, () => {
  packr.unpack(frames[i++ & (FRAMES - 1)]);
  packr.unpack(frames[(i + FRAMES - LIVE) & (FRAMES - 1)]);
});

Deno.bench("MessageKeyTable: get + set, then get + delete", { group: "per message" }, () => {
  const n = i++ & (FRAMES - 1);
  const f = packr.unpack(frames[n]) as Ref;
  keyTable.get(f.from, f.id);
  keyTable.set(f.from, f.id, n);
  const g = packr.unpack(frames[(n + FRAMES - LIVE) & (FRAMES - 1)]) as Ref;
  keyTable.get(g.from, g.id);
  keyTable.delete(g.from, g.id);
});

Deno.bench("RecentMessageKeys (bounded, 200,000): the same four", { group: "per message" }, () => {
  const n = i++ & (FRAMES - 1);
  const f = packr.unpack(frames[n]) as Ref;
  recent.get(f.from, f.id);
  recent.set(f.from, f.id, n);
  const g = packr.unpack(frames[(n + FRAMES - LIVE) & (FRAMES - 1)]) as Ref;
  recent.get(g.from, g.id);
  recent.delete(g.from, g.id);
});

Deno.bench("Map by id alone (no sender check): the same four", { group: "per message" }, () => {
  const n = i++ & (FRAMES - 1);
  const f = packr.unpack(frames[n]) as Ref;
  idMap.get(f.id);
  idMap.set(f.id, n);
  const g = packr.unpack(frames[(n + FRAMES - LIVE) & (FRAMES - 1)]) as Ref;
  idMap.get(g.id);
  idMap.delete(g.id);
});
