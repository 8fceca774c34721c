import { expect } from "expect";
import {
  clientsOfWorker,
  delayMean,
  delaySampler,
  PayloadSource,
  pickRecipient,
  plannedRecipients,
  randomText,
  sendSchedule,
  splitRate,
} from "./load_plan.ts";
import { mulberry32, streamRng } from "./seeded_rng.ts";
import type { DelaySpec } from "./run_schema.ts";

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sd(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

Deno.test("pickRecipient: never self, covers all others, seeded-deterministic", () => {
  for (const clients of [2, 3, 10, 101]) {
    for (const self of [0, 1, Math.floor(clients / 2), clients - 1]) {
      const rng = streamRng("seed", self, "recipients");
      const seen = new Set<number>();
      for (let k = 0; k < 20 * clients; k++) {
        const r = pickRecipient(rng, self, clients);
        expect(r).not.toBe(self);
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThan(clients);
        seen.add(r);
      }
      expect(seen.size).toBe(clients - 1);
    }
  }
  const seq = (seed: string) => {
    const rng = streamRng(seed, 4, "recipients");
    return Array.from({ length: 100 }, () => pickRecipient(rng, 4, 50));
  };
  expect(seq("x")).toEqual(seq("x"));
  expect(seq("x")).not.toEqual(seq("y"));
  expect(() => pickRecipient(mulberry32(1), 0, 1)).toThrow(RangeError);
});

Deno.test("pickRecipient: uniform over the other clients", () => {
  const rng = mulberry32(9);
  const counts = new Array(5).fill(0);
  for (let k = 0; k < 40_000; k++) counts[pickRecipient(rng, 2, 5)]++;
  expect(counts[2]).toBe(0);
  for (const i of [0, 1, 3, 4]) expect(Math.abs(counts[i] - 10_000)).toBeLessThan(400);
});

Deno.test("randomText and PayloadSource: exact size, printable ASCII, seeded", () => {
  expect(randomText(mulberry32(1), 0)).toBe("");
  for (const bytes of [1, 100, 1024, 65536]) {
    const p = new PayloadSource(streamRng("s", 0, "payload"), bytes);
    for (let k = 0; k < 5; k++) {
      const t = p.next();
      expect(t.length).toBe(bytes);
      expect(new TextEncoder().encode(t).length).toBe(bytes);
      expect(/^[\x20-\x7e]*$/.test(t)).toBe(true);
    }
  }
  const a = new PayloadSource(streamRng("s", 3, "payload"), 100);
  const b = new PayloadSource(streamRng("s", 3, "payload"), 100);
  expect([a.next(), a.next()]).toEqual([b.next(), b.next()]);
  // Slices at random offsets: consecutive payloads differ.
  const c = new PayloadSource(mulberry32(5), 100);
  expect(new Set(Array.from({ length: 20 }, () => c.next())).size).toBeGreaterThan(15);
});

const N = 50_000;

function samples(spec: DelaySpec, seed = 42): number[] {
  const d = delaySampler(spec, mulberry32(seed));
  return Array.from({ length: N }, () => d());
}

Deno.test("delaySampler: const", () => {
  expect(new Set(samples({ dist: "const", ms: 10 }))).toEqual(new Set([10]));
});

Deno.test("delaySampler: exponential mean and spread within tolerance", () => {
  for (const meanMs of [1, 12, 250]) {
    const xs = samples({ dist: "exp", meanMs });
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.abs(mean(xs) / meanMs - 1)).toBeLessThan(0.03);
    // For an exponential, sd = mean.
    expect(Math.abs(sd(xs) / meanMs - 1)).toBeLessThan(0.05);
    // Median = mean * ln 2.
    const sorted = [...xs].sort((a, b) => a - b);
    expect(Math.abs(sorted[N / 2] / (meanMs * Math.LN2) - 1)).toBeLessThan(0.05);
  }
});

Deno.test("delaySampler: gaussian mean and sd within tolerance, never negative", () => {
  const xs = samples({ dist: "normal", meanMs: 100, sdMs: 15 });
  expect(Math.abs(mean(xs) - 100)).toBeLessThan(0.5);
  expect(Math.abs(sd(xs) - 15)).toBeLessThan(0.5);
  // About 68% within one sd.
  const within = xs.filter((x) => Math.abs(x - 100) <= 15).length / N;
  expect(Math.abs(within - 0.6827)).toBeLessThan(0.01);
  // 10ms ± 5ms: 2.3% of draws would be negative; clamped to 0, the mean moves by ~0.04 ms.
  const ys = samples({ dist: "normal", meanMs: 10, sdMs: 5 });
  expect(Math.min(...ys)).toBe(0);
  expect(Math.abs(mean(ys) - 10)).toBeLessThan(0.15);
});

