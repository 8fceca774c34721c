import { expect } from "expect";
import {
  formatWakeDelays,
  readWakeDelays,
  summarizeWakeDelays,
  WAKE_DELAYS_FILE,
  WakeDelayMeter,
  type WakeDelayRecord,
  writeWakeDelays,
} from "./wake_delays.ts";
import { measureWakeDelays } from "./wake_delay_worker.ts";

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

Deno.test("measureWakeDelays: sleeps until stopped, keeps at most maxEvents and counts the rest", async () => {
  let on = true;
  setTimeout(() => on = false, 40);
  // minLateMs 0: every wake-up is kept, so 5 fill the cap.
  const r = await measureWakeDelays(
    { kind: "start", periodMs: 1, minLateMs: 0, maxEvents: 5 },
    () => on,
  );
  expect(r.wakeups).toBeGreaterThan(5);
  expect(r.atMs.length).toBe(5);
  expect(r.lostEvents).toBe(r.wakeups - 5);
  expect(r.stoppedAtMs - r.startedAtMs).toBeGreaterThanOrEqual(40);
  expect(r.atMs[0]).toBeGreaterThanOrEqual(r.startedAtMs);
});

Deno.test("WakeDelayMeter: a real thread; written and read back", async () => {
  const meter = await WakeDelayMeter.start();
  await new Promise((r) => setTimeout(r, 100));
  const rec = await meter.stop();
  expect(rec.wakeups).toBeGreaterThan(10);
  expect(rec.stoppedAtMs).toBeGreaterThan(rec.startedAtMs);
  expect(Math.abs(rec.startedAtMs - (Date.now() - 100))).toBeLessThan(60_000); // epoch ms
  const dir = await Deno.makeTempDir();
  try {
    await writeWakeDelays(rec, dir);
    expect(await readWakeDelays(dir)).toEqual(rec);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readWakeDelays: none is null; hostile files are INVALID_CONFIG", async () => {
  const dir = await Deno.makeTempDir();
  try {
    expect(await readWakeDelays(dir)).toBeNull();
    const ok = record([[1, 3]]);
    const bad: [string, RegExp][] = [
      ["{", /not JSON/],
      ["[]", /not an object/],
      [JSON.stringify({ ...ok, wakeups: "many" }), /wakeups must be a number/],
      [JSON.stringify({ ...ok, events: {} }), /events must be a list/],
      [JSON.stringify({ ...ok, events: [[1, 2, 3]] }), /each event must be/],
      [JSON.stringify({ ...ok, events: [[1, null]] }), /each event must be/],
    ];
    for (const [text, message] of bad) {
      await Deno.writeTextFile(`${dir}/${WAKE_DELAYS_FILE}`, text);
      await expect(readWakeDelays(dir)).rejects.toThrow(message);
      await expect(readWakeDelays(dir)).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    }
    // Too large to be a meter's: refused by its size, before it is read (a sparse file).
    await Deno.truncate(`${dir}/${WAKE_DELAYS_FILE}`, 33 * 1024 * 1024);
    await expect(readWakeDelays(dir)).rejects.toThrow(/34603008 bytes, more than a meter writes/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
