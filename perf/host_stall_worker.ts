/**
 * The spinning thread of {@link measureHostStalls} (perf/host_stalls.ts): on
 * a {@link HostStallRequest} it reads the clock in a loop that allocates
 * nothing for `durationMs`, keeps every gap between two reads of at least
 * `minGapMs` (time the thread was not running: another process, the
 * hypervisor, an interrupt), posts a {@link HostStallReply} and closes.
 *
 * @example
 * ```ts
 * const w = new Worker(new URL("./host_stall_worker.ts", import.meta.url).href, { type: "module" });
 * w.onmessage = (e) => console.log(e.data.gaps.length, "gaps in", e.data.elapsedMs, "ms");
 * w.postMessage({ durationMs: 100, minGapMs: 0.5, maxGaps: 1000 });
 * ```
 * @module
 */

/** What the spinning thread is asked to do. */
export interface HostStallRequest {
  /** How long to spin, ms. */
  durationMs: number;
  /** The smallest gap between two clock reads that counts, ms. */
  minGapMs: number;
  /** At most this many gaps are kept (later ones count only in `lostGaps`). */
  maxGaps: number;
}

/** What the spinning thread reports. */
export interface HostStallReply {
  /** The gaps of at least `minGapMs`, ms, in the order seen. */
  gaps: Float64Array;
  /** Gaps past `maxGaps`, counted only. */
  lostGaps: number;
  /** How long it spun, ms (at least `durationMs`). */
  elapsedMs: number;
}

/**
 * Spins for `req.durationMs` and returns the gaps seen (what the worker
 * posts; exported to be tested in one thread).
 *
 * @example
 * ```ts
 * import { spinAndRecord } from "./host_stall_worker.ts";
 * const r = spinAndRecord({ durationMs: 50, minGapMs: 0.5, maxGaps: 100 });
 * console.log(r.elapsedMs >= 50, r.gaps.length);
 * ```
 */
export function spinAndRecord(req: HostStallRequest): HostStallReply {
  const gaps = new Float64Array(Math.max(0, Math.floor(req.maxGaps)));
  let n = 0;
  let lostGaps = 0;
  const t0 = performance.now();
  let last = t0;
  for (;;) {
    const t = performance.now();
    const gap = t - last;
    if (gap >= req.minGapMs) {
      if (n < gaps.length) gaps[n++] = gap;
      else lostGaps++;
    }
    last = t;
    if (t - t0 >= req.durationMs) break;
  }
  return { gaps: gaps.slice(0, n), lostGaps, elapsedMs: last - t0 };
}

interface WorkerScope {
  onmessage: ((e: MessageEvent<HostStallRequest>) => void) | null;
  postMessage(m: HostStallReply): void;
  close(): void;
}

// In a worker (not when a test imports this module): answer one request, then close.
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = (e) => {
    scope.postMessage(spinAndRecord(e.data));
    scope.close();
  };
}
