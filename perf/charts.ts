/**
 * Charts of load-test runs as vega-lite specs, compiled with `vega-lite`,
 * rendered to SVG by `vega` (headless, `renderer: "none"`) and to PNG by
 * `@resvg/resvg-js` with the system fonts.
 *
 * Per run: latency by message number (send order, downsampled to at most
 * 5,000 points: evenly spaced samples plus the slowest messages), latency CDF and throughput over
 * time. Across runs: latency (p50, p99) and throughput against clients,
 * servers and payload size, one chart per dimension that varies.
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
import * as vega from "vega";
import * as vl from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import type { RunConfig } from "./run_schema.ts";
import type { RunAnalysis, RunSummary } from "./run_analysis.ts";
import { type ThroughputSeries, throughputSeries } from "./throughput.ts";

/** Most points of the latency-by-message chart. */
export const MAX_SCATTER_POINTS = 5_000;
/** Most points of the latency CDF. */
export const MAX_CDF_POINTS = 1_000;

/** Font stack of every chart (DejaVu Sans is what the PNG renderer finds on Linux). */
export const CHART_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

const WIDTH = 640;
const HEIGHT = 280;

/** A rendered chart. */
export interface Chart {
  /** File stem, e.g. `latency-by-message`. */
  name: string;
  title: string;
  svg: string;
}

/** A chart written to disk. */
export interface ChartFile extends Chart {
  svgPath: string;
  /** Absent when PNG output was turned off. */
  pngPath?: string;
}

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

function base(title: string, subtitle?: string) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: subtitle ? { text: title, subtitle } : title,
    background: "white",
    padding: 12,
    config: {
      font: CHART_FONT,
      title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" },
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
      legend: { labelFontSize: 11, titleFontSize: 12 },
      view: { stroke: "#ccc" },
    },
  } as const;
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
  return {
    ...base(`Latency CDF — ${runName}`, log ? "log latency axis" : undefined),
    width: WIDTH,
    height: HEIGHT,
    data: { values: pts },
    mark: { type: "line", interpolate: "step-after", color: "#1f77b4" },
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
    },
  } as TopLevelSpec;
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

/** The parts of a run's configuration a sweep varies. */
export type SweepConfig = Pick<RunConfig, "clients" | "servers" | "payload" | "payloadBytes">;

interface Dimension {
  key: "clients" | "servers" | "payload";
  title: string;
  value(c: SweepConfig): number | undefined;
  label(c: SweepConfig): string | undefined;
}

const DIMENSIONS: Dimension[] = [
  { key: "clients", title: "clients", value: (c) => c.clients, label: (c) => `${c.clients}` },
  {
    key: "servers",
    title: "servers",
    value: (c) => c.servers ?? undefined,
    label: (c) => c.servers === null ? undefined : `${c.servers}`,
  },
  {
    key: "payload",
    title: "payload size",
    value: (c) => c.payloadBytes,
    label: (c) => c.payload,
  },
];

/**
 * The sweep dimensions (clients, servers, payload) that take more than one
 * value across the runs.
 *
 * @example
 * ```ts
 * import { varyingDimensions } from "@fastchat/perf/charts";
 * const c = { clients: 10, servers: 1, payload: "100B", payloadBytes: 100 };
 * varyingDimensions([c, { ...c, clients: 20 }]); // ["clients"]
 * ```
 */
export function varyingDimensions(configs: SweepConfig[]): ("clients" | "servers" | "payload")[] {
  return DIMENSIONS.filter((d) => {
    const vals = new Set(configs.map((c) => d.value(c)).filter((v) => v !== undefined));
    return vals.size > 1;
  }).map((d) => d.key);
}

interface SweepPoint {
  x: number;
  xLabel: string;
  series: string;
  value: number;
}

/** Means the values of points sharing (x, series); drops non-finite values. */
function meanPoints(points: SweepPoint[]): SweepPoint[] {
  const acc = new Map<string, SweepPoint & { n: number }>();
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const k = `${p.x}\u0000${p.series}`;
    const a = acc.get(k);
    if (a) {
      a.value += p.value;
      a.n++;
    } else acc.set(k, { ...p, n: 1 });
  }
  return [...acc.values()].map(({ n, ...p }) => ({ ...p, value: p.value / n }));
}

/**
 * One chart spec per varying dimension: latency p50/p99, throughput (whole
 * run and steady state) and, for payload size, MB/s against the dimension.
 * Runs differing in other dimensions become separate series; repeated
 * configurations are averaged.
 *
 * @example
 * ```ts
 * import { sweepSpecs } from "@fastchat/perf/charts";
 * console.log(sweepSpecs([]).length); // 0
 * ```
 */
