/**
 * Samples CPU time and resident memory of every process of a load run
 * (servers, database, load balancer, load workers, perf itself) from
 * `/proc/<pid>/stat` — utime + stime, and stime alone (fields 14, 15, in
 * clock ticks of `getconf CLK_TCK`), rss (field 24, in pages of
 * `getconf PAGESIZE`) and the start time (field 22, ticks since boot, plus
 * `btime` of /proc/stat) — every 250 ms and at every phase boundary, into
 * `processes.csv` of the run directory:
 *
 * `t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes,sys_ms`
 *
 * (`sys_ms`, the part of `cpu_ms` spent in the kernel, was added later:
 * runs written before it have the first eight columns,
 * {@link PROCESSES_CSV_HEADER_V1}.)
 *
 * One read of one small file per process and tick; rows of a tick share
 * `t_ms`. `phase` is the phase the run was in ({@link ProcessSampler.phase}
 * takes a sample when it changes, and the phases call
 * {@link ProcessSampler.sample} at their start and end), so the CPU a
 * process used in the messaging phase is its last `messaging` row's `cpu_ms`
 * minus its first. `start_ms` (epoch ms, 10 ms resolution) places a
 * process's own clock (V8's `--trace-gc` times) on the run's clock.
 *
 * @example
 * ```ts
 * import { ProcessSampler } from "./process_sampler.ts";
 * const sampler = await ProcessSampler.start("/tmp/processes.csv", () => [
 *   { role: "perf", name: "perf", pid: Deno.pid },
 * ]);
 * await sampler.phase("messaging");
 * await sampler.stop();
 * ```
 * @module
 */

/**
 * What a sampled process is in the run.
 *
 * @example
 * ```ts
 * import type { ProcessRole } from "./process_sampler.ts";
 * const role: ProcessRole = "server";
 * ```
 */
export type ProcessRole = "server" | "db" | "lb" | "worker" | "perf";

/**
 * A process to sample: several pids may share a name (the backends of an
 * external PostgreSQL are all `postgres`; they are summed by the analysis).
 *
 * @example
 * ```ts
 * import type { SampledProcess } from "./process_sampler.ts";
 * const p: SampledProcess = { role: "server", name: "srv-1", pid: 1234 };
 * ```
 */
export interface SampledProcess {
  role: ProcessRole;
  name: string;
  pid: number;
}

/**
 * The header line of `processes.csv`.
 *
 * @example
 * ```ts
 * import { PROCESSES_CSV_HEADER } from "./process_sampler.ts";
 * PROCESSES_CSV_HEADER.split(",").length; // 9
 * ```
 */
export const PROCESSES_CSV_HEADER = "t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes,sys_ms";

/**
 * The header of `processes.csv` in runs written before `sys_ms` was sampled.
 *
 * @example
 * ```ts
 * import { PROCESSES_CSV_HEADER, PROCESSES_CSV_HEADER_V1 } from "./process_sampler.ts";
 * PROCESSES_CSV_HEADER.startsWith(PROCESSES_CSV_HEADER_V1 + ","); // true
 * ```
 */
export const PROCESSES_CSV_HEADER_V1 = "t_ms,phase,role,name,pid,start_ms,cpu_ms,rss_bytes";

/**
 * The fields of `/proc/<pid>/stat` the sampler uses, in the kernel's units.
 *
 * @example
 * ```ts
 * import type { ProcStat } from "./process_sampler.ts";
 * const s: ProcStat = { userTicks: 100, sysTicks: 50, cpuTicks: 150, startTicks: 1000, rssPages: 2560 };
 * ```
 */
export interface ProcStat {
  /** utime: user CPU, clock ticks. */
  userTicks: number;
  /** stime: system (kernel) CPU, clock ticks. */
  sysTicks: number;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
  /** Start time, clock ticks after boot. */
  startTicks: number;
  /** Resident set size, pages. */
  rssPages: number;
}

/**
 * Parses a `/proc/<pid>/stat` text (the command name may hold spaces and
 * parentheses: fields are counted after the last `)`); null when malformed.
 *
 * @example
 * ```ts
 * import { parseProcStat } from "./process_sampler.ts";
 * const line = "42 (de no) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 9 0 777 999 2560";
 * parseProcStat(line); // { userTicks: 150, sysTicks: 50, cpuTicks: 200, startTicks: 777, rssPages: 2560 }
 * ```
 */
export function parseProcStat(text: string): ProcStat | null {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state): field k is rest[k - 3].
  const utime = Number(rest[11]), stime = Number(rest[12]);
  const start = Number(rest[19]), rss = Number(rest[21]);
  if (![utime, stime, start, rss].every(Number.isFinite) || rest.length < 22) return null;
  return {
    userTicks: utime,
    sysTicks: stime,
    cpuTicks: utime + stime,
    startTicks: start,
    rssPages: rss,
  };
}

async function getconf(name: string, fallback: number): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", { args: [name], stdout: "piped", stderr: "null" })
      .output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return out.success && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}

/**
 * The units of `/proc/<pid>/stat` on this machine: clock ticks per second,
 * page size, and the boot time (epoch ms) start times count from. The boot
 * time is the clock now less `/proc/uptime` (10 ms resolution), not
 * `/proc/stat`'s `btime`, which is whole seconds: start times placed by it
 * were up to a second early (0.51 s on this machine on 2026-12-08, found
 * by lining the load workers' GC pauses up with their clients' slow
 * messages).
 *
 * @example
 * ```ts
 * import { readProcUnits } from "./process_sampler.ts";
 * const u = await readProcUnits(); // { ticksPerSec: 100, pageBytes: 4096, bootMs: … }
 * ```
 */
