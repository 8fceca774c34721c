import { expect } from "expect";
import { RecentMessageKeys } from "./recent_message_keys.ts";

/** A deterministic generator (xorshift32), so a failure replays. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

Deno.test("RecentMessageKeys: sets, gets and deletes by (sender, id)", () => {
  const t = new RecentMessageKeys<string>();
  t.set("alice", "m-00000001", "fc-2");
  t.set("bob", "m-00000001", "fc-3"); // same id, another sender
  expect([t.get("alice", "m-00000001"), t.get("bob", "m-00000001")]).toEqual(["fc-2", "fc-3"]);
  t.set("alice", "m-00000001", "fc-4");
  expect(t.get("alice", "m-00000001")).toEqual("fc-4");
  expect(t.size).toEqual(2);
  expect(t.delete("alice", "m-00000001")).toEqual(true);
  expect(t.delete("alice", "m-00000001")).toEqual(false);
  expect([t.has("alice", "m-00000001"), t.has("bob", "m-00000001"), t.size]).toEqual([
    false,
    true,
    1,
  ]);
});

Deno.test("RecentMessageKeys: the bound is even and at least 2", () => {
  const bounds = [0, 1, 2, 3, 7, 8, -1, 2.5, NaN].map((m) => new RecentMessageKeys(m).max);
  expect(bounds).toEqual([2, 2, 2, 4, 8, 8, 2, 2, 2]);
  expect(new RecentMessageKeys().max).toEqual(200_000);
});

Deno.test("RecentMessageKeys: an entry of the old half keeps its place when set again, and can be deleted", () => {
  const t = new RecentMessageKeys<number>(4);
  t.set("u", "1", 1);
  t.set("u", "2", 2);
  t.set("u", "3", 3); // 1 and 2 are the old half
  t.set("u", "1", 10); // updated where it is
  expect(t.get("u", "1")).toEqual(10);
  expect(t.delete("u", "2")).toEqual(true);
  t.set("u", "4", 4);
  t.set("u", "5", 5); // 3 and 4 become the old half: 1 is forgotten
  expect([t.get("u", "1"), t.get("u", "3"), t.get("u", "4"), t.get("u", "5")]).toEqual([
    undefined,
    3,
    4,
    5,
  ]);
  expect(t.size).toEqual(3);
});

Deno.test("RecentMessageKeys: against a model, it never holds more than its bound and forgets only its oldest", () => {
  for (const max of [2, 8, 64]) {
    const half = max / 2;
    const t = new RecentMessageKeys<number>(max);
    const random = rng(max * 7919);
    /** What the model holds: value and the insert count when first set. */
    const held = new Map<string, { sender: string; id: string; value: number; at: number }>();
    let inserts = 0;
    for (let step = 0; step < 20_000; step++) {
      // Two senders share every id, so the sender must be compared.
      const sender = random() < 0.5 ? "alice" : "bob";
      const id = `m-${Math.floor(random() * max * 3)}`.padEnd(8, "0");
      const key = `${sender}\n${id}`;
      const r = random();
      if (r < 0.55) {
        const value = step;
        const entry = held.get(key);
        if (entry) entry.value = value;
        else held.set(key, { sender, id, value, at: inserts++ });
        t.set(sender, id, value);
      } else if (r < 0.8) {
        const deleted = t.delete(sender, id);
        if (deleted !== held.delete(key)) {
          expect({ step, deleted }).toEqual({ step, deleted: !deleted });
        }
      } else {
        const v = t.get(sender, id);
        if (v !== held.get(key)?.value) {
          expect({ step, v }).toEqual({ step, v: held.get(key)?.value });
        }
      }
      // What the table forgot: all older than what it kept, and not among the newest half.
      let oldestKept = Infinity, newestForgotten = -1;
      for (const [k, e] of held) {
        const v = t.get(e.sender, e.id);
        if (v === undefined) {
          newestForgotten = Math.max(newestForgotten, e.at);
          held.delete(k);
        } else {
          if (v !== e.value) expect({ step, key: k, v }).toEqual({ step, key: k, v: e.value });
          oldestKept = Math.min(oldestKept, e.at);
        }
      }
      const ok = newestForgotten < oldestKept &&
        (newestForgotten < 0 || inserts - newestForgotten > half) &&
        t.size === held.size && t.size <= max;
      if (!ok) {
        expect({ step, newestForgotten, oldestKept, inserts, size: t.size }).toEqual({
          step,
          newestForgotten: `below ${oldestKept} and ${inserts - half}`,
          oldestKept,
          inserts,
          size: `${held.size}, at most ${max}`,
        });
      }
    }
  }
});
