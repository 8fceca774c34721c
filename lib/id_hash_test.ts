import { expect } from "expect";
import { randomId } from "./crypto/mod.ts";
import { idHash } from "./id_hash.ts";

Deno.test("idHash: never 0, and its low bits spread over every slot of a table", () => {
  const slots = 1024;
  const hits = new Uint32Array(slots);
  const n = 64 * slots;
  for (let i = 0; i < n; i++) {
    const h = idHash(randomId(16), 0x2545f491);
    expect(h).not.toBe(0);
    hits[h & (slots - 1)]++;
  }
  // Each slot expects 64; a hash that fixed a low bit would leave half of them at 0.
  const empty = hits.filter((c) => c === 0).length;
  expect(empty).toBe(0);
  expect(Math.min(...hits)).toBeGreaterThan(20);
  expect(Math.max(...hits)).toBeLessThan(120);
  const odd = hits.reduce((a, c, i) => a + (i & 1 ? c : 0), 0);
  expect(odd / n).toBeGreaterThan(0.47);
  expect(odd / n).toBeLessThan(0.53);
});

Deno.test("idHash: depends on the seed and on every character", () => {
  const id = "m-0123456789abcdefghij";
  expect(idHash(id, 7)).toBe(idHash(id, 7));
  expect(idHash(id, 7)).not.toBe(idHash(id, 8));
  for (let i = 0; i < id.length; i++) {
    const other = id.slice(0, i) + (id[i] === "x" ? "y" : "x") + id.slice(i + 1);
    expect(idHash(other, 7)).not.toBe(idHash(id, 7));
  }
});
