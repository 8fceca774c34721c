/**
 * What every process of a run cost, from `processes.csv`
 * (`process_sampler.ts`) and, with `--trace-gc`, the GC lines of
 * `logs/<name>.stdout.log` (`gc_trace.ts`):
 *
 * - **CPU** in the messaging phase: per pid, the last `messaging` row's
 *   `cpu_ms` minus the first (0 for a pid started during the phase);
 *   summed over the pids of a name (a restarted server, the PostgreSQL
 *   backends). **µs per message** is that CPU ÷ the messages received
 *   (unique); **cores** is it ÷ the phase's wall time; **sys share** is
 *   the part of it spent in the kernel (`sys_ms`: system calls, and on
 *   loopback the network stack's work for the other end too).
 * - **RSS** min and max over the whole run (pids of a name summed per tick).
 * - **GC pauses** in the messaging phase: count, total, max.
 *
 * @example
 * ```ts
 * import { analyzeProcesses } from "./process_analysis.ts";
 * const p = await analyzeProcesses("perf/testdata/clean", { messages: 10 });
 * console.log(p?.summary.processes.map((x) => `${x.name} ${x.cpuUsPerMsg} µs/msg`));
 * ```
 * @module
 */
import { type GcEvent, type GcPauses, gcPausesIn, parseGcLog } from "./gc_trace.ts";
import {
  PROCESSES_CSV_HEADER,
  PROCESSES_CSV_HEADER_V1,
  type ProcessRole,
} from "./process_sampler.ts";
import type { RunRecord } from "./run_schema.ts";

/**
 * One row of `processes.csv`.
 *
 * @example
 * ```ts
 * import type { ProcessRow } from "./process_analysis.ts";
 * const r: ProcessRow = { tMs: 1, phase: "messaging", role: "server", name: "srv-1", pid: 9, startMs: 0, cpuMs: 5, rssBytes: 1, sysMs: 1 };
 * ```
 */
export interface ProcessRow {
  tMs: number;
  phase: string;
  role: ProcessRole;
  name: string;
  pid: number;
  startMs: number;
  cpuMs: number;
  rssBytes: number;
  /** The part of `cpuMs` in the kernel; NaN in runs written before it was sampled. */
  sysMs: number;
}

/**
 * Parses `processes.csv` text (also of runs written before `sys_ms` was
 * sampled: their `sysMs` is NaN); throws `Error` naming the first bad line.
 *
 * @example
 * ```ts
 * import { parseProcessesCsv } from "./process_analysis.ts";
 * parseProcessesCsv("t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes,sys_ms\n5,start,perf,perf,1,0,10,4096,3\n")[0].sysMs; // 3
 * ```
 */
export function parseProcessesCsv(text: string): ProcessRow[] {
  const lines = text.split("\n");
  const header = lines[0].trim();
  if (header !== PROCESSES_CSV_HEADER && header !== PROCESSES_CSV_HEADER_V1) {
    throw new Error(`processes.csv: unexpected header ${JSON.stringify(lines[0].slice(0, 80))}`);
  }
  const columns = header.split(",").length;
  const out: ProcessRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === "") continue;
    const f = lines[i].split(",");
    const nums = [f[0], f[4], f[5], f[6], f[7], columns > 8 ? f[8] : "0"].map(Number);
    if (f.length !== columns || !nums.every(Number.isFinite)) {
      throw new Error(
        `processes.csv line ${i + 1}: bad row ${JSON.stringify(lines[i].slice(0, 80))}`,
      );
    }
    out.push({
      tMs: nums[0],
      phase: f[1],
      role: f[2] as ProcessRole,
      name: f[3],
      pid: nums[1],
      startMs: nums[2],
      cpuMs: nums[3],
      rssBytes: nums[4],
      sysMs: columns > 8 ? nums[5] : NaN,
    });
  }
  return out;
}

