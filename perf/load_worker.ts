/**
 * A load worker process: `fastchat perf-worker '<WorkerConfig JSON>'`
 * (or `deno run -A perf/load_worker.ts '<WorkerConfig JSON>'`), spawned by
 * `perf/main.ts`. It runs its share of the clients (round-robin
 * by index) and talks to the parent in JSON lines (`worker_protocol.ts`):
 *
 * - stdin, commands: `{"cmd":"register"}`, `{"cmd":"login"}`, `{"cmd":"warmup"}`, `{"cmd":"persist"}`,
 *   `{"cmd":"go","startMs":…}`, `{"cmd":"stop"}` (EOF on stdin = stop); after a warm-up
 *   timeout `{"cmd":"warm_missing"}` and `{"cmd":"warm_check","gaps":[…]}` (perf/warmup_audit.ts).
 * - stdout, `WorkerMessage`s: `hello`, `registered`, `ready`, `warmed`, `persisted`,
 *   `progress` (every 250 ms), `disconnected`/`reconnected`, `warm_missing`/`warm_checked`, `failed`,
 *   `flushed` (the last line before exit 0).
 *
 * Register and login run with bounded concurrency and a few retries. After
 * "go" every client sends on its own loop; CSV rows are flushed every
 * second and at stop.
 *
 * @example
 * ```ts
 * import type { WorkerConfig } from "./worker_protocol.ts";
 * const cfg: WorkerConfig = {
 *   worker: 0, workers: 1, clients: 2, seed: "demo", lb: { host: "127.0.0.1", port: 7700 },
 *   kdfIterations: 100_000, identityPool: 0, send: { kind: "window", window: 16 }, payloadBytes: 100,
 *   messages: 10, durationMs: null, runDir: "/tmp/run", idle: false, mode: "dm",
 * };
 * new Deno.Command(Deno.execPath(), {
 *   args: ["run", "-A", "perf/load_worker.ts", JSON.stringify(cfg)],
 *   stdin: "piped", stdout: "piped",
 * }).spawn();
 * ```
 * @module
 */
import { ioStats } from "@fastchat/lib/framed_conn";
import { AuthGate, retryAuth } from "./auth_gate.ts";
import { nowMs, sleep } from "./clock.ts";
import { addCounters, zeroCounters } from "./client_counters.ts";
import { IdentityPool } from "./identity_pool.ts";
import { HeapSampler } from "./heap_sampler.ts";
import { LoadClient } from "./load_client.ts";
import { clientsOfWorker } from "./load_plan.ts";
import { peerSets } from "./peer_graph.ts";
import { groupRole } from "./group_plan.ts";
import { checkGaps, missingGaps, type WarmupGap } from "./warmup_audit.ts";
import {
  readLines,
  type WorkerCommand,
  type WorkerConfig,
  type WorkerMessage,
  type WorkerProgress,
} from "./worker_protocol.ts";

const encoder = new TextEncoder();
/** Client CSV logs are flushed in this many groups spread over each second. */
const CSV_FLUSH_SLICES = 20;

function emit(m: WorkerMessage): void {
  const line = encoder.encode(JSON.stringify(m) + "\n");
  let off = 0;
  while (off < line.length) off += Deno.stdout.writeSync(line.subarray(off));
}

