/**
 * FastChat's performance tooling: latency statistics, and the analysis of
 * load-generator runs (`deno task analyze`): reading run directories
 * (`run.json`, the run schema, + `clients/*.csv`), per-run results, throughput series and
 * text/HTML presentation.
 *
 * The root export stays free of the chart renderer (vega, resvg); import
 * `analyzeRuns` from `@fastchat/perf/analyze` and charts from
 * `@fastchat/perf/charts` and `@fastchat/perf/sweep_charts`.
 *
 * @example
 * ```ts
 * import { analyzeRunDir, formatRunTable, summarize } from "@fastchat/perf";
 * console.log(summarize([0.4, 0.5, 0.7]).p50);
 * console.log(formatRunTable((await analyzeRunDir("perf/testdata/clean")).summary));
 * ```
 * @module
 */
export * from "./percentiles.ts";
export * from "./client_log.ts";
export * from "./run_schema.ts";
export * from "./log_reader.ts";
export * from "./message_table.ts";
export * from "./run_throughput.ts";
export * from "./run_analysis.ts";
export * from "./throughput.ts";
export * from "./table_format.ts";
export * from "./report.ts";
export * from "./report_html.ts";
export type { AnalyzeOptions, AnalyzeResult } from "./analyze.ts";
export type { Chart, ChartFile } from "./chart_render.ts";
