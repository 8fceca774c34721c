import { expect } from "expect";
import { randomId } from "@fastchat/lib/crypto";
import { idHash, MAX_PROBE, MessageKeyTable } from "./message_key_table.ts";

Deno.test("MessageKeyTable agrees with a Map through growth, shared ids and shrinking", () => {
  const t = new MessageKeyTable<number>();
  const ref = new Map<string, number>();
  const senders = ["alice", "bob", "carol"];
  const ids = Array.from({ length: 6000 }, () => randomId(16));
  let x = 12345;
  const rnd = (n: number) => { // a fixed sequence: failures repeat
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  const check = () => {
    expect(t.size).toBe(ref.size);
    expect(t.capacity >= 2 * t.size).toBe(true);
  };
  for (let step = 0; step < 60_000; step++) {
    const s = senders[rnd(3)], id = ids[rnd(step < 30_000 ? 6000 : 300)];
    const key = `${s}\n${id}`;
    switch (rnd(step < 30_000 ? 3 : 2) === 0 ? "delete" : step < 30_000 ? "set" : "delete") {
      case "set":
        t.set(s, id, step);
        ref.set(key, step);
        break;
      case "delete":
        expect(t.delete(s, id)).toBe(ref.delete(key));
        break;
    }
    expect(t.get(s, id)).toBe(ref.get(key));
    expect(t.has(s, id)).toBe(ref.has(key));
    if (step % 5000 === 0) check();
  }
  check();
  // Every entry still reachable, and nothing else.
  for (const id of ids.slice(0, 1000)) {
    for (const s of senders) expect(t.get(s, id)).toBe(ref.get(`${s}\n${id}`));
  }
  for (const key of ref.keys()) {
    const [s, id] = key.split("\n");
    t.delete(s, id);
  }
  expect(t.size).toBe(0);
  expect(t.capacity).toBe(1024); // shrunk back as it emptied
  t.set("alice", "m-00000001", 1);
  t.clear();
  expect([t.size, t.get("alice", "m-00000001")]).toEqual([0, undefined]);
});

Deno.test("MessageKeyTable: ids crafted to collide under its seed make it reseed, and lose nothing", () => {
  const seed = 0x2545f491;
  // Ids whose first probed slot (of 1,024) is the same under this seed, as an
  // attacker who knew the seed could send them.
  const home = (id: string) => idHash(id, seed) & 1023;
  const target = home("collide-00000000");
  const colliding: string[] = [];
  for (let i = 0; colliding.length < MAX_PROBE + 20; i++) {
    const id = `collide-${String(i).padStart(8, "0")}`;
    if (home(id) === target) colliding.push(id);
  }
  const t = new MessageKeyTable<number>(seed);
  colliding.forEach((id, i) => t.set("mallory", id, i));
  expect(t.reseeds).toBe(1); // once past MAX_PROBE; the new seed spreads them
  expect(t.size).toBe(colliding.length);
  colliding.forEach((id, i) => expect(t.get("mallory", id)).toBe(i));
  // Deleting them all (backward shifts across the table) leaves it empty and usable.
  for (const id of colliding) expect(t.delete("mallory", id)).toBe(true);
  expect(t.size).toBe(0);
  t.set("alice", colliding[0], 7);
  expect(t.get("alice", colliding[0])).toBe(7);
  expect(t.get("mallory", colliding[0])).toBeUndefined();
});

Deno.test("MessageKeyTable: the memo of the last look-up never outlives a change", () => {
  // Random get/has/set/delete/clear over few keys, so that a look-up is
  // often followed by a change of the same key, of another key sharing its
  // probe, or by a growth, a shrink or a clear.
  const t = new MessageKeyTable<number>(7);
  const ref = new Map<string, number>();
  const senders = ["alice", "bob"];
  const ids = Array.from({ length: 900 }, (_, i) => `m-${String(i).padStart(8, "0")}`);
  let x = 99;
  const rnd = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  for (let step = 0; step < 65_536; step++) {
    // Phases of mostly inserts, then mostly deletes: the table grows and shrinks.
    const filling = (step >> 14) % 2 === 0;
    const s = senders[rnd(2)], id = ids[rnd(ids.length)], key = `${s}\n${id}`;
    const op = rnd(100);
    if (op < 30) expect(t.get(s, id)).toBe(ref.get(key));
    else if (op < 45) expect(t.has(s, id)).toBe(ref.has(key));
    else if (op < (filling ? 85 : 60)) {
      t.set(s, id, step);
      ref.set(key, step);
    } else if (op < 99 || rnd(20) !== 0) expect(t.delete(s, id)).toBe(ref.delete(key));
    else {
      t.get(s, id); // the memo holds this key as the table empties
      t.clear();
      ref.clear();
      expect(t.has(s, id)).toBe(false);
    }
    expect(t.size).toBe(ref.size);
  }
  for (const [key, v] of ref) {
    const [s, id] = key.split("\n");
    expect(t.get(s, id)).toBe(v);
  }
});
