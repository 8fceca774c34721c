/**
 * Closes connections that went silent. A client whose host vanished (cable
 * cut, laptop lid shut, NAT entry forgotten) sends no FIN or RST: without a
 * deadline its session would hold memory, presence and forwarding routes for
 * ever. A live client is never silent for long: its link watchdog pings a
 * quiet server (client `--ping-ms`, default 10 s) and every frame the server
 * pushes (a message, a receipt) is answered. So a connection that sent no
 * frame at all for {@link DEFAULT_CLIENT_IDLE_MS} is closed.
 *
 * Noting a frame sets a flag (no clock read: `performance.now()` per frame
 * was 1 % of a saturated server's CPU). The connections with the same
 * timeout share one timer ({@link IdleTimeout}), which looks at all of them
 * every quarter of the timeout and dates a connection's last frame by the
 * sweep that saw its flag: a silent connection is closed after the timeout
 * and at most a quarter more. 10,000 idle connections hold one
 * timer, not 10,000 (each ~0.4 KiB of heap, measured with a heap snapshot).
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
 * Calls `onIdle` once when {@link seen} was not called for `ms` (checked
 * every `ms / 4` by a timer shared with every other `IdleTimeout` of the
 * same `ms`, so it fires between `ms` and `1.25 × ms` of silence).
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
  readonly #onIdle: (silentMs: number) => void;
  readonly #group: IdleGroup | null;
  /** Whether a frame arrived since the group's last sweep. */
  heard: boolean = false;
  /** performance.now() of the sweep that last saw a frame (or of the start). */
  since: number = performance.now();

  /** Starts the clock now; `ms` ≤ 0 (or not finite) disables the timeout. */
  constructor(ms: number, onIdle: (silentMs: number) => void) {
    this.#onIdle = onIdle;
    this.#group = Number.isFinite(ms) && ms > 0 ? IdleGroup.of(ms) : null;
    this.#group?.add(this);
  }

  /** Something arrived: the peer is alive. */
  seen(): void {
    this.heard = true;
  }

  /** Stops the clock (the connection closed); `onIdle` is not called after. */
  stop(): void {
    this.#group?.delete(this);
  }

  /** Called once by the group when the silence reached the timeout. */
  fire(silentMs: number): void {
    this.#onIdle(Math.round(silentMs));
  }
}

/** The IdleTimeouts of one timeout length and the one timer that checks them. */
class IdleGroup {
  static readonly #groups = new Map<number, IdleGroup>();
  readonly #ms: number;
  readonly #members = new Set<IdleTimeout>();
  #timer: ReturnType<typeof setInterval> | undefined;

  static of(ms: number): IdleGroup {
    let g = IdleGroup.#groups.get(ms);
    if (!g) IdleGroup.#groups.set(ms, g = new IdleGroup(ms));
    return g;
  }

  private constructor(ms: number) {
    this.#ms = ms;
  }

  add(t: IdleTimeout): void {
    this.#members.add(t);
    this.#timer ??= setInterval(() => this.#sweep(), Math.max(1, Math.ceil(this.#ms / 4)));
  }

  delete(t: IdleTimeout): void {
    if (!this.#members.delete(t) || this.#members.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    const silent: [IdleTimeout, number][] = [];
    for (const t of this.#members) {
      if (t.heard) {
        t.heard = false;
        t.since = now;
      } else if (now - t.since >= this.#ms) silent.push([t, now - t.since]);
    }
    for (const [t, ms] of silent) {
      this.delete(t);
      t.fire(ms);
    }
  }
}
