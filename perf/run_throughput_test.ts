import { expect } from "expect";
import { EV_RECEIVED, EV_SENT } from "./client_log.ts";
import { MessageTable } from "./message_table.ts";
import { DEFAULT_STEADY_TRIM, perSecond, runThroughput } from "./run_throughput.ts";

/** A table and its series: message k sent at `sent[k]`, received at `recv[k]` (NaN: lost). */
function run(sent: number[], recv: number[], bytes = 1000) {
  const t = new MessageTable();
  sent.forEach((s, k) => {
    t.add(`m${k}`, EV_SENT, s, bytes, "b", "dm");
    if (!Number.isNaN(recv[k])) t.add(`m${k}`, EV_RECEIVED, recv[k], bytes, "a", "dm");
  });
  return {
    table: t,
    series: {
      sentTimesMs: Float64Array.from(sent).sort(),
      latencyBySendOrderMs: Float64Array.from(sent.map((s, k) => recv[k] - s)),
      receivedTimesMs: Float64Array.from(recv.filter((r) => !Number.isNaN(r))).sort(),
    },
  };
}

Deno.test("perSecond: a rate over milliseconds; NaN without time", () => {
  expect(perSecond(50, 250)).toBe(200);
  expect(perSecond(3, 0)).toBeNaN();
  expect(perSecond(3, NaN)).toBeNaN();
});

Deno.test("runThroughput: window from first send to last reception; lost messages carry no bytes", () => {
  const { table, series } = run([0, 100, 200, 300], [50, 150, NaN, 1000]);
  const t = runThroughput(table, series);
  expect([t.startMs, t.endMs, t.windowMs]).toEqual([0, 1000, 1000]);
  expect([t.messages, t.bytes]).toEqual([3, 3000]);
  expect(t.messagesPerSec).toBe(3);
  expect(t.mbPerSec).toBeCloseTo(0.003, 12);
  expect(t.sendRatePerSec).toBeCloseTo(4 / 0.3, 9);
  // Steady [100, 900]: only m1's reception (150) is inside; sends at 100, 200, 300 are,
  // and of those m1 and m3 were received (latencies 50 and 700).
  expect(t.steady).toMatchObject({ trim: DEFAULT_STEADY_TRIM, startMs: 100, endMs: 900 });
  expect(t.steady.messages).toBe(1);
  expect(t.steady.messagesPerSec).toBeCloseTo(1 / 0.8, 9);
  expect(t.steady.latencyMs).toMatchObject({ count: 2, min: 50, max: 700 });
});

Deno.test("runThroughput: trim 0 keeps the whole window; nothing received gives NaN rates", () => {
  const { table, series } = run([0, 100], [200, 400]);
  expect(runThroughput(table, series, 0).steady.messages).toBe(2);
  const empty = run([0, 10], [NaN, NaN]);
  const t = runThroughput(empty.table, empty.series);
  expect(t.messages).toBe(0);
  expect(t.messagesPerSec).toBeNaN();
  expect(t.steady.latencyMs.count).toBe(0);
});
