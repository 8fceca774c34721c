/**
 * One load run from start to end: start the cluster (unless `--lb`),
 * spawn the workers, register and log the users in, then either measure
 * idle memory (`--idle`) or warm the keys up and run the messaging phase;
 * then, however that ended (done, failed, Ctrl-C), stop the workers (CSV
 * flush), write `reconnect.json` (`--kill-one`), stop the cluster (logs
 * kept), write `run.json`, print the summary and run `perf/analyze.ts` on
 * the run directory.
 *
 * @example
 * ```ts
 * import { LoadRun } from "./load_run.ts";
 * import { parseRunArgs } from "./run_config.ts";
 * const run = new LoadRun(parseRunArgs(["--clients", "4", "--messages", "20"]), "/tmp/run");
 * Deno.addSignalListener("SIGINT", () => run.interrupt());
 * Deno.exit(await run.execute());
 * ```
 * @module
 */
import { selfCommand } from "@fastchat/lib/self_command";
import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
import { ConnectionLedger } from "./connection_ledger.ts";
import { parseHostPort } from "./flag_values.ts";
import { measureIdle, RssSampler, writeIdleRecord } from "./idle_measurement.ts";
import type { IdleReport } from "./idle_mode.ts";
import { type ReconnectRecord, reconnectRecord, writeReconnectRecord } from "./kill_one.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import { messagingPhase } from "./messaging_phase.ts";
import type { RunPhaseStats } from "./phase_stats.ts";
import { clusterCpuSeconds, serverRss, startPerfCluster } from "./perf_cluster.ts";
import { log } from "./progress_view.ts";
import { Interrupted, RunAbort } from "./run_abort.ts";
import type { RunConfig } from "./run_schema.ts";
import { runRecord, writeRunRecord } from "./run_record.ts";
import { formatRunSummary } from "./run_summary.ts";
import { loginPhase, registerPhase, warmupPhase } from "./setup_phases.ts";
import { WorkerPool } from "./worker_pool.ts";
import { ClusterRssPeak, type FileModeRecord } from "./file_mode.ts";
import { modeRecordParts, preparePhase } from "./mode_phases.ts";
import { withTraceGc } from "./gc_trace.ts";
import { ProcessSampler } from "./process_sampler.ts";
import { RunProcesses } from "./run_processes.ts";
import { checkLinuxPerf, LinuxPerfRecorder, withPerfMaps } from "./linux_perf_recorder.ts";
import { formatLinuxPerf, type LinuxPerfSummary } from "./linux_perf_report.ts";
import { formatHostStalls, type HostStalls, measureHostStalls } from "./host_stalls.ts";
import { WakeDelayMeter, writeWakeDelays } from "./wake_delays.ts";
import { FastChatError } from "@fastchat/lib/errors";

/**
 * A load run: {@link LoadRun.execute} it once; {@link LoadRun.interrupt} on Ctrl-C.
 *
 * @example
 * ```ts
 * import { LoadRun } from "./load_run.ts";
 * import { parseRunArgs } from "./run_config.ts";
 * const run = new LoadRun(parseRunArgs(["--idle", "100"]), "/tmp/idle-run");
 * await run.execute(); // 0 done, 1 failed, 130 interrupted
 * ```
 */
export class LoadRun {
  readonly startedAt = new Date();
  readonly abort = new RunAbort();
  readonly connections = new ConnectionLedger();
  readonly pool: WorkerPool;
  readonly phases: RunPhaseStats = {};
  /** The host check before anything started (`--host-check`); null if skipped. */
  hostStalls: HostStalls | null = null;
  /** With `--linux-perf`: the servers' and load workers' on-CPU samples of the messaging phase. */
  linuxPerf: LinuxPerfSummary[] | null = null;
  #procs: RunProcesses | null = null;
  cluster: ClusterLauncher | null = null;
  /** CPU and RSS of every process into `processes.csv` (from the workers' start to shutdown). */
  sampler: ProcessSampler | null = null;
  #pendingCluster: Promise<ClusterLauncher> | null = null;
  interrupted = false;
  #forced = false;
  failure: Error | null = null;
  idle: IdleReport | null = null;
  reconnect: ReconnectRecord | null = null;
  final: (WorkerProgress & { allDone: boolean }) | null = null;
  /** `--mode file`: the cluster's memory during messaging. */
  file: FileModeRecord | null = null;

  constructor(readonly cfg: RunConfig, readonly dir: string) {
    this.pool = new WorkerPool(cfg, dir, this.abort, (m) => this.connections.record(m));
  }

