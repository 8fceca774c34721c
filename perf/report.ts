/**
 * The results of a run as labelled rows (configuration, machine, results)
 * and the aligned text tables `deno task analyze` prints: one table per
 * run and a comparison of several runs. The HTML report (`report_html.ts`)
 * shows the same rows.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { formatRunTable } from "@fastchat/perf/report";
 * const { summary } = await analyzeRunDir("perf/testdata/clean");
 * console.log(formatRunTable(summary));
 * ```
 * @module
 */
import { formatHostStalls } from "./host_stalls.ts";
import type { RunSummary } from "./run_analysis.ts";
import { type RunConfig, type RunRecord, sendLabel } from "./run_schema.ts";
import { alignTable, fmtBytes, fmtCount, fmtMB, fmtMs, fmtRate, MISSING } from "./table_format.ts";
import { modeRows } from "./mode_analysis.ts";

const opt = (v: unknown): string => v === undefined || v === null || v === "" ? MISSING : String(v);

/**
 * A labelled value of a table.
 *
 * @example
 * ```ts
 * import type { Row } from "./report.ts";
 * const row: Row = ["sent", "100"];
 * ```
 */
export type Row = [label: string, value: string];

/**
 * Rows describing the run configuration.
 *
 * @example
 * ```ts
 * import { configRows } from "@fastchat/perf/report";
 * import { readRunRecord } from "@fastchat/perf/run_schema";
 * configRows(await readRunRecord("perf/testdata/clean"))[0]; // ["clients", "2"]
 * ```
 */
export function configRows(info: RunRecord): Row[] {
  const c: RunConfig = info.config;
  return [
    ["clients", String(c.clients)],
    ["servers", opt(c.servers)],
    ["messages per client", opt(c.messages)],
    ["mode", opt(c.mode)],
    ["peers per client", peersLabel(c)],
    ["payload", `${c.payload} (${c.payloadBytes} B)`],
    ["send model", sendLabel(c.send)],
    ["duration (ms)", opt(c.durationMs)],
    ["seed", opt(c.seed)],
    ["database", opt(c.db)],
    ["load balancer", opt(c.lb)],
    ["started", info.startedAt],
    ["ended", opt(info.endedAt)],
  ];
}

/**
 * The `--peers` setting as shown: K, "all others" for a dm run without it,
 * or {@link MISSING} for group and file runs (which have no peer set).
 *
 * @example
 * ```ts
 * import { peersLabel } from "./report.ts";
 * import { parseRunArgs } from "./run_config.ts";
 * peersLabel(parseRunArgs(["--clients", "10", "--messages", "1", "--peers", "4"])); // "4"
 * ```
 */
export function peersLabel(c: RunConfig): string {
  if (c.peers !== undefined && c.peers !== null) return String(c.peers);
  return (c.mode ?? "dm") === "dm" ? "all others" : MISSING;
}

/**
 * Rows describing the machine and software versions.
 *
 * @example
 * ```ts
 * import { machineRows } from "@fastchat/perf/report";
 * import { readRunRecord } from "@fastchat/perf/run_schema";
 * machineRows(await readRunRecord("perf/testdata/clean"))[0]; // ["cores", "2"]
 * ```
 */
export function machineRows(info: RunRecord): Row[] {
  const m = info.machine, v = info.versions;
  return [
    ["cores", opt(m.cores)],
    ["memory", fmtBytes(m.memoryBytes)],
    ["os / arch", `${m.os} / ${m.arch}`],
    ["hostname", opt(m.hostname)],
    ["deno", opt(v.deno)],
    ["v8", opt(v.v8)],
    ["typescript", opt(v.typescript)],
    ["fastchat", opt(v.fastchat)],
  ];
}

/**
 * The results table rows (shared by the text table and the HTML report).
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { resultRows } from "@fastchat/perf/report";
 * const rows = resultRows((await analyzeRunDir("perf/testdata/clean")).summary);
 * ```
 */
