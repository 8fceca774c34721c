/**
 * `deno task perf -- --clients N --messages M [--servers S] [options]` — the
 * FastChat load generator (see `--help` and {@link HELP}).
 *
 * A run: start a cluster (embedded in-memory database or `--db`, S chat
 * servers, the LB with `--rate 0`) unless `--lb` names one; spawn W worker
 * processes (`perf/load_worker.ts`) that each run a share of the N real
 * ChatClients; register the users `perf-<seed>-<i>` (phase `register`),
 * log all of them in (phase `login`); broadcast "go" so messaging starts
 * together; show progress on stderr; end when every sent message was
 * received (or `--drain` after the last send); stop the workers (CSV
 * flush), stop the cluster (logs kept), write `run.json`, print a summary
 * and run `perf/analyze.ts` on the run directory if it exists.
 *
 * Run directory: `run.json`, `clients/<user>.csv`, `logs/*.log`, and
 * `idle.json` (`--idle`) or `reconnect.json` (`--kill-one`).
 * Ctrl-C stops cleanly (`"interrupted": true` in run.json, exit 130); a
 * second Ctrl-C kills everything at once.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { FastChatError } from "@fastchat/lib/errors";
import serverManifest from "../server/deno.json" with { type: "json" };
import { nowMs, sleep } from "./clock.ts";
import { ClusterLauncher } from "./cluster_launcher.ts";
import {
  formatIdleReport,
  IDLE_SETTLE_MS,
  type IdleReport,
  idleReport,
  readCpuSeconds,
  type RssSample,
} from "./idle_mode.ts";
import { KILL_AT_FRACTION, plannedRecipients, WARMUP_PICKS_FOR_DURATION } from "./load_plan.ts";
import type { WorkerCommand, WorkerConfig, WorkerMessage, WorkerProgress } from "./load_worker.ts";
import {
  checkCsvDir,
  chooseVictim,
  type DeliveryCheck,
  type ReconnectSummary,
  ReconnectTracker,
} from "./reconnect_mode.ts";
import { log, PhaseView, ProgressView, sumProgress } from "./progress_view.ts";
import { HELP, parseRunArgs, type RunConfig, runDirName } from "./run_config.ts";
import { WorkerHandle } from "./worker_handle.ts";

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
const ANALYZE_MAIN = here("./analyze.ts");
const DEFAULT_OUT_ROOT = here("./out");
/** After all messages arrived: how long to wait for the last delivery receipts. */
const RECEIPT_GRACE_MS = 2_000;
/** Pause between the key warm-up and the timed phase. */
const WARMUP_SETTLE_MS = 1_000;
/** Longest wait for every key warm-up message and receipt to arrive. */
const WARMUP_TIMEOUT_MS = 300_000;

class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

interface Phase {
  count: number;
  ms: number;
  perSecond: number;
  /** CPU seconds each process used during the phase. */
  cpuSeconds?: Record<string, number>;
}

function cpuDiff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (k in a) out[k] = Math.round((v - a[k]) * 100) / 100;
  return out;
}

function phase(count: number, ms: number, extra: Record<string, number> = {}): Phase {
  return {
    count,
    ms: Math.round(ms * 1000) / 1000,
    perSecond: ms > 0 ? Math.round((count / (ms / 1000)) * 100) / 100 : 0,
    ...extra,
  };
}

