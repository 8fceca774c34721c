/**
 * The mode-specific part of a run's analysis: for `--mode group` the
 * figures of `group_analysis.ts` (and counts judged per (message,
 * receiver): `lost` and `duplicated` of the summary become lost and
 * duplicate deliveries), for `--mode file` those of `file_analysis.ts`;
 * plus the rows the results table and the HTML report show for them,
 * including CPU per delivery from `run.json`'s messaging phase. The dm
 * rows keep their meaning: in a group run their latency is that of each
 * message's first reception, the group rows give it per delivery.
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "./run_analysis.ts";
 * import { modeRows } from "./mode_analysis.ts";
 * const { summary } = await analyzeRunDir("perf/testdata/clean");
 * modeRows(summary); // [] for a dm run
 * ```
 * @module
 */
import { FileAccumulator, type FileSummary } from "./file_analysis.ts";
import { GroupAccumulator, type GroupSummary } from "./group_analysis.ts";
import type { GroupMembership } from "./group_plan.ts";
import { FastChatError } from "@fastchat/lib/errors";
import { listClientLogs, type RowSink } from "./log_reader.ts";
import type { RunSummary } from "./run_analysis.ts";
import { readRunRecord } from "./run_schema.ts";
import { fmtBytes, fmtCount, fmtMB, fmtMs, fmtRate } from "./table_format.ts";

/**
 * A mode's accumulator: rows go to `sink` (alongside the dm analysis),
 * `apply` adds its figures to the summary.
 *
 * @example
 * ```ts
 * import { modeAccumulator } from "./mode_analysis.ts";
 * await modeAccumulator("perf/testdata/clean"); // null: a dm run
 * ```
 */
export interface ModeAccumulator {
  sink: RowSink;
  apply(summary: RunSummary): void;
}

/**
 * The accumulator for the run in `dir`, or null for a dm run.
 *
 * @example
 * ```ts
 * import { modeAccumulator } from "./mode_analysis.ts";
 * const mode = await modeAccumulator("perf/out/group-run");
 * mode?.sink(0, "m1", 0, 1000, 100, "#g", "group");
 * ```
 */
export async function modeAccumulator(dir: string): Promise<ModeAccumulator | null> {
  const info = await readRunRecord(dir);
  if (info.config.mode === "group") {
    // Client log i is clients/<user>.csv, in the order readRun feeds them.
    const users = (await listClientLogs(dir)).map((f) => f.replace(/^clients\/|\.csv$/g, ""));
    const acc = new GroupAccumulator(checkGroups(info.groups, `${dir}/run.json`), users);
    return {
      sink: acc.sink,
      apply: (s) => {
        const g = acc.finish();
        s.group = g;
        s.counts.lost = g.lostDeliveries;
        s.counts.duplicated = g.duplicateDeliveries;
        s.counts.duplicatedMessages = g.duplicatedMessages;
        if (!info.groups) s.warnings.push("run.json has no groups: deliveries cannot be judged");
      },
    };
  }
  if (info.config.mode === "file") {
    const acc = new FileAccumulator();
    return { sink: acc.sink, apply: (s) => s.file = acc.finish(info.file) };
  }
  return null;
}

/** `run.json`'s `groups` checked: a list of `{ name, members: string[] }` (absent: none). */
function checkGroups(raw: unknown, where: string): GroupMembership[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    throw new FastChatError("INVALID_CONFIG", `${where}: groups must be an array`);
  }
  raw.forEach((g, i) => {
    if (
      typeof g?.name !== "string" || !Array.isArray(g.members) ||
      !g.members.every((m: unknown) => typeof m === "string")
    ) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `${where}: groups[${i}] must be { name: string, members: string[] }`,
      );
    }
  });
  return raw;
}

/**
 * CPU seconds per delivery of the processes named `prefix*` (e.g. `srv-`,
 * `worker-`) during messaging, in microseconds; NaN when not recorded.
 *
 * @example
 * ```ts
 * import { cpuMicrosPerDelivery } from "./mode_analysis.ts";
 * cpuMicrosPerDelivery({ "srv-1": 2, "worker-0": 1 }, "srv-", 1000); // 2000
 * ```
 */