Deno.test("delaySampler: seeded-deterministic", () => {
  const spec: DelaySpec = { dist: "exp", meanMs: 5 };
  expect(samples(spec, 7).slice(0, 100)).toEqual(samples(spec, 7).slice(0, 100));
  expect(samples(spec, 7).slice(0, 100)).not.toEqual(samples(spec, 8).slice(0, 100));
  expect(delayMean(spec)).toBe(5);
  expect(delayMean({ dist: "const", ms: 3 })).toBe(3);
});

Deno.test("splitRate: shares add up to the total, merged stream evenly spaced", () => {
  for (const [total, clients] of [[1000, 10], [7, 3], [2000, 100], [1, 4]]) {
    const shares = Array.from({ length: clients }, (_, i) => splitRate(total, clients, i));
    const sum = shares.reduce((a, s) => a + s.perSecond, 0);
    expect(Math.abs(sum - total)).toBeLessThan(1e-9 * total);
    for (const s of shares) expect(s.intervalMs).toBeCloseTo(1000 / s.perSecond, 9);
    // Ten sends of every client, merged: spaced exactly 1000/total ms apart.
    const times: number[] = [];
    for (const s of shares) {
      for (let k = 0; k < 10; k++) times.push(s.phaseMs + k * s.intervalMs);
    }
    times.sort((a, b) => a - b);
    for (let k = 1; k < times.length; k++) {
      expect(times[k] - times[k - 1]).toBeCloseTo(1000 / total, 6);
    }
  }
  expect(splitRate(1000, 10, 3)).toEqual({ perSecond: 100, intervalMs: 10, phaseMs: 3 });
});

Deno.test("sendSchedule: window has none, rate and delay have seeded schedules", () => {
  expect(sendSchedule({ kind: "window", window: 4 }, 0, 10, mulberry32(1))).toBeNull();
  const r = sendSchedule({ kind: "rate", perSecond: 100 }, 2, 10, mulberry32(1))!;
  expect(r.firstMs).toBeCloseTo(20, 9);
  expect(r.nextGapMs()).toBe(100);
  const d = () =>
    sendSchedule({ kind: "delay", delay: { dist: "exp", meanMs: 12 } }, 0, 10, mulberry32(3))!;
  const [a, b] = [d(), d()];
  expect([a.firstMs, a.nextGapMs(), a.nextGapMs()]).toEqual([
    b.firstMs,
    b.nextGapMs(),
    b.nextGapMs(),
  ]);
  const c = sendSchedule(
    { kind: "delay", delay: { dist: "const", ms: 10 } },
    0,
    10,
    mulberry32(3),
  )!;
  expect(c.firstMs).toBeGreaterThanOrEqual(0);
  expect(c.firstMs).toBeLessThan(10);
  expect(c.nextGapMs()).toBe(10);
});

Deno.test("clientsOfWorker: a partition, sizes differ by at most one", () => {
  for (const [workers, clients] of [[1, 5], [2, 5], [3, 7], [4, 4], [8, 100]]) {
    const parts = Array.from({ length: workers }, (_, w) => clientsOfWorker(w, workers, clients));
    const all = parts.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: clients }, (_, i) => i));
    const sizes = parts.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  }
  expect(clientsOfWorker(1, 3, 7)).toEqual([1, 4]);
});

Deno.test("plannedRecipients: exactly the distinct recipients of the first picks", () => {
  const rng = streamRng("warm", 3, "recipients");
  const expected = new Set<number>();
  for (let i = 0; i < 20; i++) expected.add(pickRecipient(rng, 3, 50));
  expect(new Set(plannedRecipients("warm", 3, 50, 20))).toEqual(expected);
  expect(plannedRecipients("warm", 3, 50, 20).length).toBe(expected.size);
  // Enough picks cover every other client, and never more.
  expect(plannedRecipients("warm", 0, 4, 10_000).sort()).toEqual([1, 2, 3]);
  expect(plannedRecipients("warm", 0, 4, 0)).toEqual([]);
});
