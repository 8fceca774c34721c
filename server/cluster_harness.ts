/**
 * Test support (not published): a FastChat cluster of real processes — one
 * load balancer on an ephemeral port with its own key file, N chat servers
 * with `--require-ticket` — that tests grow, shrink, crash and stop.
 *
 * Waiting is event-driven where the processes announce something (ready
 * lines on stdout, `peer_link_up`/`peer_link_down` JSON log events on
 * stderr); what only the registry knows (liveness, client counts) is polled
 * by {@link waitUntil} with a deadline and a descriptive timeout error.
 *
 * @example
 * ```ts
 * import { Cluster } from "./cluster_harness.ts";
 * import { DB_KINDS, openTestDb } from "@fastchat/testing";
 * const db = await openTestDb(DB_KINDS[0]);
 * const cluster = await Cluster.start({ dbUrl: db.url, servers: 3 });
 * const [s1] = cluster.running();
 * await cluster.kill(s1);
 * await cluster.waitForLive(cluster.running().map((s) => s.id));
 * await cluster.stop();
 * await db.close();
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import type { Sql } from "postgres";
import { connectStore } from "@fastchat/db/connect";
import { ManagedProcess } from "@fastchat/lib/managed_process";
import { SERVER_V8_FLAGS } from "@fastchat/lib/runtime_flags";
import { type ServerInfo, ServerRegistry } from "./server_registry.ts";

const SERVER_MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const LB_MAIN = fileURLToPath(new URL("../lb/main.ts", import.meta.url));

/** Load-balancing algorithms of `lb/main.ts --algorithm`. */
export type Algorithm = "round-robin" | "random" | "least-connections";

/** Default deadline of the harness's waits. */
export const DEFAULT_WAIT_MS = 20_000;

/**
 * Polls `cond` every `intervalMs` until it returns a value other than
 * `undefined`, `null` or `false`, and resolves with it. After `timeoutMs`
 * it rejects with `timed out after … waiting for <what>` (`what` may be a
 * function, evaluated at the timeout to describe the last state seen). An
 * exception thrown by `cond` is remembered and reported, not fatal.
 *
 * Use it only for state nobody announces (e.g. the server registry);
 * prefer awaiting an event.
 */