  /** Ctrl-C: first stops cleanly, second kills everything. */
  interrupt(): void {
    if (!this.interrupted) {
      this.interrupted = true;
      log("interrupted: stopping workers and the cluster (Ctrl-C again to kill at once)");
      this.abort.interrupt();
      return;
    }
    if (this.#forced) return;
    this.#forced = true;
    this.pool.kill();
    if (this.cluster) {
      for (const s of this.cluster.servers) s.proc.kill("SIGKILL");
    }
    log("killed");
    Deno.exit(130);
  }

  /** Runs; resolves with the exit code (0 done, 1 failed, 130 interrupted). */
  async execute(): Promise<number> {
    try {
      await Deno.mkdir(`${this.dir}/clients`, { recursive: true });
      await Deno.mkdir(`${this.dir}/logs`, { recursive: true });
      if (this.cfg.linuxPerf) await checkLinuxPerf(); // before anything starts
      if (this.cfg.hostCheckMs) await this.#hostCheck(this.cfg.hostCheckMs);
      const lb = await withPerfMaps(this.cfg.linuxPerf === true, () => this.#target());
      const rssBefore = this.cluster && this.cfg.idle ? await serverRss(this.cluster) : null;
      await withPerfMaps(this.cfg.linuxPerf === true, () => this.pool.spawn(lb));
      const procs = this.#procs = new RunProcesses({
        cluster: this.cluster,
        workers: () => this.pool.describe(),
        dbUrl: this.cfg.db,
      });
      this.sampler = await ProcessSampler.start(`${this.dir}/processes.csv`, () => procs.list());
      const sampler = rssBefore ? new RssSampler(this.cluster!, () => this.pool.progress()) : null;
      try {
        await this.sampler.phase("register");
        this.phases.register = await registerPhase(this);
        await this.sampler.phase("login");
        this.phases.login = await loginPhase(this);
      } finally {
        sampler?.stop();
      }
      if (this.cfg.idle) {
        await this.sampler.phase("idle");
        this.idle = await measureIdle(
          {
            cluster: this.cluster!,
            connections: this.connections,
            abort: this.abort,
            clients: this.cfg.clients,
            runDir: this.dir,
          },
          rssBefore!,
          sampler!.samples,
        );
        await writeIdleRecord(this.idle, this.dir);
      } else {
        await this.sampler.phase("prepare");
        const prepared = await preparePhase(this);
        if (prepared) this.phases.prepare = prepared;
        if (this.cfg.warmup) {
          await this.sampler.phase("warmup");
          this.phases.warmup = await warmupPhase(this);
        }
        const rss = this.cluster && this.cfg.mode === "file"
          ? await ClusterRssPeak.start(this.cluster)
          : null;
        await this.sampler.phase("messaging");
        const all = this.cfg.linuxPerf ? await procs.list() : [];
        const recorded = (p: { role: string }) => p.role === "server" || p.role === "worker";
        const recorder = this.cfg.linuxPerf
          ? await LinuxPerfRecorder.start(
            `${this.dir}/profiles`,
            all.filter(recorded),
            all.filter((p) => !recorded(p) && p.role !== "perf").map((p) => p.pid),
          )
          : null;
        const wake = this.cfg.wakeMeter ? await WakeDelayMeter.start() : null;
        try {
          await messagingPhase(this);
        } finally {
          // Stopped first, at the phase's end; a meter that fails costs its file, not the run.
          if (wake) {
            await wake.stop().then((r) => writeWakeDelays(r, this.dir))
              .catch((e) => log(`wake meter: ${FastChatError.from(e).message}`));
          }
          if (rss) this.file = { fileBytes: this.cfg.fileBytes!, ...await rss.stop() };
          if (recorder) this.linuxPerf = await recorder.stop();
        }
        await this.sampler.phase("after");
      }
    } catch (e) {
      if (!(e instanceof Interrupted)) this.failure = e instanceof Error ? e : new Error(String(e));
    }
    await this.#shutdown();
    if (this.failure) {
      log(`FAILED: ${this.failure.message}`);
      log(`run directory (logs kept): ${this.dir}`);
      return 1;
    }
    console.log(formatRunSummary({
      interrupted: this.interrupted,
      phases: this.phases,
      final: this.final,
      reconnect: this.reconnect,
      runDir: this.dir,
    }));
    if (this.linuxPerf) {
      const text = formatLinuxPerf(this.linuxPerf);
      if (!this.cfg.analyze) { // the analysis prints it otherwise
        console.log(
          `\non-CPU samples (Linux perf, messaging phase; share of each process's samples):\n${text}`,
        );
      }
      await Deno.writeTextFile(`${this.dir}/profiles/linux-perf.txt`, text + "\n");
      await Deno.writeTextFile(
        `${this.dir}/profiles/linux-perf.json`,
        JSON.stringify(this.linuxPerf, null, 1),
      );
    }
    if (this.interrupted) return 130;
    if (this.cfg.analyze) await this.#analyze();
    return 0;
  }

