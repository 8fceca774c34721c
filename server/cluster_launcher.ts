/**
 * The one way FastChat runs as a cluster of real processes, used by
 * `deno task start`, the tests and perf: the embedded database (unless a
 * PostgreSQL URL is given), migrations, N chat servers and a load balancer
 * as child processes, each ready once it prints its ready line. Optionally
 * supervised (a child that exits is restarted with backoff, see
 * `@fastchat/lib/supervisor`); servers can be added, killed with SIGKILL,
 * stopped and restarted; {@link ClusterLauncher.stop} stops everything in
 * order: load balancers, servers, database.
 *
 * Waiting is event-driven where the processes announce something (ready
 * lines on stdout, `peer_link_up` log events on stderr); what only the
 * registry knows (liveness, client counts) is polled with a deadline.
 *
 * @example
 * ```ts
 * import { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * const cluster = await ClusterLauncher.start({ servers: 2, serverArgs: ["--scrypt-n", "1024"] });
 * console.log(cluster.lbAddress, cluster.servers.map((s) => `${s.id}@${s.address}`));
 * await cluster.kill(cluster.servers[0]);
 * console.log(await cluster.liveServers()); // both, until srv-1's heartbeat goes stale
 * await cluster.stop();
 * ```
 * @module
 */
import type { Sql } from "postgres";
import { connectStore, migrate, waitForDatabase } from "@fastchat/db";
import { embeddedDatabaseUrl, generatePassword, withPassword } from "@fastchat/db/credentials";
import { waitUntil } from "@fastchat/lib/wait_until";
import { liveServers, type RegisteredServer } from "@fastchat/lib/cluster/server_directory";
import type { ClusterMember } from "./cluster_member.ts";
import { ClusterProcesses } from "./cluster_processes.ts";
import {
  type Algorithm,
  type ClusterOptions,
  DEFAULT_WAIT_MS,
  embeddedDbSpec,
  lbSpec,
  serverSpec,
} from "./cluster_specs.ts";
import { missingPeerLinks, type PeerLinkState, peerLinkState } from "./peer_link_log.ts";

export type { Algorithm, ClusterOptions };
export type { ClusterMember };

/**
 * A running cluster. Create with {@link ClusterLauncher.start}, or construct
 * and {@link ClusterLauncher.launch} to be able to stop it while it starts
 * (Ctrl-C during `deno task start`).
 *
 * @example
 * ```ts
 * import { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * const cluster = new ClusterLauncher({ servers: 1, supervise: true });
 * Deno.addSignalListener("SIGINT", () => cluster.stop().then(() => Deno.exit(0)));
 * await cluster.launch();
 * ```
 */
export class ClusterLauncher {
  /** The database URL every process uses (with the password; never on a command line). */
  dbUrl = "";
  /** The cluster's processes. */
  readonly processes: ClusterProcesses;
  readonly #opts: ClusterOptions;
  #dir = "";
  #sql: Sql | null = null;
  #nextServer = 1;
  #stopping: Promise<void> | null = null;

  /** A cluster to {@link ClusterLauncher.launch}; nothing runs yet. */
  constructor(opts: ClusterOptions = {}) {
    this.#opts = opts;
    this.processes = new ClusterProcesses(opts);
  }

