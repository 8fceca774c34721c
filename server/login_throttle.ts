/**
 * Failed-login throttling shared by every server of a cluster: failures are
 * counted in PostgreSQL (`login_failures`, windowed counters upserted in one
 * atomic statement), so N servers do not give N times the attempts.
 *
 * Two counters are kept: per (user, address) — so an attacker hammering
 * alice from one address cannot lock alice out from her own address — and
 * per address across all users (a cap on password spraying).
 *
 * @example
 * ```ts
 * import { LoginThrottle } from "@fastchat/server/login_throttle";
 * import type { Sql } from "postgres";
 * declare const sql: Sql;
 * const throttle = new LoginThrottle(sql);
 * await throttle.check("alice", "203.0.113.7"); // throws RATE_LIMITED when over
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { FastChatError } from "@fastchat/lib/errors";

/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failures allowed per (user, address) within a window (default 5). */
  perUserAddr?: number;
  /** Failures allowed per address across all users within a window (default 50). */
  perAddr?: number;
  /** Counting window in milliseconds (default 15 minutes). */
  windowMs?: number;
}

const USER_ADDR = "user_addr";
const ADDR = "addr";

/**
 * Windowed failure counters in the database.
 *
 * @example
 * ```ts
 * import { LoginThrottle } from "@fastchat/server/login_throttle";
 * import type { Sql } from "postgres";
 * declare const sql: Sql;
 * const t = new LoginThrottle(sql, { perUserAddr: 3, windowMs: 60_000 });
 * await t.fail("alice", "198.51.100.2");
 * await t.succeed("alice", "198.51.100.2");
 * ```
 */
export class LoginThrottle {
  readonly #sql: Sql;
  readonly perUserAddr: number;
  readonly perAddr: number;
  readonly windowMs: number;

  constructor(sql: Sql, opts: LoginThrottleOptions = {}) {
    this.#sql = sql;
    this.perUserAddr = opts.perUserAddr ?? 5;
    this.perAddr = opts.perAddr ?? 50;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    if (!(this.perUserAddr >= 1 && this.perAddr >= 1 && this.windowMs >= 1)) {
      throw new FastChatError("INVALID_CONFIG", "login throttle limits must be positive");
    }
  }

  /** Throws `RATE_LIMITED` (with `retryMs`) when (user, addr) or addr is over its limit. */
  async check(user: string, addr: string): Promise<void> {
    const rows = await this.#sql`
      select scope, failures,
        ceil(extract(epoch from (window_start + ${this.windowMs} * interval '1 millisecond'
          - clock_timestamp())) * 1000)::float8 as retry_ms
      from login_failures
      where ((scope = ${USER_ADDR} and key = ${
      userAddrKey(user, addr)
    } and failures >= ${this.perUserAddr})
          or (scope = ${ADDR} and key = ${addr} and failures >= ${this.perAddr}))
        and window_start > clock_timestamp() - ${this.windowMs} * interval '1 millisecond'`;
    if (rows.length === 0) return;
    const retryMs = Math.max(1, ...rows.map((r) => Number(r.retry_ms)));
    throw new FastChatError(
      "RATE_LIMITED",
      `too many failed logins; retry in ${Math.ceil(retryMs / 1000)} s`,
      { retryMs },
    );
  }

  /** Counts one failure for (user, addr) and for addr; a window restarts once it has expired. */
  async fail(user: string, addr: string): Promise<void> {
    await this.#sql`
      insert into login_failures as f (scope, key, window_start, failures)
      values (${USER_ADDR}, ${userAddrKey(user, addr)}, clock_timestamp(), 1),
             (${ADDR}, ${addr}, clock_timestamp(), 1)
      on conflict (scope, key) do update set
        failures = case when f.window_start <= clock_timestamp() - ${this.windowMs} * interval '1 millisecond'
          then 1 else f.failures + 1 end,
        window_start = case when f.window_start <= clock_timestamp() - ${this.windowMs} * interval '1 millisecond'
          then clock_timestamp() else f.window_start end`;
  }

  /** Clears the (user, addr) counter after a successful login (the address cap stays). */
  async succeed(user: string, addr: string): Promise<void> {
    await this.#sql`delete from login_failures
      where scope = ${USER_ADDR} and key = ${userAddrKey(user, addr)}`;
  }

  /** Deletes expired counters; returns how many (call periodically to bound the table). */
  async prune(): Promise<number> {
    const rows = await this.#sql`delete from login_failures
      where window_start <= clock_timestamp() - ${this.windowMs} * interval '1 millisecond'
      returning 1`;
    return rows.length;
  }
}

function userAddrKey(user: string, addr: string): string {
  return `${user}\n${addr}`;
}
