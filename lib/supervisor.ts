/**
 * Keeps a set of FastChat processes running: a child that exits on its own
 * is logged and started again after an exponential backoff with jitter,
 * while the others go on serving. `stopAll` stops them in the reverse order
 * of their start (load balancer, then servers, then the database), also
 * while a restart is pending.
 *
 * @example
 * ```ts
 * import { Supervisor } from "@fastchat/lib/supervisor";
 * const sup = new Supervisor({ log: console.error });
 * const db = await sup.start({
 *   name: "db",
 *   args: ["run", "-A", "db/main.ts", "--port", "0", "--memory"],
 *   ready: /listening on (\S+)/,
 * });
 * console.log(db.process.match[1]);
 * await sup.stopAll();
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";
import { ManagedProcess, type SpawnOptions } from "./managed_process.ts";

/** When to restart a child that exited. */
export interface RestartPolicy {
  /** Delay before the first restart (default 250 ms); it doubles per failure. */
  initialDelayMs: number;
  /** Longest delay (default 30 s): a crash loop costs one start per this. */
  maxDelayMs: number;
  /** A child up this long is healthy again: the next crash starts at the initial delay (60 s). */
  stableMs: number;
}

const DEFAULT_POLICY: RestartPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  stableMs: 60_000,
};

/**
 * The delay before restart number `failures` (1-based) of a child that keeps
 * failing: initial × 2^(failures−1), capped, ±20 % jitter from `random`.
 *
 * @example
 * ```ts
 * import { restartDelay } from "@fastchat/lib/supervisor";
 * const policy = { initialDelayMs: 100, maxDelayMs: 1000, stableMs: 60_000 };
 * restartDelay(policy, 3, () => 0.5); // 400
 * ```
 */
export function restartDelay(
  policy: RestartPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * One supervised child: its current process, and how often it was restarted.
 *
 * @example
 * ```ts
 * import type { SupervisedChild } from "@fastchat/lib/supervisor";
 * declare const child: SupervisedChild;
 * child.process.kill("SIGKILL"); // the supervisor starts a new one
 * await child.nextStart();
 * ```
 */
export class SupervisedChild {
  /** The running process (replaced at each restart). */
  process: ManagedProcess;
  /** Restarts so far. */
  restarts = 0;
  readonly spec: SpawnOptions;
  #startWaiters: (() => void)[] = [];

  constructor(spec: SpawnOptions, first: ManagedProcess) {
    this.spec = spec;
    this.process = first;
  }

  /** The child's name. */
  get name(): string {
    return this.spec.name;
  }

  /** Resolves when the child has been restarted and is ready again. */
  nextStart(): Promise<void> {
    return new Promise((resolve) => this.#startWaiters.push(resolve));
  }

  /** @internal Called by the supervisor with each new ready process. */
  replaced(p: ManagedProcess): void {
    this.process = p;
    this.restarts++;
    for (const w of this.#startWaiters.splice(0)) w();
  }
}

/**
 * Starts children and restarts those that exit.
 *
 * @example
 * ```ts
 * import { Supervisor } from "@fastchat/lib/supervisor";
 * const sup = new Supervisor({ policy: { initialDelayMs: 100 } });
 * await sup.stopAll();
 * ```
 */
export class Supervisor {
  readonly #policy: RestartPolicy;
  readonly #log: (line: string) => void;
  readonly #children: SupervisedChild[] = [];
  readonly #watches: Promise<void>[] = [];
  #stopping = false;
  #wakeStop: (() => void)[] = [];

  constructor(opts: { policy?: Partial<RestartPolicy>; log?: (line: string) => void } = {}) {
    this.#policy = { ...DEFAULT_POLICY, ...opts.policy };
    this.#log = opts.log ?? ((line) => console.error(line));
  }

  /** The children, in start order. */
  get children(): readonly SupervisedChild[] {
    return this.#children;
  }

  /** Whether `stopAll` has been called. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Spawns `spec`, waits until it is ready, and keeps it running from then on. */
  async start(spec: SpawnOptions): Promise<SupervisedChild> {
    const first = await ManagedProcess.spawn(spec);
    if (this.#stopping) {
      // stopAll ran while this child was starting (e.g. Ctrl-C during startup): no orphan.
      await first.stop();
      throw new FastChatError(
        "SERVER_SHUTTING_DOWN",
        `${spec.name} became ready while stopping; stopped it`,
      );
    }
    const child = new SupervisedChild(spec, first);
    this.#children.push(child);
    this.#watches.push(this.#watch(child));
    return child;
  }

  async #watch(child: SupervisedChild): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      const startedAt = performance.now();
      const status = await child.process.exited;
      if (this.#stopping) return;
      if (performance.now() - startedAt >= this.#policy.stableMs) failures = 0;
      let what = `exited (${status.signal ? `signal ${status.signal}` : `code ${status.code}`})`;
      for (;;) {
        failures++;
        const delay = restartDelay(this.#policy, failures);
        this.#log(
          `${child.name} ${what}; restarting in ${delay} ms (restart ${
            child.restarts + 1
          }, failure ${failures} in a row)`,
        );
        if (!await this.#sleepUnlessStopped(delay)) return;
        try {
          const p = await ManagedProcess.spawn(child.spec);
          if (this.#stopping) {
            await p.stop();
            return;
          }
          child.replaced(p);
          this.#log(`${child.name} restarted (pid ${p.pid}): ${p.match[0]}`);
          break;
        } catch (e) {
          this.#log(`${child.name} failed to start: ${e instanceof Error ? e.message : e}`);
          what = "failed to start";
        }
      }
    }
  }

  /** Waits `ms`; false if `stopAll` was called meanwhile. */
  #sleepUnlessStopped(ms: number): Promise<boolean> {
    if (this.#stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.#wakeStop = this.#wakeStop.filter((w) => w !== wake);
        resolve(true);
      }, ms);
      this.#wakeStop.push(wake);
    });
  }

  /** Stops every child, last started first; pending restarts are cancelled. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    for (const w of this.#wakeStop.splice(0)) w();
    for (const child of [...this.#children].reverse()) await child.process.stop(graceMs);
    await Promise.all(this.#watches);
  }
}
