/**
 * What a fresh string's first `Map` look-up costs in this runtime: V8
 * computes a string's hash on its first use as a key and keeps it, and here
 * that first hash of a 22-character message id costs ~0.4 µs (Node 20 on
 * the same machine: ~0.05 µs). Every id the client makes or decodes is
 * fresh, which is why the hot paths keep ids in tables with their own hash
 * (client/outbox_table.ts, server/message_key_table.ts, lib/id_hash.ts) and
 * intern the names and key ids that repeat (lib/ascii_interner.ts,
 * lib/flat_map_decoder.ts).
 *
 * `deno run -A perf/string_hash_bench.ts [n]` prints, per round, µs per
 * `Map.set` + `delete` with fresh ids, with the same ids once V8 has hashed
 * them, and per `idHash` of a fresh id.
 *
 * @module
 */
import { randomId } from "@fastchat/lib/crypto";
import { idHash } from "@fastchat/lib/id_hash";

const n = Number(Deno.args[0] ?? 500_000);

/** µs per set + delete of each id in `ids` on one `Map`. */
function setDelete(ids: string[]): number {
  const m = new Map<string, number>();
  const t = performance.now();
  for (let i = 0; i < ids.length; i++) {
    m.set(ids[i], i);
    m.delete(ids[i]);
  }
  return (performance.now() - t) * 1000 / ids.length;
}

/** Keeps the hashes computed (and printed), so no work is optimised away. */
let checksum = 0;
for (let round = 0; round < 5; round++) {
  const fresh = Array.from({ length: n }, () => randomId(16));
  const first = setDelete(fresh); // V8 hashes each id here
  const again = setDelete(fresh); // and keeps the hash
  const others = Array.from({ length: n }, () => randomId(16));
  const t = performance.now();
  for (const id of others) checksum ^= idHash(id, 12345);
  const own = (performance.now() - t) * 1000 / n;
  console.log(
    `round ${round}: Map set+delete, fresh ids ${first.toFixed(3)} µs, ` +
      `hashed before ${again.toFixed(3)} µs; idHash of a fresh id ${own.toFixed(3)} µs`,
  );
}
console.log(`(checksum ${checksum >>> 0})`);
