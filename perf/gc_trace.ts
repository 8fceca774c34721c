/**
 * GC pauses of the cluster processes, from V8's `--trace-gc` lines. With
 * `deno task perf --trace-gc` the database, servers and load balancer run
 * with `DENO_V8_FLAGS=--trace-gc` (it adds to their own `--v8-flags`) and
 * line-buffered stdio ({@link traceGcEnv}): V8 then prints one line per
 * collection to stdout, which the cluster keeps in `logs/<name>.stdout.log`:
 *
 * `[pid:0x…]   1234 ms: Scavenge 3.3 (4.4) -> 3.2 (5.4) MB, pooled: 0.0 MB, 4.50 / 0.00 ms (…`
 *
 * The time is ms since the process's V8 isolate started; the first number
 * after the sizes is the main-thread pause of that collection (incremental
 * marking steps done between collections are not in it). The load workers
 * are traced too: their stdout carries the worker protocol, so the parent
 * (`worker_handle.ts`) moves their GC lines to `logs/worker-<k>.stdout.log`.
 *
 * @example
 * ```ts
 * import { parseGcLine } from "./gc_trace.ts";
 * const e = parseGcLine("[7:0x1]  36 ms: Scavenge 3.3 (4.4) -> 3.2 (5.4) MB, 4.50 / 0.00 ms (x)");
 * e?.pauseMs; // 4.5
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";

/**
 * One collection.
 *
 * @example
 * ```ts
 * import type { GcEvent } from "./gc_trace.ts";
 * const e: GcEvent = { pid: 7, sinceStartMs: 36, kind: "Scavenge", pauseMs: 4.5, heapAfterMb: 3.2 };
 * ```
 */
export interface GcEvent {
  pid: number;
  /** ms since the isolate started. */
  sinceStartMs: number;
  /** `Scavenge`, `Mark-Compact`, `Minor Mark-Sweep`, … */
  kind: string;
  /** Main-thread pause, ms. */
  pauseMs: number;
  /** The heap's objects after the collection, MB (the `-> X` of the line). */
  heapAfterMb: number;
}

const GC_LINE =
  /^\[(\d+):0x[0-9a-f]+\]\s+(\d+) ms: ([A-Za-z][A-Za-z -]*?)(?: \([^)]*\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, (?:[^,]*, )*?([\d.]+) \/ [\d.]+ ms/;

/**
 * Parses one `--trace-gc` line; null for any other line.
 *
 * @example
 * ```ts
 * import { parseGcLine } from "./gc_trace.ts";
 * parseGcLine("listening on 127.0.0.1:4000"); // null
 * parseGcLine("[7:0x1]  9 ms: Mark-Compact 12.1 (14.0) -> 8.0 (13.0) MB, pooled: 0 MB, 12.25 / 0.00 ms (+ …")
 *   ?.kind; // "Mark-Compact"
 * ```
 */
export function parseGcLine(line: string): GcEvent | null {
  const m = GC_LINE.exec(line);
  if (!m) return null;
  return {
    pid: Number(m[1]),
    sinceStartMs: Number(m[2]),
    kind: m[3],
    pauseMs: Number(m[5]),
    heapAfterMb: Number(m[4]),
  };
}

/**
 * The collections in a text (a process's stdout log).
 *
 * @example
 * ```ts
 * import { parseGcLog } from "./gc_trace.ts";
 * parseGcLog("ready\n[7:0x1]  36 ms: Scavenge 3.3 (4.4) -> 3.2 (5.4) MB, 4.50 / 0.00 ms (x)\n").length; // 1
 * ```
 */
export function parseGcLog(text: string): GcEvent[] {
  const out: GcEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("[")) continue;
    const e = parseGcLine(line);
    if (e) out.push(e);
  }
  return out;
}

/**
 * Pauses of a process in a time window.
 *
 * @example
 * ```ts
 * import type { GcPauses } from "./gc_trace.ts";
 * const g: GcPauses = { count: 3, totalMs: 6.5, maxMs: 4.5, majorCount: 0, oldGenMbPerS: 0.02 };
 * ```
 */
export interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  /** Full (Mark-Compact) collections among them. */
  majorCount: number;
  /**
   * How fast the old generation filled, MB a second: the heap after each
   * scavenge less the heap after the collection before it, summed, over the
   * time between the first and last collection of the window (null with
   * fewer than two). What outlived the young generation (promoted, or
   * allocated old): the garbage a mark-compact must come back for. A
   * server that keeps nothing per message should show ~0.
   */
  oldGenMbPerS: number | null;
}

/**
 * Sums the pauses of `events` whose epoch time (the pid's start time from
 * `startMsByPid` + the event's offset) lies in `[fromMs, toMs]`; events of
 * a pid without a start time are left out.
 *
 * @example
 * ```ts
 * import { gcPausesIn, parseGcLog } from "./gc_trace.ts";
 * const ev = parseGcLog("[7:0x1]  36 ms: Scavenge 3.3 (4.4) -> 3.2 (5.4) MB, 4.50 / 0.00 ms (x)");
 * gcPausesIn(ev, new Map([[7, 1000]]), 1000, 2000); // { count: 1, totalMs: 4.5, maxMs: 4.5, majorCount: 0, oldGenMbPerS: null }
 * ```
 */
