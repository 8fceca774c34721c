/**
 * Two runs side by side (`deno task analyze <runA> <runB>`): a deltas
 * table — throughput, latency percentiles, CPU µs per message by role and
 * the kernel's part of it, the largest RSS by role, GC pauses — with B − A
 * and the change in percent, and the latency CDFs of both runs overlaid. Written as `compare.html`
 * (and `charts/compare-latency-cdf.svg|png`) in the output directory.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { compareRows, formatCompareTable } from "./run_compare.ts";
 * const a = (await analyzeRunDir("perf/testdata/clean")).summary;
 * const b = (await analyzeRunDir("perf/testdata/lossy")).summary;
 * console.log(formatCompareTable(a, b, compareRows(a, b)));
 * ```
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { cdfChartSpec } from "./charts.ts";
import type { ProcessRole } from "./process_sampler.ts";
import type { RunSummary } from "./run_analysis.ts";
import { alignTable, fmtBytes, fmtMs, fmtRate, MISSING } from "./table_format.ts";

/**
 * One compared figure: `better` says which direction is an improvement.
 *
 * @example
 * ```ts
 * import type { CompareRow } from "./run_compare.ts";
 * const r: CompareRow = { label: "msg/s", a: 100, b: 120, unit: "rate", better: "higher" };
 * ```
 */
export interface CompareRow {
  label: string;
  a: number;
  b: number;
  unit: "rate" | "ms" | "us" | "bytes" | "count";
  better: "higher" | "lower";
}

const ROLES: [ProcessRole, string][] = [
  ["server", "servers"],
  ["db", "database"],
  ["lb", "load balancer"],
  ["worker", "load workers"],
];

/**
 * The figures compared, in table order. Process rows appear when either
 * run has `processes.csv`; kernel rows when either sampled `sys_ms`; GC
 * rows when either traced GC.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { compareRows } from "./run_compare.ts";
 * const a = (await analyzeRunDir("perf/testdata/clean")).summary;
 * compareRows(a, a)[0].label; // "throughput (msg/s)"
 * ```
 */
export function compareRows(a: RunSummary, b: RunSummary): CompareRow[] {
  const rows: CompareRow[] = [];
  const add = (
    label: string,
    f: (s: RunSummary) => number,
    unit: CompareRow["unit"],
    better: CompareRow["better"],
  ) => rows.push({ label, a: f(a), b: f(b), unit, better });
  add("throughput (msg/s)", (s) => s.throughput.messagesPerSec, "rate", "higher");
  add("steady throughput (msg/s)", (s) => s.throughput.steady.messagesPerSec, "rate", "higher");
  add("latency p50 (ms)", (s) => s.latencyMs.p50, "ms", "lower");
  add("latency p90 (ms)", (s) => s.latencyMs.p90, "ms", "lower");
  add("latency p99 (ms)", (s) => s.latencyMs.p99, "ms", "lower");
  add("latency max (ms)", (s) => s.latencyMs.max, "ms", "lower");
  add("lost", (s) => s.counts.lost, "count", "lower");
  if (a.info.hostStalls || b.info.hostStalls) {
    // The host's doing, not the build's: runs compare fairly only when these are alike.
    add("host check: stalls over 2 ms", (s) => s.info.hostStalls?.over2Ms ?? NaN, "count", "lower");
    add(
      "host check: longest stall (ms)",
      (s) => s.info.hostStalls?.longestMs ?? NaN,
      "ms",
      "lower",
    );
  }
  if (!a.processes && !b.processes) return rows;
  const role = (s: RunSummary, r: ProcessRole) => s.processes?.roles.find((x) => x.role === r);
  for (const [r, label] of ROLES) {
    if (!role(a, r) && !role(b, r)) continue;
    add(`CPU µs/msg ${label}`, (s) => role(s, r)?.cpuUsPerMsg ?? NaN, "us", "lower");
  }
  add("CPU µs/msg total", (s) => s.processes?.total.cpuUsPerMsg ?? NaN, "us", "lower");
  // The kernel's part of it (system calls, loopback TCP), where a run sampled it.
  const kernel = (u: { cpuUsPerMsg: number; sysShare: number } | undefined) =>
    u && Number.isFinite(u.sysShare) ? Math.round(u.cpuUsPerMsg * u.sysShare * 100) / 100 : NaN;
  if ([a, b].some((s) => Number.isFinite(s.processes?.total.sysShare))) {
    for (const [r, label] of ROLES) {
      if (!role(a, r) && !role(b, r)) continue;
      add(`kernel µs/msg ${label}`, (s) => kernel(role(s, r)), "us", "lower");
    }
    add("kernel µs/msg total", (s) => kernel(s.processes?.total), "us", "lower");
  }
  for (const [r, label] of ROLES) {
    if (!role(a, r) && !role(b, r)) continue;
    add(`RSS max ${label}`, (s) => role(s, r)?.rssMaxBytes ?? NaN, "bytes", "lower");
  }
  if (a.processes?.gcTraced || b.processes?.gcTraced) {
    const gc = (s: RunSummary, f: "totalMs" | "maxMs" | "oldGenMbPerS") => {
      if (!s.processes?.gcTraced) return NaN;
      const v = s.processes.processes.filter((p) => p.role === "server" && p.gc)
        .map((p) => p.gc![f]).filter((x): x is number => x !== null);
      if (f === "maxMs") return Math.max(0, ...v);
      // Summed over the servers (an old-generation rate needs two collections in the phase).
      return f === "totalMs" || v.length
        ? Math.round(v.reduce((x, y) => x + y, 0) * 1000) / 1000
        : NaN;
    };
    add("GC pause total, servers (ms)", (s) => gc(s, "totalMs"), "ms", "lower");
    add("GC pause max, servers (ms)", (s) => gc(s, "maxMs"), "ms", "lower");
    add("old generation filled, servers (MB/s)", (s) => gc(s, "oldGenMbPerS"), "rate", "lower");
  }
  return rows;
}

