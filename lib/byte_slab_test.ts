import { expect } from "expect";
import { ByteSlab } from "./byte_slab.ts";

Deno.test("ByteSlab: small takes are zeroed, disjoint views of one buffer", () => {
  const slab = new ByteSlab(1024);
  const a = slab.take(100);
  const b = slab.take(28);
  expect(a.buffer).toBe(b.buffer);
  expect(a.length).toBe(100);
  expect(b.byteOffset).toBe(a.byteOffset + 100);
  expect(a.every((x) => x === 0) && b.every((x) => x === 0)).toBe(true);
  a.fill(7);
  expect(b.every((x) => x === 0)).toBe(true);
});

Deno.test("ByteSlab: a full slab is replaced, never reused", () => {
  const slab = new ByteSlab(256); // takes up to 32 bytes share it
  const first = slab.take(32);
  first.fill(1);
  const seen = new Set<ArrayBufferLike>([first.buffer]);
  for (let i = 0; i < 7; i++) slab.take(32).fill(2); // fills the first slab exactly
  const next = slab.take(32);
  expect(seen.has(next.buffer)).toBe(false);
  expect(next.byteOffset).toBe(0);
  expect(next.every((x) => x === 0)).toBe(true);
  expect(first.every((x) => x === 1)).toBe(true); // the old slab's views are untouched
});

Deno.test("ByteSlab: larger requests get an array of their own", () => {
  const slab = new ByteSlab(1024);
  const small = slab.take(10);
  const big = slab.take(129);
  expect(big.buffer).not.toBe(small.buffer);
  expect(big.byteLength).toBe(129);
  expect(big.buffer.byteLength).toBe(129);
  expect(slab.take(10).byteOffset).toBe(10); // the slab went on where it was
});

Deno.test("ByteSlab: copy, empty takes and bad sizes", () => {
  const slab = new ByteSlab();
  const src = new Uint8Array([1, 2, 3]);
  const c = slab.copy(src);
  src[0] = 9;
  expect([...c]).toEqual([1, 2, 3]);
  expect(slab.take(0).length).toBe(0);
  expect(() => new ByteSlab(8)).toThrow(RangeError);
  expect(() => new ByteSlab(1000.5)).toThrow(RangeError);
});
