/**
 * One process of a launched cluster — the embedded database, a chat server
 * or a load balancer — whether it runs once or under a supervisor that
 * restarts it: {@link ClusterMember.proc} is always the current process,
 * and a server's or LB's id and address come from that process's ready line.
 *
 * @example
 * ```ts
 * import { ManagedProcess } from "@fastchat/lib/managed_process";
 * import { serverSpec } from "@fastchat/server/cluster_specs";
 * import { ClusterMember } from "@fastchat/server/cluster_member";
 * const spec = serverSpec({ name: "srv-1", id: "srv-1", dbUrl: Deno.env.get("DATABASE_URL")! });
 * const s = new ClusterMember("server", spec, await ManagedProcess.spawn(spec));
 * console.log(s.id, s.address, s.pid);
 * await s.proc.stop();
 * ```
 * @module
 */
import { type Listening, parseListening } from "@fastchat/lib/cluster/ready_lines";
import type { ManagedProcess, SpawnOptions } from "@fastchat/lib/managed_process";
import type { SupervisedChild } from "@fastchat/lib/supervisor";

/**
 * What a cluster process is.
 *
 * @example
 * ```ts
 * import type { ClusterRole } from "@fastchat/server/cluster_member";
 * const r: ClusterRole = "lb";
 * ```
 */
export type ClusterRole = "db" | "server" | "lb";

/**
 * A process of the cluster and how it was started.
 *
 * @example
 * ```ts
 * import type { ClusterMember } from "@fastchat/server/cluster_member";
 * declare const lb: ClusterMember;
 * console.log(`${lb.name}: ${lb.host}:${lb.port} (pid ${lb.pid}, ${lb.restarts} restarts)`);
 * ```
 */
export class ClusterMember {
  /** What it is. */
  readonly role: ClusterRole;
  /** How it is (re)started. */
  spec: SpawnOptions;
  /** The extra arguments it was started with (after the launcher's own). */
  args: string[] = [];
  /** Set when the launcher killed or stopped it on purpose (not a crash). */
  stoppedOnPurpose = false;
  /** Set when the launcher killed it with SIGKILL (perf's `--kill-one` victim). */
  killed = false;
  #proc: ManagedProcess;
  readonly #child: SupervisedChild | undefined;
  #restarts = 0;

  /** A member running `source`: one process, or a supervised child. */
  constructor(role: ClusterRole, spec: SpawnOptions, source: ManagedProcess | SupervisedChild) {
    this.role = role;
    this.spec = spec;
    const supervised = "nextStart" in source;
    this.#child = supervised ? source : undefined;
    this.#proc = supervised ? source.process : source;
  }

  /** Its name (log prefix): `db`, `srv-1`, `server-1`, `lb`, `lb-2`, … */
  get name(): string {
    return this.spec.name;
  }

  /** The current process (a supervised member's changes at each restart). */
  get proc(): ManagedProcess {
    return this.#child?.process ?? this.#proc;
  }

  /** The current process id. */
  get pid(): number {
    return this.proc.pid;
  }

  /** How often it was started again (by its supervisor or {@link ClusterMember.replace}). */
  get restarts(): number {
    return this.#child?.restarts ?? this.#restarts;
  }

  /**
   * Resolves when its supervisor has restarted it and it is ready again
   * (call before the exit). Throws for an unsupervised member.
   *
   * @example
   * ```ts
   * import type { ClusterMember } from "@fastchat/server/cluster_member";
   * declare const s: ClusterMember;
   * const back = s.nextStart();
   * s.proc.kill("SIGKILL");
   * await back;
   * ```
   */
  nextStart(): Promise<void> {
    if (!this.#child) throw new Error(`${this.name} is not supervised`);
    return this.#child.nextStart();
  }

  /** Whether it is supervised (restarted when it exits). */
  get supervised(): boolean {
    return this.#child !== undefined;
  }

  /** Where a server or LB listens, from its current ready line. */
  get listening(): Listening {
    if (this.role === "db") throw new Error("the database has no server ready line");
    return parseListening(this.proc.match);
  }

  /** Server or LB id, as its ready line names it. */
  get id(): string {
    return this.listening.id;
  }

  /** Bound host of a server or LB. */
  get host(): string {
    return this.listening.host;
  }

  /** Bound port of a server or LB. */
  get port(): number {
    return this.listening.port;
  }

  /** `host:port` of a server or LB. */
  get address(): string {
    return this.listening.address;
  }

  /**
   * Takes a new process started from `spec` (an unsupervised restart).
   *
   * @example
   * ```ts
   * import { ManagedProcess } from "@fastchat/lib/managed_process";
   * import type { ClusterMember } from "@fastchat/server/cluster_member";
   * declare const s: ClusterMember;
   * s.replace(await ManagedProcess.spawn(s.spec));
   * ```
   */
  replace(p: ManagedProcess): void {
    if (this.#child) throw new Error(`${this.name} is supervised: its supervisor restarts it`);
    this.#proc = p;
    this.#restarts++;
    this.stoppedOnPurpose = false;
    this.killed = false;
  }
}
