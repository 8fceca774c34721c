/**
 * The load workers' socket counters (`lib/framed_conn.ts` `ioStats`, summed
 * over every client connection of a worker) from "go" until the worker
 * stops: each worker logs them in its `socket_stats` line
 * (`logs/worker-<k>.log`) before closing its clients. Per message received
 * they say how many writes and reads, so wake-ups, the clients (sender and
 * receiver together) cost, and how many frames each write carried: the
 * client side of what `server_counters.ts` shows for the servers.
 *
 * @example
 * ```ts
 * import { formatWorkerSockets, readWorkerSockets } from "./worker_socket_stats.ts";
 * const s = await readWorkerSockets("perf/out/my-run");
 * if (s) console.log(formatWorkerSockets(s, 30_000));
 * ```
 * @module
 */
import { join } from "node:path";

/**
 * Socket reads, writes and frames of the load workers in the messaging
 * phase, summed; `workers` is how many logged them.
 *
 * @example
 * ```ts
 * import type { WorkerSockets } from "./worker_socket_stats.ts";
 * const s: WorkerSockets = { workers: 2, reads: 60, writes: 50, framesIn: 70, framesOut: 55 };
 * console.log(s.framesOut / s.writes); // frames per write
 * ```
 */
export interface WorkerSockets {
  workers: number;
  reads: number;
  writes: number;
  framesIn: number;
  framesOut: number;
}

const NAMES = ["reads", "writes", "framesIn", "framesOut"] as const;

/**
 * Adds the `messaging` counters of the `socket_stats` lines in `text`
 * (JSON lines; other lines and lines without them are skipped) to `into`;
 * returns how many lines it took.
 *
 * @example
 * ```ts
 * import { addWorkerSockets } from "./worker_socket_stats.ts";
 * const s = { workers: 0, reads: 0, writes: 0, framesIn: 0, framesOut: 0 };
 * addWorkerSockets(s, '{"event":"socket_stats","messaging":{"reads":5,"writes":4,"framesIn":6,"framesOut":4}}\n');
 * console.log(s.writes, s.workers); // 4 1
 * ```
 */
export function addWorkerSockets(into: WorkerSockets, text: string): number {
  let n = 0;
  for (const line of text.split("\n")) {
    if (!line.includes('"socket_stats"')) continue;
    let o: { event?: unknown; messaging?: Record<string, unknown> | null };
    try {
      o = JSON.parse(line);
    } catch {
      continue; // a line cut by a kill
    }
    const m = o.messaging;
    if (o.event !== "socket_stats" || typeof m !== "object" || m === null) continue;
    if (!NAMES.every((k) => typeof m[k] === "number" && Number.isFinite(m[k]))) continue;
    for (const k of NAMES) into[k] += m[k] as number;
    into.workers++;
    n++;
  }
  return n;
}

/**
 * Reads the workers' logs of run `runDir`; null when none logged its
 * messaging counters (older runs, `--idle`, a failed worker).
 *
 * @example
 * ```ts
 * import { readWorkerSockets } from "./worker_socket_stats.ts";
 * console.log(await readWorkerSockets("/nonexistent")); // null
 * ```
 */
export async function readWorkerSockets(runDir: string): Promise<WorkerSockets | null> {
  const s: WorkerSockets = { workers: 0, reads: 0, writes: 0, framesIn: 0, framesOut: 0 };
  const logs = join(runDir, "logs");
  try {
    for await (const e of Deno.readDir(logs)) {
      if (!e.isFile || !/^worker-\d+\.log$/.test(e.name)) continue;
      addWorkerSockets(s, await Deno.readTextFile(join(logs, e.name)));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return s.workers > 0 ? s : null;
}

/**
 * One line for `deno task analyze`'s text output: writes and reads per
 * message received, frames per write and per read.
 *
 * @example
 * ```ts
 * import { formatWorkerSockets } from "./worker_socket_stats.ts";
 * const s = { workers: 1, reads: 150, writes: 200, framesIn: 300, framesOut: 220 };
 * console.log(formatWorkerSockets(s, 100)); // … socket writes per message 2.00 (1.10 frames per write) …
 * ```
 */
export function formatWorkerSockets(s: WorkerSockets, messages: number): string {
  const n = (a: number, b: number) => b > 0 ? (a / b).toFixed(2) : "—";
  return `load workers (${s.workers}, from "go" until they stop, from their socket counters): ` +
    `socket writes per message received ${n(s.writes, messages)} (${
      n(s.framesOut, s.writes)
    } frames per write), reads per message ${n(s.reads, messages)} (${
      n(s.framesIn, s.reads)
    } frames per read)`;
}
