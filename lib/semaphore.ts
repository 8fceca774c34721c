/**
 * A counting semaphore with a bounded wait queue, for work that runs on
 * Deno's blocking thread pool (scrypt, RSA, PBKDF2): without a bound, a
 * burst of requests starts one thread per operation, each holding its
 * memory (16–32 MiB per scrypt hash), and starves everything else on the
 * machine. Callers past the queue bound get `RATE_LIMITED` at once.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@fastchat/lib/semaphore";
 * const hashing = new Semaphore(2, 100);
 * const digest = await hashing.run(() => crypto.subtle.digest("SHA-256", new Uint8Array(8)));
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";

/**
 * Runs at most `max` tasks at a time; up to `maxWaiting` more wait in FIFO order.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@fastchat/lib/semaphore";
 * const s = new Semaphore(1);
 * await Promise.all([s.run(async () => 1), s.run(async () => 2)]); // one after the other
 * ```
 */
export class Semaphore {
  #active = 0;
  #waiting: (() => void)[] = [];

  /** `max` ≥ 1 concurrent tasks; `maxWaiting` queued ones (default unbounded). */
  constructor(readonly max: number, readonly maxWaiting: number = Infinity) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `semaphore size must be a positive integer: ${max}`,
      );
    }
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `task` when a slot is free. Throws `RATE_LIMITED` (with a
   * `retryMs` hint) without running it if the wait queue is full.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.max) {
      if (this.#waiting.length >= this.maxWaiting) {
        throw new FastChatError("RATE_LIMITED", "server busy; try again shortly", {
          retryMs: 250,
        });
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter (the count stays the same).
      if (next) next();
      else this.#active--;
    }
  }
}

/** Concurrent heavy crypto operations per process: one per core. */
export function defaultConcurrency(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}
