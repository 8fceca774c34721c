/**
 * `deno task perf:sweep -- --clients 10,50,100 --servers 1,2,3 [--payload 100B,1KiB] [--out DIR] [perf flags]`
 *
 * Runs the whole matrix (every clients × servers × payload combination) in
 * one command: each point is a separate `perf/main.ts` process with its own
 * cluster and its own run directory `<sweep>/c<N>-s<S>[-p<payload>]` under
 * one sweep directory (default `perf/out/<timestamp>-sweep`). All other
 * flags (`--messages`, `--rate`, `--seed`, `--lb` …) are passed to every run
 * unchanged. Every combination is validated before the first run starts.
 *
 * At the end it writes `<sweep>/sweep.json` (the matrix and each run's exit
 * code) and, if `perf/analyze.ts` exists, runs it on all successful runs
 * together: `deno run -A perf/analyze.ts <dirs...> --out <sweep>`, as a
 * subprocess, so the sweep depends on the analysis only through its
 * command line.
 *
 * A servers sweep at a fixed client load (`--clients 100 --servers 1,2,3,4`)
 * is analyzed for CPU per message against servers (`server_scaling.ts`).
 *
 * Ctrl-C stops the current run cleanly (it is forwarded), skips the rest
 * and still analyzes the runs that completed; exit 130.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { signalIfRunning } from "@fastchat/lib/already_gone";
import { FastChatError } from "@fastchat/lib/errors";
import { invalidFlag as invalid } from "./flag_values.ts";
import { parseRunArgs } from "./run_config.ts";
import { runStamp } from "./clock.ts";

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

const HELP =
  `Usage: deno task perf:sweep -- --clients 10,50,100 [--servers 1,2,3] [--payload 100B,1KiB]
                              [--out DIR] [--no-analyze] [any deno task perf flag]
Runs deno task perf once per combination of the comma-separated lists, one run directory
each under DIR (default perf/out/<timestamp>-sweep), then analyzes them all together.
With one --clients value and --servers 1,2,3,4 the analysis adds msgs/s and CPU µs per
message against servers (all servers' CPU ÷ messages, and each server's CPU ÷ its share).`;

/**
 * The sweep's own flags; everything else goes to each run.
 *
 * @example
 * ```ts
 * import { parseSweepArgs, type SweepArgs } from "./sweep.ts";
 * const s: SweepArgs = parseSweepArgs(["--clients", "10,50", "--messages", "100"]);
 * s.servers; // null: not swept
 * ```
 */
export interface SweepArgs {
  clients: string[];
  /** null: not swept (perf's default, or `--lb`). */
  servers: string[] | null;
  payloads: string[] | null;
  out: string | null;
  analyze: boolean;
  /** Flags passed to every run unchanged. */
  forward: string[];
}

/**
 * One point of the matrix.
 *
 * @example
 * ```ts
 * import { parseSweepArgs, sweepMatrix } from "./sweep.ts";
 * const [p] = sweepMatrix(parseSweepArgs(["--clients", "10", "--payload", "1KiB", "--messages", "5"]));
 * p.name; // "c10-p1KiB"
 * ```
 */
export interface SweepPoint {
  clients: string;
  servers: string | null;
  payload: string | null;
  /** Run directory name, e.g. `c50-s2-p1KiB`. */
  name: string;
  /** Arguments of `perf/main.ts` (without `--out`). */
  args: string[];
}

