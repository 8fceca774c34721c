/**
 * A recorder of client events that tests await instead of sleeping.
 *
 * @example
 * ```ts
 * import { EventLog } from "@fastchat/testing";
 * const log = new EventLog<{ event: string }>();
 * log.push({ event: "connected" });
 * await log.waitForCount((e) => e.event === "connected", 1);
 * ```
 * @module
 */

/**
 * Collects events (pass {@link EventLog.push} as a client's `onEvent`) and
 * resolves waits as soon as the awaited events arrive: no sleeps, and a
 * timeout error that shows the last events seen.
 *
 * @example
 * ```ts
 * import { EventLog } from "@fastchat/testing";
 * const log = new EventLog<{ event: string; from?: string }>();
 * setTimeout(() => log.push({ event: "message", from: "bob" }), 10);
 * const m = await log.waitFor((e) => e.event === "message");
 * console.log(m.from); // "bob"
 * ```
 */
export class EventLog<E extends { event: string }> {
  readonly events: E[] = [];
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  /** Records an event (pass as `onEvent`). */
  push = (e: E): void => {
    this.events.push(e);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  };

  /** Waits until `n` recorded events match `pred`; resolves with them. */
  waitForCount(pred: (e: E) => boolean, n: number, timeoutMs = 20_000): Promise<E[]> {
    const matching = () => this.events.filter(pred);
    if (matching().length >= n) return Promise.resolve(matching());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `timed out: ${matching().length}/${n} matching events; last: ${
              JSON.stringify(this.events.slice(-5)).slice(0, 2000)
            }`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        check: () => matching().length >= n,
        resolve: () => {
          clearTimeout(timer);
          resolve(matching());
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves with the first recorded event matching `pred`. */
  async waitFor(pred: (e: E) => boolean, timeoutMs = 20_000): Promise<E> {
    return (await this.waitForCount(pred, 1, timeoutMs))[0];
  }
}
