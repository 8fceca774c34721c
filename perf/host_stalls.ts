/**
 * How steadily this machine gives a process its cores: one thread per core
 * spins on the clock for a while and every gap between two reads (time the
 * thread did not run: another process, the hypervisor taking the virtual
 * CPU away, an interrupt) is counted. `perf` measures it before it starts
 * anything and records it in `run.json`, because on a shared virtual
 * machine it decides the tail: with both cores busy this host has stalled
 * a thread for 36–59 ms within 10 s, while one thread alone saw at most 4 ms.
 * No chat server can show a 10 ms maximum latency on a host that stops its
 * threads for longer than that, and runs from different sittings compare
 * only when their hosts stalled alike.
 *
 * @example
 * ```ts
 * import { formatHostStalls, measureHostStalls } from "./host_stalls.ts";
 * const s = await measureHostStalls({ threads: 2, durationMs: 2000 });
 * console.log(formatHostStalls(s));
 * // 2 threads spinning 2.0 s: stalls over 1 ms 12, over 2 ms 7, over 10 ms 1; longest 36.1 ms; 0.6 % of the time stalled
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import type { HostStallReply, HostStallRequest } from "./host_stall_worker.ts";

/** Gaps shorter than this are the loop's own cost and timer noise, not stalls (ms). */
export const MIN_STALL_MS = 0.5;
/** Gaps kept per thread; more only count towards the stalled time. */
const MAX_GAPS = 100_000;

/**
 * What the spinning threads saw: counts of stalls by length, the longest,
 * and the share of their time lost to stalls of at least {@link MIN_STALL_MS}.
 *
 * @example
 * ```ts
 * import type { HostStalls } from "./host_stalls.ts";
 * const s: HostStalls = {
 *   threads: 2, durationMs: 2000, over1Ms: 3, over2Ms: 1, over10Ms: 0, longestMs: 4.1, stalledPercent: 0.2,
 * };
 * ```
 */
export interface HostStalls {
  /** Threads that spun at once (one per core by default). */
  threads: number;
  /** How long each spun, ms (the shortest of them). */
  durationMs: number;
  /** Stalls longer than 1, 2 and 10 ms, all threads together. */
  over1Ms: number;
  over2Ms: number;
  over10Ms: number;
  /** The longest stall of any thread, ms. */
  longestMs: number;
  /** Time lost to stalls of at least {@link MIN_STALL_MS}, % of the threads' spinning time. */
  stalledPercent: number;
}

/**
 * Summarises the threads' replies (pure; {@link measureHostStalls} uses it).
 *
 * @example
 * ```ts
 * import { summarizeHostStalls } from "./host_stalls.ts";
 * const s = summarizeHostStalls([
 *   { gaps: new Float64Array([0.6, 3, 12]), lostGaps: 0, elapsedMs: 1000 },
 *   { gaps: new Float64Array([1.5]), lostGaps: 0, elapsedMs: 1000 },
 * ]);
 * console.log(s.over1Ms, s.over2Ms, s.over10Ms, s.longestMs); // 3 2 1 12
 * ```
 */
export function summarizeHostStalls(replies: readonly HostStallReply[]): HostStalls {
  let over1Ms = 0, over2Ms = 0, over10Ms = 0, longestMs = 0, stalled = 0, spun = 0;
  let durationMs = Infinity;
  for (const r of replies) {
    for (const g of r.gaps) {
      if (g > 1) over1Ms++;
      if (g > 2) over2Ms++;
      if (g > 10) over10Ms++;
      if (g > longestMs) longestMs = g;
      stalled += g;
    }
    spun += r.elapsedMs;
    durationMs = Math.min(durationMs, r.elapsedMs);
  }
  return {
    threads: replies.length,
    durationMs: replies.length ? Math.round(durationMs) : 0,
    over1Ms,
    over2Ms,
    over10Ms,
    longestMs: Math.round(longestMs * 100) / 100,
    stalledPercent: spun > 0 ? Math.round((stalled / spun) * 10_000) / 100 : 0,
  };
}

