/**
 * Rate limits: a {@link TokenBucket} per key for message sends and
 * unauthenticated requests, and an in-process {@link FailureThrottle} (used
 * for resume-token failures per address). Failed password logins are counted
 * cluster-wide in the database instead (see `login_throttle.ts`).
 *
 * @example
 * ```ts
 * import { KeyedTokenBuckets } from "@fastchat/server/rate_limiter";
 * const sends = new KeyedTokenBuckets(100, 200); // 100/s, burst 200
 * if (!sends.take("alice")) console.log("slow down");
 * ```
 * @module
 */
import { turnNow } from "@fastchat/lib/turn_clock";

/**
 * Classic token bucket: `rate` tokens per second, at most `burst`.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "@fastchat/server/rate_limiter";
 * const b = new TokenBucket(1, 2);
 * b.take(); b.take(); console.log(b.take()); // false
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(readonly rate: number, readonly burst: number, now: number = turnNow()) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes `n` tokens if available. */
  take(n = 1, now: number = turnNow()): boolean {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Milliseconds until `n` tokens are available. */
  waitMs(n = 1): number {
    return this.#tokens >= n ? 0 : Math.ceil(((n - this.#tokens) / this.rate) * 1000);
  }
}

/**
 * Token buckets by key, with idle buckets evicted (bounded memory).
 *
 * @example
 * ```ts
 * import { KeyedTokenBuckets } from "@fastchat/server/rate_limiter";
 * const perIp = new KeyedTokenBuckets(5, 10, 10_000);
 * perIp.take("127.0.0.1");
 * ```
 */
export class KeyedTokenBuckets {
  #buckets = new Map<string, TokenBucket>();
  constructor(readonly rate: number, readonly burst: number, readonly maxKeys: number = 100_000) {}

  /** Takes a token for `key`. */
  take(key: string, n = 1): boolean {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.maxKeys) this.#buckets.clear();
      b = new TokenBucket(this.rate, this.burst);
      this.#buckets.set(key, b);
    }
    return b.take(n);
  }

  /** Milliseconds until `key` may act again. */
  waitMs(key: string): number {
    return this.#buckets.get(key)?.waitMs() ?? 0;
  }
}

/**
 * After `freeFailures` failures a key is blocked for a delay that doubles
 * with each further failure (capped); a success clears it.
 *
 * @example
 * ```ts
 * import { FailureThrottle } from "@fastchat/server/rate_limiter";
 * const t = new FailureThrottle(5, 1000, 300_000);
 * for (let i = 0; i < 5; i++) t.fail("bob");
 * console.log(t.blockedFor("bob") > 0); // true
 * ```
 */
export class FailureThrottle {
  #state = new Map<string, { failures: number; until: number }>();
  constructor(
    readonly freeFailures: number = 5,
    readonly baseDelayMs: number = 1000,
    readonly maxDelayMs: number = 5 * 60_000,
    readonly maxKeys: number = 100_000,
  ) {}

  /** Milliseconds `key` must still wait (0 when allowed). */
  blockedFor(key: string, now: number = Date.now()): number {
    const s = this.#state.get(key);
    return s && s.until > now ? s.until - now : 0;
  }

  /** Records a failure and returns the delay now imposed. */
  fail(key: string, now: number = Date.now()): number {
    let s = this.#state.get(key);
    if (!s) {
      if (this.#state.size >= this.maxKeys) this.#state.clear();
      s = { failures: 0, until: 0 };
      this.#state.set(key, s);
    }
    s.failures++;
    const over = s.failures - this.freeFailures;
    if (over < 0) return 0;
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** over);
    s.until = now + delay;
    return delay;
  }

  /** Clears `key` after a success. */
  succeed(key: string): void {
    this.#state.delete(key);
  }
}
