/**
 * One `deno task perf` run as a child process, for the commands that
 * compare runs (`perf:relay`, `perf:ab`): started with the given flags into
 * its own run directory (no analysis of its own), its progress on our
 * stderr, and its `run.json` results read back.
 *
 * @example
 * ```ts
 * import { runPerfChild } from "./perf_child.ts";
 * const r = await runPerfChild(["--clients", "4", "--messages", "20"], "/tmp/run-1");
 * console.log(r.msgsPerSec, r.received);
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { FastChatError } from "@fastchat/lib/errors";
import { type HostStalls, parseHostStalls } from "./host_stalls.ts";

/** This checkout's root. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What a finished run reports. */
export interface PerfChildResult {
  msgsPerSec: number;
  /** Messages received (unique), what per-message figures divide by. */
  received: number;
  /** Its host check (`--host-check`), null if it ran none. */
  hostStalls: HostStalls | null;
}

/**
 * Runs `perf/main.ts` of the checkout at `root` (default this one) with
 * `flags` into `dir`; rejects with `INTERNAL` if it fails or received nothing.
 */
export async function runPerfChild(
  flags: string[],
  dir: string,
  root: string = PROJECT_ROOT,
): Promise<PerfChildResult> {
  const st = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}/perf/main.ts`, ...flags, "--out", dir, "--no-analyze"],
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!st.success) throw new FastChatError("INTERNAL", `perf run ${dir} exited with ${st.code}`);
  const run = JSON.parse(await Deno.readTextFile(`${dir}/run.json`));
  const msgsPerSec = Number(run.results?.msgsPerSec);
  const received = Number(run.results?.received);
  if (!(msgsPerSec > 0 && received > 0)) throw new FastChatError("INTERNAL", `${dir}: no messages`);
  return { msgsPerSec, received, hostStalls: parseHostStalls(run.hostStalls, `${dir}/run.json`) };
}