export async function readProcUnits(): Promise<
  { ticksPerSec: number; pageBytes: number; bootMs: number }
> {
  return {
    ticksPerSec: await getconf("CLK_TCK", 100),
    pageBytes: await getconf("PAGESIZE", 4096),
    bootMs: await readBootMs(),
  };
}

/** Epoch ms of the boot: `Date.now()` less `/proc/uptime`, read back to back (`btime` if unreadable). */
async function readBootMs(): Promise<number> {
  try {
    const uptime = Deno.readTextFileSync("/proc/uptime");
    const now = Date.now();
    const seconds = Number(/^(\d+(?:\.\d+)?) /.exec(uptime)?.[1] ?? NaN);
    if (Number.isFinite(seconds)) return Math.round(now - seconds * 1000);
  } catch { /* no /proc/uptime: btime below */ }
  const stat = await Deno.readTextFile("/proc/stat");
  return Number(/^btime (\d+)$/m.exec(stat)?.[1] ?? NaN) * 1000;
}

/** Names and phases go into CSV unquoted: keep them to safe characters. */
function csvSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9_.:@+-]/g, "_");
}

/**
 * Options of {@link ProcessSampler.start}.
 *
 * @example
 * ```ts
 * import type { ProcessSamplerOptions } from "./process_sampler.ts";
 * const o: ProcessSamplerOptions = { intervalMs: 100 };
 * ```
 */
export interface ProcessSamplerOptions {
  /** Between two periodic samples (default 250 ms). */
  intervalMs?: number;
  /** The phase label of samples until {@link ProcessSampler.phase} (default `start`). */
  phase?: string;
}

/**
 * Samples the processes `targets()` names (asked anew at every sample)
 * into a CSV file until {@link ProcessSampler.stop}. Samples never overlap;
 * a process that has exited is skipped.
 *
 * @example
 * ```ts
 * import { ProcessSampler } from "./process_sampler.ts";
 * const s = await ProcessSampler.start("/tmp/p.csv", () => [{ role: "perf", name: "perf", pid: Deno.pid }]);
 * await s.sample();
 * await s.stop();
 * console.log(s.rows); // at least 2
 * ```
 */
export class ProcessSampler {
  /** Rows written so far. */
  rows = 0;
  #phase: string;
  #chain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #enc = new TextEncoder();

  private constructor(
    readonly file: Deno.FsFile,
    readonly targets: () => SampledProcess[] | Promise<SampledProcess[]>,
    readonly units: { ticksPerSec: number; pageBytes: number; bootMs: number },
    readonly intervalMs: number,
    phase: string,
  ) {
    this.#phase = csvSafe(phase);
  }

  /** Creates `path` (truncating it), writes the header and the first sample, and starts the timer. */
  static async start(
    path: string,
    targets: () => SampledProcess[] | Promise<SampledProcess[]>,
    opts: ProcessSamplerOptions = {},
  ): Promise<ProcessSampler> {
    const units = await readProcUnits();
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    await file.write(new TextEncoder().encode(PROCESSES_CSV_HEADER + "\n"));
    const s = new ProcessSampler(
      file,
      targets,
      units,
      opts.intervalMs ?? 250,
      opts.phase ?? "start",
    );
    await s.sample();
    s.#schedule();
    return s;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.sample().catch(() => {}).finally(() => this.#schedule());
    }, this.intervalMs);
  }

  /** The current phase label. */
  get currentPhase(): string {
    return this.#phase;
  }

  /** Enters phase `label` and samples at once (the phase's first rows). */
  phase(label: string): Promise<void> {
    this.#phase = csvSafe(label);
    return this.sample();
  }

  /** Samples every target now (after any sample in progress). */
  sample(): Promise<void> {
    if (this.#stopped) return this.#chain;
    const next = this.#chain.then(() => this.#sampleOnce());
    this.#chain = next.catch(() => {});
    return next;
  }

  async #sampleOnce(): Promise<void> {
    const targets = await this.targets();
    const t = Math.round(performance.timeOrigin + performance.now());
    const { ticksPerSec, pageBytes, bootMs } = this.units;
    let out = "";
    for (const p of targets) {
      let st: ProcStat | null;
      try {
        st = parseProcStat(await Deno.readTextFile(`/proc/${p.pid}/stat`));
      } catch {
        continue; // exited
      }
      if (!st) continue;
      const startMs = Math.round(bootMs + (st.startTicks * 1000) / ticksPerSec);
      const cpuMs = Math.round((st.cpuTicks * 1000) / ticksPerSec);
      const sysMs = Math.round((st.sysTicks * 1000) / ticksPerSec);
      out += `${t},${this.#phase},${p.role},${csvSafe(p.name)},${p.pid},${startMs},${cpuMs},${
        st.rssPages * pageBytes
      },${sysMs}\n`;
      this.rows++;
    }
    if (out) await this.file.write(this.#enc.encode(out));
  }

  /** Takes a last sample (phase `end`), stops the timer and closes the file. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return await this.#chain;
    await this.phase("end");
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#chain;
    this.file.close();
  }
}