/**
 * One process (or several pids of one name) in the run.
 *
 * @example
 * ```ts
 * import type { ProcessUsage } from "./process_analysis.ts";
 * declare const p: ProcessUsage;
 * console.log(`${p.name}: ${p.cpuMs / 1000} CPU s, ${p.cpuUsPerMsg} µs/msg`);
 * ```
 */
export interface ProcessUsage {
  role: ProcessRole;
  name: string;
  /** Distinct pids seen under this name. */
  pids: number;
  /** CPU ms in the messaging phase (NaN: not sampled in it). */
  cpuMs: number;
  /** CPU µs per message received. */
  cpuUsPerMsg: number;
  /** Average cores busy during the messaging phase. */
  cores: number;
  /** CPU ms of it in the kernel (NaN: not sampled, as in runs before `sys_ms`). */
  sysMs: number;
  /** The kernel's part of `cpuMs`, 0–1 (NaN: not sampled). */
  sysShare: number;
  rssMinBytes: number;
  rssMaxBytes: number;
  /** GC pauses in the messaging phase; null: not traced. */
  gc: GcPauses | null;
}

/**
 * A role's processes together (`servers`: every chat server).
 *
 * @example
 * ```ts
 * import type { RoleUsage } from "./process_analysis.ts";
 * declare const r: RoleUsage;
 * console.log(`${r.role} ×${r.processes}: ${r.cpuUsPerMsg} µs/msg`);
 * ```
 */
export interface RoleUsage {
  role: ProcessRole;
  processes: number;
  cpuMs: number;
  cpuUsPerMsg: number;
  cores: number;
  /** CPU ms of it in the kernel (NaN: not sampled). */
  sysMs: number;
  /** The kernel's part of `cpuMs`, 0–1 (NaN: not sampled). */
  sysShare: number;
  /** The largest RSS of one process of the role. */
  rssMaxBytes: number;
}

/**
 * The processes of a run.
 *
 * @example
 * ```ts
 * import type { ProcessSummary } from "./process_analysis.ts";
 * declare const s: ProcessSummary;
 * console.log(s.roles.find((r) => r.role === "server")?.cpuUsPerMsg);
 * ```
 */
export interface ProcessSummary {
  /** Messages the per-message figures divide by (received, unique). */
  messages: number;
  /** Wall time between the messaging phase's first and last samples. */
  phaseMs: number;
  /** Sampling ticks in the file. */
  ticks: number;
  processes: ProcessUsage[];
  roles: RoleUsage[];
  /** Every process together. */
  total: { cpuMs: number; cpuUsPerMsg: number; cores: number; sysShare: number };
  /** Whether GC lines were found. */
  gcTraced: boolean;
  /** What is and is not measured. */
  notes: string[];
}

/**
 * RSS over time for the chart: per name, MiB against seconds since the first sample.
 *
 * @example
 * ```ts
 * import type { RssSeries } from "./process_analysis.ts";
 * const s: RssSeries = { points: [{ t: 0, name: "srv-1", mib: 70 }], messaging: [5, 9] };
 * ```
 */
export interface RssSeries {
  points: { t: number; name: string; mib: number }[];
  /** The messaging phase in the same seconds; null when not sampled. */
  messaging: [number, number] | null;
}

const ROLE_ORDER: ProcessRole[] = ["server", "db", "lb", "worker", "perf"];
/** Most points per name in the RSS chart. */
const MAX_RSS_POINTS = 400;
const r2 = (x: number) => Math.round(x * 100) / 100;
/** `part` ÷ `whole` to three decimals; NaN when either is unknown or the whole is 0. */
const share = (part: number, whole: number) =>
  whole > 0 && Number.isFinite(part) ? Math.round((part / whole) * 1000) / 1000 : NaN;

/**
 * Summarizes parsed rows: `messages` divides the CPU; `gcByName` holds the
 * GC events of the names that were traced.
 *
 * @example
 * ```ts
 * import { summarizeProcesses } from "./process_analysis.ts";
 * const { summary } = summarizeProcesses([], { messages: 100 });
 * summary.processes.length; // 0
 * ```
 */
