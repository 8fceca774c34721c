import { expect } from "expect";
import { formatWakeDelays, summarizeWakeDelays } from "./wake_delay_summary.ts";
import type { WakeDelayRecord } from "./wake_delays.ts";

const record = (events: [number, number][]): WakeDelayRecord => ({
  periodMs: 1,
  minLateMs: 2,
  startedAtMs: 0,
  stoppedAtMs: 3000,
  wakeups: 1000,
  lostEvents: 0,
  events,
});

Deno.test("summarizeWakeDelays: slow messages in flight during a late wake-up, against shifted times", () => {
  // Delays: 1000 ms + 1 + 20 (to 1021), 2000 + 1 + 2.5 (under 3 ms: not a delay), 2500 + 1 + 4.
  const r = record([[1000, 20], [2000, 2.5], [2500, 4]]);
  const sent = new Float64Array([1005, 1030, 1990, 2400, 2990, 50, 2502]);
  const lat = new Float64Array([15, 12, 30, 5, 20, NaN, 11]);
  const s = summarizeWakeDelays(r, sent, lat);
  // 1005+15 overlaps [1000, 1021]; 1030+12 does not; 1990+30 overlaps none (2000 is 2.5 ms late);
  // 2400+5 is not slow; 2990+20 ends after the meter stopped; NaN was never received;
  // 2502+11 overlaps [2500, 2505].
  expect(s).toMatchObject({
    seconds: 3,
    wakeups: 1000,
    over3PerSec: 0.67, // 2 events over 3 ms in 3 s
    over10PerSec: 0.33,
    longestMs: 20,
    slowMessages: 4,
    slowDuringDelay: 2,
  });
  // Moved by k/11 of the 3 s (k = 1..10), none of the four meets a delay.
  expect(s.slowAtShiftedTimes).toBe(0);
});

Deno.test("summarizeWakeDelays: chance, from the slow messages moved round the run", () => {
  // One delay covers the first half of the run; the slow message itself (2000-2020 ms) does not
  // meet it, but moved by 4/11..9/11 of the 3 s (to 90, 363, … 1454 ms) it does: 6 of 10.
  const s = summarizeWakeDelays(
    record([[0, 1499]]),
    new Float64Array([2000]),
    new Float64Array([20]),
  );
  expect([s.slowMessages, s.slowDuringDelay, s.slowAtShiftedTimes]).toEqual([1, 0, 0.6]);
});

Deno.test("summarizeWakeDelays: a long delay that began well before the message still counts", () => {
  const r = record([[100, 500], [990, 3.5]]);
  const s = summarizeWakeDelays(r, new Float64Array([595]), new Float64Array([20]));
  expect([s.slowMessages, s.slowDuringDelay, s.longestMs]).toEqual([1, 1, 500]);
});

Deno.test("summarizeWakeDelays: nothing late, nothing slow", () => {
  const s = summarizeWakeDelays(record([]), new Float64Array([10]), new Float64Array([1]));
  expect(s).toMatchObject({ over3PerSec: 0, longestMs: 0, slowMessages: 0, slowDuringDelay: 0 });
  expect(formatWakeDelays(s)).toContain(
    "messages over 10 ms: 0; in flight during a wake-up over 3 ms late: 0 (—;",
  );
});

Deno.test("formatWakeDelays: rates, the longest, and the tail against chance", () => {
  expect(formatWakeDelays({
    seconds: 20,
    wakeups: 9000,
    over3PerSec: 8.3,
    over10PerSec: 0.8,
    longestMs: 50.2,
    slowMessages: 140,
    slowDuringDelay: 79,
    slowAtShiftedTimes: 10,
  })).toBe(
    "wake-up delays (a thread sleeping 1 ms at a time, 20 s, 9000 wake-ups): over 3 ms 8.3/s, over 10 ms 0.8/s, longest 50.2 ms\n" +
      "  messages over 10 ms: 140; in flight during a wake-up over 3 ms late: 79 (56.4 %; at shifted times 7.1 %)",
  );
});
