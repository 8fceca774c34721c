import { expect } from "expect";
import { percentile, summarize } from "./percentiles.ts";

Deno.test("percentile: nearest rank on known data", () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  expect(percentile(xs, 0.5)).toBe(50);
  expect(percentile(xs, 0.9)).toBe(90);
  expect(percentile(xs, 0.99)).toBe(99);
  expect(percentile(xs, 1)).toBe(100);
  expect(percentile(xs, 0)).toBe(1);
  expect(percentile([7], 0.5)).toBe(7);
  expect(percentile([], 0.5)).toBeNaN();
});

Deno.test("summarize: all fields", () => {
  expect(summarize([4, 1, 3, 2])).toEqual({
    count: 4,
    min: 1,
    p50: 2,
    p90: 4,
    p99: 4,
    max: 4,
    mean: 2.5,
  });
  expect(summarize([]).count).toBe(0);
});
