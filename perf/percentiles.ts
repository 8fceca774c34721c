/**
 * Order statistics for latency samples: nearest-rank percentiles over a
 * sorted copy, used by the load generator's reports.
 *
 * @example
 * ```ts
 * import { percentile, summarize } from "@fastchat/perf";
 * percentile([5, 1, 3], 0.5); // 3
 * summarize([1, 2, 3, 4]).p99; // 4
 * ```
 * @module
 */

/**
 * Latency summary in the samples' unit.
 *
 * @example
 * ```ts
 * import { type LatencySummary, summarize } from "./percentiles.ts";
 * const s: LatencySummary = summarize([1, 2, 3, 10]);
 * console.log(s.p50, s.p99, s.max);
 * ```
 */
export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Nearest-rank percentile (`q` in 0..1) of unsorted samples; NaN when empty.
 *
 * @example
 * ```ts
 * import { percentile } from "@fastchat/perf";
 * percentile([10, 20, 30, 40], 0.9); // 40
 * ```
 */
export function percentile(samples: ArrayLike<number>, q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  return sortedPercentile(sorted, q);
}

/**
 * Nearest-rank percentile (`q` in 0..1) of samples already sorted ascending;
 * NaN when empty.
 *
 * @example
 * ```ts
 * import { sortedPercentile } from "@fastchat/perf";
 * sortedPercentile(Float64Array.of(1, 2, 3, 4), 0.5); // 2
 * ```
 */
export function sortedPercentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  if (q <= 0) return sorted[0];
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * Count, min, p50, p90, p99, max and mean of the samples.
 *
 * @example
 * ```ts
 * import { summarize } from "@fastchat/perf";
 * summarize([3, 1, 2]).p50; // 2
 * ```
 */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  return summarizeSorted(Float64Array.from(samples).sort());
}

/**
 * {@link summarize} for samples already sorted ascending (no copy is made).
 *
 * @example
 * ```ts
 * import { summarizeSorted } from "@fastchat/perf";
 * summarizeSorted(Float64Array.of(1, 2, 3)).p50; // 2
 * ```
 */
export function summarizeSorted(sorted: ArrayLike<number>): LatencySummary {
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return {
    count: n,
    min: n ? sorted[0] : NaN,
    p50: n ? sortedPercentile(sorted, 0.5) : NaN,
    p90: n ? sortedPercentile(sorted, 0.9) : NaN,
    p99: n ? sortedPercentile(sorted, 0.99) : NaN,
    max: n ? sorted[n - 1] : NaN,
    mean: n ? sum / n : NaN,
  };
}
