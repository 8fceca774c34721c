/**
 * Rendering of the perf charts: vega-lite specs compiled with `vega-lite`,
 * rendered to SVG by `vega` (headless, `renderer: "none"`) and to PNG by
 * `@resvg/resvg-js` with the system fonts; the style every chart shares
 * ({@link chartBase}) and writing charts to a directory.
 *
 * @example
 * ```ts
 * import { renderSvg, svgToPng } from "./chart_render.ts";
 * import { latencyCdfSpec } from "./charts.ts";
 * const svg = await renderSvg(latencyCdfSpec("run1", [1, 2, 3]));
 * await Deno.writeFile("/tmp/cdf.png", svgToPng(svg));
 * ```
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";

/**
 * Font stack of every chart (DejaVu Sans is what the PNG renderer finds on Linux).
 *
 * @example
 * ```ts
 * import { CHART_FONT } from "./chart_render.ts";
 * CHART_FONT.startsWith("DejaVu Sans"); // true
 * ```
 */
export const CHART_FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
/**
 * Width of a chart's plot area (px).
 *
 * @example
 * ```ts
 * import { CHART_HEIGHT, CHART_WIDTH } from "./chart_render.ts";
 * const aspect = CHART_WIDTH / CHART_HEIGHT;
 * ```
 */
export const CHART_WIDTH = 640;
/**
 * Height of a chart's plot area (px).
 *
 * @example
 * ```ts
 * import { CHART_HEIGHT } from "./chart_render.ts";
 * const spec = { height: CHART_HEIGHT };
 * ```
 */
export const CHART_HEIGHT = 280;

/**
 * A rendered chart.
 *
 * @example
 * ```ts
 * import type { Chart } from "./chart_render.ts";
 * const c: Chart = { name: "cdf", title: "Latency CDF", svg: "<svg/>" };
 * ```
 */
export interface Chart {
  /** File stem, e.g. `latency-by-message`. */
  name: string;
  title: string;
  svg: string;
}

/**
 * A chart written to disk.
 *
 * @example
 * ```ts
 * import { writeCharts } from "./chart_render.ts";
 * import { latencyCdfSpec } from "./charts.ts";
 * const [file] = await writeCharts("/tmp/c", [{ name: "cdf", title: "CDF", spec: latencyCdfSpec("r", [1]) }]);
 * console.log(file.svgPath, file.pngPath);
 * ```
 */
export interface ChartFile extends Chart {
  svgPath: string;
  /** Absent when PNG output was turned off. */
  pngPath?: string;
}

/**
 * What {@link chartBase} returns: the top-level fields every chart spec starts with.
 *
 * @example
 * ```ts
 * import { type ChartBase, chartBase } from "./chart_render.ts";
 * const b: ChartBase = chartBase("Throughput");
 * ```
 */
export interface ChartBase {
  $schema: string;
  title: string | { text: string; subtitle: string };
  background: string;
  padding: number;
  config: { font: string } & Record<string, unknown>;
}

/**
 * The common top of every chart spec: schema, title (and subtitle), white
 * background, fonts and axis style.
 *
 * @example
 * ```ts
 * import { chartBase } from "./chart_render.ts";
 * chartBase("Latency", "run1").background; // "white"
 * ```
 */
export function chartBase(title: string, subtitle?: string): ChartBase {
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
  };
}

/**
 * Compiles a vega-lite spec and renders it to an SVG string.
 *
 * @example
 * ```ts
 * import { renderSvg } from "./chart_render.ts";
 * import { latencyCdfSpec } from "./charts.ts";
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
 * import { svgToPng } from "./chart_render.ts";
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

/**
 * Options of {@link writeRunCharts} and {@link writeSweepCharts}.
 *
 * @example
 * ```ts
 * import { writeCharts } from "./chart_render.ts";
 * import { latencyCdfSpec } from "./charts.ts";
 * const spec = latencyCdfSpec("r", [1, 2]);
 * await writeCharts("/tmp/c", [{ name: "cdf", title: "CDF", spec }], { png: false });
 * ```
 */
export interface ChartWriteOptions {
  /** Also write PNGs (default true). */
  png?: boolean;
}

/**
 * Renders `charts` into `dir` as `<name>.svg` (and `<name>.png` unless
 * `png: false`), creating the directory.
 *
 * @example
 * ```ts
 * import { writeCharts } from "./chart_render.ts";
 * import { latencyCdfSpec } from "./charts.ts";
 * await writeCharts("/tmp/c", [{ name: "cdf", title: "CDF", spec: latencyCdfSpec("r", [1, 2]) }]);
 * ```
 */
export async function writeCharts(
  dir: string,
  charts: { name: string; title: string; spec: TopLevelSpec }[],
  opts: ChartWriteOptions = {},
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