/**
 * Spins `threads` workers (default: one per core) for `durationMs` at once
 * and summarises the stalls they saw. Rejects with `INTERNAL` if a worker
 * fails or does not answer within `durationMs` plus 30 s.
 *
 * @example
 * ```ts
 * import { measureHostStalls } from "./host_stalls.ts";
 * const s = await measureHostStalls({ durationMs: 500 });
 * console.log(s.longestMs, "ms longest stall");
 * ```
 */
export async function measureHostStalls(
  opts: { threads?: number; durationMs: number },
): Promise<HostStalls> {
  const threads = opts.threads ?? navigator.hardwareConcurrency;
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > 256) {
    throw new FastChatError("INVALID_CONFIG", `host check: threads must be 1..256, got ${threads}`);
  }
  const url = new URL("./host_stall_worker.ts", import.meta.url).href;
  const workers = Array.from({ length: threads }, () => new Worker(url, { type: "module" }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const req: HostStallRequest = {
      durationMs: opts.durationMs,
      minGapMs: MIN_STALL_MS,
      maxGaps: MAX_GAPS,
    };
    const replies = workers.map((w) =>
      new Promise<HostStallReply>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<HostStallReply>) => resolve(e.data);
        w.onerror = (e) => {
          e.preventDefault();
          reject(
            new FastChatError("INTERNAL", `host check: a spinning thread failed: ${e.message}`),
          );
        };
      })
    );
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new FastChatError("INTERNAL", "host check: a spinning thread did not answer")),
        opts.durationMs + 30_000,
      );
    });
    for (const w of workers) w.postMessage(req);
    return summarizeHostStalls(await Promise.race([Promise.all(replies), late]));
  } finally {
    clearTimeout(timer);
    for (const w of workers) w.terminate();
  }
}

/**
 * One line for the run's log and the analysis.
 *
 * @example
 * ```ts
 * import { formatHostStalls } from "./host_stalls.ts";
 * formatHostStalls({
 *   threads: 2, durationMs: 2000, over1Ms: 3, over2Ms: 1, over10Ms: 0, longestMs: 4.1, stalledPercent: 0.2,
 * });
 * // "2 threads spinning 2.0 s: stalls over 1 ms 3, over 2 ms 1, over 10 ms 0; longest 4.1 ms; 0.2 % of the time stalled"
 * ```
 */
export function formatHostStalls(s: HostStalls): string {
  return `${s.threads} thread${s.threads === 1 ? "" : "s"} spinning ${
    (s.durationMs / 1000).toFixed(1)
  } s: stalls over 1 ms ${s.over1Ms}, over 2 ms ${s.over2Ms}, over 10 ms ${s.over10Ms}; longest ${
    s.longestMs.toFixed(1)
  } ms; ${s.stalledPercent.toFixed(1)} % of the time stalled`;
}

const FIELDS = [
  "threads",
  "durationMs",
  "over1Ms",
  "over2Ms",
  "over10Ms",
  "longestMs",
  "stalledPercent",
] as const;

/**
 * Checks a `hostStalls` value read from `run.json`: null if absent (older
 * runs), else every field a finite non-negative number, or `INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { parseHostStalls } from "./host_stalls.ts";
 * parseHostStalls(undefined, "run.json"); // null
 * ```
 */
export function parseHostStalls(raw: unknown, where: string): HostStalls | null {
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new FastChatError("INVALID_CONFIG", `${where}: hostStalls must be an object`);
  }
  const o = raw as Record<string, unknown>;
  for (const k of FIELDS) {
    const v = o[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `${where}: hostStalls.${k} must be a non-negative number, got ${
          JSON.stringify(v) ?? "nothing"
        }`,
      );
    }
  }
  return Object.fromEntries(FIELDS.map((k) => [k, o[k]])) as unknown as HostStalls;
}
