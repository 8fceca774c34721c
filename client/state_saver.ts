/**
 * Saving the client's key state (pinned contact keys, session keys) to the
 * user's home: a change schedules a save at most every
 * {@link SAVE_INTERVAL_MS}, and `saveNow` writes at once (on `persist`,
 * logout and close). Losing the last seconds in a crash is harmless: new
 * outgoing keys are made on demand and received ones are fetched again from
 * the server's envelopes.
 *
 * @example
 * ```ts
 * import { StateSaver } from "@fastchat/client/state_saver";
 * const saver = new StateSaver({
 *   write: async () => {}, // e.g. home.writeState(vaultKey, keys.snapshot())
 *   onError: (e) => console.error(`saving state: ${e}`),
 * });
 * saver.schedule();
 * await saver.saveNow();
 * ```
 * @module
 */

/** Longest a change waits to be saved. */
export const SAVE_INTERVAL_MS = 2000;

/** Options of a {@link StateSaver}. */
export interface StateSaverOptions {
  /** Writes the current state (nothing when logged out). */
  write: () => Promise<void>;
  /** A scheduled save failed (nobody awaits it). */
  onError: (e: unknown) => void;
  /** Delay of a scheduled save (default {@link SAVE_INTERVAL_MS}). */
  intervalMs?: number;
}

/**
 * Debounced state writes.
 *
 * @example
 * ```ts
 * import { StateSaver } from "@fastchat/client/state_saver";
 * let saves = 0;
 * const saver = new StateSaver({ write: async () => void saves++, onError: console.error });
 * saver.schedule();
 * saver.schedule(); // one save for both
 * await saver.saveNow(); // saves = 1, and the timer is off
 * ```
 */
export class StateSaver {
  readonly #opts: StateSaverOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(opts: StateSaverOptions) {
    this.#opts = opts;
  }

  /** Whether a save is scheduled. */
  get scheduled(): boolean {
    return this.#timer !== undefined;
  }

  /** Saves within the interval, unless a save is scheduled already. */
  schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#opts.write().catch((e) => this.#opts.onError(e));
    }, this.#opts.intervalMs ?? SAVE_INTERVAL_MS);
  }

  /** Saves now (a scheduled save is then not needed). */
  async saveNow(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#opts.write();
  }
}
