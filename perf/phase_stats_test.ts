import { expect } from "expect";
import { cpuDiff, phaseStats } from "./phase_stats.ts";

Deno.test("phaseStats: ms to the microsecond, rate to two decimals, extra counters kept", () => {
  expect(phaseStats(100, 2500.0004567, { existing: 3, rateLimited: 0 })).toEqual({
    count: 100,
    ms: 2500,
    perSecond: 40,
    existing: 3,
    rateLimited: 0,
  });
  expect(phaseStats(2, 3000).perSecond).toBe(0.67);
  expect(phaseStats(7, 1234.56789).ms).toBe(1234.568);
  expect(phaseStats(5, 0)).toEqual({ count: 5, ms: 0, perSecond: 0 });
});

Deno.test("cpuDiff: per process in both readings, to two decimals, in the later reading's order", () => {
  const d = cpuDiff(
    { db: 1, "srv-1": 2.001, "worker-0": 0.5 },
    { "srv-1": 4.5, "worker-0": 0.5, "worker-1": 3, db: 1.333 },
  );
  expect(d).toEqual({ "srv-1": 2.5, "worker-0": 0, db: 0.33 });
  expect(Object.keys(d)).toEqual(["srv-1", "worker-0", "db"]);
  expect(cpuDiff({}, { lb: 1 })).toEqual({});
});
