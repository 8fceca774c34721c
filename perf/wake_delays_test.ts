import { expect } from "expect";
import {
  readWakeDelays,
  WAKE_DELAYS_FILE,
  WakeDelayMeter,
  type WakeDelayRecord,
  writeWakeDelays,
} from "./wake_delays.ts";
import { measureWakeDelays } from "./wake_delay_worker.ts";

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
    const ok: WakeDelayRecord = {
      periodMs: 1,
      minLateMs: 2,
      startedAtMs: 0,
      stoppedAtMs: 3000,
      wakeups: 1000,
      lostEvents: 0,
      events: [[1, 3]],
    };
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
