/**
 * What a run's late wake-ups say about its tail (`perf --wake-meter`,
 * perf/wake_delays.ts): how often the meter's thread woke late, and how many
 * of the messages over 10 ms were in flight during a wake-up over 3 ms late,
 * against the same messages moved to other times of the run (chance).
 *
 * @example
 * ```ts
 * import { formatWakeDelays, summarizeWakeDelays } from "./wake_delay_summary.ts";
 * const rec = { periodMs: 1, minLateMs: 2, startedAtMs: 0, stoppedAtMs: 3000, wakeups: 1000, lostEvents: 0,
 *   events: [[1000, 20] as [number, number]] };
 * console.log(formatWakeDelays(summarizeWakeDelays(rec, new Float64Array([1005]), new Float64Array([15]))));
 * ```
 * @module
 */
import type { WakeDelayRecord } from "./wake_delays.ts";

/**
 * A run's late wake-ups, and how its slow messages line up with them.
 *
 * @example
 * ```ts
 * import type { WakeDelaySummary } from "./wake_delay_summary.ts";
 * const s: WakeDelaySummary = { seconds: 20, wakeups: 9000, over3PerSec: 8.3, over10PerSec: 0.8,
 *   longestMs: 50.2, slowMessages: 140, slowDuringDelay: 79, slowAtShiftedTimes: 10 };
 * console.log(s.slowDuringDelay / s.slowMessages, "against", s.slowAtShiftedTimes / s.slowMessages);
 * ```
 */
export interface WakeDelaySummary {
  seconds: number;
  wakeups: number;
  /** Late wake-ups per second, by how late. */
  over3PerSec: number;
  over10PerSec: number;
  longestMs: number;
  /** Messages over {@link SLOW_MESSAGE_MS} received while the meter ran. */
  slowMessages: number;
  /** Of those, in flight during a wake-up over {@link DELAY_MS} late. */
  slowDuringDelay: number;
  /**
   * The same count with the messages moved by k/11 of the meter's span (k = 1…10, wrapping
   * round), averaged: what chance gives (slow messages come in bursts, so it is coarse).
   */
  slowAtShiftedTimes: number;
}

/** A message this slow is part of the tail (ms). */
export const SLOW_MESSAGE_MS = 10;
/** A wake-up this late is a delay worth lining up with the tail (ms). */
export const DELAY_MS = 3;
/** How many shifted copies of the slow messages estimate chance. */
const SHIFTS = 10;

/**
 * Summarises a record against the run's messages (send times and latencies
 * in send order, NaN for a message never received), as `run_analysis.ts`
 * keeps them.
 *
 * @example
 * ```ts
 * import { summarizeWakeDelays } from "./wake_delay_summary.ts";
 * const rec = { periodMs: 1, minLateMs: 2, startedAtMs: 0, stoppedAtMs: 3000, wakeups: 1000, lostEvents: 0,
 *   events: [[1000, 20] as [number, number]] };
 * summarizeWakeDelays(rec, new Float64Array([1005]), new Float64Array([15])).slowDuringDelay; // 1
 * ```
 */
export function summarizeWakeDelays(
  r: WakeDelayRecord,
  sentTimesMs: Float64Array,
  latencyBySendOrderMs: Float64Array,
): WakeDelaySummary {
  const spanMs = Math.max(1, r.stoppedAtMs - r.startedAtMs);
  const delays = r.events.filter(([, late]) => late > DELAY_MS)
    .map(([at, late]) => [at, at + r.periodMs + late] as const)
    .sort((a, b) => a[0] - b[0]);
  const longest = delays.reduce((m, [s, e]) => Math.max(m, e - s - r.periodMs), 0);
  const during = (from: number, to: number): boolean => {
    // The last delay that began before `to`, and those before it that may still reach `from`.
    let lo = 0, hi = delays.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (delays[mid][0] <= to) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && delays[i][0] >= from - longest - r.periodMs; i--) {
      if (delays[i][1] >= from) return true;
    }
    return false;
  };
  let slow = 0, hit = 0, shifted = 0;
  for (let i = 0; i < sentTimesMs.length; i++) {
    const sent = sentTimesMs[i], lat = latencyBySendOrderMs[i];
    if (!(lat > SLOW_MESSAGE_MS) || sent < r.startedAtMs || sent + lat > r.stoppedAtMs) continue;
    slow++;
    if (during(sent, sent + lat)) hit++;
    for (let k = 1; k <= SHIFTS; k++) {
      const moved = r.startedAtMs + (sent - r.startedAtMs + (k * spanMs) / (SHIFTS + 1)) % spanMs;
      if (during(moved, moved + lat)) shifted += 1 / SHIFTS;
    }
  }
  const per = (ms: number) =>
    Math.round((r.events.filter(([, late]) => late > ms).length / (spanMs / 1000)) * 100) / 100;
  return {
    seconds: Math.round(spanMs / 100) / 10,
    wakeups: r.wakeups,
    over3PerSec: per(3),
    over10PerSec: per(10),
    longestMs: Math.round(longest * 10) / 10,
    slowMessages: slow,
    slowDuringDelay: hit,
    slowAtShiftedTimes: Math.round(shifted * 10) / 10,
  };
}

/**
 * One paragraph for the analysis.
 *
 * @example
 * ```ts
 * import { formatWakeDelays } from "./wake_delay_summary.ts";
 * formatWakeDelays({ seconds: 20, wakeups: 9000, over3PerSec: 8.3, over10PerSec: 0.8, longestMs: 50.2,
 *   slowMessages: 140, slowDuringDelay: 79, slowAtShiftedTimes: 10 });
 * ```
 */
export function formatWakeDelays(s: WakeDelaySummary): string {
  const pct = (n: number) => s.slowMessages ? `${((100 * n) / s.slowMessages).toFixed(1)} %` : "—";
  return `wake-up delays (a thread sleeping 1 ms at a time, ${s.seconds} s, ${s.wakeups} wake-ups): ` +
    `over ${DELAY_MS} ms ${s.over3PerSec}/s, over 10 ms ${s.over10PerSec}/s, longest ${s.longestMs} ms\n` +
    `  messages over ${SLOW_MESSAGE_MS} ms: ${s.slowMessages}; in flight during a wake-up over ${DELAY_MS} ms late: ` +
    `${s.slowDuringDelay} (${pct(s.slowDuringDelay)}; at shifted times ${
      pct(s.slowAtShiftedTimes)
    })`;
}
