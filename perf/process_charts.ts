/**
 * Charts of a run's processes (`process_analysis.ts`): resident memory of
 * every process over the run, with the messaging phase shaded, and the CPU
 * each process spent per message in the messaging phase.
 *
 * @example
 * ```ts
 * import { processChartSpecs } from "./process_charts.ts";
 * import { summarizeProcesses } from "./process_analysis.ts";
 * const specs = processChartSpecs("run1", summarizeProcesses([], { messages: 1 }));
 * ```
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { CHART_HEIGHT as HEIGHT, CHART_WIDTH as WIDTH, chartBase as base } from "./chart_render.ts";
import type { ProcessSummary, RssSeries } from "./process_analysis.ts";

/**
 * RSS (MiB) of every process against seconds since the first sample.
 *
 * @example
 * ```ts
 * import { rssOverTimeSpec } from "./process_charts.ts";
 * const spec = rssOverTimeSpec("run1", { points: [{ t: 0, name: "srv-1", mib: 70 }], messaging: null });
 * ```
 */
export function rssOverTimeSpec(runName: string, rss: RssSeries): TopLevelSpec {
  const layers: unknown[] = [];
  if (rss.messaging) {
    layers.push({
      data: { values: [{ from: rss.messaging[0], to: rss.messaging[1] }] },
      mark: { type: "rect", color: "#2ca02c", opacity: 0.12 },
      encoding: { x: { field: "from", type: "quantitative" }, x2: { field: "to" } },
    });
  }
  layers.push({
    data: { values: rss.points },
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "t", type: "quantitative", title: "time since the workers started (s)" },
      y: { field: "mib", type: "quantitative", title: "RSS (MiB)" },
      color: { field: "name", type: "nominal", title: null, legend: { orient: "right" } },
    },
  });
  return {
    ...base(
      `Resident memory — ${runName}`,
      rss.messaging ? "shaded: messaging phase" : "no messaging phase sampled",
    ),
    width: WIDTH,
    height: HEIGHT,
    layer: layers,
  } as unknown as TopLevelSpec;
}

/**
 * CPU µs per message of each process in the messaging phase (bars).
 *
 * @example
 * ```ts
 * import { cpuPerMessageSpec } from "./process_charts.ts";
 * import { summarizeProcesses } from "./process_analysis.ts";
 * const spec = cpuPerMessageSpec("run1", summarizeProcesses([], { messages: 1 }).summary);
 * ```
 */
export function cpuPerMessageSpec(runName: string, s: ProcessSummary): TopLevelSpec {
  const values = s.processes.filter((p) => Number.isFinite(p.cpuUsPerMsg)).map((p) => ({
    name: p.name,
    role: p.role,
    us: p.cpuUsPerMsg,
  }));
  return {
    ...base(
      `CPU per message — ${runName}`,
      `messaging phase; total ${
        Number.isFinite(s.total.cpuUsPerMsg) ? s.total.cpuUsPerMsg : "—"
      } µs/msg`,
    ),
    width: WIDTH,
    height: Math.max(60, 22 * values.length),
    data: { values },
    mark: { type: "bar" },
    encoding: {
      y: { field: "name", type: "nominal", title: null, sort: null },
      x: { field: "us", type: "quantitative", title: "CPU µs per message received" },
      color: { field: "role", type: "nominal", title: "role" },
    },
  } as unknown as TopLevelSpec;
}

/**
 * The process charts of a run (none when nothing was sampled).
 *
 * @example
 * ```ts
 * import { processChartSpecs } from "./process_charts.ts";
 * import { summarizeProcesses } from "./process_analysis.ts";
 * processChartSpecs("run1", summarizeProcesses([], { messages: 1 })).length; // 0
 * ```
 */
export function processChartSpecs(
  runName: string,
  p: { summary: ProcessSummary; rss: RssSeries },
): { name: string; title: string; spec: TopLevelSpec }[] {
  if (p.summary.processes.length === 0) return [];
  return [
    {
      name: "rss-over-time",
      title: "Resident memory over time",
      spec: rssOverTimeSpec(runName, p.rss),
    },
    {
      name: "cpu-per-message",
      title: "CPU per message",
      spec: cpuPerMessageSpec(runName, p.summary),
    },
  ];
}