export function cpuMicrosPerDelivery(
  cpuSeconds: Record<string, number> | undefined,
  prefix: string,
  deliveries: number,
): number {
  if (!cpuSeconds || !(deliveries > 0)) return NaN;
  const names = Object.keys(cpuSeconds).filter((k) => k.startsWith(prefix));
  if (names.length === 0) return NaN;
  const total = names.reduce((a, k) => a + cpuSeconds[k], 0);
  return (total / deliveries) * 1e6;
}

function groupRows(s: RunSummary, g: GroupSummary): [string, string][] {
  const cpu = s.info.phases.messaging?.cpuSeconds;
  const l = g.deliveryLatencyMs;
  return [
    ["groups × members", `${fmtCount(g.groups)} × ${fmtCount(g.groupSize)}`],
    ["group messages", fmtCount(g.messages)],
    ["group messages/s", fmtRate(g.messagesPerSec)],
    ["deliveries / expected", `${fmtCount(g.deliveries)} / ${fmtCount(g.expectedDeliveries)}`],
    ["deliveries/s", fmtRate(g.deliveriesPerSec)],
    ["delivery latency p50 / p99 (ms)", `${fmtMs(l.p50)} / ${fmtMs(l.p99)}`],
    ["delivery latency max (ms)", fmtMs(l.max)],
    ["lost deliveries", fmtCount(g.lostDeliveries)],
    ["duplicate deliveries", fmtCount(g.duplicateDeliveries)],
    ["unexpected deliveries", fmtCount(g.unexpectedDeliveries)],
    ["server CPU per delivery (µs)", fmtRate(cpuMicrosPerDelivery(cpu, "srv-", g.deliveries))],
    ["database CPU per delivery (µs)", fmtRate(cpuMicrosPerDelivery(cpu, "db", g.deliveries))],
    ["client CPU per delivery (µs)", fmtRate(cpuMicrosPerDelivery(cpu, "worker-", g.deliveries))],
  ];
}

function rssRows(f: FileSummary): [string, string][] {
  return Object.keys(f.rssKbPeak).sort().map((n) => [
    `RSS ${n} at go → peak`,
    `${fmtBytes((f.rssKbBefore[n] ?? NaN) * 1024)} → ${fmtBytes(f.rssKbPeak[n] * 1024)}`,
  ]);
}

function fileRows(s: RunSummary, f: FileSummary): [string, string][] {
  const c = f.completeMs;
  const cpu = s.info.phases.messaging?.cpuSeconds;
  const mib = f.bytesReceived / 2 ** 20;
  // µs per MiB / 1000: ms of CPU per MiB received.
  const perMiB = (prefix: string) => fmtRate(cpuMicrosPerDelivery(cpu, prefix, mib) / 1000);
  return [
    ["file size", fmtBytes(s.info.config.fileBytes ?? NaN)],
    ["files sent / completed / failed", `${f.files} / ${f.completed} / ${f.failed}`],
    ["file MB/s (all files)", fmtMB(f.mbPerSec)],
    ["file MB/s per file p50", fmtMB(f.fileMbPerSec.p50)],
    ["time to complete p50 / max (ms)", `${fmtMs(c.p50)} / ${fmtMs(c.max)}`],
    [
      "server / database / client CPU per MiB (ms)",
      `${perMiB("srv-")} / ${perMiB("db")} / ${perMiB("worker-")}`,
    ],
    ...rssRows(f),
  ];
}

/**
 * The mode-specific rows of the results table (none for a dm run).
 *
 * @example
 * ```ts
 * import { analyzeRunDir } from "./run_analysis.ts";
 * import { modeRows } from "./mode_analysis.ts";
 * for (const [k, v] of modeRows((await analyzeRunDir("perf/out/group-run")).summary)) {
 *   console.log(k, v);
 * }
 * ```
 */
export function modeRows(s: RunSummary): [string, string][] {
  if (s.group) return groupRows(s, s.group);
  if (s.file) return fileRows(s, s.file);
  return [];
}
