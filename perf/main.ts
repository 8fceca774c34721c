/**
 * `deno task perf -- --clients N --messages M [--servers S] [options]` — the
 * FastChat load generator (see `--help` and {@link HELP}).
 *
 * A run: start a cluster (embedded in-memory database or `--db`, S chat
 * servers, the LB with `--rate 0`) unless `--lb` names one; spawn W worker
 * processes (`perf/load_worker.ts`) that each run a share of the N real
 * ChatClients; register the users `perf-<seed>-<i>` (phase `register`),
 * log all of them in (phase `login`); broadcast "go" so messaging starts
 * together; show progress on stderr; end when every sent message was
 * received (or `--drain` after the last send); stop the workers (CSV
 * flush), stop the cluster (logs kept), write `run.json`, print a summary
 * and run `perf/analyze.ts` on the run directory if it exists.
 *
 * Run directory: `run.json`, `clients/<user>.csv`, `logs/*.log`, and
 * `idle.json` (`--idle`) or `reconnect.json` (`--kill-one`).
 * Ctrl-C stops cleanly (`"interrupted": true` in run.json, exit 130); a
 * second Ctrl-C kills everything at once.
 *
 * This file parses the flags and checks the run directory; the run itself
 * is `load_run.ts` (its parts: `worker_pool.ts`, `setup_phases.ts`,
 * `messaging_phase.ts`, `idle_measurement.ts`, `kill_one.ts`,
 * `run_record.ts`, `run_summary.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { FastChatError } from "@fastchat/lib/errors";
import { LoadRun } from "./load_run.ts";
import { parseRunArgs, runDirName } from "./run_config.ts";
import { HELP } from "./run_help.ts";
import type { RunConfig } from "./run_schema.ts";

const DEFAULT_OUT_ROOT = fileURLToPath(new URL("./out", import.meta.url));

async function nonEmpty(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e; // missing is empty
  }
  return false;
}

/**
 * Runs the load generator with `args`; resolves with the exit code
 * (0 done, 1 failed, 2 bad flags, 130 interrupted).
 *
 * @example
 * ```ts
 * import { runPerf } from "./main.ts";
 * Deno.exit(await runPerf(["--clients", "4", "--messages", "20", "--out", "/tmp/run"]));
 * ```
 */
export async function runPerf(args: string[]): Promise<number> {
  const a = args[0] === "--" ? args.slice(1) : args;
  if (a.includes("--help") || a.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let cfg: RunConfig;
  try {
    cfg = parseRunArgs(a, { cores: navigator.hardwareConcurrency });
  } catch (e) {
    console.error(`perf: ${FastChatError.from(e).message}`);
    return 2;
  }
  const dir = cfg.out ?? `${DEFAULT_OUT_ROOT}/${runDirName(cfg, new Date())}`;
  if (await nonEmpty(dir)) {
    console.error(
      `perf: the run directory ${dir} is not empty (an earlier run's CSVs would mix in); choose another --out`,
    );
    return 2;
  }
  const run = new LoadRun(cfg, dir);
  const onSignal = () => run.interrupt();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    return await run.execute();
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

/**
 * The `perf` command line (without the program name): {@link runPerf}.
 *
 * @example
 * ```ts
 * import { main } from "@fastchat/perf/main";
 * Deno.exit(await main(["--clients", "4", "--messages", "20", "--out", "/tmp/run"]));
 * ```
 */
export const main: (args: string[]) => Promise<number> = runPerf;

if (import.meta.main) Deno.exit(await main(Deno.args));
