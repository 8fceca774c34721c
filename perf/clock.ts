/**
 * The load generator's clock: epoch milliseconds with sub-millisecond
 * (microsecond) precision, `performance.timeOrigin + performance.now()`.
 * Every process of a run (the parent and its workers) stamps events with it,
 * so times from different CSVs can be subtracted: they all derive from the
 * same system clock, read once per process at its time origin, and then
 * advance monotonically.
 *
 * @example
 * ```ts
 * import { nowMs, sleep } from "./clock.ts";
 * const t = nowMs();
 * await sleep(5);
 * console.log((nowMs() - t).toFixed(3), "ms");
 * ```
 * @module
 */

/**
 * Epoch milliseconds with microsecond precision (monotonic within a process).
 *
 * @example
 * ```ts
 * import { nowMs } from "./clock.ts";
 * new Date(nowMs()).toISOString();
 * ```
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Resolves after `ms` milliseconds (immediately for `ms <= 0`).
 *
 * @example
 * ```ts
 * import { sleep } from "./clock.ts";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Formats a {@link nowMs} time for the CSVs: three decimals (microseconds).
 *
 * @example
 * ```ts
 * import { formatMs } from "./clock.ts";
 * formatMs(1700000000000.12345); // "1700000000000.123"
 * ```
 */
export function formatMs(t: number): string {
  return t.toFixed(3);
}

/**
 * `at` as run directories are stamped: compact ISO 8601, seconds, UTC.
 *
 * @example
 * ```ts
 * import { runStamp } from "./clock.ts";
 * runStamp(new Date("2025-01-02T03:04:05.678Z")); // "20250102T030405Z"
 * ```
 */
export function runStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}
