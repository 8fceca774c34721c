/**
 * `deno task analyze -- DIR [DIR...] [--out DIR] [--json] [--fail-on-loss]`
 * analyzes load-generator run directories (`run.json` + `clients/*.csv`):
 * prints a results table per run (and a comparison table for several),
 * writes `DIR/charts/*.svg|png` and `DIR/report.html` per run and, for
 * several runs, a combined `report.html` with cross-run charts in their
 * common parent directory (or `--out`). Prints the report paths.
 *
 * Exit codes: 0 success; 1 bad input or usage (one line `analyze: <message>`
 * on stderr); 2 with `--fail-on-loss` when any run lost messages or had
 * undecryptable ones (reports are still written).
 *
 * @example
 * ```ts
 * import { analyzeRuns } from "@fastchat/perf/analyze";
 * const { runs, reports, lossy } = await analyzeRuns(["perf/testdata/clean"]);
 * console.log(runs[0].latencyMs.p99, reports[0], lossy);
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join, relative, resolve, sep } from "node:path";
import { FastChatError } from "@fastchat/lib/errors";
import { type ChartFile, writeCharts } from "./chart_render.ts";
import { cdfPoints, runChartSpecs } from "./charts.ts";
import { analyzeProcesses } from "./process_analysis.ts";
import { processChartSpecs } from "./process_charts.ts";
import { formatProcessTable } from "./process_report.ts";
import { compareRows, formatCompareTable, overlaidCdfSpec } from "./run_compare.ts";
import { formatServerScaling, serverScalingSpecs } from "./server_scaling.ts";
import { formatServerCounters, readServerCounters } from "./server_counters.ts";
import { formatHeapAllocation, readHeapAllocation } from "./heap_profile.ts";
import { formatLinuxPerf, readLinuxPerf } from "./linux_perf_report.ts";
import { readWakeDelays } from "./wake_delays.ts";
import { formatWakeDelays, summarizeWakeDelays } from "./wake_delay_summary.ts";
import { formatWorkerSockets, readWorkerSockets } from "./worker_socket_stats.ts";
import { writeSweepCharts } from "./sweep_charts.ts";
import { analyzeRunDir, isLossy, type RunSummary } from "./run_analysis.ts";
import { formatComparisonTable, formatRunTable } from "./report.ts";
import { renderCombinedReport, renderCompareReport, renderRunReport } from "./report_html.ts";

/**
 * Options of {@link analyzeRuns}.
 *
 * @example
 * ```ts
 * import { analyzeRuns } from "./analyze.ts";
 * await analyzeRuns(["perf/out/run-1"], { charts: false, reports: false });
 * ```
 */
export interface AnalyzeOptions {
  /** Directory of the combined report and cross-run charts (several runs); default: the runs' common parent. */
  out?: string;
  /** Render charts (default true). */
  charts?: boolean;
  /** Also write PNG next to each SVG (default true). */
  png?: boolean;
  /** Write HTML reports (default true). */
  reports?: boolean;
  /** Fraction cut from each end of the messaging window for steady state (default 0.1). */
  steadyTrim?: number;
}

/**
 * What {@link analyzeRuns} produced.
 *
 * @example
 * ```ts
 * import { analyzeRuns } from "./analyze.ts";
 * const r = await analyzeRuns(["perf/out/run-1", "perf/out/run-2"]);
 * console.log(r.combinedReport, r.lossy);
 * ```
 */
export interface AnalyzeResult {
  /** One summary per distinct run directory, in argument order. */
  runs: RunSummary[];
  /** `DIR/report.html` per run, same order as `runs` (empty when reports are off). */
  reports: string[];
  /** The combined report, when several runs were analyzed. */
  combinedReport?: string;
  /** `compare.html` of exactly two runs. */
  compareReport?: string;
  /** Every chart file written (SVG and PNG). */
  charts: string[];
  /** Whether any run lost messages or had undecryptable ones. */
  lossy: boolean;
}

/**
 * The deepest directory containing all `dirs` (resolved to absolute paths).
 *
 * @example
 * ```ts
 * import { commonParent } from "@fastchat/perf/analyze";
 * commonParent(["/out/a", "/out/b"]); // "/out"
 * ```
 */
export function commonParent(dirs: string[]): string {
  const split = dirs.map((d) => resolve(d).split(sep));
  const first = split[0] ?? [];
  let n = first.length;
  for (const parts of split.slice(1)) {
    let k = 0;
    while (k < n && k < parts.length && parts[k] === first[k]) k++;
    n = k;
  }
  if (dirs.length === 1) return dirname(resolve(dirs[0]));
  const joined = first.slice(0, n).join(sep);
  return joined === "" ? sep : joined;
}