function list(flag: string, v: string | undefined): string[] {
  const items = (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw invalid(`${flag} needs a comma-separated list, e.g. ${flag} 10,50`);
  return items;
}

/**
 * Splits the sweep's own flags (`--clients`, `--servers`, `--payload`
 * lists, `--out`, `--no-analyze`) from the flags forwarded to every run.
 *
 * @example
 * ```ts
 * import { parseSweepArgs } from "./sweep.ts";
 * parseSweepArgs(["--clients", "10,50", "--messages", "100"]).forward; // ["--messages", "100"]
 * ```
 */
export function parseSweepArgs(args: string[]): SweepArgs {
  const a = args[0] === "--" ? args.slice(1) : args;
  const own: Record<string, string> = {};
  const forward: string[] = [];
  let analyze = true;
  for (let i = 0; i < a.length; i++) {
    const m = /^--(clients|servers|payload|out)(?:=(.*))?$/.exec(a[i]);
    if (m) {
      const v = m[2] ?? a[++i];
      if (v === undefined || v.startsWith("--")) throw invalid(`--${m[1]} needs a value`);
      if (m[1] in own) throw invalid(`--${m[1]} given twice`);
      own[m[1]] = v;
    } else if (a[i] === "--no-analyze") {
      analyze = false;
    } else if (a[i] === "--idle" || a[i].startsWith("--idle=")) {
      throw invalid("a sweep runs messaging load; run --idle with deno task perf");
    } else {
      forward.push(a[i]);
    }
  }
  if (own.clients === undefined) throw invalid("--clients LIST is required");
  return {
    clients: list("--clients", own.clients),
    servers: own.servers !== undefined ? list("--servers", own.servers) : null,
    payloads: own.payload !== undefined ? list("--payload", own.payload) : null,
    out: own.out ?? null,
    analyze,
    forward,
  };
}

/**
 * Every combination, in order clients → servers → payload (payload varies
 * fastest), each validated with the perf flag parser.
 *
 * @example
 * ```ts
 * import { parseSweepArgs, sweepMatrix } from "./sweep.ts";
 * sweepMatrix(parseSweepArgs(["--clients", "10,20", "--servers", "1,2", "--messages", "5"]))
 *   .map((p) => p.name); // ["c10-s1", "c10-s2", "c20-s1", "c20-s2"]
 * ```
 */
export function sweepMatrix(s: SweepArgs): SweepPoint[] {
  const points: SweepPoint[] = [];
  const names = new Set<string>();
  for (const clients of s.clients) {
    for (const servers of s.servers ?? [null]) {
      for (const payload of s.payloads ?? [null]) {
        const args = [...s.forward, "--clients", clients];
        if (servers !== null) args.push("--servers", servers);
        if (payload !== null) args.push("--payload", payload);
        // Throws INVALID_CONFIG for a bad combination before anything runs.
        const cfg = parseRunArgs([...args, "--out", "x"]);
        const name = `c${cfg.clients}-s${cfg.servers ?? "lb"}` +
          (payload !== null ? `-p${payload.replace(/[^A-Za-z0-9.]/g, "")}` : "");
        if (names.has(name)) throw invalid(`the matrix has ${name} twice`);
        names.add(name);
        points.push({ clients, servers, payload, name, args });
      }
    }
  }
  return points;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the sweep; resolves with the exit code (0 all ok, 1 a run failed, 2 bad flags, 130 interrupted).
 *
 * @example
 * ```ts
 * import { runSweep } from "./sweep.ts";
 * Deno.exit(await runSweep(["--clients", "10,50", "--servers", "1,2", "--messages", "100"]));
 * ```
 */
export async function runSweep(args: string[]): Promise<number> {
  const a = args[0] === "--" ? args.slice(1) : args;
  if (a.includes("--help") || a.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let sweep: SweepArgs;
  let points: SweepPoint[];
  try {
    sweep = parseSweepArgs(a);
    points = sweepMatrix(sweep);
  } catch (e) {
    console.error(`perf:sweep: ${FastChatError.from(e).message}`);
    return 2;
  }
  const startedAt = new Date();
  const dir = sweep.out ?? here(`./out/${runStamp(startedAt)}-sweep`);
  await Deno.mkdir(dir, { recursive: true });
  console.error(`perf:sweep: ${points.length} run(s) into ${dir}`);

  let interrupted = false;
  let child: Deno.ChildProcess | null = null;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    console.error("perf:sweep: interrupted: stopping the current run, skipping the rest");
    if (child) signalIfRunning(child, "SIGINT");
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const results: (SweepPoint & { dir: string; exitCode: number | null; ms: number })[] = [];
  try {
    for (const [i, p] of points.entries()) {
      const runDir = `${dir}/${p.name}`;
      if (interrupted) {
        results.push({ ...p, dir: runDir, exitCode: null, ms: 0 });
        continue;
      }
      console.error(`perf:sweep: [${i + 1}/${points.length}] ${p.name}`);
      const t0 = performance.now();
      child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", here("./main.ts"), ...p.args, "--out", runDir, "--no-analyze"],
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
        // Own process group: Ctrl-C reaches the sweep, which forwards it once.
        detached: true,
      }).spawn();
      const status = await child.status;
      child = null;
      results.push({
        ...p,
        dir: runDir,
        exitCode: status.code,
        ms: Math.round(performance.now() - t0),
      });
      if (status.code !== 0 && !interrupted) {
        console.error(`perf:sweep: ${p.name} exited with code ${status.code}; continuing`);
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  await Deno.writeTextFile(
    `${dir}/sweep.json`,
    JSON.stringify(
      {
        args: a,
        startedAt: startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        interrupted,
        runs: results,
      },
      null,
      2,
    ) + "\n",
  );
  const done = results.filter((r) => r.exitCode === 0).map((r) => r.dir);
  const analyze = here("./analyze.ts");
  if (sweep.analyze && done.length > 0) {
    if (await exists(analyze)) {
      console.error(`perf:sweep: analyzing ${done.length} run(s)`);
      const st = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", analyze, ...done, "--out", dir],
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      if (!st.success) console.error(`perf:sweep: perf/analyze.ts exited with code ${st.code}`);
    } else {
      console.error("perf:sweep: perf/analyze.ts not found; skipping the analysis");
    }
  }
  const failed = results.filter((r) => r.exitCode !== 0 && r.exitCode !== null);
  console.log(
    `sweep: ${done.length}/${points.length} run(s) completed${
      failed.length ? `, ${failed.length} failed (${failed.map((r) => r.name).join(", ")})` : ""
    }\nsweep directory: ${dir}`,
  );
  if (interrupted) return 130;
  return failed.length > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await runSweep(Deno.args));