export async function waitUntil<T>(
  cond: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string | (() => string),
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const v = await cond();
      if (v !== undefined && v !== null && v !== false) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const desc = typeof what === "function" ? what() : what;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${desc}` +
          (lastError === undefined ? "" : `; last error: ${lastError}`),
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, deadline - Date.now())));
  }
}

/** A chat server process of the cluster. */
export interface ClusterServer {
  /** Server id (`--id`): what tickets, `ready.server` and the registry name. */
  id: string;
  proc: ManagedProcess;
  /** Bound client address, as printed by the server. */
  host: string;
  port: number;
  /** `host:port`. */
  address: string;
  /** The extra arguments it was started with. */
  args: string[];
}

/** A load balancer process of the cluster. */
export interface ClusterLb {
  id: string;
  proc: ManagedProcess;
  host: string;
  port: number;
  algorithm: Algorithm;
  /** Its ticket-signing key file (in the cluster's temp directory). */
  keyFile: string;
}

/** Options of {@link Cluster.start}. */
export interface ClusterOptions {
  /** The (migrated or empty) database every process uses. */
  dbUrl: string;
  /** Chat servers to start (default 3). */
  servers?: number;
  /** Algorithm of the first load balancer (default round-robin). */
  algorithm?: Algorithm;
  /** Extra arguments of every initial server (e.g. `--host 127.0.0.2`). */
  serverArgs?: string[];
  /** Extra arguments of the load balancer. */
  lbArgs?: string[];
  /** Echo processes' output with a name prefix (default: `$FASTCHAT_CLUSTER_ECHO` is `1`). */
  echo?: boolean;
  /** Wait until every server links to every other one (default true). */
  waitForMesh?: boolean;
}

type LinkState = "up" | "down";

/**
 * One database, chat servers and load balancers as child processes.
 *
 * Server ids are `<prefix>-<n>` (n = 1, 2, … in start order), so the
 * round-robin rotation (ordered by id) is predictable.
 */
export class Cluster {
  /** The database URL all processes use. */
  readonly dbUrl: string;
  /** The harness's own connection, for registry reads. */
  readonly sql: Sql;
  /** Temp directory holding the LB key files. */
  readonly dir: string;
  /** Every server started, running or not, in start order. */
  readonly servers: ClusterServer[] = [];
  /** Every load balancer started, in start order. */
  readonly lbs: ClusterLb[] = [];
  readonly #echo: boolean;
  readonly #prefix: string;
  #next = 1;

  private constructor(dbUrl: string, dir: string, echo: boolean) {
    this.dbUrl = dbUrl;
    this.dir = dir;
    this.#echo = echo;
    this.sql = connectStore(dbUrl, { max: 1 });
    this.#prefix = "srv";
  }

  /**
   * Starts `servers` chat servers (in parallel), then the load balancer,
   * and (by default) waits until the servers' peer links form a full mesh.
   * On failure everything started so far is stopped.
   */
  static async start(opts: ClusterOptions): Promise<Cluster> {
    const dir = await Deno.makeTempDir({ prefix: "fastchat-cluster-" });
    const cluster = new Cluster(
      opts.dbUrl,
      dir,
      opts.echo ?? Deno.env.get("FASTCHAT_CLUSTER_ECHO") === "1",
    );
    try {
      await Promise.all(
        Array.from(
          { length: opts.servers ?? 3 },
          () => cluster.addServer({ args: opts.serverArgs, waitForMesh: false }),
        ),
      );
      await cluster.addLoadBalancer(opts.algorithm ?? "round-robin", opts.lbArgs);
      if (opts.waitForMesh !== false) await cluster.waitForMesh();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** The first load balancer's address (pass to `viaLoadBalancer`). */
  get lb(): { host: string; port: number } {
    const lb = this.lbs[0];
    if (!lb) throw new Error("the cluster has no load balancer");
    return { host: lb.host, port: lb.port };
  }

  /** Servers whose process has not exited, in start order. */
  running(): ClusterServer[] {
    return this.servers.filter((s) => !s.proc.done);
  }

  /** The server with id `id`. */
  server(id: string): ClusterServer {
    const s = this.servers.find((x) => x.id === id);
    if (!s) throw new Error(`no server ${id} in the cluster (${this.servers.map((x) => x.id)})`);
    return s;
  }

  /**
   * Starts one more chat server (`--require-ticket --scrypt-n 1024 --port 0`
   * plus `args`, e.g. `["--host", "127.0.0.2", "--advertise-host", "127.0.0.2"]`).
   * Resolves once it listens (it registers itself before that) and, by
   * default, once it and every other running server have linked to each other.
   */
  async addServer(
    opts: { id?: string; args?: string[]; waitForMesh?: boolean } = {},
  ): Promise<ClusterServer> {
    const id = opts.id ?? `${this.#prefix}-${this.#next++}`;
    const args = opts.args ?? [];
    const proc = await ManagedProcess.spawn({
      name: id,
      args: [
        "run",
        "-A",
        SERVER_V8_FLAGS,
        SERVER_MAIN,
        "--port",
        "0",
        "--require-ticket",
        "--scrypt-n",
        "1024",
        "--id",
        id,
        ...args,
      ],
      ready: /FastChat server (\S+) listening on (\S+):(\d+)/,
      env: this.#childEnv(),
      echo: this.#echo,
    });
    const s: ClusterServer = {
      id: proc.match[1],
      proc,
      host: proc.match[2],
      port: Number(proc.match[3]),
      address: `${proc.match[2]}:${proc.match[3]}`,
      args,
    };
    this.servers.push(s);
    if (opts.waitForMesh !== false) await this.waitForMesh();
    return s;
  }

  /** Starts a load balancer on 127.0.0.1, an ephemeral port and a fresh key file. */
  async addLoadBalancer(algorithm: Algorithm, args: string[] = []): Promise<ClusterLb> {
    const n = this.lbs.length + 1;
    const keyFile = `${this.dir}/lb-${n}-key.json`;
    const proc = await ManagedProcess.spawn({
      name: `lb-${n}`,
      args: [
        "run",
        "-A",
        LB_MAIN,
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--algorithm",
        algorithm,
        "--key",
        keyFile,
        ...args,
      ],
      ready: /FastChat load balancer (\S+) listening on (\S+):(\d+)/,
      env: this.#childEnv(),
      echo: this.#echo,
    });
    const lb: ClusterLb = {
      id: proc.match[1],
      proc,
      host: proc.match[2],
      port: Number(proc.match[3]),
      algorithm,
      keyFile,
    };
    this.lbs.push(lb);
    return lb;
  }

  /**
   * The environment of a server or LB child: the database URL (which may hold
   * a password) goes there, never on the command line `ps` shows.
   */
  #childEnv(): Record<string, string> {
    return { DATABASE_URL: this.dbUrl };
  }

  /** `kill -9`: SIGKILL and wait for the exit. */
  async kill(s: ClusterServer): Promise<Deno.CommandStatus> {
    s.proc.kill("SIGKILL");
    return await s.proc.exited;
  }

  /** Graceful stop: SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  async terminate(s: ClusterServer, graceMs = 15_000): Promise<Deno.CommandStatus> {
    return await s.proc.stop(graceMs);
  }

  /** The registry's live servers (draining ones included), ordered by id. */
  liveServers(): Promise<ServerInfo[]> {
    return ServerRegistry.liveServers(this.sql);
  }

  /**
   * Polls the registry until `pred` holds for its live servers; resolves
   * with them. `what` names the condition in the timeout error, which also
   * shows the last rows seen.
   */
  async waitForRegistry(
    pred: (live: ServerInfo[]) => boolean,
    what: string,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ServerInfo[]> {
    let last: ServerInfo[] = [];
    return await waitUntil(
      async () => {
        last = await this.liveServers();
        return pred(last) ? last : undefined;
      },
      timeoutMs,
      () => `${what}; registry: ${describe(last)}`,
    );
  }

  /**
   * Waits until the registry's live servers are exactly `ids`, none of them
   * draining: what a load balancer picks from (after its short cache).
   */
  waitForLive(ids: string[], timeoutMs = DEFAULT_WAIT_MS): Promise<ServerInfo[]> {
    const want = [...ids].sort();
    return this.waitForRegistry(
      (live) =>
        live.length === want.length && live.every((s, i) => s.id === want[i] && !s.draining),
      `live servers = [${want.join(", ")}]`,
      timeoutMs,
    );
  }

  /** Waits until the registry reports `counts[id]` clients for each given server. */
  waitForClients(
    counts: Record<string, number>,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<ServerInfo[]> {
    return this.waitForRegistry(
      (live) =>
        Object.entries(counts).every(([id, n]) => live.find((s) => s.id === id)?.clients === n),
      `client counts ${JSON.stringify(counts)}`,
      timeoutMs,
    );
  }

  /**
   * The state of `from`'s outbound peer link to `to`, from the last
   * `peer_link_up`/`peer_link_down` event in `from`'s log (undefined: never up).
   */
  linkState(from: ClusterServer, to: string): LinkState | undefined {
    let state: LinkState | undefined;
    for (const line of from.proc.stderr) {
      if (!line.includes("peer_link_")) continue;
      let e: { event?: string; peer?: string };
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      if (e.peer !== to) continue;
      if (e.event === "peer_link_up") state = "up";
      else if (e.event === "peer_link_down") state = "down";
    }
    return state;
  }

  /**
   * Waits until every running server has logged an up link to every other
   * running server (the `peer_link_up` events on their stderr).
   */
  waitForMesh(timeoutMs = DEFAULT_WAIT_MS): Promise<true> {
    const missing = () => {
      const running = this.running();
      const out: string[] = [];
      for (const a of running) {
        for (const b of running) {
          if (a !== b && this.linkState(a, b.id) !== "up") out.push(`${a.id}->${b.id}`);
        }
      }
      return out;
    };
    return waitUntil(
      () => missing().length === 0,
      timeoutMs,
      () => `a full peer mesh; links not up: ${missing().join(", ")}`,
    );
  }

  /** The last `n` output lines of every process, for failure messages. */
  logs(n = 30): string {
    const procs = [...this.servers.map((s) => s.proc), ...this.lbs.map((l) => l.proc)];
    return procs.map((p) =>
      `--- ${p.name}${p.done ? " (exited)" : ""}\n${
        [...p.stdout.slice(-n), ...p.stderr.slice(-n)].join("\n")
      }`
    ).join("\n");
  }

  /** Stops load balancers, then servers (SIGTERM, then SIGKILL), and cleans up. */
  async stop(): Promise<void> {
    await Promise.all(this.lbs.map((l) => l.proc.stop(5_000)));
    await Promise.all(this.servers.map((s) => s.proc.stop(10_000)));
    await this.sql.end({ timeout: 5 }).catch(() => {});
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

function describe(live: ServerInfo[]): string {
  if (live.length === 0) return "(none live)";
  return live.map((s) =>
    `${s.id}@${s.host}:${s.port} clients=${s.clients}${
      s.draining ? " draining" : ""
    } age=${s.ageMs}ms`
  ).join("; ");
}
