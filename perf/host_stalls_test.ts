import { expect } from "expect";
import {
  formatHostStalls,
  type HostStalls,
  measureHostStalls,
  parseHostStalls,
  summarizeHostStalls,
} from "./host_stalls.ts";
import { spinAndRecord } from "./host_stall_worker.ts";

const SAMPLE: HostStalls = {
  threads: 2,
  durationMs: 2000,
  over1Ms: 67,
  over2Ms: 39,
  over10Ms: 1,
  longestMs: 36.08,
  stalledPercent: 0.85,
};

Deno.test("summarizeHostStalls: counts by length, the longest, the share stalled, the shortest spin", () => {
  const s = summarizeHostStalls([
    { gaps: new Float64Array([0.6, 1.5, 3, 12]), lostGaps: 0, elapsedMs: 1000.4 },
    { gaps: new Float64Array([2.5, 0.9]), lostGaps: 0, elapsedMs: 999.6 },
  ]);
  expect(s).toEqual({
    threads: 2,
    durationMs: 1000,
    over1Ms: 4, // 1.5, 3, 12, 2.5
    over2Ms: 3,
    over10Ms: 1,
    longestMs: 12,
    stalledPercent: 1.03, // 20.5 ms of 2000 ms
  });
});

Deno.test("summarizeHostStalls: no thread, no stall", () => {
  expect(summarizeHostStalls([])).toEqual({
    threads: 0,
    durationMs: 0,
    over1Ms: 0,
    over2Ms: 0,
    over10Ms: 0,
    longestMs: 0,
    stalledPercent: 0,
  });
  const quiet = summarizeHostStalls([{ gaps: new Float64Array(), lostGaps: 0, elapsedMs: 500 }]);
  expect([quiet.threads, quiet.durationMs, quiet.longestMs, quiet.stalledPercent]).toEqual([
    1,
    500,
    0,
    0,
  ]);
});

Deno.test("spinAndRecord: spins at least the time asked, keeps at most maxGaps and counts the rest", () => {
  // minGapMs 0: every clock read is a gap, so the cap is reached at once.
  const r = spinAndRecord({ durationMs: 20, minGapMs: 0, maxGaps: 10 });
  expect(r.elapsedMs).toBeGreaterThanOrEqual(20);
  expect(r.gaps.length).toBe(10);
  expect(r.lostGaps).toBeGreaterThan(0);
  const none = spinAndRecord({ durationMs: 5, minGapMs: 0, maxGaps: 0 });
  expect(none.gaps.length).toBe(0);
  expect(none.lostGaps).toBeGreaterThan(0);
});

Deno.test("measureHostStalls: one real spinning thread per core at once", async () => {
  const s = await measureHostStalls({ threads: 2, durationMs: 200 });
  expect(s.threads).toBe(2);
  expect(s.durationMs).toBeGreaterThanOrEqual(200);
  expect(s.over1Ms).toBeGreaterThanOrEqual(s.over2Ms);
  expect(s.over2Ms).toBeGreaterThanOrEqual(s.over10Ms);
  expect(s.stalledPercent).toBeGreaterThanOrEqual(0);
  expect(s.stalledPercent).toBeLessThan(100);
  const d = await measureHostStalls({ durationMs: 50 });
  expect(d.threads).toBe(navigator.hardwareConcurrency);
});

Deno.test("measureHostStalls: a thread count out of range is INVALID_CONFIG", async () => {
  for (const threads of [0, -1, 1.5, 257, NaN]) {
    await expect(measureHostStalls({ threads, durationMs: 10 })).rejects.toMatchObject({
      code: "INVALID_CONFIG",
    });
  }
});

Deno.test("formatHostStalls: one line", () => {
  expect(formatHostStalls(SAMPLE)).toBe(
    "2 threads spinning 2.0 s: stalls over 1 ms 67, over 2 ms 39, over 10 ms 1; longest 36.1 ms; 0.8 % of the time stalled",
  );
  expect(formatHostStalls({ ...SAMPLE, threads: 1 })).toMatch(/^1 thread spinning/);
});

Deno.test("parseHostStalls: absent is null; a valid value is kept, extra fields dropped", () => {
  expect(parseHostStalls(undefined, "run.json")).toBeNull();
  expect(parseHostStalls({ ...SAMPLE, extra: "x" }, "run.json")).toEqual(SAMPLE);
});

Deno.test("parseHostStalls: hostile values are INVALID_CONFIG naming the field", () => {
  const bad: [unknown, RegExp][] = [
    [null, /hostStalls must be an object/],
    [[], /hostStalls must be an object/],
    ["2 threads", /hostStalls must be an object/],
    [{ ...SAMPLE, longestMs: "36" }, /hostStalls\.longestMs must be a non-negative number/],
    [{ ...SAMPLE, over2Ms: -1 }, /hostStalls\.over2Ms/],
    [{ ...SAMPLE, stalledPercent: null }, /hostStalls\.stalledPercent/],
    [{ threads: 2 }, /hostStalls\.durationMs .*got nothing/],
  ];
  for (const [raw, message] of bad) {
    expect(() => parseHostStalls(raw, "run.json")).toThrow(message);
    try {
      parseHostStalls(raw, "run.json");
    } catch (e) {
      expect((e as { code?: string }).code).toBe("INVALID_CONFIG");
    }
  }
});
