/**
 * The charts of one load-test run as vega-lite specs: latency by message
 * number (send order, downsampled to at most 5,000 points: evenly spaced
 * samples plus the slowest messages), latency CDF and throughput over time.
 * Rendering is `chart_render.ts`; charts across runs are `sweep_charts.ts`.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { writeRunCharts } from "@fastchat/perf/charts";
 * const run = await analyzeRunDir("perf/testdata/clean");
 * for (const c of await writeRunCharts("/tmp/charts", run)) console.log(c.svgPath);
 * ```
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import {
  CHART_HEIGHT as HEIGHT,
  CHART_WIDTH as WIDTH,
  chartBase as base,
  type ChartFile,
  type ChartWriteOptions,
  writeCharts,
} from "./chart_render.ts";
import type { RunAnalysis } from "./run_analysis.ts";
import { type ThroughputSeries, throughputSeries } from "./throughput.ts";

/**
 * Most points of the latency-by-message chart.
 *
 * @example
 * ```ts
 * import { downsample, MAX_SCATTER_POINTS } from "@fastchat/perf/charts";
 * downsample(new Float64Array(100_000), MAX_SCATTER_POINTS).length <= MAX_SCATTER_POINTS; // true
 * ```
 */
export const MAX_SCATTER_POINTS = 5_000;
/**
 * Most points of the latency CDF.
 *
 * @example
 * ```ts
 * import { cdfPoints, MAX_CDF_POINTS } from "@fastchat/perf/charts";
 * cdfPoints(new Float64Array(100_000), MAX_CDF_POINTS).length; // 1000
 * ```
 */
export const MAX_CDF_POINTS = 1_000;

/**
 * Downsamples a series to at most `maxPoints` (NaNs skipped): the
 * `outlierShare` largest values are always kept (spikes stay visible) and the
 * rest of the budget goes to evenly spaced samples (the typical band stays
 * representative). `i` is the 1-based position in the input; the result is
 * in input order.
 *
 * @example
 * ```ts
 * import { downsample } from "@fastchat/perf/charts";
 * downsample([5, 1, 9, 2], 10); // all four points
 * ```
 */
export function downsample(
  values: ArrayLike<number>,
  maxPoints = MAX_SCATTER_POINTS,
  outlierShare = 0.2,
): { i: number; v: number }[] {
  const n = values.length;
  let finiteCount = 0;
  for (let k = 0; k < n; k++) if (values[k] === values[k]) finiteCount++;
  const keep = new Uint8Array(n);
  if (finiteCount <= maxPoints) {
    for (let k = 0; k < n; k++) if (values[k] === values[k]) keep[k] = 1;
  } else {
    const outliers = Math.floor(maxPoints * outlierShare);
    const sorted = new Float64Array(finiteCount);
    for (let k = 0, j = 0; k < n; k++) if (values[k] === values[k]) sorted[j++] = values[k];
    sorted.sort();
    let budget = maxPoints;
    if (outliers > 0) {
      const threshold = sorted[finiteCount - outliers];
      // Strictly above the threshold first, then ties, so the count stays bounded.
      for (let k = 0; k < n && budget > maxPoints - outliers; k++) {
        if (values[k] > threshold) (keep[k] = 1, budget--);
      }
      for (let k = 0; k < n && budget > maxPoints - outliers; k++) {
        if (values[k] === threshold && !keep[k]) (keep[k] = 1, budget--);
      }
    }
    // Evenly spaced over the finite values.
    const step = finiteCount / budget;
    let next = 0, seen = 0;
    for (let k = 0; k < n && budget > 0; k++) {
      if (values[k] !== values[k]) continue;
      if (seen >= next) {
        if (!keep[k]) (keep[k] = 1, budget--);
        next += step;
      }
      seen++;
    }
  }
  const out: { i: number; v: number }[] = [];
  for (let k = 0; k < n; k++) if (keep[k]) out.push({ i: k + 1, v: values[k] });
  return out;
}

/**
 * Points of the empirical CDF of ascending samples, at most `maxPoints`
 * (always including the minimum and the maximum).
 *
 * @example
 * ```ts
 * import { cdfPoints } from "@fastchat/perf/charts";
 * cdfPoints(Float64Array.of(1, 2, 3, 4)); // [{ latency: 1, fraction: 0.25 }, ...]
 * ```
 */
export function cdfPoints(
  sorted: ArrayLike<number>,
  maxPoints = MAX_CDF_POINTS,
): { latency: number; fraction: number }[] {
  const n = sorted.length;
  if (n === 0) return [];
  const m = Math.min(n, Math.max(2, maxPoints));
  const out: { latency: number; fraction: number }[] = [];
  let prev = -1;
  for (let k = 0; k < m; k++) {
    const idx = m === 1 ? n - 1 : Math.round((k * (n - 1)) / (m - 1));
    if (idx === prev) continue;
    prev = idx;
    out.push({ latency: sorted[idx], fraction: (idx + 1) / n });
  }
  return out;
}

/**
 * Latency of every message (downsampled) against its number in send order.
 *
 * @example
 * ```ts
 * import { latencyByMessageSpec } from "@fastchat/perf/charts";
 * const spec = latencyByMessageSpec("run1", Float64Array.of(1.5, 2.5, NaN));
 * ```
 */
