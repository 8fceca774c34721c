/**
 * The cluster a perf run starts when no `--lb` is given: the embedded
 * database in memory (`db/main.ts --memory --port 0`, unless `--db` names a
 * PostgreSQL), S chat servers (`--port 0 --require-ticket --scrypt-n N
 * --auth-rate R --max-preauth-per-address 1000`) and the load balancer
 * (`--rate 0 --max-per-address 10000 --port 0`): every perf client comes
 * from 127.0.0.1, so the per-address limits of the LB and the servers'
 * register/login and pre-login connection limits must not apply to it; each a real
 * process. Waits until the servers' peer links form a full mesh, watches
 * for unexpected exits, kills one server on request (`--kill-one`), reads
 * server RSS (`--idle`), and stops everything in order (LB, servers,
 * database), writing each process's output to `<logDir>/<name>.{stdout,stderr}.log`.
 *
 * @example
 * ```ts
 * import { ClusterLauncher } from "./cluster_launcher.ts";
 * const cluster = await ClusterLauncher.start({ servers: 2, scryptN: 16384, logDir: "/tmp/logs" });
 * console.log(cluster.lb, cluster.servers.map((s) => s.id));
 * await cluster.stop();
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { generatePassword, withPassword } from "@fastchat/db/credentials";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { sleep } from "./clock.ts";
import { readCpuSeconds, readVmRssKb } from "./idle_mode.ts";

const path = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));

/**
 * Register/login requests per second per address the perf cluster's servers
 * allow: all perf clients share 127.0.0.1, where production servers allow 5.
 */
export const PERF_AUTH_RATE = 2000;

/** Options of {@link ClusterLauncher.start}. */
export interface ClusterLaunchOptions {
  servers: number;
  /** PostgreSQL URL; absent: the embedded database in memory. */
  db?: string | null;
  /** Servers' `--scrypt-n`. */
  scryptN: number;
  /** Servers' `--auth-rate` (default {@link PERF_AUTH_RATE}). */
  authRate?: number;
  /** Where process output is written at {@link ClusterLauncher.stop}. */
  logDir: string;
  /** Called once when a process exits that was neither killed nor stopped by us. */
  onUnexpectedExit?: (name: string, code: number) => void;
  /** Deadline for the peer mesh (default 30 s). */
  meshTimeoutMs?: number;
  /** Write V8 CPU profiles of every process (`deno run --cpu-prof`) into this directory. */
  cpuProfDir?: string;
}

/** A chat server process of the cluster. */
export interface LaunchedServer {
  id: string;
  address: string;
  pid: number;
  proc: ManagedProcess;
  killed: boolean;
}

/** A running perf cluster. */
export class ClusterLauncher {
  readonly servers: LaunchedServer[] = [];
  /** The load balancer's `host:port` parts. */
  lb = { host: "", port: 0 };
  lbPid = 0;
  dbUrl = "";
  dbPid: number | null = null;
  readonly #procs: ManagedProcess[] = [];
  readonly #expected = new Set<ManagedProcess>();
  readonly #opts: ClusterLaunchOptions;
  #keyDir = "";
  #stopped = false;

  private constructor(opts: ClusterLaunchOptions) {
    this.#opts = opts;
  }

