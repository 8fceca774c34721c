import { expect } from "expect";
import { hash32, mulberry32, streamRng } from "./seeded_rng.ts";

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

Deno.test("mulberry32: deterministic, uniform in [0, 1)", () => {
  const a = mulberry32(123);
  const b = mulberry32(123);
  const xs = Array.from({ length: 100_000 }, () => a());
  expect(xs.slice(0, 50)).toEqual(Array.from({ length: 50 }, () => b()));
  expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...xs)).toBeLessThan(1);
  expect(Math.abs(mean(xs) - 0.5)).toBeLessThan(0.01);
  // Ten equal buckets, each within 5% of its expected share.
  const buckets = new Array(10).fill(0);
  for (const x of xs) buckets[Math.floor(x * 10)]++;
  for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
});

Deno.test("streamRng: seeded by seed, client index and purpose", () => {
  const first = (seed: string, i: number, p: "recipients" | "payload" | "timing") =>
    streamRng(seed, i, p)();
  expect(first("s", 1, "recipients")).toBe(first("s", 1, "recipients"));
  expect(first("s", 1, "recipients")).not.toBe(first("s", 2, "recipients"));
  expect(first("s", 1, "recipients")).not.toBe(first("t", 1, "recipients"));
  expect(first("s", 1, "recipients")).not.toBe(first("s", 1, "timing"));
  expect(hash32("abc")).toBe(hash32("abc"));
  expect(hash32("abc")).not.toBe(hash32("abd"));
});
