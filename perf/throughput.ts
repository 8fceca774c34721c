/**
 * Throughput over time: sent and received (first reception) messages per
 * second in fixed buckets. Buckets are one second unless the run is so short
 * or so long that this would give fewer than `minBuckets` or more than
 * `maxBuckets` points; then a "nice" size (1-2-5 steps) is chosen instead.
 * Rates are always per second; the last bucket's rate uses only its part
 * inside the window (a sliver under half a bucket is merged into the bucket
 * before).
 *
 * @example
 * ```ts
 * import { throughputSeries } from "@fastchat/perf/throughput";
 * const s = throughputSeries(Float64Array.of(0, 500, 1500), Float64Array.of(10, 600, 1600));
 * console.log(s.bucketMs, s.points[0].receivedPerSec);
 * ```
 * @module
 */

/**
 * One bucket of a {@link ThroughputSeries}.
 *
 * @example
 * ```ts
 * import { throughputSeries } from "@fastchat/perf/throughput";
 * const [p] = throughputSeries(Float64Array.of(0, 500), Float64Array.of(10, 600)).points;
 * console.log(p.tSec, p.receivedPerSec);
 * ```
 */
export interface ThroughputPoint {
  /** Bucket start, seconds since the series start. */
  tSec: number;
  sent: number;
  received: number;
  sentPerSec: number;
  receivedPerSec: number;
}

/**
 * Sent/received counts per bucket.
 *
 * @example
 * ```ts
 * import { throughputSeries } from "@fastchat/perf/throughput";
 * const s = throughputSeries(Float64Array.of(0, 500, 1500), Float64Array.of(10, 600, 1600));
 * console.log(s.bucketMs, s.points.length);
 * ```
 */
export interface ThroughputSeries {
  /** Epoch ms of the first bucket's start (the first send or reception). */
  startMs: number;
  /** Epoch ms the series ends (the last send or reception). */
  endMs: number;
  bucketMs: number;
  points: ThroughputPoint[];
}

/**
 * Options of {@link throughputSeries}.
 *
 * @example
 * ```ts
 * import { throughputSeries } from "@fastchat/perf/throughput";
 * throughputSeries(Float64Array.of(0, 500), Float64Array.of(10, 600), { maxBuckets: 100 });
 * ```
 */
export interface ThroughputOptions {
  /** Most buckets (default 600). */
  maxBuckets?: number;
  /** Fewest buckets before going below one second (default 20). */
  minBuckets?: number;
}

const NICE_MS = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1_000,
  2_000,
  5_000,
  10_000,
  15_000,
  30_000,
  60_000,
  120_000,
  300_000,
  600_000,
  1_800_000,
  3_600_000,
];

/**
 * Bucket size for a window: 1 s if that gives `minBuckets..maxBuckets`
 * buckets, else the nearest nice size that does.
 *
 * @example
 * ```ts
 * import { chooseBucketMs } from "@fastchat/perf/throughput";
 * chooseBucketMs(60_000); // 1000
 * chooseBucketMs(2_000); // 100
 * chooseBucketMs(3_600_000); // 10000
 * ```
 */
export function chooseBucketMs(windowMs: number, maxBuckets = 600, minBuckets = 20): number {
  if (!(windowMs > 0)) return 1_000;
  if (windowMs / 1_000 > maxBuckets) {
    for (const b of NICE_MS) if (b > 1_000 && windowMs / b <= maxBuckets) return b;
    return Math.ceil(windowMs / maxBuckets);
  }
  if (windowMs / 1_000 < minBuckets) {
    for (let k = NICE_MS.length - 1; k >= 0; k--) {
      const b = NICE_MS[k];
      if (b < 1_000 && windowMs / b >= minBuckets) return b;
    }
    return 1;
  }
  return 1_000;
}

/**
 * Buckets ascending send and first-reception times (epoch ms) from the
 * earliest of them to the latest.
 *
 * @example
 * ```ts
 * import { throughputSeries } from "@fastchat/perf/throughput";
 * const s = throughputSeries(Float64Array.of(0, 1000), Float64Array.of(5, 1005));
 * console.log(s.points.length);
 * ```
 */
export function throughputSeries(
  sentTimesMs: ArrayLike<number>,
  receivedTimesMs: ArrayLike<number>,
  opts: ThroughputOptions = {},
): ThroughputSeries {
  let start = Infinity, end = -Infinity;
  for (const a of [sentTimesMs, receivedTimesMs]) {
    if (a.length) {
      start = Math.min(start, a[0]);
      end = Math.max(end, a[a.length - 1]);
    }
  }
  if (start === Infinity) return { startMs: NaN, endMs: NaN, bucketMs: 1_000, points: [] };
  const windowMs = end - start;
  const bucketMs = chooseBucketMs(windowMs, opts.maxBuckets, opts.minBuckets);
  // ceil: the window end falls into the last bucket. A last bucket covering
  // less than half a bucket is folded into the one before it, so the series
  // does not end in a noisy sliver.
  let nb = Math.max(1, Math.ceil(windowMs / bucketMs));
  if (nb > 1 && windowMs - (nb - 1) * bucketMs < bucketMs / 2) nb--;
  const count = (a: ArrayLike<number>) => {
    const out = new Float64Array(nb);
    for (let i = 0; i < a.length; i++) {
      out[Math.min(nb - 1, Math.floor((a[i] - start) / bucketMs))]++;
    }
    return out;
  };
  const sent = count(sentTimesMs), recv = count(receivedTimesMs);
  const points: ThroughputPoint[] = [];
  for (let k = 0; k < nb; k++) {
    const bStart = k * bucketMs;
    // The last bucket's rate is over its part inside the window (at least 1 ms
    // so a single-instant series stays finite).
    const span = k === nb - 1 ? Math.max(1, windowMs - bStart) : bucketMs;
    points.push({
      tSec: bStart / 1_000,
      sent: sent[k],
      received: recv[k],
      sentPerSec: sent[k] / (span / 1_000),
      receivedPerSec: recv[k] / (span / 1_000),
    });
  }
  return { startMs: start, endMs: end, bucketMs, points };
}