export function sweepSpecs(
  runs: RunSummary[],
): { name: string; title: string; spec: TopLevelSpec }[] {
  const configs = runs.map((r) => r.info.config);
  const varying = varyingDimensions(configs);
  const out: { name: string; title: string; spec: TopLevelSpec }[] = [];
  for (const key of varying) {
    const dim = DIMENSIONS.find((d) => d.key === key)!;
    const others = DIMENSIONS.filter((d) => d.key !== key && varying.includes(d.key));
    const lat: SweepPoint[] = [], thr: SweepPoint[] = [], mb: SweepPoint[] = [];
    for (const r of runs) {
      const c = r.info.config;
      const x = dim.value(c);
      if (x === undefined) continue;
      const xLabel = dim.label(c) ?? String(x);
      const group = others.map((d) => `${d.key}=${d.label(c) ?? "—"}`).join(", ");
      const s = (m: string) => group ? `${group} · ${m}` : m;
      lat.push({ x, xLabel, series: s("p50"), value: r.latencyMs.p50 });
      lat.push({ x, xLabel, series: s("p99"), value: r.latencyMs.p99 });
      thr.push({ x, xLabel, series: s("whole run"), value: r.throughput.messagesPerSec });
      thr.push({ x, xLabel, series: s("steady"), value: r.throughput.steady.messagesPerSec });
      mb.push({ x, xLabel, series: s("whole run"), value: r.throughput.mbPerSec });
      mb.push({ x, xLabel, series: s("steady"), value: r.throughput.steady.mbPerSec });
    }
    const xs = [...new Set(lat.map((p) => p.x))].sort((a, b) => a - b);
    const ordinal = key === "payload";
    const labelOrder = ordinal
      ? [...new Set(lat.sort((a, b) => a.x - b.x).map((p) => p.xLabel))]
      : undefined;
    const logX = !ordinal && xs[0] > 0 && xs[xs.length - 1] / xs[0] >= 20;
    const xEnc = ordinal
      ? {
        field: "xLabel",
        type: "ordinal",
        title: dim.title,
        sort: labelOrder,
        axis: { labelAngle: 0 },
      }
      : {
        field: "x",
        type: "quantitative",
        title: dim.title,
        scale: logX ? { type: "log" } : { zero: false },
        axis: { tickMinStep: 1 },
      };
    const panel = (values: SweepPoint[], yTitle: string) => ({
      width: WIDTH,
      height: 220,
      data: { values: meanPoints(values) },
      mark: { type: "line", point: true },
      encoding: {
        x: xEnc,
        y: { field: "value", type: "quantitative", title: yTitle },
        color: { field: "series", type: "nominal", title: null },
      },
    });
    const panels = [panel(lat, "latency (ms)"), panel(thr, "messages / s")];
    if (key === "payload") panels.push(panel(mb, "MB / s"));
    const title = `Latency and throughput vs ${dim.title}`;
    out.push({
      name: `sweep-${key}`,
      title,
      spec: {
        ...base(title, `${runs.length} runs`),
        vconcat: panels,
        resolve: { scale: { color: "independent" } },
      } as unknown as TopLevelSpec,
    });
  }
  return out;
}

/**
 * Compiles a vega-lite spec and renders it to an SVG string.
 *
 * @example
 * ```ts
 * import { latencyCdfSpec, renderSvg } from "@fastchat/perf/charts";
 * const svg = await renderSvg(latencyCdfSpec("run1", [1, 2, 3]));
 * ```
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Quiet loggers: empty data (e.g. a run with nothing received) is fine.
  const compiled = vl.compile(spec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Rasterizes an SVG to PNG with the system fonts.
 *
 * @example
 * ```ts
 * import { svgToPng } from "@fastchat/perf/charts";
 * const png = svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
 * ```
 */
export function svgToPng(svg: string): Uint8Array {
  const r = new Resvg(svg, {
    font: {
      loadSystemFonts: true,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
    },
  });
  return r.render().asPng();
}

/** Options of {@link writeRunCharts} and {@link writeSweepCharts}. */
export interface ChartWriteOptions {
  /** Also write PNGs (default true). */
  png?: boolean;
}

async function writeCharts(
  dir: string,
  charts: { name: string; title: string; spec: TopLevelSpec }[],
  opts: ChartWriteOptions,
): Promise<ChartFile[]> {
  await Deno.mkdir(dir, { recursive: true });
  const out: ChartFile[] = [];
  for (const c of charts) {
    const svg = await renderSvg(c.spec);
    const svgPath = `${dir}/${c.name}.svg`;
    await Deno.writeTextFile(svgPath, svg);
    const file: ChartFile = { name: c.name, title: c.title, svg, svgPath };
    if (opts.png !== false) {
      file.pngPath = `${dir}/${c.name}.png`;
      await Deno.writeFile(file.pngPath, svgToPng(svg));
    }
    out.push(file);
  }
  return out;
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

/**
 * Renders the cross-run charts (one per varying dimension) into `chartsDir`.
 *
 * @example
 * ```ts
 * import { writeSweepCharts } from "@fastchat/perf/charts";
 * await writeSweepCharts("/tmp/c", []); // nothing varies: no charts
 * ```
 */
export function writeSweepCharts(
  chartsDir: string,
  runs: RunSummary[],
  opts: ChartWriteOptions = {},
): Promise<ChartFile[]> {
  const specs = sweepSpecs(runs);
  return specs.length ? writeCharts(chartsDir, specs, opts) : Promise.resolve([]);
}
