/**
 * `perf --linux-perf`: records Linux `perf` on-CPU samples of the servers
 * and load workers during the messaging phase, then reads them into
 * {@link LinuxPerfSummary}s (perf/linux_perf_report.ts says why).
 *
 * Each process gets its own `perf record -e cpu-clock -g -p PID` into
 * `<dir>/<name>.perf.data`, started with its events off and turned on
 * through perf's control FIFOs, so that {@link LinuxPerfRecorder.start}
 * resolves once samples are being taken; stopping sends SIGINT, waits for the files, and
 * runs `perf report` on each while V8's symbol maps (`/tmp/perf-PID.map`,
 * written by processes started with `--perf-basic-prof`: see
 * {@link withPerfMaps}) are still there; the maps are then moved next to
 * the data as `<name>.perf.map` (copy one back to `/tmp/perf-PID.map` to
 * report again later).
 *
 * @example
 * ```ts ignore
 * import { LinuxPerfRecorder } from "./linux_perf_recorder.ts";
 * const rec = await LinuxPerfRecorder.start("/tmp/run/profiles", [
 *   { role: "server", name: "srv-1", pid: 1234 },
 * ]);
 * // … the phase to measure …
 * const summaries = await rec.stop();
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import {
  type LinuxPerfSummary,
  parsePerfReport,
  PERF_REPORT_ARGS,
  type PerfReportRow,
  summarizePerfRows,
} from "./linux_perf_report.ts";

/** A process to record. */
export interface RecordedProcess {
  role: string;
  name: string;
  pid: number;
}

/** Samples per second and process (a prime, off the timers' beat). */
export const PERF_HZ = 997;

/**
 * The V8 flags for symbol maps: `--perf-basic-prof` also turns on V8's
 * own log, which by default is an `isolate-…-v8.log` file in the working
 * directory of every process; `--logfile=+` makes it a temporary file that
 * is never linked (`-` would be stdout, the load workers' protocol channel).
 */
export const PERF_MAP_FLAGS = "--perf-basic-prof,--logfile=+,--no-logfile-per-isolate";

/**
 * Runs `fn` (which spawns the processes to record) with V8's
 * `--perf-basic-prof` added to `DENO_V8_FLAGS` for every process spawned
 * meanwhile (restored afterwards); `on` false: just runs `fn`.
 *
 * @example
 * ```ts
 * import { withPerfMaps } from "./linux_perf_recorder.ts";
 * const out = await withPerfMaps(true, () =>
 *   new Deno.Command(Deno.execPath(), { args: ["eval", "1"] }).output()
 * );
 * console.log(out.success); // true
 * ```
 */
export async function withPerfMaps<T>(on: boolean, fn: () => Promise<T>): Promise<T> {
  if (!on) return await fn();
  const before = Deno.env.get("DENO_V8_FLAGS");
  Deno.env.set("DENO_V8_FLAGS", before ? `${before},${PERF_MAP_FLAGS}` : PERF_MAP_FLAGS);
  try {
    return await fn();
  } finally {
    if (before === undefined) Deno.env.delete("DENO_V8_FLAGS");
    else Deno.env.set("DENO_V8_FLAGS", before);
  }
}