/** Shows `abs` relative to the working directory when that is shorter. */
function display(abs: string): string {
  const rel = relative(Deno.cwd(), abs);
  return rel === "" ? "." : rel.length < abs.length ? rel : abs;
}

/**
 * Analyzes run directories: summaries, charts and HTML reports.
 *
 * @example
 * ```ts
 * import { analyzeRuns } from "@fastchat/perf/analyze";
 * const r = await analyzeRuns(["out/run-a", "out/run-b"], { out: "out/sweep" });
 * console.log(r.combinedReport);
 * ```
 */
export async function analyzeRuns(
  dirs: string[],
  opts: AnalyzeOptions = {},
): Promise<AnalyzeResult> {
  if (dirs.length === 0) throw new FastChatError("BAD_REQUEST", "no run directory given");
  const seen = new Set<string>();
  const unique = dirs.filter((d) => {
    const abs = resolve(d);
    if (seen.has(abs)) return false;
    seen.add(abs);
    return true;
  });
  const chartsOn = opts.charts !== false, reportsOn = opts.reports !== false;
  const result: AnalyzeResult = { runs: [], reports: [], charts: [], lossy: false };
  const cdfs: { run: string; points: { latency: number; fraction: number }[] }[] = [];
  for (const dir of unique) {
    const run = await analyzeRunDir(dir, { steadyTrim: opts.steadyTrim });
    const procs = await analyzeProcesses(dir, {
      messages: run.summary.counts.received,
      info: run.summary.info,
    });
    run.summary.processes = procs?.summary ?? null;
    run.summary.serverCounters = await readServerCounters(dir);
    run.summary.heapAllocation = await readHeapAllocation(dir, run.summary.counts.received);
    run.summary.linuxPerf = await readLinuxPerf(dir);
    const wake = await readWakeDelays(dir);
    run.summary.wakeDelays = wake
      ? summarizeWakeDelays(wake, run.series.sentTimesMs, run.series.latencyBySendOrderMs)
      : null;
    run.summary.workerSockets = await readWorkerSockets(dir);
    cdfs.push({ run: run.summary.name, points: cdfPoints(run.series.sortedLatencyMs) });
    let charts: ChartFile[] = [];
    if (chartsOn) {
      const specs = [
        ...runChartSpecs(run),
        ...(procs ? processChartSpecs(run.summary.name, procs) : []),
      ];
      charts = await writeCharts(join(dir, "charts"), specs, { png: opts.png });
      for (const c of charts) result.charts.push(c.svgPath, ...(c.pngPath ? [c.pngPath] : []));
    }
    if (reportsOn) {
      const path = join(dir, "report.html");
      await Deno.writeTextFile(path, renderRunReport(run.summary, charts));
      result.reports.push(path);
    }
    result.runs.push(run.summary); // the per-message series are dropped here
  }
  result.lossy = result.runs.some(isLossy);
  if (unique.length > 1 && reportsOn) {
    const outAbs = resolve(opts.out ?? commonParent(unique));
    await Deno.mkdir(outAbs, { recursive: true });
    const charts = chartsOn
      ? [
        ...await writeSweepCharts(join(outAbs, "charts"), result.runs, { png: opts.png }),
        ...await writeCharts(join(outAbs, "charts"), serverScalingSpecs(result.runs), {
          png: opts.png,
        }),
      ]
      : [];
    for (const c of charts) result.charts.push(c.svgPath, ...(c.pngPath ? [c.pngPath] : []));
    // Never overwrite a run's own report when the output directory is a run directory.
    const name = seen.has(outAbs) ? "combined-report.html" : "report.html";
    const path = join(outAbs, name);
    const links = result.reports.map((r) => relative(outAbs, resolve(r)).split(sep).join("/"));
    await Deno.writeTextFile(path, renderCombinedReport(result.runs, charts, links));
    result.combinedReport = opts.out === undefined ? display(path) : join(opts.out, name);
    if (unique.length === 2) {
      const [a, b] = result.runs;
      if (a.name === b.name) cdfs[1].run = `${b.name} (b)`;
      const cmp = chartsOn
        ? await writeCharts(join(outAbs, "charts"), [{
          name: "compare-latency-cdf",
          title: "Latency CDF, both runs",
          spec: overlaidCdfSpec(cdfs),
        }], { png: opts.png })
        : [];
      for (const c of cmp) result.charts.push(c.svgPath, ...(c.pngPath ? [c.pngPath] : []));
      const cmpPath = join(outAbs, seen.has(outAbs) ? "compare-runs.html" : "compare.html");
      await Deno.writeTextFile(cmpPath, renderCompareReport(a, b, compareRows(a, b), cmp, links));
      result.compareReport = opts.out === undefined
        ? display(cmpPath)
        : join(opts.out, cmpPath.slice(outAbs.length + 1));
    }
  }
  return result;
}

