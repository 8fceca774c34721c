/**
 * The processes of a launched cluster, by role: spawning each (once, or
 * under a supervisor that restarts it when it exits), reporting exits
 * nobody asked for, their captured output, and stopping them in order —
 * load balancers (no new clients), servers (they drain), the database.
 *
 * @example
 * ```ts
 * import { ClusterProcesses } from "@fastchat/server/cluster_processes";
 * import { serverSpec } from "@fastchat/server/cluster_specs";
 * const procs = new ClusterProcesses({ onUnexpectedExit: (name) => console.error(name, "died") });
 * const dbUrl = Deno.env.get("DATABASE_URL")!;
 * await procs.spawn("server", serverSpec({ name: "srv-1", id: "srv-1", dbUrl }));
 * console.log(procs.logs(5));
 * await procs.stop();
 * ```
 * @module
 */
import { FastChatError } from "@fastchat/lib/errors";
import { ManagedProcess, type SpawnOptions } from "@fastchat/lib/managed_process";
import { Supervisor } from "@fastchat/lib/supervisor";
import { ClusterMember, type ClusterRole } from "./cluster_member.ts";

/**
 * Options of {@link ClusterProcesses}.
 *
 * @example
 * ```ts
 * import type { ClusterProcessesOptions } from "@fastchat/server/cluster_processes";
 * const o: ClusterProcessesOptions = { supervise: true, log: (l) => console.log(`supervisor | ${l}`) };
 * ```
 */
export interface ClusterProcessesOptions {
  /** Restart a process that exits, with backoff (`@fastchat/lib/supervisor`). */
  supervise?: boolean;
  /** Where the supervisor reports exits and restarts (default stderr). */
  log?: (line: string) => void;
  /** Called when an unsupervised process exits that was not killed or stopped on purpose. */
  onUnexpectedExit?: (name: string, code: number) => void;
}

/**
 * The database, servers and load balancers of one cluster.
 *
 * @example
 * ```ts
 * import type { ClusterProcesses } from "@fastchat/server/cluster_processes";
 * declare const procs: ClusterProcesses;
 * for (const m of procs.members) console.log(m.name, m.pid, m.restarts);
 * ```
 */
export class ClusterProcesses {
  /** Every server started, running or not, in start order. */
  readonly servers: ClusterMember[] = [];
  /** Every load balancer started, in start order. */
  readonly lbs: ClusterMember[] = [];
  /** The embedded database, if one was started. */
  db: ClusterMember | null = null;
  readonly #opts: ClusterProcessesOptions;
  readonly #sup: Supervisor | null;
  readonly #pending = new Set<Promise<unknown>>();
  #stopping: Promise<void> | null = null;

  /** No process yet. */
  constructor(opts: ClusterProcessesOptions = {}) {
    this.#opts = opts;
    this.#sup = opts.supervise ? new Supervisor({ log: opts.log }) : null;
  }

  /** Database, servers, load balancers. */
  get members(): ClusterMember[] {
    return [...this.db ? [this.db] : [], ...this.servers, ...this.lbs];
  }

  /** Whether {@link ClusterProcesses.stop} was called. */
  get stopping(): boolean {
    return this.#stopping !== null;
  }

  /**
   * Spawns one process (or hands it to the supervisor), waits until it is
   * ready and adds it to its role's list. Refuses while stopping; one that
   * becomes ready while stopping is stopped, not orphaned.
   */
  spawn(role: ClusterRole, spec: SpawnOptions, args: string[] = []): Promise<ClusterMember> {
    if (this.#stopping) return Promise.reject(stoppingError(spec.name));
    const spawning = (async () => {
      const source = this.#sup ? await this.#sup.start(spec) : await ManagedProcess.spawn(spec);
      const m = new ClusterMember(role, spec, source);
      m.args = args;
      if (this.#stopping && !this.#sup) {
        await m.proc.stop(); // (a supervisor does this itself)
        throw stoppingError(spec.name);
      }
      if (!this.#sup) this.#watch(m, m.proc);
      if (role === "db") this.db = m;
      else (role === "server" ? this.servers : this.lbs).push(m);
      return m;
    })();
    this.#pending.add(spawning);
    const settled = () => this.#pending.delete(spawning);
    spawning.then(settled, settled);
    return spawning;
  }

  /** Starts an exited, unsupervised member again from `spec`. */
  async restart(m: ClusterMember, spec: SpawnOptions): Promise<void> {
    if (this.#stopping) throw stoppingError(m.name);
    if (m.supervised) {
      throw new FastChatError(
        "INVALID_CONFIG",
        `${m.name} is supervised: its supervisor restarts it`,
      );
    }
    if (!m.proc.done) throw new FastChatError("INVALID_CONFIG", `${m.name} is still running`);
    const p = await ManagedProcess.spawn(spec);
    m.spec = spec;
    m.replace(p);
    this.#watch(m, p);
  }

  /** Reports an exit of `p` that nobody asked for. */
  #watch(m: ClusterMember, p: ManagedProcess): void {
    p.exited.then((s) => {
      if (!this.#stopping && !m.stoppedOnPurpose && m.proc === p) {
        this.#opts.onUnexpectedExit?.(m.name, s.code);
      }
    });
  }

  /** The last `n` output lines of every process, for failure messages. */
  logs(n = 30): string {
    return this.members.map(({ proc: p }) =>
      `--- ${p.name}${p.done ? " (exited)" : ""}\n${
        [...p.stdout.slice(-n), ...p.stderr.slice(-n)].join("\n")
      }`
    ).join("\n");
  }

  /** Writes each process's captured output to `<dir>/<name>.{stdout,stderr}.log`. */
  async writeLogs(dir: string): Promise<void> {
    await Deno.mkdir(dir, { recursive: true });
    for (const { proc: p } of this.members) {
      await Deno.writeTextFile(`${dir}/${p.name}.stdout.log`, p.stdout.join("\n") + "\n");
      await Deno.writeTextFile(`${dir}/${p.name}.stderr.log`, p.stderr.join("\n") + "\n");
    }
  }

  /**
   * Stops load balancers, then servers, then the database (SIGTERM, then
   * SIGKILL), including processes still starting. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    for (const m of this.members) m.stoppedOnPurpose = true;
    if (this.#sup) {
      await this.#sup.stopAll(); // last started first: LB, servers, database
      await Promise.allSettled([...this.#pending]);
      return;
    }
    await Promise.all(this.lbs.map((l) => l.proc.stop(5_000)));
    await Promise.all(this.servers.map((s) => s.proc.stop(10_000)));
    await Promise.allSettled([...this.#pending]);
    await this.db?.proc.stop(10_000);
  }
}

function stoppingError(name: string): FastChatError {
  return new FastChatError("SERVER_SHUTTING_DOWN", `${name} not started: the cluster is stopping`);
}