/** One load run. */
class Run {
  readonly cfg: RunConfig;
  readonly dir: string;
  readonly args: string[];
  readonly startedAt = new Date();
  cluster: ClusterLauncher | null = null;
  #pendingCluster: Promise<ClusterLauncher> | null = null;
  workers: WorkerHandle[] = [];
  interrupted = false;
  failure: Error | null = null;
  readonly #abort = Promise.withResolvers<never>();
  readonly phases: {
    register?: Phase;
    login?: Phase;
    /** Key warm-up: `count` messages (one per planned sender/recipient pair). */
    warmup?: Phase;
    messaging?: {
      startMs: number;
      endMs: number;
      lastSendMs: number;
      completed: boolean;
      drainTimedOut: boolean;
      /**
       * CPU seconds (user + system) each process used from "go" to the end
       * of messaging (plus the receipt grace): where the time went.
       */
      cpuSeconds: Record<string, number>;
    };
  } = {};
  /** user -> server id; server id -> address (from the clients' `ready` events). */
  readonly serverOf = new Map<string, string>();
  readonly serverAddress = new Map<string, string>();
  tracker: ReconnectTracker | null = null;
  disconnects = 0;
  /** `<phase>:<code>` -> count of client `disconnected` events. */
  readonly disconnectCodes: Record<string, number> = {};
  #going = false;
  reconnects = 0;
  idle: IdleReport | null = null;
  reconnect: (ReconnectSummary & { messages: DeliveryCheck | null }) | null = null;
  final: (WorkerProgress & { allDone: boolean }) | null = null;
  #forced = false;

  constructor(cfg: RunConfig, dir: string, args: string[]) {
    this.cfg = cfg;
    this.dir = dir;
    this.args = args;
    this.#abort.promise.catch(() => {});
  }

