/**
 * `deno task perf:ab -- --base REV [--pairs 4] [--out DIR] [perf flags]`
 *
 * This build against another one (a git revision, checked out into a
 * temporary worktree), measured the only way a shared machine allows: the
 * same `deno task perf` run of each, back to back, `--pairs` times, in
 * alternating order (base first, then this build first, …) so that a drift
 * in the machine's speed hits both alike. Prints each pair's msgs/s and CPU
 * µs per message (servers, database, load workers) with this build's ratio
 * to the base, and the medians (`build_ab_summary.ts`); writes
 * `<out>/ab.json`; the runs are `<out>/pair-<k>-base` and `…-head`.
 *
 * Without perf flags: goal 3's run (`--clients 100 --messages 1000
 * --servers 2 --window 64` and the cheap set-up flags), as `perf:relay`.
 *
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { invalidFlag as invalid, wrapperFlags } from "./flag_values.ts";
import { parseRunArgs } from "./run_config.ts";
import { DEFAULT_PERF } from "./relay_ratio.ts";
import { analyzeProcesses } from "./process_analysis.ts";
import { PROJECT_ROOT, runPerfChild } from "./perf_child.ts";
import { runStamp } from "./clock.ts";
import {
  AB_ROLES,
  type AbPair,
  type AbRun,
  formatAbTable,
  summarizeAb,
} from "./build_ab_summary.ts";

const ROOT = PROJECT_ROOT;

const HELP =
  `Usage: deno task perf:ab -- --base REV [--pairs N] [--out DIR] [any deno task perf flag]
Runs deno task perf with the same flags on the build of git revision REV (checked out into a
temporary worktree) and on this one, N times each (default 4), alternating which goes first, and
prints msgs/s and CPU µs per message of servers, database and load workers, with the ratios.
Default perf flags: ${DEFAULT_PERF.join(" ")}.`;

/** The command line of {@link runBuildAb}, parsed. */
export interface BuildAbArgs {
  base: string;
  pairs: number;
  out: string | null;
  /** Flags of every perf run. */
  perf: string[];
}

/**
 * Parses `deno task perf:ab` flags; the perf flags are checked as perf would.
 *
 * @example
 * ```ts
 * import { parseBuildAbArgs } from "./build_ab.ts";
 * parseBuildAbArgs(["--base", "HEAD~1"]).pairs; // 4
 * ```
 */
export function parseBuildAbArgs(args: string[]): BuildAbArgs {
  const { take, rest: a } = wrapperFlags(args);
  const base = take("--base");
  if (!base) throw invalid("--base REV is required (the git revision to compare with)");
  const p = take("--pairs");
  const pairs = p === undefined ? 4 : Number(p);
  if (!(Number.isInteger(pairs) && pairs >= 1 && pairs <= 1000)) {
    throw invalid(`--pairs: bad count ${p}`);
  }
  const out = take("--out") ?? null;
  const perf = a.length > 0 ? a : DEFAULT_PERF;
  const cfg = parseRunArgs([...perf, "--out", "x"]);
  if (cfg.idle || cfg.lb !== null) {
    throw invalid("perf:ab compares message runs of a cluster perf starts (no --idle, no --lb)");
  }
  return { base, pairs, out, perf };
}

async function git(args: string[]): Promise<string> {
  const r = await new Deno.Command("git", { args: ["-C", ROOT, ...args], stdin: "null" }).output();
  const err = new TextDecoder().decode(r.stderr).trim();
  if (!r.success) throw new FastChatError("INVALID_CONFIG", `git ${args[0]}: ${err}`);
  return new TextDecoder().decode(r.stdout).trim();
}

/** The base build in a temporary git worktree, its npm packages installed. */
async function checkOut(rev: string, dir: string): Promise<string> {
  const sha = await git(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`])
    .catch(() => {
      throw invalid(`--base: ${rev} is no commit of this repository`);
    });
  await git(["worktree", "add", "--detach", dir, sha]);
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["install", "--quiet"],
    cwd: dir,
    stdin: "null",
    stdout: "null",
  }).output();
  if (!install.success) {
    throw new FastChatError("INTERNAL", `deno install in the base worktree failed`);
  }
  return sha;
}

/** One `deno task perf` run of the build at `root` into `dir`, with its processes' CPU. */
async function runOnce(root: string, perf: string[], dir: string): Promise<AbRun> {
  const { msgsPerSec, received, hostStalls } = await runPerfChild(perf, dir, root);
  const p = await analyzeProcesses(dir, { messages: received });
  const cpu = (role: string) => p?.summary.roles.find((r) => r.role === role)?.cpuUsPerMsg ?? NaN;
  return {
    dir,
    msgsPerSec,
    cpuUsPerMsg: { server: cpu("server"), db: cpu("db"), worker: cpu("worker") },
    hostStalls,
  };
}

/**
 * Runs the pairs; resolves with the exit code (0 ok, 1 a run failed, 2 bad flags).
 *
 * @example
 * ```ts
 * import { runBuildAb } from "./build_ab.ts";
 * Deno.exit(await runBuildAb(["--base", "HEAD~1", "--pairs", "4"]));
 * ```
 */
export async function runBuildAb(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let o: BuildAbArgs;
  try {
    o = parseBuildAbArgs(args);
  } catch (e) {
    console.error(`perf:ab: ${FastChatError.from(e).message}`);
    return 2;
  }
  const dir = o.out ?? `${ROOT}/perf/out/${runStamp(new Date())}-ab`;
  await Deno.mkdir(dir, { recursive: true });
  const tree = await Deno.makeTempDir({ prefix: "fastchat-ab-base-" });
  await Deno.remove(tree); // git makes the worktree's directory
  const pairs: AbPair[] = [];
  let sha = "";
  try {
    sha = await checkOut(o.base, tree);
    console.error(`perf:ab: base ${o.base} (${sha.slice(0, 12)}) in ${tree}`);
    for (let k = 1; k <= o.pairs; k++) {
      const runs: Partial<AbPair> = {};
      for (const side of k % 2 === 1 ? ["base", "head"] as const : ["head", "base"] as const) {
        runs[side] = await runOnce(
          side === "base" ? tree : ROOT,
          o.perf,
          `${dir}/pair-${k}-${side}`,
        );
        const r = runs[side]!;
        console.error(
          `perf:ab: [${k}/${o.pairs}] ${side} ${Math.round(r.msgsPerSec)} msgs/s, µs/msg ` +
            AB_ROLES.map((role) => `${role} ${r.cpuUsPerMsg[role].toFixed(1)}`).join(" "),
        );
      }
      pairs.push(runs as AbPair);
    }
  } catch (e) {
    const err = FastChatError.from(e);
    console.error(`perf:ab: ${err.message}`);
    return err.code === "INVALID_CONFIG" ? 2 : 1;
  } finally {
    await git(["worktree", "remove", "--force", tree]).catch(() => {});
  }
  const summary = summarizeAb(pairs);
  await Deno.writeTextFile(
    `${dir}/ab.json`,
    JSON.stringify({ base: o.base, baseCommit: sha, perf: o.perf, ...summary }, null, 2) + "\n",
  );
  console.log(`deno task perf -- ${o.perf.join(" ")}`);
  for (const l of formatAbTable(summary, `${o.base} (${sha.slice(0, 12)})`)) console.log(l);
  console.log(`(${dir}/ab.json)`);
  return 0;
}

if (import.meta.main) Deno.exit(await runBuildAb(Deno.args));