export function resultRows(s: RunSummary): Row[] {
  const c = s.counts, l = s.latencyMs, t = s.throughput, st = t.steady;
  const pct = Math.round(st.trim * 100);
  return [
    ["client logs / rows", `${s.files} / ${s.rows}`],
    ["sent", fmtCount(c.sent)],
    ["acked", fmtCount(c.acked)],
    ["delivered (receipts)", fmtCount(c.delivered)],
    ["received (unique)", fmtCount(c.received)],
    ["lost", fmtCount(c.lost)],
    ["lost without error row", fmtCount(c.lostSilently)],
    ["duplicated (extra receptions)", fmtCount(c.duplicated)],
    ["duplicated messages", fmtCount(c.duplicatedMessages)],
    ["undecryptable", fmtCount(c.undecryptable)],
    ["received but never sent", fmtCount(c.unmatchedReceived)],
    ["errors", fmtCount(c.errors)],
    ...Object.entries(s.errorsByCode).map(([k, v]): Row => [`  error ${k}`, fmtCount(v)]),
    ["latency p50 (ms)", fmtMs(l.p50)],
    ["latency p90 (ms)", fmtMs(l.p90)],
    ["latency p99 (ms)", fmtMs(l.p99)],
    ["latency max (ms)", fmtMs(l.max)],
    ["latency mean (ms)", fmtMs(l.mean)],
    ["messaging window (s)", fmtMs(t.windowMs / 1000)],
    ["throughput (msg/s)", fmtRate(t.messagesPerSec)],
    ["throughput (MB/s)", fmtMB(t.mbPerSec)],
    [`steady ${pct}–${100 - pct}% (msg/s)`, fmtRate(st.messagesPerSec)],
    [`steady ${pct}–${100 - pct}% (MB/s)`, fmtMB(st.mbPerSec)],
    ["steady latency p50 / p99 (ms)", `${fmtMs(st.latencyMs.p50)} / ${fmtMs(st.latencyMs.p99)}`],
    ["send rate (msg/s)", fmtRate(t.sendRatePerSec)],
    ["registrations/s", fmtRate(s.phases.registrationsPerSec)],
    ["logins/s", fmtRate(s.phases.loginsPerSec)],
    ...modeRows(s),
  ];
}

/**
 * One-line description of a run's configuration.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { configLine } from "@fastchat/perf/report";
 * configLine((await analyzeRunDir("perf/testdata/clean")).summary); // "clients 2, servers 1, ..."
 * ```
 */
export function configLine(s: RunSummary): string {
  const c = s.info.config;
  const parts = [`clients ${c.clients}`];
  if (c.servers !== null) parts.push(`servers ${c.servers}`);
  if (c.peers !== undefined && c.peers !== null) parts.push(`peers ${c.peers}`);
  if (c.messages !== null) parts.push(`messages ${c.messages}`);
  parts.push(`payload ${c.payload}`);
  if (c.db !== null) parts.push(`db ${c.db}`);
  if (c.lb !== null) parts.push(`lb ${c.lb}`);
  return parts.join(", ");
}

/**
 * The text table printed for one run.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { formatRunTable } from "@fastchat/perf/report";
 * console.log(formatRunTable((await analyzeRunDir("perf/testdata/clean")).summary));
 * ```
 */
export function formatRunTable(s: RunSummary): string {
  const host = s.info.hostStalls;
  return `run ${s.dir}  (${configLine(s)}; started ${s.info.startedAt})\n` +
    (host ? `  host check before the run: ${formatHostStalls(host)}\n` : "") +
    alignTable(resultRows(s), "  ") +
    s.warnings.map((w) => `\n  warning: ${w}`).join("");
}

/**
 * Column titles of the comparison of several runs (text and HTML).
 *
 * @example
 * ```ts
 * import { COMPARISON_HEADER } from "@fastchat/perf/report";
 * COMPARISON_HEADER[0]; // "run"
 * ```
 */
export const COMPARISON_HEADER: readonly string[] = [
  "run",
  "clients",
  "servers",
  "payload",
  "sent",
  "received",
  "lost",
  "dup",
  "undec",
  "p50 ms",
  "p99 ms",
  "msg/s",
  "steady msg/s",
  "MB/s",
];

/**
 * One run's cells under {@link COMPARISON_HEADER}.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "@fastchat/perf/run_analysis";
 * import { comparisonCells } from "@fastchat/perf/report";
 * comparisonCells((await analyzeRunDir("perf/testdata/clean")).summary)[0]; // "clean"
 * ```
 */
export function comparisonCells(s: RunSummary): string[] {
  const c = s.info.config;
  return [
    s.name,
    String(c.clients),
    opt(c.servers),
    c.payload,
    fmtCount(s.counts.sent),
    fmtCount(s.counts.received),
    fmtCount(s.counts.lost),
    fmtCount(s.counts.duplicated),
    fmtCount(s.counts.undecryptable),
    fmtMs(s.latencyMs.p50),
    fmtMs(s.latencyMs.p99),
    fmtRate(s.throughput.messagesPerSec),
    fmtRate(s.throughput.steady.messagesPerSec),
    fmtMB(s.throughput.mbPerSec),
  ];
}

/**
 * One aligned row per run, for comparing several runs.
 *
 * @example
 * ```ts
 * import { formatComparisonTable } from "@fastchat/perf/report";
 * console.log(formatComparisonTable([]));
 * ```
 */
export function formatComparisonTable(runs: RunSummary[]): string {
  return alignTable([[...COMPARISON_HEADER], ...runs.map(comparisonCells)]);
}
