/**
 * The processes of a run as a table (`process_analysis.ts`): per process
 * CPU seconds, cores, CPU µs per message and the kernel's share of the CPU
 * in the messaging phase, RSS min/max, GC pauses and how fast the old
 * generation filled (`gc_trace.ts`); then one row per role and
 * the total. Shared by the text output of `deno task analyze` and the HTML
 * report.
 *
 * @example
 * ```ts
 * import { formatProcessTable } from "./process_report.ts";
 * import { summarizeProcesses } from "./process_analysis.ts";
 * console.log(formatProcessTable(summarizeProcesses([], { messages: 10 }).summary));
 * ```
 * @module
 */
import type { ProcessSummary } from "./process_analysis.ts";
import { alignTable, fmtBytes, fmtCount, fmtMs, fmtRate, MISSING } from "./table_format.ts";

/**
 * Column titles of {@link processTableRows}.
 *
 * @example
 * ```ts
 * import { PROCESS_TABLE_HEADER } from "./process_report.ts";
 * PROCESS_TABLE_HEADER[0]; // "process"
 * ```
 */
export const PROCESS_TABLE_HEADER: readonly string[] = [
  "process",
  "role",
  "CPU s",
  "cores",
  "CPU µs/msg",
  "sys %",
  "RSS min",
  "RSS max",
  "GCs",
  "GC total ms",
  "GC max ms",
  "old-gen MB/s",
];

const fmtSec = (ms: number) => Number.isFinite(ms) ? (ms / 1000).toFixed(2) : MISSING;
const fmtShare = (x: number) => Number.isFinite(x) ? (x * 100).toFixed(1) : MISSING;

/**
 * The table's body rows: each process, then `all <role>` for roles with
 * several processes, then `total`.
 *
 * @example
 * ```ts
 * import { processTableRows } from "./process_report.ts";
 * import { summarizeProcesses } from "./process_analysis.ts";
 * processTableRows(summarizeProcesses([], { messages: 1 }).summary); // [["total", …]]
 * ```
 */
export function processTableRows(s: ProcessSummary): string[][] {
  const rows: string[][] = s.processes.map((p) => [
    p.pids > 1 ? `${p.name} (${p.pids} pids)` : p.name,
    p.role,
    fmtSec(p.cpuMs),
    fmtRate(p.cores),
    fmtRate(p.cpuUsPerMsg),
    fmtShare(p.sysShare),
    fmtBytes(p.rssMinBytes),
    fmtBytes(p.rssMaxBytes),
    p.gc ? fmtCount(p.gc.count) : MISSING,
    p.gc ? fmtMs(p.gc.totalMs) : MISSING,
    p.gc ? fmtMs(p.gc.maxMs) : MISSING,
    p.gc?.oldGenMbPerS != null ? p.gc.oldGenMbPerS.toFixed(3) : MISSING,
  ]);
  for (const r of s.roles) {
    if (r.processes < 2) continue;
    rows.push([
      `all ${r.role}s (${r.processes})`,
      r.role,
      fmtSec(r.cpuMs),
      fmtRate(r.cores),
      fmtRate(r.cpuUsPerMsg),
      fmtShare(r.sysShare),
      "",
      fmtBytes(r.rssMaxBytes),
      "",
      "",
      "",
      "",
    ]);
  }
  rows.push([
    "total",
    "",
    fmtSec(s.total.cpuMs),
    fmtRate(s.total.cores),
    fmtRate(s.total.cpuUsPerMsg),
    fmtShare(s.total.sysShare),
    "",
    "",
    "",
    "",
    "",
    "",
  ]);
  return rows;
}

/**
 * One line on what the per-message figures mean.
 *
 * @example
 * ```ts
 * import { processCaption } from "./process_report.ts";
 * import { summarizeProcesses } from "./process_analysis.ts";
 * processCaption(summarizeProcesses([], { messages: 1 }).summary);
 * ```
 */
export function processCaption(s: ProcessSummary): string {
  return `messaging phase: ${fmtSec(s.phaseMs)} s wall, ${s.messages} messages received; ` +
    `CPU µs/msg = CPU ÷ messages received; cores = CPU ÷ wall time; ` +
    `sys % = the part of the CPU in the kernel`;
}

/**
 * The text table `deno task analyze` prints under a run's results.
 *
 * @example
 * ```ts
 * import { formatProcessTable } from "./process_report.ts";
 * import { summarizeProcesses } from "./process_analysis.ts";
 * console.log(formatProcessTable(summarizeProcesses([], { messages: 1 }).summary));
 * ```
 */
export function formatProcessTable(s: ProcessSummary): string {
  return `processes (${processCaption(s)})\n` +
    alignTable([[...PROCESS_TABLE_HEADER], ...processTableRows(s)], "  ") +
    s.notes.map((n) => `\n  note: ${n}`).join("");
}