  #guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.#abort.promise]);
  }

  #fail(e: Error): void {
    this.#abort.reject(e);
  }

  /** Ctrl-C: first stops cleanly, second kills everything. */
  interrupt(): void {
    if (!this.interrupted) {
      this.interrupted = true;
      log("interrupted: stopping workers and the cluster (Ctrl-C again to kill at once)");
      this.#abort.reject(new Interrupted());
      return;
    }
    if (this.#forced) return;
    this.#forced = true;
    for (const w of this.workers) w.kill();
    if (this.cluster) {
      for (const s of this.cluster.servers) s.proc.kill("SIGKILL");
    }
    log("killed");
    Deno.exit(130);
  }

  async execute(): Promise<number> {
    try {
      await Deno.mkdir(`${this.dir}/clients`, { recursive: true });
      await Deno.mkdir(`${this.dir}/logs`, { recursive: true });
      const lb = await this.#target();
      const rssBefore = this.cluster && this.cfg.idle ? await this.cluster.serverRss() : null;
      await this.#spawnWorkers(lb);
      const sampler = rssBefore ? this.#sampleRss() : null;
      try {
        await this.#registerAndLogin();
      } finally {
        sampler?.stop();
      }
      if (this.cfg.idle) await this.#idle(rssBefore!, sampler!.samples);
      else {
        if (this.cfg.warmup) await this.#warmUp();
        await this.#messaging();
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
    this.#summary();
    if (this.interrupted) return 130;
    if (this.cfg.analyze) await this.#analyze();
    return 0;
  }

  async #target(): Promise<{ host: string; port: number }> {
    if (this.cfg.lb) return this.cfg.lb;
    log(
      `starting ${
        this.cfg.db ? "" : "embedded in-memory database, "
      }${this.cfg.servers} server(s), load balancer`,
    );
    this.#pendingCluster = ClusterLauncher.start({
      servers: this.cfg.servers!,
      db: this.cfg.db,
      scryptN: this.cfg.scryptN,
      logDir: `${this.dir}/logs`,
      cpuProfDir: this.cfg.cpuProf ? `${this.dir}/profiles` : undefined,
      onUnexpectedExit: (name, code) =>
        this.#fail(new Error(`${name} exited unexpectedly (code ${code}); see ${this.dir}/logs`)),
    });
    this.cluster = await this.#guard(this.#pendingCluster);
    log(
      `cluster up: LB ${this.cluster.lbAddress}, servers ${
        this.cluster.servers.map((s) => `${s.id}@${s.address}`).join(", ")
      }`,
    );
    return this.cluster.lb;
  }

  async #spawnWorkers(lb: { host: string; port: number }): Promise<void> {
    const c = this.cfg;
    for (let k = 0; k < c.workers; k++) {
      const wc: WorkerConfig = {
        worker: k,
        workers: c.workers,
        clients: c.clients,
        seed: c.seed,
        lb,
        kdfIterations: c.kdfIterations,
        identityPool: c.identityPool,
        send: c.send,
        payloadBytes: c.payloadBytes,
        messages: c.messages,
        durationMs: c.durationMs,
        runDir: this.dir,
        idle: c.idle,
      };
      const prof = c.cpuProf
        ? [
          "--cpu-prof",
          `--cpu-prof-dir=${this.dir}/profiles`,
          `--cpu-prof-name=worker-${k}.cpuprofile`,
        ]
        : [];
      const w = new WorkerHandle(
        k,
        wc,
        `${this.dir}/logs/worker-${k}.log`,
        (w, m) => this.#onMessage(w, m),
        prof,
      );
      this.workers.push(w);
      w.exited.then((s) => {
        if (!w.flushed) {
          this.#fail(
            new Error(`worker ${k} exited with code ${s.code}:\n${w.tail.slice(-15).join("\n")}`),
          );
        }
      });
    }
    await this.#guard(Promise.all(this.workers.map((w) => w.waitFor("hello"))));
  }

  #onMessage(w: WorkerHandle, m: WorkerMessage): void {
    switch (m.t) {
      case "failed":
        this.#fail(new Error(`worker ${w.index}: ${m.message}`));
        return;
      case "disconnected":
        this.disconnects++;
        {
          const key = `${this.phases.messaging || this.#going ? "messaging" : "login"}:${m.code}`;
          this.disconnectCodes[key] = (this.disconnectCodes[key] ?? 0) + 1;
        }
        this.tracker?.disconnected(m.user, m.timeMs);
        return;
      case "reconnected":
        this.reconnects++;
        this.serverOf.set(m.user, m.server);
        this.tracker?.reconnected(m.user, m.timeMs, m.server);
        return;
      case "ready":
        for (const [user, [id, address]] of Object.entries(m.servers)) {
          this.serverOf.set(user, id);
          this.serverAddress.set(id, address);
        }
        return;
      default:
        return;
    }
  }

  async #broadcast(cmd: WorkerCommand): Promise<void> {
    await Promise.all(this.workers.map((w) => w.send(cmd)));
  }

  /** Awaits `done` (guarded) while showing the phase's progress. */
  async #withPhaseView<T>(
    label: string,
    t0: number,
    count: (p: WorkerProgress) => number,
    done: Promise<T>,
    total = this.cfg.clients,
  ): Promise<T> {
    const view = new PhaseView(label, total);
    const timer = setInterval(
      () => view.update(count(sumProgress(this.workers.map((w) => w.progress))), nowMs() - t0),
      250,
    );
    try {
      return await this.#guard(done);
    } finally {
      clearInterval(timer);
      view.stop();
    }
  }

  async #registerAndLogin(): Promise<void> {
    const n = this.cfg.clients;
    log(
      `registering ${n} users perf-${this.cfg.seed}-0..${
        n - 1
      } over ${this.workers.length} worker(s)`,
    );
    let cpu0 = await this.#cpuSeconds();
    let t0 = nowMs();
    await this.#broadcast({ cmd: "register" });
    const regs = await this.#withPhaseView(
      "register",
      t0,
      (p) => p.registered + p.existing,
      Promise.all(this.workers.map((w) => w.waitFor("registered"))),
    );
    const registered = regs.reduce((a, r) => a + r.registered, 0);
    const existing = regs.reduce((a, r) => a + r.existing, 0);
    const regLimited = regs.reduce((a, r) => a + r.rateLimited, 0);
    this.phases.register = phase(registered, nowMs() - t0, { existing, rateLimited: regLimited });
    this.phases.register.cpuSeconds = cpuDiff(cpu0, await this.#cpuSeconds());
    log(
      `registered ${registered} (${existing} existed) in ${
        (this.phases.register.ms / 1000).toFixed(1)
      } s` +
        ` (${this.phases.register.perSecond}/s)${limitedNote(regLimited)}`,
    );
    cpu0 = await this.#cpuSeconds();
    t0 = nowMs();
    await this.#broadcast({ cmd: "login" });
    const readies = await this.#withPhaseView(
      "login",
      t0,
      (p) => p.loggedIn,
      Promise.all(this.workers.map((w) => w.waitFor("ready"))),
    );
    const loggedIn = readies.reduce((a, r) => a + r.loggedIn, 0);
    const kept = readies.reduce((a, r) => a + r.kept, 0);
    const loginLimited = readies.reduce((a, r) => a + r.rateLimited, 0);
    this.phases.login = phase(loggedIn, nowMs() - t0, { kept, rateLimited: loginLimited });
    this.phases.login.cpuSeconds = cpuDiff(cpu0, await this.#cpuSeconds());
    log(
      `logged in ${loggedIn}${kept ? ` (+${kept} kept from registration)` : ""} in ${
        (this.phases.login.ms / 1000).toFixed(1)
      } s (${this.phases.login.perSecond}/s)${limitedNote(loginLimited)}`,
    );
  }

  /**
   * Key warm-up: every client messages each peer it will write to, unrecorded;
   * waits until each of those messages and its receipt has arrived, so
   * nothing of it spills into the timed phase.
   */
  async #warmUp(): Promise<void> {
    const cpu0 = await this.#cpuSeconds();
    const t0 = nowMs();
    await this.#broadcast({ cmd: "warmup" });
    const c = this.cfg;
    let planned = 0;
    for (let i = 0; i < c.clients; i++) {
      planned +=
        plannedRecipients(c.seed, i, c.clients, c.messages ?? WARMUP_PICKS_FOR_DURATION).length;
    }
    const warmed = await this.#withPhaseView(
      "warm-up",
      t0,
      (p) => p.warmReceived,
      Promise.all(this.workers.map((w) => w.waitFor("warmed"))),
      planned,
    );
    const pairs = warmed.reduce((a, w) => a + w.sent, 0);
    let p = sumProgress(this.workers.map((w) => w.progress));
    while (p.warmReceived < pairs || p.warmDelivered < pairs) {
      if (nowMs() - t0 > WARMUP_TIMEOUT_MS) {
        throw new Error(
          `key warm-up: ${p.warmReceived}/${pairs} messages and ${p.warmDelivered}/${pairs} ` +
            `receipts arrived in ${WARMUP_TIMEOUT_MS / 1000} s`,
        );
      }
      await this.#guard(sleep(50));
      p = sumProgress(this.workers.map((w) => w.progress));
    }
    // The new keys are saved now rather than by a timer during the timed phase,
    // and the servers get a moment for the warm-up's trailing store work
    // (envelopes, receipts of messages that were slow to open).
    await this.#broadcast({ cmd: "persist" });
    await this.#guard(Promise.all(this.workers.map((w) => w.waitFor("persisted"))));
    await this.#guard(sleep(WARMUP_SETTLE_MS));
    this.phases.warmup = phase(pairs, nowMs() - t0);
    this.phases.warmup.cpuSeconds = cpuDiff(cpu0, await this.#cpuSeconds());
    log(
      `key warm-up: ${pairs} sender/recipient pairs in ${
        (this.phases.warmup.ms / 1000).toFixed(1)
      } s (${this.phases.warmup.perSecond}/s)`,
    );
  }

  /** Samples connected clients and the servers' total RSS every 500 ms (idle mode). */
  #sampleRss(): { samples: RssSample[]; stop: () => void } {
    const samples: RssSample[] = [];
    const t0 = nowMs();
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const p = sumProgress(this.workers.map((w) => w.progress));
        const rss = await this.cluster!.serverRss();
        samples.push({
          tMs: Math.round(nowMs() - t0),
          connections: p.registered + p.loggedIn,
          rssKB: [...rss.values()].reduce((a, b) => a + b, 0),
        });
      } finally {
        busy = false;
      }
    }, 500);
    return { samples, stop: () => clearInterval(timer) };
  }

  async #idle(before: Map<string, number>, samples: RssSample[]): Promise<void> {
    log(`all ${this.cfg.clients} idle clients connected; settling ${IDLE_SETTLE_MS / 1000} s`);
    await this.#guard(sleep(IDLE_SETTLE_MS));
    const after = await this.cluster!.serverRss();
    const perServer = new Map<string, number>();
    for (const s of this.serverOf.values()) perServer.set(s, (perServer.get(s) ?? 0) + 1);
    this.idle = idleReport(
      this.cluster!.servers.map((s) => ({
        id: s.id,
        pid: s.pid,
        before: before.get(s.id) ?? NaN,
        after: after.get(s.id) ?? NaN,
        clients: perServer.get(s.id) ?? 0,
      })),
      samples,
    );
    await Deno.writeTextFile(`${this.dir}/idle.json`, JSON.stringify(this.idle, null, 2) + "\n");
    console.log(formatIdleReport(this.idle));
  }

  async #messaging(): Promise<void> {
    const c = this.cfg;
    const total = c.messages !== null ? c.clients * c.messages : null;
    const cpu0 = await this.#cpuSeconds();
    const startMs = nowMs();
    this.#going = true;
    await this.#broadcast({ cmd: "go", startMs });
    log(
      `go: ${
        total !== null ? `${total} messages (${c.messages} per client)` : `for ${c.durationMs} ms`
      }, ` +
        `${describeModel(c)}, payload ${c.payloadBytes} B`,
    );
    const view = new ProgressView(total, c.durationMs);
    view.start();
    let doneAt = 0;
    let completed = false;
    let drainTimedOut = false;
    let p = sumProgress([]);
    try {
      while (true) {
        await this.#guard(sleep(100));
        p = sumProgress(this.workers.map((w) => w.progress));
        const now = nowMs();
        view.update(p, now - startMs);
        if (c.killOne && !this.tracker) {
          const due = total !== null
            ? p.sent >= KILL_AT_FRACTION * total
            : now - startMs >= KILL_AT_FRACTION * c.durationMs!;
          if (due) await this.#guard(this.#killOne());
        }
        if (!p.allDone) continue;
        doneAt ||= now;
        const allBack = !this.tracker || this.tracker.allBack;
        if (p.received + p.failed >= p.sent && allBack) {
          completed = p.received + p.failed >= p.sent;
          break;
        }
        if (now - Math.max(p.lastSendMs, doneAt) > c.drainMs) {
          drainTimedOut = true;
          break;
        }
      }
      const graceEnd = nowMs() + RECEIPT_GRACE_MS;
      while (completed && p.delivered < p.received && nowMs() < graceEnd) {
        await this.#guard(sleep(50));
        p = sumProgress(this.workers.map((w) => w.progress));
      }
    } finally {
      view.stop();
      p = sumProgress(this.workers.map((w) => w.progress));
      const endMs = p.lastRecvMs || nowMs();
      const cpuSeconds = cpuDiff(cpu0, await this.#cpuSeconds());
      this.phases.messaging = {
        startMs,
        endMs,
        lastSendMs: p.lastSendMs,
        completed,
        drainTimedOut,
        cpuSeconds,
      };
    }
    if (drainTimedOut) {
      log(
        `drain timeout: ${p.sent - p.received - p.failed} message(s) still missing ` +
          `${c.drainMs / 1000} s after the last send`,
      );
    }
  }

  /** CPU seconds so far of every cluster process and worker, by name. */
  async #cpuSeconds(): Promise<Record<string, number>> {
    const out = this.cluster ? await this.cluster.cpuSeconds() : {};
    for (const w of this.workers) out[`worker-${w.index}`] = await readCpuSeconds(w.pid);
    return out;
  }

  async #killOne(): Promise<void> {
    const cluster = this.cluster!;
    const alive = cluster.servers.filter((s) => !s.killed).map((s) => s.id);
    const victim = chooseVictim(this.serverOf, alive)!;
    this.tracker = new ReconnectTracker(victim.server, victim.users, nowMs());
    log(`--kill-one: SIGKILL ${victim.server} (${victim.users.length} clients)`);
    await cluster.kill(victim.server);
    this.tracker.waitAllBack().then(() => {
      const s = this.tracker!.summary();
      log(
        `--kill-one: all ${s.clients} clients of ${s.server} reconnected after ${s.recoveryMs} ms`,
      );
    });
  }

  async #shutdown(): Promise<void> {
    if (this.workers.length > 0) {
      await Promise.all(this.workers.map((w) => w.stop(30_000)));
    }
    this.final = sumProgress(this.workers.map((w) => w.progress));
    if (this.tracker) {
      let messages: DeliveryCheck | null = null;
      try {
        messages = await checkCsvDir(`${this.dir}/clients`);
      } catch (e) {
        log(`reading CSVs for --kill-one: ${e}`);
      }
      const summary = this.tracker.summary();
      const onKilled = new Set(summary.users);
      if (messages) {
        messages.lostDetails = messages.lostDetails.map((l) => ({
          ...l,
          sentAfterKillMs: Math.round((l.sentMs - summary.killedAtMs) * 1000) / 1000,
          fromOnKilledServer: onKilled.has(l.from),
          toOnKilledServer: onKilled.has(l.to),
        }));
      }
      this.reconnect = { ...summary, messages };
      await Deno.writeTextFile(
        `${this.dir}/reconnect.json`,
        JSON.stringify(this.reconnect, null, 2) + "\n",
      );
    }
    if (!this.cluster && this.#pendingCluster) {
      this.cluster = await this.#pendingCluster.catch(() => null);
    }
    if (this.cluster) await this.cluster.stop().catch((e) => log(`stopping the cluster: ${e}`));
    await this.#writeRunJson();
  }

  async #writeRunJson(): Promise<void> {
    const c = this.cfg;
    const p = this.final;
    const m = this.phases.messaging;
    const secs = m ? (m.endMs - m.startMs) / 1000 : 0;
    let servers: { id: string; address: string; pid: number | null; killed: boolean }[];
    if (this.cluster) {
      servers = this.cluster.servers.map((s) => ({
        id: s.id,
        address: s.address,
        pid: s.pid,
        killed: s.killed,
      }));
    } else {
      servers = [...this.serverAddress].sort().map(([id, address]) => ({
        id,
        address,
        pid: null,
        killed: false,
      }));
    }
    const perServer: Record<string, number> = {};
    for (const s of this.serverOf.values()) perServer[s] = (perServer[s] ?? 0) + 1;
    const run = {
      config: { ...c, lb: c.lb ? `${c.lb.host}:${c.lb.port}` : null, args: this.args },
      versions: {
        deno: Deno.version.deno,
        v8: Deno.version.v8,
        typescript: Deno.version.typescript,
        fastchat: serverManifest.version,
      },
      machine: {
        cores: navigator.hardwareConcurrency,
        memoryBytes: Deno.systemMemoryInfo().total,
        os: Deno.build.os,
        arch: Deno.build.arch,
        hostname: Deno.hostname(),
      },
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      interrupted: this.interrupted,
      ...(this.failure ? { error: this.failure.message } : {}),
      phases: {
        register: this.phases.register ?? null,
        login: this.phases.login ?? null,
        warmup: this.phases.warmup ?? null,
        messaging: m ?? null,
      },
      results: p
        ? {
          sent: p.sent,
          acked: p.acked,
          received: p.received,
          delivered: p.delivered,
          missing: Math.max(0, p.sent - p.received - p.failed),
          failed: p.failed,
          errors: p.errors,
          msgsPerSec: secs > 0 ? Math.round((p.received / secs) * 100) / 100 : 0,
          disconnects: this.disconnects,
          disconnectCodes: this.disconnectCodes,
          reconnects: this.reconnects,
        }
        : null,
      workers: this.workers.map((w) => ({ index: w.index, pid: w.pid })),
      clientsPerServer: perServer,
      lb: this.cluster
        ? { address: this.cluster.lbAddress, pid: this.cluster.lbPid, rate: 0 }
        : { address: c.lb ? `${c.lb.host}:${c.lb.port}` : null, pid: null },
      db: this.cluster
        ? { kind: c.db ? "postgres" : "embedded-memory", pid: this.cluster.dbPid }
        : { kind: "external" },
      servers,
      ...(this.idle ? { idle: this.idle } : {}),
      ...(this.reconnect ? { reconnect: this.reconnect } : {}),
    };
    await Deno.writeTextFile(`${this.dir}/run.json`, JSON.stringify(run, null, 2) + "\n");
  }

  #summary(): void {
    const p = this.final;
    const m = this.phases.messaging;
    const lines: string[] = [];
    if (this.interrupted) lines.push("INTERRUPTED (partial results)");
    const r = this.phases.register;
    const l = this.phases.login;
    if (r && l) {
      lines.push(
        `register ${r.count} in ${(r.ms / 1000).toFixed(2)} s (${r.perSecond}/s); ` +
          `login ${l.count} in ${(l.ms / 1000).toFixed(2)} s (${l.perSecond}/s)`,
      );
    }
    if (p && m) {
      const secs = (m.endMs - m.startMs) / 1000;
      const missing = Math.max(0, p.sent - p.received - p.failed);
      lines.push(
        `sent ${p.sent}, received ${p.received}${missing ? ` (${missing} missing)` : ""}, ` +
          `${(p.received / Math.max(secs, 1e-9)).toFixed(0)} msgs/s over ${secs.toFixed(2)} s` +
          (p.errors ? `, ${p.errors} errors` : ""),
      );
    }
    if (this.reconnect) {
      const k = this.reconnect;
      lines.push(
        `kill-one: ${k.server} (${k.clients} clients): ${
          k.allReconnected
            ? `all reconnected after ${k.recoveryMs} ms`
            : `${k.reconnected} reconnected`
        }; lost ${k.messages?.lost ?? "?"}, duplicated ${k.messages?.duplicated ?? "?"}`,
      );
      // Printed as written, except the (long) list of the killed server's users.
      const { users, ...shown } = this.reconnect;
      console.log(
        JSON.stringify({ ...shown, users: `${users.length} (see reconnect.json)` }, null, 2),
      );
    }
    lines.push(`run directory: ${this.dir}`);
    console.log(lines.join("\n"));
  }

  async #analyze(): Promise<void> {
    try {
      await Deno.stat(ANALYZE_MAIN);
    } catch {
      return; // the analysis is not there (yet)
    }
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", ANALYZE_MAIN, this.dir],
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!status.success) log(`perf/analyze.ts exited with code ${status.code}`);
  }
}

