/**
 * The worker processes of a load run (`perf/load_worker.ts`, one
 * {@link WorkerHandle} each): spawning them with their share of the run's
 * configuration, broadcasting commands, waiting for a message from every
 * worker, summing their progress, reading their CPU time and stopping them.
 * A worker that reports `failed` or exits before flushing its CSVs fails
 * the run; every other message goes to the `onMessage` listener.
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import { RunAbort } from "./run_abort.ts";
 * import { WorkerPool } from "./worker_pool.ts";
 * const cfg = parseRunArgs(["--clients", "4", "--messages", "10"]);
 * const pool = new WorkerPool(cfg, "/tmp/run", new RunAbort(), (m) => console.log(m.t));
 * await pool.spawn({ host: "127.0.0.1", port: 7700 });
 * await pool.broadcast({ cmd: "register" });
 * await pool.waitAll("registered");
 * await pool.stop(30_000);
 * ```
 * @module
 */
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { readCpuSeconds } from "./idle_mode.ts";
import type {
  WorkerCommand,
  WorkerConfig,
  WorkerMessage,
  WorkerProgress,
} from "./worker_protocol.ts";
import { sumProgress } from "./worker_protocol.ts";
import type { RunAbort } from "./run_abort.ts";
import type { RunConfig } from "./run_schema.ts";
import { WorkerHandle } from "./worker_handle.ts";

/**
 * What worker `worker` of the run is told on its command line.
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import { workerConfig } from "./worker_pool.ts";
 * const cfg = parseRunArgs(["--clients", "4", "--messages", "10", "--workers", "2"]);
 * workerConfig(cfg, 1, { host: "127.0.0.1", port: 7700 }, "/tmp/run").worker; // 1
 * ```
 */
export function workerConfig(
  cfg: RunConfig,
  worker: number,
  lb: { host: string; port: number },
  runDir: string,
): WorkerConfig {
  return {
    worker,
    workers: cfg.workers,
    clients: cfg.clients,
    peers: cfg.peers ?? null,
    seed: cfg.seed,
    lb,
    kdfIterations: cfg.kdfIterations,
    identityPool: cfg.identityPool,
    send: cfg.send,
    payloadBytes: cfg.payloadBytes,
    messages: cfg.messages,
    durationMs: cfg.durationMs,
    runDir,
    idle: cfg.idle,
    mode: cfg.mode,
    groupSize: cfg.groupSize ?? null,
    groupSenders: cfg.groupSenders ?? null,
    fileBytes: cfg.fileBytes ?? null,
    driver: cfg.driver ?? "client",
    heapSample: cfg.heapSample ?? false,
    heapSurvivors: cfg.heapSurvivors ?? false,
  };
}

/**
 * Deno flags of worker `worker`: the servers' V8 heap setting (a 16 MiB
 * young generation: at 2,000 msgs/s it cut the workers' longest GC pause
 * and the run's p99, see README "Performance"), and with `--cpu-prof` a V8
 * CPU profile `<runDir>/profiles/worker-<k>.cpuprofile`.
 *
 * @example
 * ```ts
 * import { workerDenoFlags } from "./worker_pool.ts";
 * workerDenoFlags(false, "/tmp/run", 0); // ["--v8-flags=--max-semi-space-size=16,--initial-old-space-size=128,--no-allocation-site-pretenuring,--no-memory-reducer"]
 * ```
 */
export function workerDenoFlags(cpuProf: boolean, runDir: string, worker: number): string[] {
  return cpuProf
    ? [
      SERVER_V8_FLAGS,
      "--cpu-prof",
      `--cpu-prof-dir=${runDir}/profiles`,
      `--cpu-prof-name=worker-${worker}.cpuprofile`,
    ]
    : [SERVER_V8_FLAGS];
}

/**
 * The run's workers.
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import { RunAbort } from "./run_abort.ts";
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool(parseRunArgs(["--idle", "10"]), "/tmp/run", new RunAbort(), () => {});
 * pool.progress().allDone; // false: no workers yet
 * ```
 */
export class WorkerPool {
  /** The workers spawned so far, by index. */
  readonly handles: WorkerHandle[] = [];

  constructor(
    readonly cfg: RunConfig,
    readonly runDir: string,
    readonly abort: RunAbort,
    readonly onMessage: (m: WorkerMessage) => void,
  ) {}

  get size(): number {
    return this.handles.length;
  }

  /** Spawns `cfg.workers` workers driving the LB at `lb`; resolves when all said hello. */
  async spawn(lb: { host: string; port: number }): Promise<void> {
    for (let k = 0; k < this.cfg.workers; k++) {
      const w = new WorkerHandle(
        k,
        workerConfig(this.cfg, k, lb, this.runDir),
        `${this.runDir}/logs/worker-${k}.log`,
        (w, m) => this.#onMessage(w, m),
        workerDenoFlags(this.cfg.cpuProf, this.runDir, k),
        // GC lines go where the analysis reads every process's (logs/<name>.stdout.log).
        this.cfg.traceGc ? `${this.runDir}/logs/worker-${k}.stdout.log` : undefined,
      );
      this.handles.push(w);
      w.exited.then((s) => {
        if (!w.flushed) {
          this.abort.fail(
            new Error(`worker ${k} exited with code ${s.code}:\n${w.tail.slice(-15).join("\n")}`),
          );
        }
      });
    }
    await this.abort.guard(this.waitAll("hello"));
  }

  #onMessage(w: WorkerHandle, m: WorkerMessage): void {
    if (m.t === "failed") this.abort.fail(new Error(`worker ${w.index}: ${m.message}`));
    else this.onMessage(m);
  }

  /** Sends `cmd` to every worker. */
  async broadcast(cmd: WorkerCommand): Promise<void> {
    await Promise.all(this.handles.map((w) => w.send(cmd)));
  }

  /** The first message of type `t` from every worker (not guarded). */
  waitAll<T extends WorkerMessage["t"]>(t: T): Promise<Extract<WorkerMessage, { t: T }>[]> {
    return Promise.all(this.handles.map((w) => w.waitFor(t)));
  }

  /** The sum of the workers' latest progress reports. */
  progress(): WorkerProgress & { allDone: boolean } {
    return sumProgress(this.handles.map((w) => w.progress));
  }

  /** CPU seconds so far of every worker, as `worker-<k>`. */
  async cpuSeconds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const w of this.handles) out[`worker-${w.index}`] = await readCpuSeconds(w.pid);
    return out;
  }

  /** Asks every worker to stop and flush; SIGKILL after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    await Promise.all(this.handles.map((w) => w.stop(graceMs)));
  }

  /** SIGKILLs every worker. */
  kill(): void {
    for (const w of this.handles) w.kill();
  }

  /** Index and pid of every worker, for `run.json`. */
  describe(): { index: number; pid: number }[] {
    return this.handles.map((w) => ({ index: w.index, pid: w.pid }));
  }
}
