/**
 * A load client's running totals ({@link ClientCounters}), summed per
 * worker and over the run for progress and `run.json`.
 *
 * @example
 * ```ts
 * import { addCounters, zeroCounters } from "./client_counters.ts";
 * const total = zeroCounters();
 * addCounters(total, { ...zeroCounters(), sent: 3 });
 * console.log(total.sent); // 3
 * ```
 * @module
 */

/**
 * Cumulative counts of one client (or, summed, of a worker).
 *
 * @example
 * ```ts
 * import { type ClientCounters, zeroCounters } from "./client_counters.ts";
 * const c: ClientCounters = { ...zeroCounters(), sent: 5, acked: 5 };
 * ```
 */
export interface ClientCounters {
  /** `send()` calls that returned an id. */
  sent: number;
  /** Server `sent` acks (stored). */
  acked: number;
  /** Messages received and decrypted. */
  received: number;
  /** Delivery receipts. */
  delivered: number;
  /** Error events and `send()` calls that threw. */
  errors: number;
  /** Sent messages (counted in `sent`) rejected for good by an error event: never acked. */
  failed: number;
  /** `nowMs()` (clock.ts) of the last send / receive (0: none yet). */
  lastSendMs: number;
  lastRecvMs: number;
}

/**
 * A zeroed {@link ClientCounters}.
 *
 * @example
 * ```ts
 * import { zeroCounters } from "./client_counters.ts";
 * zeroCounters().sent; // 0
 * ```
 */
export function zeroCounters(): ClientCounters {
  return {
    sent: 0,
    acked: 0,
    received: 0,
    delivered: 0,
    errors: 0,
    failed: 0,
    lastSendMs: 0,
    lastRecvMs: 0,
  };
}

/**
 * Adds `from` into `into`: counts add up, last-event times take the latest.
 *
 * @example
 * ```ts
 * import { addCounters, zeroCounters } from "./client_counters.ts";
 * const total = zeroCounters();
 * addCounters(total, { ...zeroCounters(), sent: 3, lastSendMs: 5 });
 * ```
 */
export function addCounters(into: ClientCounters, from: ClientCounters): void {
  into.sent += from.sent;
  into.acked += from.acked;
  into.received += from.received;
  into.delivered += from.delivered;
  into.errors += from.errors;
  into.failed += from.failed;
  into.lastSendMs = Math.max(into.lastSendMs, from.lastSendMs);
  into.lastRecvMs = Math.max(into.lastRecvMs, from.lastRecvMs);
}
