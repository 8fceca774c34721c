/**
 * Announcing a login to the other servers again until they confirm it.
 *
 * A user's first session on a server announces it (server/fabric.ts): the
 * other servers write what they accepted for the user, confirm, and forward
 * from then on; the login's backlog query waits for that, but only so long
 * (2 s), so a slow peer cannot hold logins up. A message that peer accepted
 * before and had not yet written is then missing from the backlog: stored,
 * but with nobody to tell the online user. So an announcement that was not
 * confirmed in time is repeated, with backoff, while the user is still
 * online here; once confirmed, the user's sessions get their backlog again
 * (clients drop duplicates). Nothing runs unless an announcement timed out.
 *
 * A first timeout is logged at info level (`<subject>_unconfirmed`): when
 * servers start together, a link can come up before the link back, and the
 * first retry confirms. Only an announcement still unconfirmed after a retry
 * is a warning (`<subject>_still_unconfirmed`, once per loop).
 *
 * @example
 * ```ts
 * import { PresenceRetry } from "@fastchat/server/presence_retry";
 * const retry = new PresenceRetry({
 *   announce: () => Promise.resolve(true),
 *   online: () => true,
 *   confirmed: (user) => console.log("resend the backlog of", user),
 * });
 * retry.start("alice");
 * retry.close();
 * ```
 * @module
 */
import { type Logger, nullLogger } from "@fastchat/lib/logger";

/**
 * What a {@link PresenceRetry} needs from its router.
 *
 * @example
 * ```ts
 * import type { PresenceRetryDeps } from "@fastchat/server/presence_retry";
 * const deps: PresenceRetryDeps = {
 *   announce: () => Promise.resolve(false),
 *   online: () => false,
 *   confirmed: () => {},
 * };
 * ```
 */
export interface PresenceRetryDeps {
  /** Announces `user` online again; false if some server did not confirm in time. */
  announce(user: string): Promise<boolean | void>;
  /** Whether `user` still has sessions here (else the retry stops). */
  online(user: string): boolean;
  /** Every server confirmed: what they held for `user` is stored now. */
  confirmed(user: string): void;
  /** First wait before announcing again (default 500 ms; doubles up to `maxDelayMs`). */
  firstDelayMs?: number;
  /** Longest wait between announcements (default 30 s). */
  maxDelayMs?: number;
  /**
   * What is announced, for the log: `presence` (default; events
   * `presence_unconfirmed`, `presence_still_unconfirmed` and
   * `presence_confirmed` name the user) or another prefix such as
   * `link_up_flush`, whose keys are not user names.
   */
  subject?: string;
  logger?: Logger;
}

/**
 * Unconfirmed login announcements, retried with backoff (one loop per user).
 *
 * @example
 * ```ts
 * import { PresenceRetry } from "@fastchat/server/presence_retry";
 * declare const retry: PresenceRetry;
 * console.log(retry.retrying); // users whose announcement is not confirmed yet
 * ```
 */
export class PresenceRetry {
  readonly #d: PresenceRetryDeps;
  readonly #log: Logger;
  readonly #users = new Set<string>();
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  #closed = false;

  constructor(deps: PresenceRetryDeps) {
    this.#d = deps;
    this.#log = deps.logger ?? nullLogger;
  }

  /** Users whose announcement is being retried. */
  get retrying(): number {
    return this.#users.size;
  }

  /** The announcement of `user` was not confirmed in time: retry it until it is. */
  start(user: string): void {
    if (this.#closed || this.#users.has(user)) return;
    this.#users.add(user);
    this.#log.info(`${this.#subject}_unconfirmed`, this.#fields(user));
    this.#run(user).catch((e) =>
      this.#log.warn(`${this.#subject}_retry_failed`, { ...this.#fields(user), error: String(e) })
    ).finally(() => this.#users.delete(user));
  }

  /** Stops every retry (the server is shutting down). */
  close(): void {
    this.#closed = true;
    for (const [t, wake] of this.#timers) {
      clearTimeout(t);
      wake();
    }
    this.#timers.clear();
  }

  async #run(user: string): Promise<void> {
    const max = this.#d.maxDelayMs ?? 30_000;
    let warned = false;
    for (let delay = this.#d.firstDelayMs ?? 500;; delay = Math.min(max, delay * 2)) {
      await this.#sleep(delay);
      if (this.#closed || !this.#d.online(user)) return;
      if (await this.#d.announce(user) !== false) break;
      if (!warned) {
        warned = true;
        this.#log.warn(`${this.#subject}_still_unconfirmed`, {
          ...this.#fields(user),
          maxDelayMs: max,
        });
      }
    }
    if (this.#closed || !this.#d.online(user)) return;
    this.#log.info(`${this.#subject}_confirmed`, this.#fields(user));
    this.#d.confirmed(user);
  }

  get #subject(): string {
    return this.#d.subject ?? "presence";
  }

  #fields(user: string): Record<string, string> {
    return this.#d.subject === undefined ? { user } : {};
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
      this.#timers.set(t, resolve);
    });
  }
}