const HELP = `Usage: deno task analyze -- DIR [DIR...] [options]
Analyzes load-test run directories (run.json + clients/*.csv).
  --out DIR           where the combined report of several runs goes (default: their common parent)
  --json              print machine-readable results instead of tables
  --fail-on-loss      exit 2 if any run lost messages or had undecryptable ones
  --no-charts         skip charts (faster)
  --no-png            write SVG charts only
  --steady-trim F     fraction cut from each end of the messaging window for
                      steady-state throughput (default 0.1)
  -h, --help          this help
Writes DIR/charts/*.svg|png and DIR/report.html per run.`;

function usage(message: string): FastChatError {
  return new FastChatError("BAD_REQUEST", `${message} (see --help)`);
}

function parseFlags(args: string[]) {
  if (args[0] === "--") args = args.slice(1);
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: "string" },
        json: { type: "boolean" },
        "fail-on-loss": { type: "boolean" },
        "no-charts": { type: "boolean" },
        "no-png": { type: "boolean" },
        "steady-trim": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw usage((e as Error).message);
  }
}

/** JSON of the results: NaN and infinities become null. */
function toJson(r: AnalyzeResult): string {
  return JSON.stringify(r, (_k, v) => typeof v === "number" && !Number.isFinite(v) ? null : v, 2);
}

/**
 * The CLI; returns the exit code (0 ok, 1 bad input, 2 loss with
 * `--fail-on-loss`). Errors are printed as one line, never a stack trace.
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/perf/analyze";
 * Deno.exitCode = await main(["perf/testdata/clean", "--json"]);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseFlags(args);
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length === 0) throw usage("no run directory given");
    let steadyTrim: number | undefined;
    if (values["steady-trim"] !== undefined) {
      steadyTrim = Number(values["steady-trim"]);
      if (!(steadyTrim >= 0 && steadyTrim < 0.5)) {
        throw usage("--steady-trim must be a number in [0, 0.5)");
      }
    }
    const result = await analyzeRuns(positionals, {
      out: values.out,
      charts: !values["no-charts"],
      png: !values["no-png"],
      steadyTrim,
    });
    if (values.json) {
      console.log(toJson(result));
    } else {
      for (const s of result.runs) {
        console.log(formatRunTable(s) + "\n");
        if (s.processes) console.log(formatProcessTable(s.processes) + "\n");
        if (s.serverCounters) {
          console.log(formatServerCounters(s.serverCounters, s.counts.sent) + "\n");
        }
        if (s.workerSockets) {
          console.log(formatWorkerSockets(s.workerSockets, s.counts.received) + "\n");
        }
        if (s.heapAllocation) console.log(formatHeapAllocation(s.heapAllocation) + "\n");
        if (s.wakeDelays) console.log(formatWakeDelays(s.wakeDelays) + "\n");
        if (s.linuxPerf) {
          console.log(
            `on-CPU samples (Linux perf, messaging phase):\n${formatLinuxPerf(s.linuxPerf)}\n`,
          );
        }
      }
      if (result.runs.length > 1) console.log(formatComparisonTable(result.runs) + "\n");
      const scaling = formatServerScaling(result.runs);
      if (scaling) console.log(scaling + "\n");
      if (result.runs.length === 2) {
        const [a, b] = result.runs;
        console.log(formatCompareTable(a, b, compareRows(a, b)) + "\n");
      }
      for (const p of result.reports) console.log(`report: ${p}`);
      if (result.combinedReport) console.log(`combined report: ${result.combinedReport}`);
      if (result.compareReport) console.log(`compare report: ${result.compareReport}`);
    }
    if (values["fail-on-loss"] && result.lossy) {
      const bad = result.runs.filter(isLossy).map((s) =>
        `${s.name} (lost ${s.counts.lost}, undecryptable ${s.counts.undecryptable})`
      );
      console.error(`analyze: messages lost or undecryptable in ${bad.join(", ")}`);
      return 2;
    }
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`analyze: ${msg.split("\n")[0]}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}