export function latencyByMessageSpec(
  runName: string,
  latencyBySendOrderMs: ArrayLike<number>,
): TopLevelSpec {
  const pts = downsample(latencyBySendOrderMs);
  const n = latencyBySendOrderMs.length;
  let received = 0;
  for (let k = 0; k < n; k++) if (latencyBySendOrderMs[k] === latencyBySendOrderMs[k]) received++;
  const fmt = (x: number) => x.toLocaleString("en-US");
  const note = pts.length < received
    ? `${fmt(received)} messages received; showing ${fmt(pts.length)}: evenly spaced + the slowest`
    : `${fmt(received)} messages received`;
  return {
    ...base(`Latency by message — ${runName}`, note),
    width: WIDTH,
    height: HEIGHT,
    data: { values: pts },
    mark: { type: "point", filled: true, size: 10, opacity: 0.6, color: "#1f77b4" },
    encoding: {
      x: { field: "i", type: "quantitative", title: "message # (send order)" },
      y: { field: "v", type: "quantitative", title: "latency (ms)" },
    },
  } as TopLevelSpec;
}

/**
 * Empirical CDF of the latencies (log x axis when they span two decades).
 *
 * @example
 * ```ts
 * import { latencyCdfSpec } from "@fastchat/perf/charts";
 * const spec = latencyCdfSpec("run1", Float64Array.of(1, 2, 3));
 * ```
 */
export function latencyCdfSpec(runName: string, sortedLatencyMs: ArrayLike<number>): TopLevelSpec {
  const pts = cdfPoints(sortedLatencyMs);
  const lo = pts.length ? pts[0].latency : NaN;
  const hi = pts.length ? pts[pts.length - 1].latency : NaN;
  const log = lo > 0 && hi / lo >= 100;
  return cdfChartSpec({
    title: `Latency CDF — ${runName}`,
    values: pts,
    log,
    lineColor: "#1f77b4",
  });
}

/**
 * A latency CDF chart (step line, fraction axis 0–100 %) of `values`, each
 * with `latency` (ms) and `fraction`; a log latency axis when `log`. One line
 * in `lineColor`, or one line per value of the field that `color` encodes.
 *
 * @example
 * ```ts
 * import { cdfChartSpec } from "@fastchat/perf/charts";
 * const spec = cdfChartSpec({
 *   title: "Latency CDF",
 *   values: [{ latency: 1, fraction: 0.5 }, { latency: 2, fraction: 1 }],
 *   log: false,
 *   lineColor: "#1f77b4",
 * });
 * ```
 */
export function cdfChartSpec(opts: {
  title: string;
  values: { latency: number; fraction: number }[];
  log: boolean;
  lineColor?: string;
  color?: Record<string, unknown>;
}): TopLevelSpec {
  const { log } = opts;
  return {
    ...base(opts.title, log ? "log latency axis" : undefined),
    width: WIDTH,
    height: HEIGHT,
    data: { values: opts.values },
    mark: {
      type: "line",
      interpolate: "step-after",
      ...(opts.lineColor ? { color: opts.lineColor } : {}),
    },
    encoding: {
      x: {
        field: "latency",
        type: "quantitative",
        title: "latency (ms)",
        scale: log ? { type: "log" } : { zero: true },
      },
      y: {
        field: "fraction",
        type: "quantitative",
        title: "fraction of messages",
        scale: { domain: [0, 1] },
        axis: { format: ".0%" },
      },
      ...(opts.color ? { color: opts.color } : {}),
    },
  } as unknown as TopLevelSpec;
}

/**
 * Sent and received messages per second over the run.
 *
 * @example
 * ```ts
 * import { throughputSpec } from "@fastchat/perf/charts";
 * import { throughputSeries } from "@fastchat/perf/throughput";
 * const spec = throughputSpec("run1", throughputSeries([0, 900], [5, 905]));
 * ```
 */
export function throughputSpec(runName: string, series: ThroughputSeries): TopLevelSpec {
  const values: { t: number; series: string; rate: number }[] = [];
  for (const p of series.points) {
    values.push({ t: p.tSec, series: "received", rate: p.receivedPerSec });
    values.push({ t: p.tSec, series: "sent", rate: p.sentPerSec });
  }
  const bucket = series.bucketMs >= 1_000
    ? `${series.bucketMs / 1_000} s`
    : `${series.bucketMs} ms`;
  return {
    ...base(`Throughput over time — ${runName}`, `${bucket} buckets`),
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "t", type: "quantitative", title: "time since first message (s)" },
      y: { field: "rate", type: "quantitative", title: "messages / s" },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: { domain: ["received", "sent"], range: ["#1f77b4", "#ff7f0e"] },
        legend: { orient: "top", direction: "horizontal" },
      },
    },
  } as TopLevelSpec;
}

/**
 * The three per-run chart specs (latency by message, latency CDF,
 * throughput over time).
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { runChartSpecs } from "@fastchat/perf/charts";
 * console.log(runChartSpecs(await analyzeRunDir("perf/testdata/clean")).map((c) => c.name));
 * ```
 */
export function runChartSpecs(
  run: RunAnalysis,
): { name: string; title: string; spec: TopLevelSpec }[] {
  const name = run.summary.name;
  const s = run.series;
  return [
    {
      name: "latency-by-message",
      title: "Latency by message",
      spec: latencyByMessageSpec(name, s.latencyBySendOrderMs),
    },
    { name: "latency-cdf", title: "Latency CDF", spec: latencyCdfSpec(name, s.sortedLatencyMs) },
    {
      name: "throughput",
      title: "Throughput over time",
      spec: throughputSpec(name, throughputSeries(s.sentTimesMs, s.receivedTimesMs)),
    },
  ];
}

/**
 * Renders a run's charts into `chartsDir` (`*.svg` and `*.png`).
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { writeRunCharts } from "@fastchat/perf/charts";
 * await writeRunCharts("/tmp/c", await analyzeRunDir("perf/testdata/clean"), { png: false });
 * ```
 */
export function writeRunCharts(
  chartsDir: string,
  run: RunAnalysis,
  opts: ChartWriteOptions = {},
): Promise<ChartFile[]> {
  return writeCharts(chartsDir, runChartSpecs(run), opts);
}
