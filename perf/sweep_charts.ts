/**
 * Charts across runs (a sweep, or any set of runs given to `deno task
 * analyze`): latency (p50, p99) and throughput against clients, servers
 * and payload size, one chart per dimension that varies; runs differing in
 * the other varying dimensions become separate series.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { writeSweepCharts } from "@fastchat/perf/sweep_charts";
 * const runs = [(await analyzeRunDir("perf/testdata/clean")).summary];
 * await writeSweepCharts("/tmp/charts", runs); // one run: nothing varies, no charts
 * ```
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import {
  CHART_WIDTH as WIDTH,
  chartBase as base,
  type ChartFile,
  type ChartWriteOptions,
  writeCharts,
} from "./chart_render.ts";
import type { RunSummary } from "./run_analysis.ts";
import type { RunConfig } from "./run_schema.ts";

/**
 * The parts of a run's configuration a sweep varies.
 *
 * @example
 * ```ts
 * import type { SweepConfig } from "./sweep_charts.ts";
 * const c: SweepConfig = { clients: 10, servers: 2, payload: "1KiB", payloadBytes: 1024 };
 * ```
 */
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
 * import { varyingDimensions } from "@fastchat/perf/sweep_charts";
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
 * import { sweepSpecs } from "@fastchat/perf/sweep_charts";
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
 * Renders the cross-run charts (one per varying dimension) into `chartsDir`.
 *
 * @example
 * ```ts
 * import { writeSweepCharts } from "@fastchat/perf/sweep_charts";
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