  /** Spins one thread per core for `ms` on the still quiet machine and logs its stalls. */
  async #hostCheck(ms: number): Promise<void> {
    log(`host check: spinning ${navigator.hardwareConcurrency} thread(s) for ${ms / 1000} s`);
    this.hostStalls = await this.abort.guard(measureHostStalls({ durationMs: ms }));
    log(`host check: ${formatHostStalls(this.hostStalls)}`);
    if (this.hostStalls.longestMs > 10) {
      log(
        `host check: this host stopped a thread for ${
          this.hostStalls.longestMs.toFixed(1)
        } ms with every core busy: latency maxima below that cannot be shown on it now`,
      );
    }
  }

  /** The LB to drive: `--lb`, or that of the cluster started here. */
  async #target(): Promise<{ host: string; port: number }> {
    if (this.cfg.lb) return parseHostPort(this.cfg.lb);
    log(
      `starting ${
        this.cfg.db ? "" : "embedded in-memory database, "
      }${this.cfg.servers} server(s) (${this.cfg.fabric.kind} fabric), load balancer`,
    );
    this.#pendingCluster = withTraceGc(this.cfg.traceGc === true, () =>
      startPerfCluster({
        servers: this.cfg.servers!,
        db: this.cfg.db,
        scryptN: this.cfg.scryptN,
        fabric: this.cfg.fabric,
        logDir: `${this.dir}/logs`,
        cpuProfDir: this.cfg.cpuProf ? `${this.dir}/profiles` : undefined,
        onUnexpectedExit: (name, code) =>
          this.abort.fail(
            new Error(`${name} exited unexpectedly (code ${code}); see ${this.dir}/logs`),
          ),
      }));
    this.cluster = await this.abort.guard(this.#pendingCluster);
    log(
      `cluster up: LB ${this.cluster.lbAddress}, servers ${
        this.cluster.servers.map((s) => `${s.id}@${s.address}`).join(", ")
      }`,
    );
    return this.cluster.lb;
  }

  /** CPU seconds so far of every cluster process and worker, by name. */
  async cpuSeconds(): Promise<Record<string, number>> {
    await this.sampler?.sample(); // phase boundaries are in processes.csv too
    const out = this.cluster ? await clusterCpuSeconds(this.cluster) : {};
    return Object.assign(out, await this.pool.cpuSeconds());
  }

  async #shutdown(): Promise<void> {
    // With --linux-perf every process writes a symbol map; those not recorded (or of a run
    // that failed first) are removed once the processes are gone.
    const mapped = this.cfg.linuxPerf ? await this.#procs?.list().catch(() => []) ?? [] : [];
    await this.sampler?.stop().catch((e) => log(`process sampler: ${e}`));
    await this.pool.stop(30_000);
    this.final = this.pool.progress();
    const tracker = this.connections.tracker;
    if (tracker) {
      this.reconnect = await reconnectRecord(tracker, this.dir);
      await writeReconnectRecord(this.reconnect, this.dir);
    }
    if (!this.cluster && this.#pendingCluster) {
      // Left unawaited because the run was aborted first: a failed start is
      // then the run's own failure (reported by run()) or moot; only a
      // started cluster needs stopping.
      this.cluster = await this.#pendingCluster.catch(() => null);
    }
    if (this.cluster) await this.cluster.stop().catch((e) => log(`stopping the cluster: ${e}`));
    for (const p of mapped) await Deno.remove(`/tmp/perf-${p.pid}.map`).catch(() => {});
    await writeRunRecord(
      runRecord({
        cfg: this.cfg,
        startedAt: this.startedAt,
        endedAt: new Date(),
        interrupted: this.interrupted,
        failure: this.failure,
        phases: this.phases,
        final: this.final,
        connections: this.connections,
        workers: this.pool.describe(),
        cluster: this.cluster,
        idle: this.idle,
        reconnect: this.reconnect,
        hostStalls: this.hostStalls,
        modeParts: modeRecordParts(this.cfg, this.file),
      }),
      this.dir,
    );
  }

  async #analyze(): Promise<void> {
    const { command, args } = selfCommand("analyze", [this.dir]);
    const status = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!status.success) log(`fastchat analyze exited with code ${status.code}`);
  }
}
