import { expect } from "expect";
import { chooseBucketMs, throughputSeries } from "./throughput.ts";

Deno.test("chooseBucketMs: one second unless too few or too many buckets", () => {
  expect(chooseBucketMs(60_000)).toBe(1_000);
  expect(chooseBucketMs(20_000)).toBe(1_000);
  expect(chooseBucketMs(600_000)).toBe(1_000);
  expect(chooseBucketMs(600_001)).toBe(2_000);
  expect(chooseBucketMs(3_600_000)).toBe(10_000);
  expect(chooseBucketMs(10_000)).toBe(500);
  expect(chooseBucketMs(2_000)).toBe(100);
  expect(chooseBucketMs(910)).toBe(20);
  expect(chooseBucketMs(5)).toBe(1);
  expect(chooseBucketMs(0)).toBe(1_000);
});

Deno.test("throughputSeries: per-second counts and rates", () => {
  // 30 s window: 1 s buckets. Sent: 2 per second for 30 s; received 1 ms later.
  const sent = Array.from({ length: 60 }, (_, k) => 1_000_000 + 500 * k);
  const recv = sent.map((t) => t + 1);
  recv.push(1_000_000 + 30_000); // one late reception defines the end
  const s = throughputSeries(sent, recv);
  expect(s.bucketMs).toBe(1_000);
  expect(s.startMs).toBe(1_000_000);
  expect(s.endMs).toBe(1_030_000);
  expect(s.points.length).toBe(30); // 30 s exactly: the end falls into bucket 29
  expect(s.points[0]).toEqual({ tSec: 0, sent: 2, received: 2, sentPerSec: 2, receivedPerSec: 2 });
  expect(s.points[29].received).toBe(3);
  let total = 0;
  for (const p of s.points) total += p.received;
  expect(total).toBe(61);
});

Deno.test("throughputSeries: short last bucket rate and folding of a sliver", () => {
  // 20.6 s window: the last bucket covers 0.6 s (kept, rate over 0.6 s).
  let s = throughputSeries([0], [20_000, 20_300, 20_600]);
  expect(s.points.length).toBe(21);
  expect(s.points[20].received).toBe(3);
  expect(s.points[20].receivedPerSec).toBeCloseTo(3 / 0.6, 9);
  // 20.2 s window: a 0.2 s sliver is folded into bucket 19 (1.2 s long).
  s = throughputSeries([0], [19_500, 20_200]);
  expect(s.points.length).toBe(20);
  expect(s.points[19].received).toBe(2);
  expect(s.points[19].receivedPerSec).toBeCloseTo(2 / 1.2, 9);
});

Deno.test("throughputSeries: empty input", () => {
  expect(throughputSeries([], []).points).toEqual([]);
});