/** Runs `fn` over `items` with at most `limit` in flight; stops early when `stop()` says so. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (x: T) => Promise<void>,
  stop: () => boolean,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

class Worker {
  readonly #cfg: WorkerConfig;
  readonly #clients: LoadClient[];
  #homeRoot = "";
  #stopping = false;
  #doneSending = false;
  #registered = 0;
  #existing = 0;
  #loggedIn = 0;
  #progressTimer: ReturnType<typeof setInterval> | undefined;
  #flushTimer: ReturnType<typeof setInterval> | undefined;
  #finished: Promise<void> | null = null;
  /** The socket counters at "go" (the messaging phase starts). */
  #ioAtGo: typeof ioStats | null = null;
  /** With `heapSample`: the sampling started at "go". */
  #heap: Promise<HeapSampler> | null = null;
  readonly #gate: AuthGate;
  readonly #phases: Promise<void>[] = [];

  constructor(cfg: WorkerConfig, homeRoot: string) {
    this.#cfg = cfg;
    this.#homeRoot = homeRoot;
    this.#gate = new AuthGate(cfg.concurrency ?? 32);
    const pool = cfg.identityPool ? new IdentityPool(cfg.identityPool) : null;
    const peers = cfg.peers ? peerSets(cfg.seed, cfg.clients, cfg.peers) : null;
    this.#clients = clientsOfWorker(cfg.worker, cfg.workers, cfg.clients).map((index) =>
      new LoadClient({
        index,
        clients: cfg.clients,
        peers: peers?.[index] ?? null,
        seed: cfg.seed,
        lb: cfg.lb,
        homeRoot,
        kdfIterations: cfg.kdfIterations,
        newIdentity: pool ? () => pool.next() : undefined,
        csvPath: cfg.idle ? null : `${cfg.runDir}/clients/perf-${cfg.seed}-${index}.csv`,
        send: cfg.send,
        payloadBytes: cfg.payloadBytes,
        messages: cfg.messages,
        mode: cfg.mode,
        driver: cfg.driver,
        group: cfg.mode === "group"
          ? groupRole({
            seed: cfg.seed,
            clients: cfg.clients,
            groupSize: cfg.groupSize!,
            groupSenders: cfg.groupSenders ?? cfg.groupSize!,
          }, index)
          : undefined,
        file: cfg.mode === "file" ? { bytes: cfg.fileBytes!, dir: homeRoot } : undefined,
        onDisconnected: (c, timeMs, code) =>
          emit({ t: "disconnected", worker: cfg.worker, user: c.user, timeMs, code }),
        onReconnected: (c, timeMs, server) =>
          emit({ t: "reconnected", worker: cfg.worker, user: c.user, timeMs, server }),
      })
    );
  }

  progress(): WorkerProgress {
    const sum = zeroCounters();
    const warm = { warmSent: 0, warmReceived: 0, warmDelivered: 0 };
    for (const c of this.#clients) {
      addCounters(sum, c.counters);
      warm.warmSent += c.warm.sent;
      warm.warmReceived += c.warm.received;
      warm.warmDelivered += c.warm.delivered;
    }
    return {
      ...sum,
      ...warm,
      doneSending: this.#doneSending,
      registered: this.#registered,
      existing: this.#existing,
      loggedIn: this.#loggedIn,
    };
  }

  start(): void {
    emit({ t: "hello", worker: this.#cfg.worker, clients: this.#clients.length });
    this.#progressTimer = setInterval(
      () => emit({ t: "progress", worker: this.#cfg.worker, ...this.progress() }),
      250,
    );
  }

  async register(): Promise<void> {
    const limited0 = this.#gate.limitedCount;
    await pool(this.#clients, this.#gate.max, async (c) => {
      const r = await retryAuth(
        `registering ${c.user}`,
        () => c.register(this.#cfg.idle),
        this.#gate,
        () => this.#stopping,
      );
      if (r === "exists") this.#existing++;
      else this.#registered++;
    }, () => this.#stopping);
    if (this.#stopping) return;
    emit({
      t: "registered",
      worker: this.#cfg.worker,
      registered: this.#registered,
      existing: this.#existing,
      rateLimited: this.#gate.limitedCount - limited0,
    });
  }

  async login(): Promise<void> {
    let kept = 0;
    const limited0 = this.#gate.limitedCount;
    await pool(this.#clients, this.#gate.max, async (c) => {
      if (
        (await retryAuth(
          `logging in ${c.user}`,
          () => c.login(),
          this.#gate,
          () => this.#stopping,
        )) ===
          "kept"
      ) kept++;
      else this.#loggedIn++;
    }, () => this.#stopping);
    if (this.#stopping) return;
    await Promise.all(this.#clients.map((c) => c.openCsv()));
    for (const c of this.#clients) c.startRecording();
    const servers: Record<string, [string, string]> = {};
    for (const c of this.#clients) servers[c.user] = [c.server, c.address];
    emit({
      t: "ready",
      worker: this.#cfg.worker,
      loggedIn: this.#loggedIn,
      kept,
      rateLimited: this.#gate.limitedCount - limited0,
      servers,
    });
  }

  /** Mode setup (groups, test files; see {@link LoadClient.prepare}), then reports `prepared`. */
  async prepare(): Promise<void> {
    // Group creation is one request per admin; test files are disk-bound: a few at a time.
    await pool(this.#clients, 8, (c) => c.prepare(), () => this.#stopping);
    if (!this.#stopping) emit({ t: "prepared", worker: this.#cfg.worker });
  }

  /** Sends every client's key warm-up messages, then reports `warmed`. */
  async warmUp(): Promise<void> {
    await pool(this.#clients, 256, (c) => c.warmUp(), () => this.#stopping);
    if (this.#stopping) return;
    emit({ t: "warmed", worker: this.#cfg.worker, sent: this.progress().warmSent });
  }

  /** Reports the warm-up receipts this worker's clients still await (`warm_missing`). */
  warmMissing(): void {
    emit({ t: "warm_missing", worker: this.#cfg.worker, gaps: missingGaps(this.#clients) });
  }

  /** Completes the gaps whose recipients are this worker's clients (`warm_checked`). */
  warmCheck(gaps: WarmupGap[]): void {
    emit({ t: "warm_checked", worker: this.#cfg.worker, gaps: checkGaps(this.#clients, gaps) });
  }

  /** Saves every client's key state, then reports `persisted`. */
  async persist(): Promise<void> {
    for (const c of this.#clients) c.warmLedger.clearShown(); // the warm-up is over
    await pool(this.#clients, 64, (c) => c.persist(), () => this.#stopping);
    if (!this.#stopping) emit({ t: "persisted", worker: this.#cfg.worker });
  }

  go(startMs: number): void {
    if (this.#cfg.idle) return;
    this.#ioAtGo = { ...ioStats };
    if (!this.#cfg.heapSample) return this.#send(startMs);
    this.#heap = HeapSampler.start(undefined, this.#cfg.heapSurvivors).then((sampler) => {
      this.#send(startMs);
      return sampler;
    });
    this.#heap.catch((e) => this.fail(`heap sampling: ${e}`));
  }

  #send(startMs: number): void {
    // Each client's CSV is appended to once a second, a twentieth of the
    // clients every 50 ms: flushing all at once stalled message handling for
    // a burst of file writes every second (visible in the p99 latency).
    let slice = 0;
    this.#flushTimer = setInterval(() => {
      const clients = this.#clients;
      for (let i = slice; i < clients.length; i += CSV_FLUSH_SLICES) {
        const c = clients[i];
        c.csv?.flush().catch((e) => this.fail(`writing ${c.csv?.path}: ${e}`));
      }
      slice = (slice + 1) % CSV_FLUSH_SLICES;
    }, 1000 / CSV_FLUSH_SLICES);
    const endAt = this.#cfg.durationMs !== null ? startMs + this.#cfg.durationMs : null;
    Promise.all(this.#clients.map((c) => c.run(startMs, endAt))).then(() => {
      this.#doneSending = true;
      emit({ t: "progress", worker: this.#cfg.worker, ...this.progress() });
    }, (e) => this.fail(`sending: ${e}`));
  }

  async #writeHeapProfile(heap: Promise<HeapSampler>): Promise<void> {
    const dir = `${this.#cfg.runDir}/profiles`;
    try {
      await Deno.mkdir(dir, { recursive: true });
      const kind = this.#cfg.heapSurvivors ? ".survivors" : "";
      await (await heap).stopTo(`${dir}/worker-${this.#cfg.worker}${kind}.heapprofile`);
    } catch (e) {
      console.error(JSON.stringify({ event: "heap_profile_failed", error: String(e) }));
    }
  }

  fail(message: string): void {
    emit({ t: "failed", worker: this.#cfg.worker, message });
  }

  /** Whether {@link Worker.finish} has begun. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Runs a register/login phase; its failure is reported unless the worker is stopping. */
  track(p: Promise<void>): void {
    const tracked = p.catch((e) => {
      if (!this.#stopping) this.fail(e instanceof Error ? e.message : String(e));
    });
    this.#phases.push(tracked);
  }

  /** Stops sending, closes every client, flushes the CSVs; once. */
  finish(): Promise<void> {
    this.#finished ??= (async () => {
      this.#stopping = true;
      for (const c of this.#clients) c.stop();
      // Registrations/logins in flight finish (or time out) before their clients are closed
      // and the home directory they write to is removed.
      await Promise.race([Promise.allSettled(this.#phases), sleep(20_000)]);
      clearInterval(this.#flushTimer);
      if (this.#heap) await this.#writeHeapProfile(this.#heap);
      // Batching on the clients' sockets, for the worker log (frames per read and per write):
      // the whole run, and from "go" until now (perf/worker_socket_stats.ts).
      const at = this.#ioAtGo;
      const messaging = at && {
        reads: ioStats.reads - at.reads,
        writes: ioStats.writes - at.writes,
        framesIn: ioStats.framesIn - at.framesIn,
        framesOut: ioStats.framesOut - at.framesOut,
      };
      console.error(JSON.stringify({ event: "socket_stats", ...ioStats, messaging }));
      await pool(this.#clients, 256, (c) => c.close(), () => false);
      clearInterval(this.#progressTimer);
      emit({ t: "flushed", worker: this.#cfg.worker, ...this.progress() });
      await Deno.remove(this.#homeRoot, { recursive: true }).catch((e) =>
        console.error(JSON.stringify({
          event: "cleanup_failed",
          dir: this.#homeRoot,
          error: String(e),
        }))
      );
    })();
    return this.#finished;
  }
}

/**
 * Runs a worker: `args[0]` is its {@link WorkerConfig} as JSON; commands
 * come on stdin. Exits the process when done.
 *
 * @example
 * ```ts
 * import { main } from "./load_worker.ts";
 * await main(['{"worker":0,"workers":1,"clients":2}']);
 * ```
 */
export async function main(args: string[]): Promise<void> {
  const cfg = JSON.parse(args[0]) as WorkerConfig;
  // The parent owns Ctrl-C; it tells us to stop on stdin.
  Deno.addSignalListener("SIGINT", () => {});
  const homeRoot = await Deno.makeTempDir({ prefix: "fastchat-perf-home-" });
  const w = new Worker(cfg, homeRoot);
  w.start();
  try {
    for await (const line of readLines(Deno.stdin.readable)) {
      if (!line.trim()) continue;
      const cmd = JSON.parse(line) as WorkerCommand;
      if (cmd.cmd === "register") w.track(w.register());
      else if (cmd.cmd === "login") w.track(w.login());
      else if (cmd.cmd === "prepare") w.track(w.prepare());
      else if (cmd.cmd === "warmup") w.track(w.warmUp());
      else if (cmd.cmd === "persist") w.track(w.persist());
      else if (cmd.cmd === "warm_missing") w.warmMissing();
      else if (cmd.cmd === "warm_check") w.warmCheck(cmd.gaps);
      else if (cmd.cmd === "go") w.go(cmd.startMs ?? nowMs());
      else if (cmd.cmd === "stop") break;
    }
  } catch (e) {
    w.fail(`reading commands: ${e}`);
  }
  await w.finish();
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args);
