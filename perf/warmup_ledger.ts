/**
 * One load client's key warm-up bookkeeping: the warm-up messages it sent
 * (and to whom) whose receipt has not arrived, the warm-up messages it
 * displayed, and how often its connection was lost meanwhile. When the
 * warm-up times out, these answer which receipts are missing, whether the
 * server confirmed those messages (`sent`: stored after their linger, as a
 * message not acknowledged in time is) and, on the recipient's side, whether
 * the message was displayed (and so acknowledged) (perf/warmup_audit.ts).
 *
 * @example
 * ```ts
 * import { WarmupLedger } from "./warmup_ledger.ts";
 * const ledger = new WarmupLedger();
 * ledger.sent("m1", "bob");
 * ledger.displayed("carol", "m9");
 * console.log(ledger.missing()); // [["bob", "m1"]]
 * console.log(ledger.receipt("m1"), ledger.receipt("m1")); // true false
 * console.log(ledger.shown("carol", "m9")); // true
 * ```
 * @module
 */

/**
 * Warm-up messages sent without a receipt yet, and warm-up messages shown.
 *
 * @example
 * ```ts
 * import { WarmupLedger } from "./warmup_ledger.ts";
 * const ledger = new WarmupLedger();
 * ledger.disconnected();
 * console.log(ledger.disconnects); // 1
 * ```
 */
export class WarmupLedger {
  /** id -> recipient of sent warm-up messages whose receipt has not arrived. */
  readonly #awaiting = new Map<string, string>();
  /** Ids of {@link WarmupLedger.#awaiting} the server confirmed (`sent`) without a receipt yet. */
  readonly #confirmed = new Set<string>();
  /** `from\nid` of warm-up messages this client displayed. */
  readonly #shown = new Set<string>();
  /** Connections lost since the client was made. */
  disconnects = 0;

  /** Warm-up message `id` went to `to`: its receipt is awaited. */
  sent(id: string, to: string): void {
    this.#awaiting.set(id, to);
  }

  /** A receipt for `id`: true (and it is no longer awaited) if it was awaited. */
  receipt(id: string): boolean {
    // Once every warm-up receipt came (the timed phase), no look-up at all: the
    // first `Map` look-up with a fresh id string hashes it, ~0.4 µs here
    // (perf/string_hash_bench.ts), and that was CPU the harness charged to the client.
    // (`#confirmed` holds only ids still awaited.)
    if (this.#awaiting.size === 0) return false;
    this.#confirmed.delete(id);
    return this.#awaiting.delete(id);
  }

  /**
   * A `sent` for `id`: true (and noted) if it is a warm-up message awaiting
   * its receipt. A live receipt confirms a message by itself; a `sent` before
   * it means the server stored the message because no acknowledgement came
   * within its linger.
   */
  confirm(id: string): boolean {
    if (this.#awaiting.size === 0 || !this.#awaiting.has(id)) return false;
    this.#confirmed.add(id);
    return true;
  }

  /** Whether the server confirmed (`sent`) warm-up message `id`, still awaiting its receipt. */
  confirmed(id: string): boolean {
    return this.#confirmed.has(id);
  }

  /** Warm-up message `id` of `from` was displayed. */
  displayed(from: string, id: string): void {
    this.#shown.add(from + "\n" + id);
  }

  /** Whether warm-up message `id` of `from` was displayed. */
  shown(from: string, id: string): boolean {
    return this.#shown.has(from + "\n" + id);
  }

  /** The connection was lost. */
  disconnected(): void {
    this.disconnects++;
  }

  /** [recipient, id] of every warm-up message still awaiting its receipt. */
  missing(): [string, string][] {
    return [...this.#awaiting].map(([id, to]) => [to, id]);
  }

  /** Forgets what was shown (the warm-up is over: nothing more will ask). */
  clearShown(): void {
    this.#shown.clear();
  }
}