  /** Starts database (unless `db`), servers and LB; on failure stops what started. */
  static async start(opts: ClusterLaunchOptions): Promise<ClusterLauncher> {
    const c = new ClusterLauncher(opts);
    try {
      await c.#start();
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  #watch(p: ManagedProcess): ManagedProcess {
    this.#procs.push(p);
    p.exited.then((s) => {
      if (!this.#stopped && !this.#expected.has(p)) this.#opts.onUnexpectedExit?.(p.name, s.code);
    });
    return p;
  }

  /**
   * Spawns `deno run -A … args`; `env` adds to the inherited environment (the
   * way secrets such as the database URL reach children: `ps` shows argv).
   */
  #spawn(
    name: string,
    args: string[],
    ready: RegExp,
    env?: Record<string, string>,
  ): Promise<ManagedProcess> {
    const prof = this.#opts.cpuProfDir
      ? [
        "--cpu-prof",
        `--cpu-prof-dir=${this.#opts.cpuProfDir}`,
        `--cpu-prof-name=${name}.cpuprofile`,
      ]
      : [];
    return ManagedProcess.spawn({
      name,
      args: ["run", "-A", ...prof, ...args],
      ready,
      env,
      keepLines: 200_000,
      timeoutMs: 60_000,
    });
  }

  async #start(): Promise<void> {
    const o = this.#opts;
    this.#keyDir = await Deno.makeTempDir({ prefix: "fastchat-perf-lb-" });
    if (o.db) {
      this.dbUrl = o.db;
    } else {
      const password = generatePassword();
      const db = this.#watch(
        await this.#spawn(
          "db",
          [path("../db/main.ts"), "--memory", "--port", "0"],
          /listening on (postgres:\/\/\S+)/,
          { FASTCHAT_DB_PASSWORD: password },
        ),
      );
      this.dbUrl = withPassword(db.match[1], password);
      this.dbPid = db.pid;
    }
    // The database URL (with its password) reaches servers and LB through
    // their environment, never their command line.
    const childEnv = { DATABASE_URL: this.dbUrl };
    // In parallel, like `deno task start`; each registers itself before its ready line.
    const started = await Promise.allSettled(
      Array.from({ length: o.servers }, (_, i) =>
        this.#spawn(
          `srv-${i + 1}`,
          [
            SERVER_V8_FLAGS,
            path("../server/main.ts"),
            "--port",
            "0",
            "--id",
            `srv-${i + 1}`,
            "--require-ticket",
            "--scrypt-n",
            String(o.scryptN),
            "--auth-rate",
            String(o.authRate ?? PERF_AUTH_RATE),
            // One address for every client: only the total pre-login cap applies.
            "--max-preauth-per-address",
            "1000",
          ],
          /FastChat server (\S+) listening on (\S+:\d+)/,
          childEnv,
        )),
    );
    for (const r of started) {
      if (r.status === "fulfilled") {
        const p = this.#watch(r.value);
        this.servers.push({
          id: p.match[1],
          address: p.match[2],
          pid: p.pid,
          proc: p,
          killed: false,
        });
      }
    }
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const lb = this.#watch(
      await this.#spawn(
        "lb",
        [
          path("../lb/main.ts"),
          "--port",
          "0",
          "--rate",
          "0",
          "--max-per-address",
          "10000",
          "--key",
          `${this.#keyDir}/lb-key.json`,
        ],
        /FastChat load balancer (\S+) listening on (\S+):(\d+)/,
        childEnv,
      ),
    );
    this.lb = { host: lb.match[2], port: Number(lb.match[3]) };
    this.lbPid = lb.pid;
    await this.#waitForMesh(o.meshTimeoutMs ?? 30_000);
  }

  /** Links not yet up (`from->to`), from the servers' `peer_link_up/down` log events. */
  #missingLinks(): string[] {
    const missing: string[] = [];
    for (const a of this.servers) {
      const state = new Map<string, boolean>();
      for (const line of a.proc.stderr) {
        if (!line.includes("peer_link_")) continue;
        try {
          const e = JSON.parse(line) as { event?: string; peer?: string };
          if (e.peer && e.event === "peer_link_up") state.set(e.peer, true);
          if (e.peer && e.event === "peer_link_down") state.set(e.peer, false);
        } catch { /* not JSON */ }
      }
      for (const b of this.servers) {
        if (a !== b && !state.get(b.id)) missing.push(`${a.id}->${b.id}`);
      }
    }
    return missing;
  }

  async #waitForMesh(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#missingLinks().length > 0) {
      if (Date.now() > deadline) {
        throw new Error(`servers did not link up in time: ${this.#missingLinks().join(", ")}`);
      }
      await sleep(50);
    }
  }

  /** The LB address as `host:port`. */
  get lbAddress(): string {
    return `${this.lb.host}:${this.lb.port}`;
  }

  /** SIGKILLs the server `id` (an expected exit) and waits for it to be gone. */
  async kill(id: string): Promise<void> {
    const s = this.servers.find((x) => x.id === id);
    if (!s) throw new Error(`no server ${id}`);
    s.killed = true;
    this.#expected.add(s.proc);
    s.proc.kill("SIGKILL");
    await s.proc.exited;
  }

  /** VmRSS in KiB of every running server, by id. */
  async serverRss(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const s of this.servers) {
      if (!s.proc.done) out.set(s.id, await readVmRssKb(s.pid));
    }
    return out;
  }

  /** CPU seconds used so far by each running process (db, lb, srv-n), by name. */
  async cpuSeconds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of this.#procs) if (!p.done) out[p.name] = await readCpuSeconds(p.pid);
    return out;
  }

  /** Stops LB, servers and database (SIGTERM, then SIGKILL) and writes their logs. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const byName = (prefix: string) => this.#procs.filter((p) => p.name.startsWith(prefix));
    await Promise.all(byName("lb").map((p) => p.stop(5_000)));
    await Promise.all(byName("srv-").map((p) => p.stop(10_000)));
    await Promise.all(byName("db").map((p) => p.stop(10_000)));
    await this.writeLogs();
    if (this.#keyDir) await Deno.remove(this.#keyDir, { recursive: true }).catch(() => {});
  }

  /** Writes every process's captured output to the log directory. */
  async writeLogs(): Promise<void> {
    await Deno.mkdir(this.#opts.logDir, { recursive: true });
    for (const p of this.#procs) {
      const dir = this.#opts.logDir;
      await Deno.writeTextFile(`${dir}/${p.name}.stdout.log`, p.stdout.join("\n") + "\n");
      await Deno.writeTextFile(`${dir}/${p.name}.stderr.log`, p.stderr.join("\n") + "\n");
    }
  }

  /** The last `n` lines of every process, for error messages. */
  tail(n = 10): string {
    return this.#procs.map((p) =>
      `--- ${p.name}${p.done ? " (exited)" : ""}\n${
        [...p.stdout.slice(-n), ...p.stderr.slice(-n)].join("\n")
      }`
    ).join("\n");
  }
}
