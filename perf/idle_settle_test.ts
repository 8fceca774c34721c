import { expect } from "expect";
import { IDLE_SETTLE_RULE, IdleSettle, type IdleSettleRule } from "./idle_settle.ts";

const RULE: IdleSettleRule = {
  minMs: 10_000,
  maxMs: 60_000,
  windowMs: 5_000,
  flat: 0.01,
  reclaimed: 0.1,
};

function feed(s: IdleSettle, server: string, points: [number, number][]): void {
  for (const [t, kb] of points) s.add(server, t, kb);
}

Deno.test("IdleSettle: flat at the login peak is not settled; the heap given back and flat is", () => {
  const s = new IdleSettle(RULE);
  for (let t = 0; t <= 30_000; t += 1000) s.add("srv-1", t, 300_000);
  expect(s.settled()).toBe(false); // 30 s flat, but the reducer has not run
  expect(s.reclaimed("srv-1")).toBe(false);
  feed(s, "srv-1", [[31_000, 240_000], [32_000, 235_000]]);
  expect(s.settled()).toBe(false); // fell, not flat for the window yet
  for (let t = 33_000; t <= 37_000; t += 1000) s.add("srv-1", t, 235_500);
  expect(s.settled()).toBe(true);
  expect(s.reclaimed("srv-1")).toBe(true);
});

Deno.test("IdleSettle: not before minMs, always from maxMs", () => {
  const early = new IdleSettle(RULE);
  feed(early, "srv-1", [[0, 300_000], [1000, 200_000], [9_000, 200_000]]);
  expect(early.settled()).toBe(false);
  early.add("srv-1", 10_000, 200_000);
  expect(early.settled()).toBe(true);
  const never = new IdleSettle(RULE);
  for (let t = 0; t < 60_000; t += 1000) never.add("srv-1", t, 100_000);
  expect(never.settled()).toBe(false);
  never.add("srv-1", 60_000, 100_000);
  expect(never.settled()).toBe(true);
});

Deno.test("IdleSettle: every server must settle; NaN readings are ignored; no readings is not settled", () => {
  const s = new IdleSettle(RULE);
  expect(s.settled()).toBe(false);
  feed(s, "srv-1", [[0, 300_000], [10_000, 200_000], [15_000, 200_000]]);
  feed(s, "srv-2", [[0, 300_000], [10_000, 299_000], [15_000, 299_000]]);
  s.add("srv-2", 15_500, NaN);
  expect(s.settled()).toBe(false);
  feed(s, "srv-2", [[16_000, 250_000], [21_000, 250_000]]);
  feed(s, "srv-1", [[21_000, 200_000]]);
  expect(s.settled()).toBe(true);
});

Deno.test("IdleSettle: swings over 1 % (and 2 MiB) within the window are not flat", () => {
  const s = new IdleSettle(RULE);
  feed(s, "srv-1", [[0, 400_000], [10_000, 300_000], [13_000, 310_000], [15_000, 300_000]]);
  expect(s.settled()).toBe(false);
  feed(s, "srv-1", [[20_000, 301_000]]);
  expect(s.settled()).toBe(true);
  expect(IDLE_SETTLE_RULE.minMs).toBeLessThan(IDLE_SETTLE_RULE.maxMs);
});
