/**
 * The forwarded-message set on the peer fabric's hot path: every forwarded
 * message is added once and taken once when the peer acknowledges it.
 * `deno bench server/forwarded_set_bench.ts`.
 */
import { ForwardedSet } from "./forwarded_set.ts";

const N = 4096;
// Flat strings, as the decoder hands them over.
const ids = Array.from({ length: N }, (_, i) => `m-${String(i).padStart(20, "0")}`);
const senders = Array.from({ length: 64 }, (_, i) => `user-${i}`);
const servers = ["fc-2", "fc-3", "fc-4"];

Deno.bench(`add then take ${N} messages, 64 in flight`, () => {
  const s = new ForwardedSet();
  for (let i = 0; i < N + 64; i++) {
    if (i < N) s.add(servers[i % 3], senders[i & 63], ids[i]);
    const j = i - 64;
    if (j >= 0 && !s.take(servers[j % 3], senders[j & 63], ids[j])) throw new Error("lost");
  }
});

Deno.bench(`add ${N} messages to two servers each, take both`, () => {
  const s = new ForwardedSet();
  for (let i = 0; i < N; i++) {
    s.add("fc-2", senders[i & 63], ids[i]);
    s.add("fc-3", senders[i & 63], ids[i]);
  }
  for (let i = 0; i < N; i++) {
    s.take("fc-3", senders[i & 63], ids[i]);
    s.take("fc-2", senders[i & 63], ids[i]);
  }
});

Deno.bench(`add ${N} messages past a bound of 1024 (evicting)`, () => {
  const s = new ForwardedSet(1024);
  for (let i = 0; i < N; i++) s.add("fc-2", senders[i & 63], ids[i]);
});
