/**
 * Closes connections that went silent. A client whose host vanished (cable
 * cut, laptop lid shut, NAT entry forgotten) sends no FIN or RST: without a
 * deadline its session would hold memory, presence and forwarding routes for
 * ever. A live client is never silent for long: its link watchdog pings a
 * quiet server (client `--ping-ms`, default 10 s) and every frame the server
 * pushes (a message, a receipt) is answered. So a connection that sent no
 * frame at all for {@link DEFAULT_CLIENT_IDLE_MS} is closed.
 *
 * Noting a frame costs one clock read; the timer runs once per timeout, not
 * once per frame.
 *
 * @example
 * ```ts
 * import { IdleTimeout } from "@fastchat/server/idle_timeout";
 * const idle = new IdleTimeout(60_000, (ms) => console.log(`silent for ${ms} ms`));
 * idle.seen(); // on every frame received
 * idle.stop(); // the connection closed
 * ```
 * @module
 */

/** Default silence after which a server closes a client connection (12 client ping intervals). */
export const DEFAULT_CLIENT_IDLE_MS = 120_000;

/**
 * Calls `onIdle` once when {@link seen} was not called for `ms`.
 *
 * @example
 * ```ts
 * import { IdleTimeout } from "@fastchat/server/idle_timeout";
 * const idle = new IdleTimeout(0, () => {}); // 0: never times out
 * idle.seen();
 * idle.stop();
 * ```
 */
export class IdleTimeout {
  readonly #ms: number;
  readonly #onIdle: (silentMs: number) => void;
  #last = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** Starts the clock now; `ms` ≤ 0 (or not finite) disables the timeout. */
  constructor(ms: number, onIdle: (silentMs: number) => void) {
    this.#ms = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#onIdle = onIdle;
    if (this.#ms) this.#arm(this.#ms);
  }

  /** Something arrived: the peer is alive. */
  seen(): void {
    this.#last = performance.now();
  }

  /** Stops the clock (the connection closed); `onIdle` is not called after. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#check(), Math.max(1, Math.ceil(delay)));
  }

  #check(): void {
    if (this.#stopped) return;
    const silent = performance.now() - this.#last;
    if (silent < this.#ms) return this.#arm(this.#ms - silent);
    this.#stopped = true;
    this.#onIdle(Math.round(silent));
  }
}