export function gcPausesIn(
  events: GcEvent[],
  startMsByPid: Map<number, number>,
  fromMs: number,
  toMs: number,
): GcPauses {
  const g: GcPauses = { count: 0, totalMs: 0, maxMs: 0, majorCount: 0, oldGenMbPerS: null };
  /** Per pid: the heap after its last collection in the window, and when. */
  const last = new Map<number, { heap: number; t: number }>();
  let grownMb = 0, spanMs = 0;
  for (const e of events) {
    const start = startMsByPid.get(e.pid);
    if (start === undefined) continue;
    const t = start + e.sinceStartMs;
    if (t < fromMs || t > toMs) continue;
    g.count++;
    g.totalMs += e.pauseMs;
    if (e.pauseMs > g.maxMs) g.maxMs = e.pauseMs;
    if (e.kind.includes("Mark-Compact")) g.majorCount++;
    const prev = last.get(e.pid);
    if (prev) {
      spanMs += t - prev.t;
      // A scavenge frees only the young generation: the rest of the change stayed.
      if (e.kind.includes("Scavenge") || e.kind.startsWith("Minor")) {
        grownMb += e.heapAfterMb - prev.heap;
      }
    }
    last.set(e.pid, { heap: e.heapAfterMb, t });
  }
  g.totalMs = Math.round(g.totalMs * 100) / 100;
  if (spanMs > 0) g.oldGenMbPerS = Math.round(grownMb / (spanMs / 1000) * 1000) / 1000;
  return g;
}

/**
 * Where coreutils keeps `libstdbuf.so` (what `stdbuf -oL` preloads).
 *
 * @example
 * ```ts
 * import { STDBUF_LIBS } from "./gc_trace.ts";
 * console.log(STDBUF_LIBS[0]); // "/usr/libexec/coreutils/libstdbuf.so" (Debian)
 * ```
 */
export const STDBUF_LIBS: readonly string[] = [
  "/usr/libexec/coreutils/libstdbuf.so",
  "/usr/lib/coreutils/libstdbuf.so",
  "/usr/lib64/coreutils/libstdbuf.so",
];

/**
 * The environment that makes a Deno process trace its collections:
 * `DENO_V8_FLAGS=--trace-gc` (added to the process's own `--v8-flags`) and
 * line-buffered C stdio. V8 prints with `printf`, fully buffered into a
 * pipe, so 4 KiB blocks of GC lines would cut into the lines Deno writes
 * itself (a ready line among them); coreutils' `libstdbuf.so` preloaded
 * with `_STDBUF_O=L` (what `stdbuf -oL` does) flushes V8's lines whole.
 * Null when no `libstdbuf.so` is found.
 *
 * @example
 * ```ts
 * import { traceGcEnv } from "./gc_trace.ts";
 * const env = traceGcEnv({}); // { DENO_V8_FLAGS: "--trace-gc", LD_PRELOAD: "…/libstdbuf.so", _STDBUF_O: "L" }
 * ```
 */
export function traceGcEnv(
  current: Record<string, string | undefined>,
): Record<string, string> | null {
  const lib = STDBUF_LIBS.find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
  if (!lib) return null;
  const join = (v: string | undefined, add: string, sep: string) => v ? `${v}${sep}${add}` : add;
  return {
    DENO_V8_FLAGS: join(current.DENO_V8_FLAGS, "--trace-gc", ","),
    LD_PRELOAD: join(current.LD_PRELOAD, lib, ":"),
    _STDBUF_O: "L",
  };
}

/**
 * Runs `fn` (which spawns the cluster) with {@link traceGcEnv} set for
 * every process spawned meanwhile, restored afterwards; `on` false: just
 * runs `fn`. Throws `INVALID_CONFIG` when `libstdbuf.so` is missing.
 *
 * @example
 * ```ts
 * import { withTraceGc } from "./gc_trace.ts";
 * const out = await withTraceGc(true, () =>
 *   new Deno.Command(Deno.execPath(), { args: ["eval", "1"], stdout: "piped" }).output()
 * );
 * ```
 */
export async function withTraceGc<T>(on: boolean, fn: () => Promise<T>): Promise<T> {
  if (!on) return await fn();
  const keys = ["DENO_V8_FLAGS", "LD_PRELOAD", "_STDBUF_O"];
  const before = Object.fromEntries(keys.map((k) => [k, Deno.env.get(k)]));
  const env = traceGcEnv(before);
  if (!env) {
    throw new FastChatError(
      "INVALID_CONFIG",
      `--trace-gc needs coreutils' libstdbuf.so (${STDBUF_LIBS.join(", ")}): not found`,
    );
  }
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  try {
    return await fn();
  } finally {
    for (const k of keys) {
      if (before[k] === undefined) Deno.env.delete(k);
      else Deno.env.set(k, before[k]!);
    }
  }
}
