/**
 * Where a process's CPU went, from Linux `perf`'s on-CPU samples: how much
 * ran as JavaScript, in V8's builtins, in the runtime's native code (V8's
 * C++, the garbage collector, Deno's Rust: ops, the event loop), in the
 * kernel (the socket calls) and in libc, and the top symbols.
 *
 * Why next to V8's `--cpu-prof`: V8's profiler samples wall time on the
 * JavaScript thread, so on a loaded 2-core machine a function preempted by
 * another process is charged for the wait (a server's `op_write` looked like
 * a quarter of its time), and it cannot see the kernel's share. `perf
 * record -e cpu-clock` samples only time on a CPU, native frames and kernel
 * included; with V8's `--perf-basic-prof` the JIT's code is named.
 *
 * The input is `perf report --stdio -n --no-children -g none --sort
 * comm,dso,sym -t '\t'` (see {@link PERF_REPORT_ARGS}).
 *
 * @example
 * ```ts
 * import { parsePerfReport, summarizePerfRows } from "./linux_perf_report.ts";
 * const rows = parsePerfReport(
 *   " 6.48%\t 312\tdeno\t[kernel.kallsyms]\t[k] pvm_irq_enable\n" +
 *     " 4.40%\t 212\tdeno\t[JIT] tid 11830\t[.] JS:*'#lookup file:///w/server/message_key_table.ts:86:109\n",
 * );
 * const s = summarizePerfRows("srv-1", "server", rows);
 * console.log(s.parts.kernel, s.parts.js); // 312 212
 * ```
 * @module
 */

/** The arguments of `perf report` whose output {@link parsePerfReport} reads (then `-i FILE`). */
export const PERF_REPORT_ARGS: readonly string[] = [
  "report",
  "--stdio",
  "-n",
  "--no-children",
  "-g",
  "none",
  "--sort",
  "comm,dso,sym",
  "-t",
  "\t",
];

/** One line of the report: samples of one symbol in one thread name and object. */
export interface PerfReportRow {
  samples: number;
  /** The thread's name (`deno` for the main thread). */
  comm: string;
  /** The object: `deno`, `[kernel.kallsyms]`, `libc.so.6`, `[JIT] tid N`… */
  dso: string;
  /** The symbol without perf's `[.] `/`[k] ` prefix. */
  symbol: string;
}

/** The parts a process's samples are split into (see the module doc). */
export const CPU_PARTS = [
  "js",
  "builtins",
  "runtime",
  "kernel",
  "libc",
  "helpers",
  "other",
] as const;

/** One of {@link CPU_PARTS}. */
export type CpuPart = typeof CPU_PARTS[number];

/** What each part holds, for tables. */
export const CPU_PART_LABELS: Record<CpuPart, string> = {
  js: "JavaScript and wasm (JIT code)",
  builtins: "V8 builtins and regexps",
  runtime: "runtime native code (V8 C++, GC, Deno's Rust)",
  kernel: "kernel (syscalls, TCP, page faults)",
  libc: "libc (memcpy, malloc, send/recv)",
  helpers: "other threads (V8 GC and compiler helpers, I/O)",
  other: "other objects",
};

/** Parses `perf report` output as {@link PERF_REPORT_ARGS} print it; header and blank lines are skipped. */
export function parsePerfReport(text: string): PerfReportRow[] {
  const rows: PerfReportRow[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const f = line.split("\t");
    if (f.length < 5) continue;
    const samples = Number(f[1].trim());
    if (!Number.isFinite(samples)) continue;
    const symbol = f.slice(4).join("\t").trim().replace(/^\[[.kgu]\] /, "");
    rows.push({ samples, comm: f[2].trim(), dso: f[3].trim(), symbol });
  }
  return rows;
}

/** The part a row's samples belong to (`main`: the process's main thread name, default `deno`). */
export function cpuPartOf(row: PerfReportRow, main = "deno"): CpuPart {
  if (row.comm !== main) return "helpers";
  if (row.dso.startsWith("[JIT]")) {
    if (row.symbol.startsWith("Builtin:") || row.symbol.startsWith("RegExp")) return "builtins";
    return "js";
  }
  if (row.dso === "[kernel.kallsyms]" || row.dso.startsWith("[kernel")) return "kernel";
  if (row.dso.startsWith("libc.") || row.dso.startsWith("libc-")) return "libc";
  if (row.dso === "deno" || row.dso === "denort" || row.dso === "fastchat") return "runtime";
  return "other";
}

/** A process's (or a role's) samples by part, and its top symbols. */
export interface LinuxPerfSummary {
  /** The process's name (`srv-1`), or the role's for a sum. */
  name: string;
  role: string;
  samples: number;
  parts: Record<CpuPart, number>;
  /** The symbols with the most samples, most first (JS names shortened to the project path). */
  top: { samples: number; part: CpuPart; symbol: string }[];
}

/**
 * Shortens a JIT symbol: `JS:*'#lookup file:///x/server/t.ts:86:109` →
 * `#lookup server/t.ts` (V8 marks the tier before the name: `~` interpreted,
 * `^` baseline, `+` Maglev, `*` TurboFan, `o` on-stack replacement).
 */
