/**
 * Notices a dead link to the server. TCP says nothing when the path to a
 * server goes dark (a cut cable, a host that lost its network, a NAT that
 * forgot the flow): writes sit in the kernel's buffer and reads wait
 * forever. The watchdog counts the frames that arrive; after one quiet
 * interval it asks for a sign of life (a ping, which the server answers at
 * once), and after {@link DEAD_AFTER_INTERVALS} quiet intervals in a row it
 * declares the link dead, so the connection is closed and replaced (the
 * session resumes elsewhere, and the outbox goes out again).
 *
 * Counting costs one increment per frame; the timer runs once per interval.
 *
 * @example
 * ```ts
 * import { LinkWatchdog } from "@fastchat/client/link_watchdog";
 * const dog = new LinkWatchdog({
 *   intervalMs: 5000,
 *   ping: () => console.log("anyone there?"),
 *   dead: (ms) => console.log(`nothing for ${ms} ms`),
 * });
 * dog.seen(); // on every frame received
 * dog.stop();
 * ```
 * @module
 */

/** Quiet intervals in a row after which the link is dead (a ping went out after the first). */
export const DEAD_AFTER_INTERVALS = 3;

/** Default interval of a client connection's {@link LinkWatchdog}. */
export const DEFAULT_PING_MS = 10_000;

/** Options of a {@link LinkWatchdog}. */
export interface LinkWatchdogOptions {
  /** How long a quiet link waits before a ping. */
  intervalMs: number;
  /** Asks the server for a sign of life. */
  ping: () => void;
  /** The link was quiet for `quietMs` despite pings (called once; the watchdog stops). */
  dead: (quietMs: number) => void;
}

/**
 * Pings a quiet link and reports it dead when the pings go unanswered.
 *
 * @example
 * ```ts
 * import { LinkWatchdog } from "@fastchat/client/link_watchdog";
 * declare const conn: { ping(): void; close(): void };
 * const dog = new LinkWatchdog({ intervalMs: 1000, ping: () => conn.ping(), dead: () => conn.close() });
 * ```
 */
export class LinkWatchdog {
  readonly #opts: LinkWatchdogOptions;
  readonly #timer: ReturnType<typeof setInterval>;
  #frames = 0;
  #framesAtTick = 0;
  #quiet = 0;

  constructor(opts: LinkWatchdogOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError("intervalMs must be positive");
    this.#opts = opts;
    this.#timer = setInterval(() => this.#tick(), opts.intervalMs);
  }

  /** A frame arrived: the link is alive. */
  seen(): void {
    this.#frames++;
  }

  /** Stops the timer (the connection closed). */
  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    if (this.#frames !== this.#framesAtTick) {
      this.#framesAtTick = this.#frames;
      this.#quiet = 0;
      return;
    }
    this.#quiet++;
    if (this.#quiet >= DEAD_AFTER_INTERVALS) {
      this.stop();
      this.#opts.dead(this.#quiet * this.#opts.intervalMs);
      return;
    }
    this.#opts.ping();
  }
}