function limitedNote(n: number): string {
  return n > 0
    ? `; ${n} request(s) refused RATE_LIMITED by the servers' per-address auth limit and retried`
    : "";
}

function describeModel(c: RunConfig): string {
  const s = c.send;
  if (s.kind === "window") return `closed loop, window ${s.window}`;
  if (s.kind === "rate") return `open loop, ${s.perSecond} msg/s in total`;
  const d = s.delay;
  return `open loop, delay ${d.dist}:${d.dist === "const" ? d.ms : d.meanMs}ms${
    d.dist === "normal" ? `,${d.sdMs}ms` : ""
  }`;
}

async function nonEmpty(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return true;
  } catch { /* missing */ }
  return false;
}

/**
 * Runs the load generator with `args`; resolves with the exit code
 * (0 done, 1 failed, 2 bad flags, 130 interrupted).
 */
export async function runPerf(args: string[]): Promise<number> {
  const a = args[0] === "--" ? args.slice(1) : args;
  if (a.includes("--help") || a.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  let cfg: RunConfig;
  try {
    cfg = parseRunArgs(a, { cores: navigator.hardwareConcurrency });
  } catch (e) {
    console.error(`perf: ${FastChatError.from(e).message}`);
    return 2;
  }
  const dir = cfg.out ?? `${DEFAULT_OUT_ROOT}/${runDirName(cfg, new Date())}`;
  if (await nonEmpty(dir)) {
    console.error(
      `perf: the run directory ${dir} is not empty (an earlier run's CSVs would mix in); choose another --out`,
    );
    return 2;
  }
  const run = new Run(cfg, dir, a);
  const onSignal = () => run.interrupt();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    return await run.execute();
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) Deno.exit(await runPerf(Deno.args));
