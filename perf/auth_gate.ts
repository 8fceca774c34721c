/**
 * Admission of registrations and logins against the servers' per-address
 * auth rate limit ({@link AuthGate}, AIMD), and retrying them through it
 * ({@link retryAuth}).
 *
 * @example
 * ```ts
 * import { AuthGate, retryAuth } from "./auth_gate.ts";
 * const gate = new AuthGate(32);
 * const login = () => Promise.resolve("logged_in");
 * await retryAuth("logging in alice", login, gate, () => false);
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { nowMs, sleep } from "./clock.ts";

/**
 * Retries `fn` through the `gate`: after `RATE_LIMITED` (the servers'
 * per-address auth limit; every perf client comes from one address) without
 * limit on attempts, any other error `attempts` times in total (waiting
 * 0.5 s, 1 s, … between); rejects with `<what>: stopped` once `stopped()`.
 *
 * @example
 * ```ts
 * import { AuthGate, retryAuth } from "./auth_gate.ts";
 * const gate = new AuthGate(32);
 * await retryAuth("registering alice", () => Promise.resolve("registered"), gate, () => false);
 * ```
 */
export async function retryAuth<T>(
  what: string,
  fn: () => Promise<T>,
  gate: AuthGate,
  stopped: () => boolean,
  attempts = 3,
): Promise<T> {
  for (let i = 1;;) {
    await gate.acquire();
    if (stopped()) {
      gate.release("error");
      throw new Error(`${what}: stopped`);
    }
    try {
      const r = await fn();
      gate.release("ok");
      return r;
    } catch (e) {
      const err = FastChatError.from(e);
      if (err.code === "RATE_LIMITED") {
        gate.release("limited", Number(err.details?.retryMs ?? 200));
        continue;
      }
      gate.release("error");
      if (++i > attempts) throw new Error(`${what}: ${err.code}: ${err.message}`);
      await sleep(500 * (i - 1));
    }
  }
}

/**
 * Admission of registrations/logins, adaptive (AIMD) against the servers'
 * per-address auth limiter: a refusal halves the concurrency and pauses
 * the worker for twice the server's `retryMs` plus jitter (a login needs
 * two tokens, prelogin and login; resuming after one token's worth lets
 * lanes steal each other's tokens forever, each refusal wasting a PBKDF2
 * derivation); each success allows one more concurrent attempt.
 *
 * @example
 * ```ts
 * import { AuthGate } from "./auth_gate.ts";
 * const gate = new AuthGate(32);
 * await gate.acquire();
 * gate.release("limited", 200); // 16 at a time from now, after a pause of 400-600 ms
 * ```
 */
export class AuthGate {
  #active = 0;
  #limit: number;
  #pauseUntil = 0;
  #waiters: (() => void)[] = [];
  /** Refused requests so far. */
  limitedCount = 0;

  constructor(readonly max: number) {
    this.#limit = max;
  }

  /** Concurrent attempts allowed now. */
  get limit(): number {
    return this.#limit;
  }

  /** Attempts in flight. */
  get active(): number {
    return this.#active;
  }

  /** Waits for a pause to end and a free slot, then takes it. */
  async acquire(): Promise<void> {
    while (true) {
      const pause = this.#pauseUntil - nowMs();
      if (pause > 0) await sleep(pause);
      else if (this.#active < this.#limit) {
        this.#active++;
        return;
      } else await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /**
   * Frees a slot: `limited` (refused, the server said to retry after
   * `retryMs`) halves the limit and pauses; `ok` raises it by one.
   */
  release(outcome: "ok" | "limited" | "error", retryMs = 0): void {
    this.#active--;
    if (outcome === "limited") {
      this.limitedCount++;
      this.#limit = Math.max(1, Math.floor(this.#limit / 2));
      this.#pauseUntil = Math.max(
        this.#pauseUntil,
        nowMs() + 2 * retryMs + Math.random() * retryMs,
      );
    } else if (outcome === "ok") {
      this.#limit = Math.min(this.max, this.#limit + 1);
    }
    // Wake everyone; they re-check the pause and the limit.
    for (const w of this.#waiters.splice(0)) w();
  }
}