/** Throws `INVALID_CONFIG` unless `perf record` works here (installed and permitted). */
export async function checkLinuxPerf(): Promise<void> {
  const out = await Deno.makeTempFile({ suffix: ".perf.data" });
  try {
    const r = await new Deno.Command("perf", {
      args: ["record", "-q", "-e", "cpu-clock", "-o", out, "--", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!r.success) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `--linux-perf: perf record failed (${
          new TextDecoder().decode(r.stderr).trim().split("\n")[0]
        }); it needs kernel.perf_event_paranoid ≤ 1 or root`,
      );
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new FastChatError(
        "INVALID_CONFIG",
        "--linux-perf needs Linux perf (`perf`; Debian: linux-perf): not found",
      );
    }
    throw e;
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Starts `perf record` on `p` with its events off, then turns them on
 * through perf's control FIFOs and waits for its acknowledgement: when this
 * resolves, samples are being taken (a process that was spawned just before
 * is not missed while perf starts up). Throws if perf exits first.
 */
async function startRecording(
  p: RecordedProcess,
  data: string,
  hz: number,
  fifos: string,
): Promise<Recording> {
  const ctl = `${fifos}/${p.pid}.ctl`, ack = `${fifos}/${p.pid}.ack`;
  for (const f of [ctl, ack]) {
    const r = await new Deno.Command("mkfifo", { args: ["-m", "600", f] }).output();
    if (!r.success) throw new Error(`--linux-perf: mkfifo ${f} failed`);
  }
  const args = ["record", "-q", "-e", "cpu-clock", "-F", String(hz), "-g", "-D", "-1"];
  args.push("--control", `fifo:${ctl},${ack}`, "-o", data, "-p", String(p.pid));
  const child = new Deno.Command("perf", {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Both FIFOs opened read-write, which never waits for the other end: perf
  // may open its ends later, and "enable" waits in the pipe meanwhile.
  const acks = await Deno.open(ack, { read: true, write: true });
  const control = await Deno.open(ctl, { read: true, write: true });
  try {
    await control.write(encoder.encode("enable\n"));
    let gone = false;
    const acked = (async () => {
      const buf = new Uint8Array(64);
      let got = "";
      while (!gone && !got.includes("ack\n")) {
        const n = await acks.read(buf);
        if (n !== null) got += decoder.decode(buf.subarray(0, n));
      }
    })();
    const first = await Promise.race([acked.then(() => null), child.status]);
    if (first === null) return { p, data, child };
    gone = true;
    // A second handle ends the read still waiting (one handle's read and write run in turn).
    const nudge = await Deno.open(ack, { write: true });
    try {
      await nudge.write(encoder.encode("\n"));
    } finally {
      nudge.close();
    }
    await acked;
  } finally {
    acks.close();
    control.close();
  }
  const out = await child.output();
  const why = decoder.decode(out.stderr).trim().split("\n")[0] || `exit code ${out.code}`;
  throw new Error(`--linux-perf: perf record -p ${p.pid} (${p.name}) failed: ${why}`);
}

/** Asks a recording to stop (SIGINT: perf writes its file and exits). */
function interrupt(r: Recording): void {
  try {
    r.child.kill("SIGINT");
  } catch { /* it ended with its process */ }
}

/** Stops a recording and waits until perf has exited. */
async function stopRecording(r: Recording): Promise<void> {
  interrupt(r);
  await r.child.output().catch(() => {});
}

interface Recording {
  p: RecordedProcess;
  data: string;
  child: Deno.ChildProcess;
}

/** Running `perf record`s, one per process; see the module doc. */
export class LinuxPerfRecorder {
  readonly #dir: string;
  readonly #runs: Recording[];
  readonly #unrecorded: number[];

  private constructor(dir: string, runs: Recording[], unrecorded: number[]) {
    this.#dir = dir;
    this.#runs = runs;
    this.#unrecorded = unrecorded;
  }

  /**
   * Checks that perf works ({@link checkLinuxPerf}), then starts recording
   * `procs` into `dir`. `unrecorded`: pids of other processes started with
   * {@link withPerfMaps}, whose symbol maps {@link stop} removes.
   */
  static async start(
    dir: string,
    procs: RecordedProcess[],
    unrecorded: number[] = [],
    hz = PERF_HZ,
  ): Promise<LinuxPerfRecorder> {
    await checkLinuxPerf();
    await Deno.mkdir(dir, { recursive: true });
    const fifos = await Deno.makeTempDir({ prefix: "fastchat-perf-control-" });
    const runs: Recording[] = [];
    try {
      for (const p of procs) {
        runs.push(await startRecording(p, `${dir}/${p.name}.perf.data`, hz, fifos));
      }
    } catch (e) {
      for (const r of runs) await stopRecording(r);
      throw e;
    } finally {
      await Deno.remove(fifos, { recursive: true }); // perf keeps what it opened
    }
    return new LinuxPerfRecorder(dir, runs, unrecorded);
  }

  /**
   * Stops every recording and returns one summary per process, then one per
   * role (`all servers (2)`), with the top `top` symbols. A recording that
   * failed is left out, with a line on stderr.
   */
  async stop(top = 25): Promise<LinuxPerfSummary[]> {
    for (const r of this.#runs) interrupt(r);
    const byRole = new Map<string, { rows: PerfReportRow[]; n: number }>();
    const out: LinuxPerfSummary[] = [];
    for (const r of this.#runs) {
      const status = await r.child.output();
      const rows = await this.#report(r.data, r.p, status.success || status.signal === "SIGINT");
      if (!rows) continue;
      out.push(summarizePerfRows(r.p.name, r.p.role, rows, top));
      const g = byRole.get(r.p.role) ?? { rows: [], n: 0 };
      g.rows.push(...rows);
      g.n++;
      byRole.set(r.p.role, g);
    }
    for (const pid of this.#unrecorded) await Deno.remove(`/tmp/perf-${pid}.map`).catch(() => {});
    for (const [role, g] of byRole) {
      if (g.n > 1) out.push(summarizePerfRows(`all ${role}s (${g.n})`, role, g.rows, top));
    }
    return out;
  }

  async #report(data: string, p: RecordedProcess, ok: boolean): Promise<PerfReportRow[] | null> {
    const map = `/tmp/perf-${p.pid}.map`;
    try {
      if (!ok) throw new Error("perf record did not end cleanly");
      const r = await new Deno.Command("perf", {
        args: [...PERF_REPORT_ARGS, "-i", data],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (!r.success) throw new Error(`perf report exited with ${r.code}`);
      return parsePerfReport(new TextDecoder().decode(r.stdout));
    } catch (e) {
      console.error(
        JSON.stringify({ event: "linux_perf_failed", process: p.name, error: String(e) }),
      );
      return null;
    } finally {
      // Copied, then removed (the run directory may be on another file system).
      await Deno.copyFile(map, `${this.#dir}/${p.name}.perf.map`)
        .then(() => Deno.remove(map))
        .catch(() => {});
    }
  }
}