function fmt(v: number, unit: CompareRow["unit"]): string {
  if (!Number.isFinite(v)) return MISSING;
  if (unit === "bytes") return fmtBytes(v);
  if (unit === "count") return String(v);
  return unit === "ms" ? fmtMs(v) : fmtRate(v);
}

/**
 * The change B − A of a row, as text, and in percent of A (signed; with
 * `better` or `worse` when it is more than 5 %).
 *
 * @example
 * ```ts
 * import { deltaCells } from "./run_compare.ts";
 * deltaCells({ label: "p99", a: 10, b: 12, unit: "ms", better: "lower" }); // ["+2.000", "+20.0 % worse"]
 * ```
 */
export function deltaCells(r: CompareRow): [string, string] {
  if (!Number.isFinite(r.a) || !Number.isFinite(r.b)) return [MISSING, MISSING];
  const d = r.b - r.a;
  const sign = d > 0 ? "+" : d < 0 ? "-" : "±";
  const abs = r.unit === "bytes" ? fmtBytes(Math.abs(d)) : fmt(Math.abs(d), r.unit);
  if (r.a === 0) return [`${sign}${abs}`, MISSING];
  const pct = (d / Math.abs(r.a)) * 100;
  const verdict = Math.abs(pct) <= 5
    ? ""
    : (d > 0) === (r.better === "higher")
    ? " better"
    : " worse";
  return [`${sign}${abs}`, `${pct >= 0 ? "+" : ""}${pct.toFixed(1)} %${verdict}`];
}

/**
 * Header and cells of the deltas table (text and HTML).
 *
 * @example
 * ```ts
 * import { compareTableRows } from "./run_compare.ts";
 * compareTableRows("a", "b", [])[0]; // ["", "a", "b", "Δ (b − a)", "Δ %"]
 * ```
 */
export function compareTableRows(nameA: string, nameB: string, rows: CompareRow[]): string[][] {
  return [
    ["", nameA, nameB, `Δ (b − a)`, "Δ %"],
    ...rows.map((r) => [r.label, fmt(r.a, r.unit), fmt(r.b, r.unit), ...deltaCells(r)]),
  ];
}

/**
 * The deltas table as text, with both runs' configurations above it.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { compareRows, formatCompareTable } from "./run_compare.ts";
 * const a = (await analyzeRunDir("perf/testdata/clean")).summary;
 * console.log(formatCompareTable(a, a, compareRows(a, a)));
 * ```
 */
export function formatCompareTable(a: RunSummary, b: RunSummary, rows: CompareRow[]): string {
  return `compare a = ${a.dir}\n        b = ${b.dir}\n` +
    alignTable(compareTableRows("a", "b", rows), "  ");
}

/**
 * The latency CDFs of both runs overlaid (log x axis when the latencies
 * span two decades).
 *
 * @example
 * ```ts
 * import { overlaidCdfSpec } from "./run_compare.ts";
 * const spec = overlaidCdfSpec([
 *   { run: "a", points: [{ latency: 1, fraction: 1 }] },
 *   { run: "b", points: [{ latency: 2, fraction: 1 }] },
 * ]);
 * ```
 */
export function overlaidCdfSpec(
  runs: { run: string; points: { latency: number; fraction: number }[] }[],
): TopLevelSpec {
  const values = runs.flatMap((r) => r.points.map((p) => ({ run: r.run, ...p })));
  const lats = values.map((v) => v.latency).filter((x) => x > 0);
  const lo = Math.min(...lats), hi = Math.max(...lats);
  const log = lats.length > 0 && hi / lo >= 100;
  return cdfChartSpec({
    title: "Latency CDF — both runs",
    values,
    log,
    color: {
      field: "run",
      type: "nominal",
      title: null,
      sort: runs.map((r) => r.run),
      legend: { orient: "bottom", direction: "vertical", labelLimit: 600 },
    },
  });
}