  /** Launches a cluster; on failure stops whatever had started, and throws. */
  static async start(opts: ClusterOptions = {}): Promise<ClusterLauncher> {
    const c = new ClusterLauncher(opts);
    try {
      await c.launch();
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /**
   * Starts the database (unless `dbUrl`), migrates it, starts the servers
   * (in parallel) and the load balancer, and by default waits for the full
   * peer mesh. Does not clean up on failure (see {@link ClusterLauncher.start}).
   */
  async launch(): Promise<void> {
    const o = this.#opts;
    this.#dir = await Deno.makeTempDir({ prefix: "fastchat-cluster-" });
    this.dbUrl = o.dbUrl ?? await this.#startDatabase();
    await waitForDatabase(this.dbUrl, 30_000);
    this.#sql = connectStore(this.dbUrl, { max: 1 });
    await migrate(this.#sql);
    const started = await Promise.allSettled(
      Array.from({ length: o.servers ?? 3 }, () => this.addServer({ waitForMesh: false })),
    );
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    // Listed in start order (srv-1, srv-2, …), not in the order they became ready.
    const order = started.map((r) => (r as PromiseFulfilledResult<ClusterMember>).value);
    this.servers.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    await this.addLoadBalancer(o.algorithm ?? "round-robin", o.lbArgs);
    if (o.waitForMesh !== false) await this.waitForMesh(o.meshTimeoutMs);
  }

  async #startDatabase(): Promise<string> {
    const o = this.#opts;
    const password = o.dbDataDir === undefined ? generatePassword() : undefined;
    const spec = embeddedDbSpec({
      ...this.#common("db"),
      port: o.dbPort,
      dataDir: o.dbDataDir,
      password,
    });
    const db = await this.processes.spawn("db", spec);
    const listenUrl = db.proc.match[1];
    // The printed URL has no password: a data directory keeps it, in memory we chose it.
    return password
      ? withPassword(listenUrl, password)
      : embeddedDatabaseUrl(listenUrl, o.dbDataDir!);
  }

  #common(name: string) {
    const o = this.#opts;
    return {
      name,
      echo: o.echo,
      keepLines: o.keepLines,
      cpuProfDir: o.cpuProfDir,
      logFormat: o.logFormat,
    };
  }

  /**
   * Starts one more chat server (`--port 0 --require-ticket`, the cluster's
   * `host` and `serverArgs`, then `args`). Its id is `<idPrefix>-<n>` unless
   * `id` is given or `idPrefix` is null. Resolves once it listens (it
   * registers before that) and, by default, once every running server has
   * linked to every other.
   */
  async addServer(
    opts: { id?: string; args?: string[]; waitForMesh?: boolean } = {},
  ): Promise<ClusterMember> {
    const n = this.#nextServer++;
    const prefix = this.#opts.idPrefix === undefined ? "srv" : this.#opts.idPrefix;
    const id = opts.id ?? (prefix === null ? undefined : `${prefix}-${n}`);
    const own = [...this.#opts.serverArgsFor?.(n) ?? [], ...opts.args ?? []];
    const args = [...this.#opts.serverArgs ?? [], ...own];
    const spec = serverSpec({
      ...this.#common(id ?? `server-${n}`),
      dbUrl: this.dbUrl,
      id,
      host: this.#opts.host,
      fabric: this.#opts.fabric,
      args,
    });
    const s = await this.processes.spawn("server", spec, own);
    if (opts.waitForMesh !== false) await this.waitForMesh();
    return s;
  }

  /**
   * Starts a load balancer. The first one listens on the cluster's `lbPort`
   * and signs with `lbKeyFile`; later ones take any free port and a fresh
   * key in the launcher's temporary directory.
   */
  async addLoadBalancer(
    algorithm: Algorithm = "round-robin",
    args: string[] = [],
  ): Promise<ClusterMember> {
    const n = this.lbs.length + 1;
    const first = n === 1;
    const spec = lbSpec({
      ...this.#common(first ? "lb" : `lb-${n}`),
      dbUrl: this.dbUrl,
      keyFile: (first ? this.#opts.lbKeyFile : undefined) ?? `${this.#dir}/lb-${n}-key.json`,
      host: this.#opts.host,
      port: first ? this.#opts.lbPort : 0,
      algorithm,
      args,
    });
    return await this.processes.spawn("lb", spec, args);
  }

  /** The first load balancer's address (what clients connect to). */
  get lb(): { host: string; port: number } {
    const lb = this.lbs[0];
    if (!lb) throw new Error("the cluster has no load balancer");
    return { host: lb.host, port: lb.port };
  }

  /** The first load balancer's `host:port`. */
  get lbAddress(): string {
    return `${this.lb.host}:${this.lb.port}`;
  }

  /** The first load balancer's pid. */
  get lbPid(): number {
    return this.lbs[0]?.pid ?? 0;
  }

  /** The embedded database's pid (null: an external database). */
  get dbPid(): number | null {
    return this.db?.pid ?? null;
  }

  /** The launcher's own connection (one), for registry reads and checks in tests. */
  get sql(): Sql {
    if (!this.#sql) throw new Error("the cluster is not launched");
    return this.#sql;
  }

  /** Every server started, running or not, in start order. */
  get servers(): ClusterMember[] {
    return this.processes.servers;
  }

  /** Every load balancer started, in start order. */
  get lbs(): ClusterMember[] {
    return this.processes.lbs;
  }

  /** The embedded database, if the launcher started one. */
  get db(): ClusterMember | null {
    return this.processes.db;
  }

  /** Servers whose current process has not exited, in start order. */
  running(): ClusterMember[] {
    return this.servers.filter((s) => !s.proc.done);
  }

  /** The server with id `id`. */
  server(id: string): ClusterMember {
    const s = this.servers.find((x) => x.id === id);
    if (!s) throw new Error(`no server ${id} in the cluster (${this.servers.map((x) => x.id)})`);
    return s;
  }

  /** `kill -9` of a server (by member or id); resolves with its exit status. */
  async kill(s: ClusterMember | string): Promise<Deno.CommandStatus> {
    const m = typeof s === "string" ? this.server(s) : s;
    m.stoppedOnPurpose = true;
    m.killed = true;
    m.proc.kill("SIGKILL");
    return await m.proc.exited;
  }

  /** Graceful stop of a server: SIGTERM, SIGKILL after `graceMs`. */
  terminate(s: ClusterMember, graceMs = 15_000): Promise<Deno.CommandStatus> {
    s.stoppedOnPurpose = true;
    return s.proc.stop(graceMs);
  }

  /**
   * Starts a stopped or killed (unsupervised) server again, with its id at
   * its old address, as after a crash: it takes over its registry row.
   */
  async restart(s: ClusterMember): Promise<ClusterMember> {
    await this.processes.restart(
      s,
      serverSpec({
        ...this.#common(s.name),
        dbUrl: this.dbUrl,
        id: s.id,
        host: this.#opts.host,
        port: s.port,
        fabric: this.#opts.fabric,
        args: [...this.#opts.serverArgs ?? [], ...s.args],
      }),
    );
    return s;
  }

  /** The registry's live servers (draining ones included), ordered by id. */
  liveServers(): Promise<RegisteredServer[]> {
    return liveServers(this.sql);
  }

  /** The state of `from`'s outbound peer link to server `to`, from its log. */
  linkState(from: ClusterMember, to: string): PeerLinkState | undefined {
    return peerLinkState(from.proc.stderr, to);
  }

  /** Waits until every running server logged an up link to every other one. */
  waitForMesh(timeoutMs = DEFAULT_WAIT_MS): Promise<true> {
    const missing = () =>
      missingPeerLinks(this.running().map((s) => ({ id: s.id, stderr: s.proc.stderr })));
    return waitUntil(
      () => missing().length === 0,
      timeoutMs,
      () => `a full peer mesh; links not up: ${missing().join(", ")}`,
    );
  }

  /** The last `n` output lines of every process, for failure messages. */
  logs(n = 30): string {
    return this.processes.logs(n);
  }

  /** Whether {@link ClusterLauncher.stop} was called. */
  get stopping(): boolean {
    return this.#stopping !== null;
  }

  /**
   * Stops load balancers, then servers (they drain), then the database
   * (SIGTERM, then SIGKILL), writes the logs to `logDir` if given, and
   * removes the temporary directory. Processes still starting are stopped
   * once ready. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.#sql?.end({ timeout: 5 });
    await this.processes.stop();
    if (this.#opts.logDir) await this.processes.writeLogs(this.#opts.logDir);
    if (this.#dir) await Deno.remove(this.#dir, { recursive: true });
  }
}
