import { expect } from "expect";
import { renderSvg } from "./chart_render.ts";
import { analyzeRunDir } from "./run_analysis.ts";
import { analyzedTestRun as run, PERF_TESTDATA } from "@fastchat/testing/perf_runs";
import { compareRows, deltaCells, formatCompareTable, overlaidCdfSpec } from "./run_compare.ts";

Deno.test("compareRows: throughput, latency, CPU and RSS by role, GC when traced", async () => {
  const a = await run("procs-s1"), b = await run("procs-s2");
  const rows = compareRows(a, b);
  const by = (label: string) => rows.find((r) => r.label === label)!;
  expect(rows.map((r) => r.label)).toEqual([
    "throughput (msg/s)",
    "steady throughput (msg/s)",
    "latency p50 (ms)",
    "latency p90 (ms)",
    "latency p99 (ms)",
    "latency max (ms)",
    "lost",
    "host check: stalls over 2 ms",
    "host check: longest stall (ms)",
    "CPU µs/msg servers",
    "CPU µs/msg database",
    "CPU µs/msg load balancer",
    "CPU µs/msg load workers",
    "CPU µs/msg total",
    "kernel µs/msg servers",
    "kernel µs/msg database",
    "kernel µs/msg load balancer",
    "kernel µs/msg load workers",
    "kernel µs/msg total",
    "RSS max servers",
    "RSS max database",
    "RSS max load balancer",
    "RSS max load workers",
    "GC pause total, servers (ms)",
    "GC pause max, servers (ms)",
    "old generation filled, servers (MB/s)",
  ]);
  expect([by("CPU µs/msg servers").a, by("CPU µs/msg servers").b]).toEqual([20_000, 22_000]);
  // The host checks before the runs (testdata): a's host stalled longer than b's.
  expect([by("host check: longest stall (ms)").a, by("host check: longest stall (ms)").b])
    .toEqual([36.08, 4.07]);
  expect(by("host check: stalls over 2 ms").b).toBe(1);
  // a was written before sys_ms was sampled; b's servers spent 20 % of 22,000 µs in the kernel.
  expect([by("kernel µs/msg servers").a, by("kernel µs/msg servers").b]).toEqual([NaN, 4_400]);
  expect(by("kernel µs/msg total").b).toBe(6_516); // 18.1 % of 36,000
  expect(compareRows(a, a).some((r) => r.label.startsWith("kernel"))).toBe(false);
  expect(by("RSS max servers").b).toBe(110 * 2 ** 20);
  expect(by("GC pause max, servers (ms)").a).toBe(3);
  expect(by("GC pause max, servers (ms)").b).toBeNaN(); // b did not trace GC
  // a's one pair of collections ends in a mark-compact: nothing kept; b: not traced.
  expect(by("old generation filled, servers (MB/s)").a).toBe(0);
  expect(by("old generation filled, servers (MB/s)").b).toBeNaN();

  // Runs without processes.csv: only the message figures.
  const clean = (await analyzeRunDir(`${PERF_TESTDATA}/clean`)).summary;
  expect(compareRows(clean, clean).length).toBe(7);
  const text = formatCompareTable(a, b, rows);
  expect(text).toMatch(/^compare a = .*procs-s1\n\s+b = .*procs-s2\n/);
  expect(text).toMatch(/latency p90 \(ms\)\s+/);
});

Deno.test("deltaCells: signed change, percent of a, better/worse beyond 5 %", () => {
  expect(deltaCells({ label: "", a: 10, b: 12, unit: "ms", better: "lower" }))
    .toEqual(["+2.000", "+20.0 % worse"]);
  expect(deltaCells({ label: "", a: 100, b: 120, unit: "rate", better: "higher" }))
    .toEqual(["+20.0", "+20.0 % better"]);
  expect(deltaCells({ label: "", a: 100, b: 97, unit: "rate", better: "higher" }))
    .toEqual(["-3.00", "-3.0 %"]);
  expect(deltaCells({ label: "", a: 0, b: 2, unit: "count", better: "lower" }))
    .toEqual(["+2", "—"]);
  expect(deltaCells({ label: "", a: NaN, b: 2, unit: "us", better: "lower" }))
    .toEqual(["—", "—"]);
  expect(deltaCells({ label: "", a: 2 ** 20, b: 2 ** 21, unit: "bytes", better: "lower" }))
    .toEqual(["+1.0 MiB", "+100.0 % worse"]);
});

Deno.test("overlaidCdfSpec: both runs in one chart, log axis over two decades", async () => {
  const runs = [
    { run: "a", points: [{ latency: 1, fraction: 0.5 }, { latency: 2, fraction: 1 }] },
    { run: "b", points: [{ latency: 3, fraction: 0.5 }, { latency: 500, fraction: 1 }] },
  ];
  const spec = overlaidCdfSpec(runs) as unknown as {
    encoding: { x: { scale: { type?: string } } };
    data: { values: unknown[] };
  };
  expect(spec.encoding.x.scale.type).toBe("log");
  expect(spec.data.values.length).toBe(4);
  const svg = await renderSvg(overlaidCdfSpec(runs));
  expect(svg).toContain("Latency CDF — both runs");
  expect(svg).toMatch(/>a</);
  expect(svg).toMatch(/>b</);
});