export function summarizeProcesses(
  rows: ProcessRow[],
  o: { messages: number; gcByName?: Map<string, GcEvent[]>; notes?: string[] },
): { summary: ProcessSummary; rss: RssSeries } {
  const msg = rows.filter((r) => r.phase === "messaging");
  const from = msg.length ? msg[0].tMs : NaN;
  const to = msg.length ? msg[msg.length - 1].tMs : NaN;
  const phaseMs = to - from;
  const t0 = rows.length ? rows[0].tMs : 0;
  const groups = new Map<string, ProcessRow[]>();
  for (const r of rows) {
    const k = `${r.role}\u0000${r.name}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const perMsg = (cpuMs: number) => o.messages > 0 ? r2((cpuMs * 1000) / o.messages) : NaN;
  const cores = (cpuMs: number) => phaseMs > 0 ? r2(cpuMs / phaseMs) : NaN;
  const processes: ProcessUsage[] = [];
  const rss: RssSeries = {
    points: [],
    messaging: msg.length ? [r2((from - t0) / 1000), r2((to - t0) / 1000)] : null,
  };
  for (const g of groups.values()) {
    const { role, name } = g[0];
    // CPU: per pid over its messaging rows.
    const first = new Map<number, ProcessRow>(), last = new Map<number, ProcessRow>();
    for (const r of g) {
      if (r.phase !== "messaging") continue;
      if (!first.has(r.pid)) first.set(r.pid, r);
      last.set(r.pid, r);
    }
    let cpuMs = first.size ? 0 : NaN, sysMs = cpuMs;
    for (const [pid, a] of first) {
      const started = a.startMs >= from;
      cpuMs += last.get(pid)!.cpuMs - (started ? 0 : a.cpuMs);
      sysMs += last.get(pid)!.sysMs - (started ? 0 : a.sysMs);
    }
    // RSS: pids of the name summed per tick.
    // (Two samples may fall in one millisecond at a phase boundary: one value per pid.)
    const byTick = new Map<number, Map<number, number>>();
    for (const r of g) {
      (byTick.get(r.tMs) ?? byTick.set(r.tMs, new Map()).get(r.tMs)!).set(r.pid, r.rssBytes);
    }
    const ticks = [...byTick].map((
      [t, m],
    ): [number, number] => [t, [...m.values()].reduce((a, b) => a + b, 0)]);
    const step = Math.max(1, Math.ceil(ticks.length / MAX_RSS_POINTS));
    ticks.forEach(([t, b], i) => {
      if (i % step === 0 || i === ticks.length - 1) {
        rss.points.push({ t: r2((t - t0) / 1000), name, mib: r2(b / 2 ** 20) });
      }
    });
    const sizes = ticks.map(([, b]) => b);
    const events = o.gcByName?.get(name);
    let gc: GcPauses | null = null;
    if (events && msg.length) {
      const starts = new Map(g.map((r) => [r.pid, r.startMs]));
      gc = gcPausesIn(events, starts, from, to);
    }
    processes.push({
      role,
      name,
      pids: new Set(g.map((r) => r.pid)).size,
      cpuMs,
      cpuUsPerMsg: perMsg(cpuMs),
      cores: cores(cpuMs),
      sysMs,
      sysShare: share(sysMs, cpuMs),
      rssMinBytes: Math.min(...sizes),
      rssMaxBytes: Math.max(...sizes),
      gc,
    });
  }
  processes.sort((a, b) =>
    ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) ||
    a.name.localeCompare(b.name, "en", { numeric: true })
  );
  const roles: RoleUsage[] = [];
  for (const role of ROLE_ORDER) {
    const ps = processes.filter((p) => p.role === role);
    if (!ps.length) continue;
    const sampled = ps.filter((p) => !Number.isNaN(p.cpuMs)); // NaN: none was in the phase
    const cpuMs = sampled.length ? sampled.reduce((s, p) => s + p.cpuMs, 0) : NaN;
    const sysMs = sampled.length ? sampled.reduce((s, p) => s + p.sysMs, 0) : NaN;
    roles.push({
      role,
      processes: ps.length,
      cpuMs,
      cpuUsPerMsg: perMsg(cpuMs),
      cores: cores(cpuMs),
      sysMs,
      sysShare: share(sysMs, cpuMs),
      rssMaxBytes: Math.max(...ps.map((p) => p.rssMaxBytes)),
    });
  }
  const known = roles.filter((r) => !Number.isNaN(r.cpuMs));
  const totalMs = known.length ? known.reduce((s, r) => s + r.cpuMs, 0) : NaN;
  const totalSys = known.length ? known.reduce((s, r) => s + r.sysMs, 0) : NaN;
  return {
    summary: {
      messages: o.messages,
      phaseMs,
      ticks: new Set(rows.map((r) => r.tMs)).size,
      processes,
      roles,
      total: {
        cpuMs: totalMs,
        cpuUsPerMsg: perMsg(totalMs),
        cores: cores(totalMs),
        sysShare: share(totalSys, totalMs),
      },
      gcTraced: processes.some((p) => p.gc !== null),
      notes: o.notes ?? [],
    },
    rss,
  };
}

/** What the run measured and what not, from its configuration and rows. */
function processNotes(info: RunRecord, rows: ProcessRow[], gcTraced: boolean): string[] {
  const c = info.config;
  const notes: string[] = [];
  if (c.lb !== null) {
    notes.push(
      "--lb: the cluster was not started by perf; only perf and its load workers are measured",
    );
  } else if (c.db !== null) {
    const n = new Set(rows.filter((r) => r.name === "postgres").map((r) => r.pid)).size;
    notes.push(
      n > 0
        ? `database: external PostgreSQL; the ${n} backend process(es) serving the cluster are summed as "postgres" (the postmaster and its background workers are not; their RSS counts the shared buffers each touched, so the sum overstates memory)`
        : "database: external PostgreSQL with no backend found on this machine: not measured",
    );
  }
  notes.push(
    gcTraced
      ? "GC pauses (V8 --trace-gc, main-thread pause per collection, wall time: on a loaded machine it includes waiting for a core) of the database, servers, LB and load workers; old-gen MB/s: how fast what outlived the young generation filled the old one (heap after each scavenge less the heap after the collection before), the garbage a mark-compact comes back for"
      : "GC pauses: not recorded (run perf with --trace-gc)",
  );
  notes.push(
    "CPU and µs/msg: messaging phase (CPU in 10 ms ticks per process); RSS min/max: whole run (sampled every 250 ms)",
  );
  return notes;
}

/**
 * Reads `DIR/processes.csv` and the GC lines of `DIR/logs/<name>.stdout.log`;
 * null when the run has no `processes.csv` (runs before the sampler).
 *
 * @example
 * ```ts
 * import { analyzeProcesses } from "./process_analysis.ts";
 * const p = await analyzeProcesses("perf/out/run-1", { messages: 30_000 });
 * ```
 */
export async function analyzeProcesses(
  dir: string,
  o: { messages: number; info?: RunRecord },
): Promise<{ summary: ProcessSummary; rss: RssSeries } | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/processes.csv`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const rows = parseProcessesCsv(text);
  const gcByName = new Map<string, GcEvent[]>();
  for (const name of new Set(rows.map((r) => r.name))) {
    let log: string;
    try {
      log = await Deno.readTextFile(`${dir}/logs/${name}.stdout.log`);
    } catch {
      continue;
    }
    const ev = parseGcLog(log);
    if (ev.length) gcByName.set(name, ev);
  }
  const notes = o.info ? processNotes(o.info, rows, gcByName.size > 0) : [];
  return summarizeProcesses(rows, { messages: o.messages, gcByName, notes });
}
