/**
 * The timed phases of a load run as `run.json` records them (`phases`):
 * register, login and key warm-up as a count, a duration and a rate;
 * messaging as its start and end times and how it ended; each with the CPU
 * seconds every process used during it.
 *
 * @example
 * ```ts
 * import { cpuDiff, phaseStats } from "./phase_stats.ts";
 * const register = phaseStats(100, 2500, { existing: 0, rateLimited: 0 });
 * register.perSecond; // 40
 * register.cpuSeconds = cpuDiff({ "srv-1": 1 }, { "srv-1": 3.5 }); // { "srv-1": 2.5 }
 * ```
 * @module
 */

/**
 * A counted phase: register, login or key warm-up.
 *
 * @example
 * ```ts
 * import { type PhaseStats, phaseStats } from "./phase_stats.ts";
 * const login: PhaseStats = phaseStats(100, 2000); // perSecond 50
 * ```
 */
export interface PhaseStats {
  count: number;
  ms: number;
  perSecond: number;
  /** CPU seconds each process used during the phase. */
  cpuSeconds?: Record<string, number>;
}

/**
 * The messaging phase: from "go" until every message arrived (or the drain timed out).
 *
 * @example
 * ```ts
 * import type { MessagingStats } from "./phase_stats.ts";
 * const m: MessagingStats = {
 *   startMs: 0, endMs: 1000, lastSendMs: 900, completed: true, drainTimedOut: false, cpuSeconds: {},
 * };
 * ```
 */
export interface MessagingStats {
  startMs: number;
  endMs: number;
  lastSendMs: number;
  completed: boolean;
  drainTimedOut: boolean;
  /**
   * CPU seconds (user + system) each process used from "go" to the end
   * of messaging (plus the receipt grace): where the time went.
   */
  cpuSeconds: Record<string, number>;
}

/**
 * Every phase of a run, each set once the phase has ended.
 *
 * @example
 * ```ts
 * import { phaseStats, type RunPhaseStats } from "./phase_stats.ts";
 * const phases: RunPhaseStats = {};
 * phases.register = phaseStats(10, 500);
 * ```
 */
export interface RunPhaseStats {
  register?: PhaseStats;
  login?: PhaseStats;
  /** `--mode group`/`file`: groups created or test files written (`mode_phases.ts`). */
  prepare?: PhaseStats;
  /** Key warm-up: `count` messages (one per planned sender/recipient pair). */
  warmup?: PhaseStats;
  messaging?: MessagingStats;
}

/**
 * `count` things in `ms`: the duration to the microsecond and the rate per
 * second to two decimals (0 for no time), plus the `extra` counters.
 *
 * @example
 * ```ts
 * import { phaseStats } from "./phase_stats.ts";
 * phaseStats(3, 1500.12345, { kept: 1 }); // { count: 3, ms: 1500.123, perSecond: 2, kept: 1 }
 * ```
 */
export function phaseStats(
  count: number,
  ms: number,
  extra: Record<string, number> = {},
): PhaseStats {
  return {
    count,
    ms: Math.round(ms * 1000) / 1000,
    perSecond: ms > 0 ? Math.round((count / (ms / 1000)) * 100) / 100 : 0,
    ...extra,
  };
}

/**
 * CPU seconds used between two readings, to two decimals, for each process
 * in both (a process that started or ended in between is left out).
 *
 * @example
 * ```ts
 * import { cpuDiff } from "./phase_stats.ts";
 * cpuDiff({ db: 1, lb: 2 }, { lb: 2.5, "worker-0": 1 }); // { lb: 0.5 }
 * ```
 */
export function cpuDiff(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (k in before) out[k] = Math.round((v - before[k]) * 100) / 100;
  }
  return out;
}
