/**
 * When an idle server's memory counts as settled. A login burst leaves
 * garbage on V8's heap that its memory reducer gives back some seconds
 * after the burst, but when is not fixed: with 10,000 clients the same build
 * read 297 MiB 30 s after the last login in one run (nothing given back yet)
 * and 233 MiB in the next (given back at 25–30 s). A reading at a fixed time
 * measured the reducer's timing, not the connections.
 *
 * So the reading counts once, per server, the RSS has fallen by at least
 * {@link IdleSettleRule.reclaimed} from its peak after the logins and has
 * stayed flat for {@link IdleSettleRule.windowMs}; or, if it never falls
 * (a burst too small to leave garbage), at {@link IdleSettleRule.maxMs}.
 *
 * @example
 * ```ts
 * import { IdleSettle } from "./idle_settle.ts";
 * const s = new IdleSettle();
 * s.add("srv-1", 0, 300_000);
 * s.settled(); // false: not even the minimum wait is over
 * ```
 * @module
 */

/** The rule's parameters; times count from the last login. */
export interface IdleSettleRule {
  /** Never settled before this. */
  minMs: number;
  /** Always settled from this on. */
  maxMs: number;
  /** The span over which the RSS must be flat. */
  windowMs: number;
  /** Flat: max − min within the window at most this fraction of max (or 2 MiB). */
  flat: number;
  /** Fraction of the peak that must have been given back before the window counts. */
  reclaimed: number;
}

/**
 * The rule `deno task perf -- --idle N` uses.
 *
 * @example
 * ```ts
 * import { IDLE_SETTLE_RULE } from "./idle_settle.ts";
 * IDLE_SETTLE_RULE.maxMs; // 120000
 * ```
 */
export const IDLE_SETTLE_RULE: IdleSettleRule = {
  minMs: 30_000,
  maxMs: 120_000,
  windowMs: 10_000,
  flat: 0.01,
  reclaimed: 0.1,
};

/** 2 MiB in KiB: smaller changes are flat whatever the fraction. */
const FLAT_FLOOR_KB = 2048;

/**
 * Collects each server's RSS readings (KiB, ms since the last login) and
 * says when all of them are settled.
 *
 * @example
 * ```ts
 * import { IdleSettle } from "./idle_settle.ts";
 * const s = new IdleSettle({ minMs: 0, maxMs: 60_000, windowMs: 2_000, flat: 0.01, reclaimed: 0.1 });
 * s.add("srv-1", 0, 300_000);
 * s.add("srv-1", 1_000, 220_000);
 * s.add("srv-1", 3_000, 220_100);
 * s.settled(); // true: gave back 27 % and flat for 2 s
 * ```
 */
export class IdleSettle {
  readonly #rule: IdleSettleRule;
  readonly #readings = new Map<string, { tMs: number; rssKB: number }[]>();

  constructor(rule: IdleSettleRule = IDLE_SETTLE_RULE) {
    this.#rule = rule;
  }

  /** One reading of one server (NaN readings are ignored). */
  add(server: string, tMs: number, rssKB: number): void {
    if (!Number.isFinite(rssKB)) return;
    let list = this.#readings.get(server);
    if (!list) this.#readings.set(server, list = []);
    list.push({ tMs, rssKB });
  }

  /** Whether every server with readings has settled. */
  settled(): boolean {
    if (this.#readings.size === 0) return false;
    for (const list of this.#readings.values()) {
      if (!this.#serverSettled(list)) return false;
    }
    return true;
  }

  /** Whether `server`'s RSS fell by the rule's fraction from its peak (the reducer ran). */
  reclaimed(server: string): boolean {
    const list = this.#readings.get(server);
    return list ? this.#gaveBack(list) : false;
  }

  /** The last reading is the rule's fraction under the peak. */
  #gaveBack(list: { tMs: number; rssKB: number }[]): boolean {
    const peak = Math.max(...list.map((r) => r.rssKB));
    return list[list.length - 1].rssKB <= (1 - this.#rule.reclaimed) * peak;
  }

  #serverSettled(list: { tMs: number; rssKB: number }[]): boolean {
    const r = this.#rule;
    const last = list[list.length - 1];
    if (last.tMs >= r.maxMs) return true;
    if (last.tMs < r.minMs) return false;
    const from = last.tMs - r.windowMs;
    if (list[0].tMs > from) return false;
    let max = 0;
    let min = Infinity;
    for (let i = list.length - 1; i >= 0 && list[i].tMs >= from; i--) {
      max = Math.max(max, list[i].rssKB);
      min = Math.min(min, list[i].rssKB);
    }
    if (max - min > Math.max(FLAT_FLOOR_KB, r.flat * max)) return false;
    return this.#gaveBack(list);
  }
}
