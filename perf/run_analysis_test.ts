import { expect } from "expect";
import { EV_ACKED, EV_DELIVERED, EV_ERROR, EV_RECEIVED, EV_SENT } from "./client_log.ts";
import { analyzeRunDir, baseName, isLossy, RunAccumulator } from "./run_analysis.ts";
import { readRunRecord, type RunRecord } from "./run_schema.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
/** A run with no phases (the lossy test run, 3 clients), as 2 clients. */
const LOSSY = await readRunRecord(`${TESTDATA}lossy`);
const INFO: RunRecord = { ...LOSSY, config: { ...LOSSY.config, clients: 2 } };

Deno.test("analyzeRunDir: clean run — counts, percentiles, throughput by hand", async () => {
  const { summary: s, series } = await analyzeRunDir(`${TESTDATA}clean`);
  expect(s.name).toBe("clean");
  expect(s.files).toBe(2);
  expect(s.rows).toBe(40);
  expect(s.counts).toEqual({
    sent: 10,
    acked: 10,
    delivered: 10,
    received: 10,
    receptions: 10,
    lost: 0,
    lostSilently: 0,
    duplicated: 0,
    duplicatedMessages: 0,
    undecryptable: 0,
    errors: 0,
    unmatchedReceived: 0,
  });
  expect(isLossy(s)).toBe(false);
  // Message k (sent at 100·(k−1) ms) takes k ms: latencies 1..10.
  expect(s.latencyMs).toEqual({ count: 10, min: 1, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
  expect([...series.latencyBySendOrderMs]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // Window: first send (0) to last reception (910 ms).
  const t = s.throughput;
  expect(t.windowMs).toBe(910);
  expect(t.messages).toBe(10);
  expect(t.bytes).toBe(1000);
  expect(t.messagesPerSec).toBeCloseTo(10 / 0.91, 9);
  expect(t.mbPerSec).toBeCloseTo(0.001 / 0.91, 12);
  expect(t.sendRatePerSec).toBeCloseTo(10 / 0.9, 9);
  // Steady: [91, 819] ms holds receptions at 102, 203, ..., 809 → 8 in 0.728 s.
  expect(t.steady.startMs - t.startMs).toBeCloseTo(91, 6);
  expect(t.steady.endMs - t.startMs).toBeCloseTo(819, 6);
  expect(t.steady.messages).toBe(8);
  expect(t.steady.messagesPerSec).toBeCloseTo(8 / 0.728, 6);
  // Messages sent inside the steady window (at 100..800 ms): latencies 2..9.
  expect(t.steady.latencyMs.count).toBe(8);
  expect(t.steady.latencyMs.p50).toBe(5);
  expect(t.steady.latencyMs.max).toBe(9);
  // Phases: 2 registrations in 40 ms, 2 logins in 20 ms.
  expect(s.phases.registrationsPerSec).toBe(50);
  expect(s.phases.loginsPerSec).toBe(100);
  expect(s.phases.messagingMs).toBe(910);
});

Deno.test("analyzeRunDir: lossy run — loss, duplicates, undecryptable, errors", async () => {
  const { summary: s } = await analyzeRunDir(`${TESTDATA}lossy`);
  expect(s.counts).toEqual({
    sent: 6, // m1..m6
    acked: 6,
    delivered: 3, // m1..m3
    received: 5, // m1..m4 + m7
    receptions: 6, // m2 twice
    lost: 2, // m5 (silently), m6 (undecryptable)
    lostSilently: 1,
    duplicated: 1,
    duplicatedMessages: 1,
    undecryptable: 1,
    errors: 2,
    unmatchedReceived: 1, // m7 from "mallory" was never logged as sent
  });
  expect(s.errorsByCode).toEqual({ CONNECTION_CLOSED: 1, DECRYPT_FAILED: 1 });
  expect(isLossy(s)).toBe(true);
  // Latencies 2, 4, 6, 8 (first reception of m2 counts).
  expect(s.latencyMs).toEqual({ count: 4, min: 2, p50: 4, p90: 8, p99: 8, max: 8, mean: 5 });
  // Window 0..55 ms (m7's reception); 5 messages, 450 payload bytes.
  expect(s.throughput.windowMs).toBe(55);
  expect(s.throughput.messagesPerSec).toBeCloseTo(5 / 0.055, 9);
  expect(s.throughput.mbPerSec).toBeCloseTo(450e-6 / 0.055, 12);
  // Steady [5.5, 49.5] ms: receptions at 14, 26, 38.
  expect(s.throughput.steady.messages).toBe(3);
  expect(s.throughput.steady.messagesPerSec).toBeCloseTo(3 / 0.044, 9);
  // No phase ended (run.json's phases are null).
  expect(s.phases.registrationsPerSec).toBeNaN();
  expect(s.phases.loginsPerSec).toBeNaN();
});

Deno.test("RunAccumulator: steady state excludes the ramp at both ends", () => {
  const acc = new RunAccumulator(16); // small capacity: exercises growth
  let n = 0;
  const msg = (recvAt: number) => {
    const id = `m${n++}`;
    acc.add(id, EV_SENT, recvAt - 0.5, 1000, "b", "dm");
    acc.add(id, EV_RECEIVED, recvAt, 1000, "a", "dm");
  };
  for (let k = 0; k < 10; k++) msg(0.5 + 100 * k); // ramp-up: 10 in the first second
  for (let k = 0; k < 800; k++) msg(1000 + 10 * k); // 100 msg/s from 1 s to 9 s
  for (const t of [9500, 9600, 9700, 9800, 10000]) msg(t); // ramp-down
  const { summary } = acc.finish(INFO, { dir: "x/ramp/", files: 2, rows: 2 * n });
  const t = summary.throughput;
  expect(summary.name).toBe("ramp");
  expect(t.windowMs).toBe(10000);
  expect(t.messagesPerSec).toBeCloseTo(81.5, 9);
  expect(t.mbPerSec).toBeCloseTo(0.0815, 12);
  expect(t.steady.startMs).toBe(1000);
  expect(t.steady.endMs).toBe(9000);
  expect(t.steady.messages).toBe(800);
  expect(t.steady.messagesPerSec).toBeCloseTo(100, 9);
  expect(t.steady.mbPerSec).toBeCloseTo(0.1, 12);
  expect(summary.latencyMs.p99).toBe(0.5);

  const whole = acc.finish(INFO, { dir: "r", files: 2, rows: 2 * n }, { steadyTrim: 0 });
  expect(whole.summary.throughput.steady.messagesPerSec).toBeCloseTo(81.5, 9);
});

Deno.test("RunAccumulator: rows in any order; first send and first reception win", () => {
  const acc = new RunAccumulator();
  // Recipient's file read before the sender's.
  acc.add("m1", EV_RECEIVED, 120, 10, "a", "dm");
  acc.add("m1", EV_RECEIVED, 110, 10, "a", "dm");
  acc.add("m1", EV_SENT, 100, 10, "b", "dm");
  acc.add("m1", EV_ACKED, 101, 10, "b", "dm");
  acc.add("m1", EV_DELIVERED, 130, 10, "b", "dm");
  acc.add("m1", EV_DELIVERED, 131, 10, "b", "dm");
  acc.add("m2", EV_SENT, 50, 10, "b", "dm");
  acc.add("m2", EV_ERROR, 60, 0, "b", "RATE_LIMITED");
  acc.add("m3", EV_SENT, 70, 10, "b", "dm");
  acc.add("m3", EV_ERROR, 75, 10, "b", "BAD_SIGNATURE");
  acc.add("", EV_ERROR, 80, 0, "", "");
  const { summary: s, series } = acc.finish(INFO, { dir: "r", files: 2, rows: 11 });
  expect(s.counts.sent).toBe(3);
  expect(s.counts.delivered).toBe(1);
  expect(s.counts.received).toBe(1);
  expect(s.counts.duplicated).toBe(1);
  expect(s.counts.lost).toBe(2);
  expect(s.counts.lostSilently).toBe(0);
  expect(s.counts.undecryptable).toBe(1);
  expect(s.errorsByCode).toEqual({ BAD_SIGNATURE: 1, RATE_LIMITED: 1, UNSPECIFIED: 1 });
  expect(s.latencyMs.p50).toBe(10);
  // Send order: m2 (50), m3 (70), m1 (100).
  expect([...series.sentTimesMs]).toEqual([50, 70, 100]);
  expect([...series.latencyBySendOrderMs]).toEqual([NaN, NaN, 10]);
});

Deno.test("RunAccumulator: an empty run yields NaN statistics, not errors", () => {
  const { summary: s } = new RunAccumulator().finish(INFO, { dir: "r", files: 0, rows: 0 });
  expect(s.counts.sent).toBe(0);
  expect(s.latencyMs.count).toBe(0);
  expect(s.latencyMs.p50).toBeNaN();
  expect(s.throughput.messagesPerSec).toBeNaN();
  expect(s.throughput.steady.messagesPerSec).toBeNaN();
});

Deno.test("baseName", () => {
  expect(baseName("out/run-1/")).toBe("run-1");
  expect(baseName("/a/b")).toBe("b");
  expect(baseName(".")).toBe(".");
});

Deno.test("RunAccumulator: warns about logs that do not belong to the run", () => {
  const acc = new RunAccumulator();
  acc.add("old", EV_SENT, 1_000, 10, "b", "dm"); // an earlier run's log
  acc.add("new", EV_SENT, 500_000, 10, "b", "dm");
  const messaging = {
    startMs: 499_990,
    endMs: 500_100,
    lastSendMs: 500_000,
    completed: true,
    drainTimedOut: false,
    cpuSeconds: {},
  };
  const info: RunRecord = { ...INFO, phases: { ...INFO.phases, messaging } };
  const { summary } = acc.finish(info, { dir: "r", files: 4, rows: 2 });
  expect(summary.warnings).toEqual([
    "4 client logs for 2 clients",
    "1 of 2 sends lie outside the messaging phase of run.json " +
    "(client logs left over from another run?)",
  ]);
});