export function shortSymbol(symbol: string): string {
  const m =
    /^JS:[*+^~']*'?(.*?) (?:file:\/\/\S*?\/((?:lib|server|client|perf|db|lb|fastchat)\/[^:\s]+)|(ext:[^:\s]+))[:\d]*$/
      .exec(symbol);
  if (!m) return symbol.replace(/^JS:o?[*+^~]?'?/, "");
  return `${m[1] || "(anonymous)"} ${m[2] ?? m[3]}`;
}

/** Sums rows into a {@link LinuxPerfSummary} with the `top` symbols (default 25). */
export function summarizePerfRows(
  name: string,
  role: string,
  rows: PerfReportRow[],
  top = 25,
): LinuxPerfSummary {
  const parts = Object.fromEntries(CPU_PARTS.map((p) => [p, 0])) as Record<CpuPart, number>;
  const bySymbol = new Map<string, { samples: number; part: CpuPart; symbol: string }>();
  let samples = 0;
  for (const r of rows) {
    const part = cpuPartOf(r);
    parts[part] += r.samples;
    samples += r.samples;
    // JIT addresses without a name, and the runtime's stripped addresses, are kept per object.
    const unnamed = /^0x[0-9a-f]+$/.test(r.symbol);
    const symbol = unnamed ? `(${r.dso.replace(/ tid \d+$/, "")} unnamed)` : shortSymbol(r.symbol);
    const key = `${part}\t${symbol}`;
    const s = bySymbol.get(key);
    if (s) s.samples += r.samples;
    else bySymbol.set(key, { samples: r.samples, part, symbol });
  }
  const sorted = [...bySymbol.values()].sort((a, b) => b.samples - a.samples);
  return { name, role, samples, parts, top: sorted.slice(0, top) };
}

/**
 * `n` as a share of `of`, for the tables: `12.3 %`, or `—` when `of` is 0.
 *
 * @example
 * ```ts
 * import { share } from "./linux_perf_report.ts";
 * console.log(share(1, 8)); // "12.5 %"
 * ```
 */
export function share(n: number, of: number): string {
  return of > 0 ? `${(100 * n / of).toFixed(1)} %` : "—";
}

/** A table of summaries: the share of each part, then each one's top symbols. */
export function formatLinuxPerf(list: LinuxPerfSummary[], topRows = 15): string {
  const head = LINUX_PERF_HEADER;
  const body = linuxPerfRows(list);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    "  " + r.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  ");
  const out = [line(head), ...body.map(line)];
  out.push("  parts: " + CPU_PARTS.map((p) => `${p} = ${CPU_PART_LABELS[p]}`).join("; "));
  for (const s of list.filter((x) => x.name.startsWith("all "))) {
    out.push(`  top symbols, ${s.name}:`);
    for (const t of s.top.slice(0, topRows)) {
      out.push(`    ${share(t.samples, s.samples).padStart(7)}  ${t.part.padEnd(8)}  ${t.symbol}`);
    }
  }
  return out.join("\n");
}

/** The rows of {@link formatLinuxPerf}'s table: process, samples, then each part's share. */
export function linuxPerfRows(list: LinuxPerfSummary[]): string[][] {
  return list.map((s) => [
    s.name,
    String(s.samples),
    ...CPU_PARTS.map((p) => share(s.parts[p], s.samples)),
  ]);
}

/** The header of {@link linuxPerfRows}. */
export const LINUX_PERF_HEADER: readonly string[] = ["process", "samples", ...CPU_PARTS];

function isSummary(x: unknown): x is LinuxPerfSummary {
  if (typeof x !== "object" || x === null) return false;
  const s = x as Record<string, unknown>;
  const parts = s.parts as Record<string, unknown> | null;
  return typeof s.name === "string" && typeof s.role === "string" &&
    Number.isFinite(s.samples) && typeof parts === "object" && parts !== null &&
    CPU_PARTS.every((p) => Number.isFinite(parts[p])) && Array.isArray(s.top) &&
    s.top.every((t) =>
      typeof t === "object" && t !== null && Number.isFinite(t.samples) &&
      (CPU_PARTS as readonly unknown[]).includes(t.part) && typeof t.symbol === "string"
    );
}

/**
 * The summaries `perf --linux-perf` wrote to `<runDir>/profiles/linux-perf.json`;
 * null when the run has none. Throws when the file is there but not such a list.
 *
 * @example
 * ```ts
 * import { readLinuxPerf } from "./linux_perf_report.ts";
 * const list = await readLinuxPerf("/tmp/no-such-run");
 * console.log(list); // null
 * ```
 */
export async function readLinuxPerf(runDir: string): Promise<LinuxPerfSummary[] | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${runDir}/profiles/linux-perf.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list) || !list.every(isSummary)) {
    throw new Error(`${runDir}/profiles/linux-perf.json: not a list of Linux perf summaries`);
  }
  return list;
}
