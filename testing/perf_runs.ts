/**
 * The recorded perf runs under `perf/testdata`, analyzed as `deno task
 * analyze` does (the run, then its processes' samples), for the perf tests.
 *
 * @example
 * ```ts
 * import { analyzedTestRun } from "@fastchat/testing/perf_runs";
 * const summary = await analyzedTestRun("procs-s1");
 * console.log(summary.counts.received, summary.processes !== null);
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { analyzeProcesses } from "../perf/process_analysis.ts";
import { analyzeRunDir, type RunSummary } from "../perf/run_analysis.ts";

/**
 * The folder of the recorded perf runs (`perf/testdata`).
 *
 * @example
 * ```ts
 * import { PERF_TESTDATA } from "@fastchat/testing/perf_runs";
 * console.log(`${PERF_TESTDATA}/procs-s1`);
 * ```
 */
export const PERF_TESTDATA: string = new URL("../perf/testdata", import.meta.url).pathname;

/**
 * The summary of recorded run `name`, with its processes' summary (`null`
 * when the run recorded no process samples).
 *
 * @example
 * ```ts
 * import { analyzedTestRun } from "@fastchat/testing/perf_runs";
 * const [a, b] = [await analyzedTestRun("procs-s1"), await analyzedTestRun("procs-s2")];
 * console.log(a.name, b.name);
 * ```
 */
export async function analyzedTestRun(name: string): Promise<RunSummary> {
  const { summary } = await analyzeRunDir(`${PERF_TESTDATA}/${name}`);
  summary.processes = (await analyzeProcesses(`${PERF_TESTDATA}/${name}`, {
    messages: summary.counts.received,
    info: summary.info,
  }))?.summary ?? null;
  return summary;
}

/**
 * Runs the load generator (`perf/main.ts`) with `args` as its own process
 * (stdin closed) and returns its stdout; prints stdout and stderr and
 * throws when it exits with another code than 0.
 *
 * @example
 * ```ts
 * import { runPerfMain } from "@fastchat/testing/perf_runs";
 * const out = await runPerfMain(["--clients", "2", "--messages", "1", "--out", "/tmp/run", "--no-analyze"]);
 * console.log(out.includes("sent 2, received 2"));
 * ```
 */
export async function runPerfMain(args: string[]): Promise<string> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fileURLToPath(new URL("../perf/main.ts", import.meta.url)), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(res.stdout);
  if (res.code !== 0) {
    console.error(stdout, new TextDecoder().decode(res.stderr));
    throw new Error(`perf/main.ts ${args.join(" ")} exited with ${res.code}`);
  }
  return stdout;
}

/**
 * The bare relay beside the project (`../shared/bench`: `relay.ts`,
 * `load.ts`), as on the development machine and in CI; null where it is
 * not (a user's clone), and the tests that drive it are skipped.
 *
 * @example
 * ```ts
 * import { BENCH_DIR } from "@fastchat/testing/perf_runs";
 * console.log(BENCH_DIR ?? "no bench here");
 * ```
 */
export const BENCH_DIR: string | null = (() => {
  const dir = fileURLToPath(new URL("../../shared/bench", import.meta.url));
  try {
    return Deno.statSync(`${dir}/relay.ts`).isFile && Deno.statSync(`${dir}/load.ts`).isFile
      ? dir
      : null;
  } catch {
    return null;
  }
})();
