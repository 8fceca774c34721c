/**
 * How a load run stops early. A failure anywhere (a worker or cluster
 * process exiting, a worker reporting `failed`) or Ctrl-C rejects one
 * promise that every wait of the run races against, so the run drops out
 * of whatever phase it is in and goes on to its shutdown. The first reason
 * wins; later ones are ignored.
 *
 * @example
 * ```ts
 * import { RunAbort } from "./run_abort.ts";
 * const abort = new RunAbort();
 * setTimeout(() => abort.fail(new Error("worker 0 exited")), 10);
 * await abort.guard(new Promise(() => {})).catch((e) => console.log(e.message));
 * ```
 * @module
 */

/**
 * The abort reason of Ctrl-C: the run stops cleanly, it did not fail.
 *
 * @example
 * ```ts
 * import { Interrupted, RunAbort } from "./run_abort.ts";
 * const abort = new RunAbort();
 * abort.interrupt();
 * await abort.guard(Promise.resolve()).catch((e) => e instanceof Interrupted); // true
 * ```
 */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

/**
 * The run's abort: {@link RunAbort.guard} a wait, {@link RunAbort.fail} or
 * {@link RunAbort.interrupt} to end every guarded wait.
 *
 * @example
 * ```ts
 * import { RunAbort } from "./run_abort.ts";
 * const abort = new RunAbort();
 * await abort.guard(Promise.resolve(1)); // 1
 * ```
 */
export class RunAbort {
  readonly #abort = Promise.withResolvers<never>();

  constructor() {
    // Marks the abort handled: every guard() caller gets the reason; with no
    // guard pending, an abort must not end the process as unhandled.
    this.#abort.promise.catch(() => {});
  }

  /** `p`, unless the run is aborted first: then the abort reason. */
  guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.#abort.promise]);
  }

  /** Aborts the run with the failure `e` (ignored after the first abort). */
  fail(e: Error): void {
    this.#abort.reject(e);
  }

  /** Aborts the run with {@link Interrupted} (ignored after the first abort). */
  interrupt(): void {
    this.#abort.reject(new Interrupted());
  }
}
