/**
 * Per-address rate limiting for the load balancer: a token bucket per
 * client address (`rate` tokens per second, at most `burst`), with memory
 * bounded by evicting the least recently used addresses. The LB keeps its
 * own small limiter rather than importing the chat server's, so this
 * package does not depend on the server package.
 *
 * @example
 * ```ts
 * import { AddressLimiter } from "@fastchat/lb/address_limiter";
 * const limiter = new AddressLimiter({ rate: 20, burst: 80 });
 * if (!limiter.take("203.0.113.7")) console.log("retry in", limiter.waitMs("203.0.113.7"), "ms");
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";

/**
 * Options of {@link AddressLimiter}.
 *
 * @example
 * ```ts
 * import type { AddressLimiterOptions } from "@fastchat/lb/address_limiter";
 * const opts: AddressLimiterOptions = { rate: 10, burst: 40, maxAddresses: 50_000 };
 * ```
 */
export interface AddressLimiterOptions {
  /** Tokens per second per address; 0 disables limiting. */
  rate: number;
  /** Bucket size (default `4 * rate`). */
  burst?: number;
  /** Addresses remembered at most (default 100 000). */
  maxAddresses?: number;
  /** Monotonic clock in ms (default `performance.now`). */
  clock?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets keyed by address.
 *
 * @example
 * ```ts
 * import { AddressLimiter } from "@fastchat/lb/address_limiter";
 * const l = new AddressLimiter({ rate: 1, burst: 2 });
 * l.take("a"); l.take("a");
 * console.log(l.take("a")); // false
 * ```
 */
export class AddressLimiter {
  /** Tokens per second per address (0: unlimited). */
  readonly rate: number;
  /** Bucket size. */
  readonly burst: number;
  readonly #max: number;
  readonly #clock: () => number;
  /** Insertion order doubles as recency order (touched buckets are re-inserted). */
  #buckets = new Map<string, Bucket>();

  /** Throws `INVALID_CONFIG` for a negative or non-finite rate. */
  constructor(opts: AddressLimiterOptions) {
    if (!(opts.rate >= 0) || !Number.isFinite(opts.rate)) {
      throw new FastChatError("INVALID_CONFIG", `rate must be a finite number >= 0: ${opts.rate}`);
    }
    this.rate = opts.rate;
    this.burst = Math.max(1, opts.burst ?? opts.rate * 4);
    this.#max = Math.max(1, opts.maxAddresses ?? 100_000);
    this.#clock = opts.clock ?? (() => performance.now());
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `addr`; false when it is over its rate. */
  take(addr: string): boolean {
    if (this.rate === 0) return true;
    const b = this.#refill(addr);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Milliseconds until `addr` has a token again (0 if it has one). */
  waitMs(addr: string): number {
    if (this.rate === 0) return 0;
    const b = this.#refill(addr);
    return b.tokens >= 1 ? 0 : Math.ceil(((1 - b.tokens) / this.rate) * 1000);
  }

  #refill(addr: string): Bucket {
    const now = this.#clock();
    let b = this.#buckets.get(addr);
    if (b) {
      this.#buckets.delete(addr);
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    } else {
      b = { tokens: this.burst, at: now };
      if (this.#buckets.size >= this.#max) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    }
    this.#buckets.set(addr, b);
    return b;
  }
}
