import { expect } from "expect";
import { OutboxTable } from "./outbox_table.ts";

Deno.test("OutboxTable: add, get, mark, delete; order kept; a held id is not added twice", () => {
  const t = new OutboxTable<number>();
  expect(t.add("m-1", 1)).toBe(true);
  expect(t.add("m-2", 2)).toBe(true);
  expect(t.add("m-1", 9)).toBe(false); // unchanged
  expect([t.size, t.get("m-1"), t.has("m-3"), t.get("m-3")]).toEqual([2, 1, false, undefined]);
  expect(t.written("m-2")).toBe(false);
  expect(t.markWritten("m-2")).toBe(true);
  expect(t.markWritten("m-3")).toBe(false);
  expect(t.written("m-2")).toBe(true);
  expect(t.delete("m-2")).toBe(2);
  expect(t.deletedWasWritten).toBe(true);
  expect(t.delete("m-1")).toBe(1);
  expect(t.deletedWasWritten).toBe(false);
  expect(t.delete("m-1")).toBe(undefined);
  expect(t.size).toBe(0);
});

Deno.test("OutboxTable: matches a Map through growth, shrinking and shifted deletes", () => {
  // A seeded walk: adds, deletes of held and unknown ids, marks; the table grows past
  // 64 slots and shrinks back, and deletes shift probe chains.
  let x = 12345;
  const rand = (n: number) => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n;
  const t = new OutboxTable<string>();
  const model = new Map<string, { v: string; w: boolean }>();
  let next = 0;
  for (let step = 0; step < 20_000; step++) {
    const phase = Math.floor(step / 2_500) % 2; // alternately filling and draining
    const op = rand(10);
    if (op < (phase === 0 ? 6 : 2)) {
      const id = `m-${next++}`;
      expect(t.add(id, `v${id}`)).toBe(true);
      model.set(id, { v: `v${id}`, w: false });
    } else if (op < 8) {
      const id = `m-${rand(next + 10)}`; // now and then one never added
      const want = model.get(id);
      expect(t.delete(id)).toBe(want?.v);
      if (want) expect(t.deletedWasWritten).toBe(want.w);
      model.delete(id);
    } else {
      const id = `m-${rand(next + 1)}`;
      expect(t.markWritten(id)).toBe(model.has(id));
      const m = model.get(id);
      if (m) m.w = true;
    }
    expect(t.size).toBe(model.size);
    if (step % 997 === 0) {
      expect(t.values()).toEqual([...model.values()].map((m) => m.v));
      for (const [id, m] of model) expect([t.get(id), t.written(id)]).toEqual([m.v, m.w]);
    }
  }
  expect(t.values()).toEqual([...model.values()].map((m) => m.v));
});

Deno.test("OutboxTable: clear empties it, and it works on afterwards", () => {
  const t = new OutboxTable<number>();
  for (let i = 0; i < 500; i++) t.add(`m-${i}`, i);
  t.clear();
  expect([t.size, t.has("m-1"), t.values()]).toEqual([0, false, []]);
  t.add("m-1", 1);
  expect(t.values()).toEqual([1]);
});
