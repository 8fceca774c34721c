/**
 * When this load balancer issued tickets for each server, so that
 * least-connections can add the clients that are on their way (ticket
 * issued after the server's last heartbeat) to the count the heartbeat
 * reported. Times older than a horizon are forgotten.
 *
 * @example
 * ```ts
 * import { IssueLog } from "@fastchat/lb/issue_log";
 * const log = new IssueLog();
 * log.record("fc-1", 100);
 * log.record("fc-1", 200);
 * console.log(log.countSince("fc-1", 150)); // 1
 * ```
 * @module
 */

/** Default horizon: heartbeats are always fresher than this. */
export const DEFAULT_ISSUE_HORIZON_MS = 10_000;

/**
 * Ticket issue times per server id (times must not decrease).
 *
 * @example
 * ```ts
 * import { IssueLog } from "@fastchat/lb/issue_log";
 * const log = new IssueLog(1_000);
 * log.record("fc-1", 0);
 * log.prune(5_000, new Set(["fc-1"]));
 * console.log(log.countSince("fc-1", 0)); // 0: forgotten
 * ```
 */
export class IssueLog {
  readonly #horizonMs: number;
  readonly #times = new Map<string, number[]>();

  constructor(horizonMs: number = DEFAULT_ISSUE_HORIZON_MS) {
    this.#horizonMs = horizonMs;
  }

  /** Records a ticket for server `id` at time `at`. */
  record(id: string, at: number): void {
    const times = this.#times.get(id);
    if (times) times.push(at);
    else this.#times.set(id, [at]);
  }

  /** Tickets for `id` issued at or after `t`. */
  countSince(id: string, t: number): number {
    const times = this.#times.get(id);
    return times ? times.length - firstFrom(times, t) : 0;
  }

  /** Forgets servers not in `keep` and times older than the horizon before `now`. */
  prune(now: number, keep: ReadonlySet<string>): void {
    const horizon = now - this.#horizonMs;
    for (const [id, times] of this.#times) {
      if (!keep.has(id)) this.#times.delete(id);
      else if (times[0] < horizon) times.splice(0, firstFrom(times, horizon));
    }
  }

  /** Times remembered, over all servers. */
  get size(): number {
    let n = 0;
    for (const times of this.#times.values()) n += times.length;
    return n;
  }
}

/** Index of the first element of ascending `times` at or after `t`. */
function firstFrom(times: number[], t: number): number {
  let lo = 0, hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
