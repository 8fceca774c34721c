/**
 * The cluster a perf run starts when no `--lb` is given, run by the one
 * cluster launcher (`@fastchat/server/cluster_launcher`): the embedded
 * database in memory (unless `--db` names a PostgreSQL), S chat servers
 * (`--scrypt-n N --auth-rate R --max-preauth-per-address 1000`) and the
 * load balancer (`--rate 0 --max-per-address 10000`). Every perf client
 * comes from 127.0.0.1, so the per-address limits of the LB and the
 * servers' register/login and pre-login connection limits must not apply
 * to it. Also: the servers' RSS (`--idle`) and every process's CPU time.
 *
 * @example
 * ```ts
 * import { clusterCpuSeconds, startPerfCluster } from "./perf_cluster.ts";
 * const cluster = await startPerfCluster({ servers: 2, scryptN: 16384, logDir: "/tmp/logs" });
 * console.log(cluster.lbAddress, await clusterCpuSeconds(cluster));
 * await cluster.stop();
 * ```
 * @module
 */
import type { FabricConfig } from "@fastchat/server/fabric_config";
import { ClusterLauncher } from "@fastchat/server/cluster_launcher";
import { readCpuSeconds, readVmRssKb } from "./idle_mode.ts";

/**
 * Register/login requests per second per address the perf cluster's servers
 * allow: all perf clients share 127.0.0.1, where production servers allow 5.
 *
 * @example
 * ```ts
 * import { PERF_AUTH_RATE } from "./perf_cluster.ts";
 * console.log(`--auth-rate ${PERF_AUTH_RATE}`);
 * ```
 */
export const PERF_AUTH_RATE = 2000;

/**
 * Options of {@link startPerfCluster}.
 *
 * @example
 * ```ts
 * import type { PerfClusterOptions } from "./perf_cluster.ts";
 * const o: PerfClusterOptions = { servers: 2, scryptN: 16384, logDir: "/tmp/run/logs" };
 * ```
 */
export interface PerfClusterOptions {
  servers: number;
  /** PostgreSQL URL; absent: the embedded database in memory. */
  db?: string | null;
  /** Servers' `--scrypt-n`. */
  scryptN: number;
  /** Servers' `--auth-rate` (default {@link PERF_AUTH_RATE}). */
  authRate?: number;
  /** Where process output is written when the cluster stops. */
  logDir: string;
  /** Called once when a process exits that was neither killed nor stopped by us. */
  onUnexpectedExit?: (name: string, code: number) => void;
  /** Deadline for the peer mesh (default 30 s). */
  meshTimeoutMs?: number;
  /** Write V8 CPU profiles of every process (`deno run --cpu-prof`) into this directory. */
  cpuProfDir?: string;
  /** How the servers reach each other (default direct peer links). */
  fabric?: FabricConfig;
}

/**
 * Starts the perf cluster; on failure stops what started and throws.
 *
 * @example
 * ```ts
 * import { startPerfCluster } from "./perf_cluster.ts";
 * const cluster = await startPerfCluster({ servers: 1, scryptN: 1024, logDir: "/tmp/logs" });
 * await cluster.kill(cluster.servers[0].id); // what --kill-one does
 * await cluster.stop();
 * ```
 */
export function startPerfCluster(o: PerfClusterOptions): Promise<ClusterLauncher> {
  return ClusterLauncher.start({
    dbUrl: o.db ?? undefined,
    servers: o.servers,
    fabric: o.fabric,
    serverArgs: [
      "--scrypt-n",
      String(o.scryptN),
      "--auth-rate",
      String(o.authRate ?? PERF_AUTH_RATE),
      // One address for every client: only the total pre-login cap applies.
      "--max-preauth-per-address",
      "1000",
    ],
    lbArgs: ["--rate", "0", "--max-per-address", "10000"],
    logDir: o.logDir,
    onUnexpectedExit: o.onUnexpectedExit,
    meshTimeoutMs: o.meshTimeoutMs ?? 30_000,
    cpuProfDir: o.cpuProfDir,
    keepLines: 200_000,
  });
}

/**
 * VmRSS in KiB of every running server, by id.
 *
 * @example
 * ```ts
 * import { serverRss } from "./perf_cluster.ts";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * declare const cluster: ClusterLauncher;
 * const total = [...(await serverRss(cluster)).values()].reduce((a, b) => a + b, 0);
 * ```
 */
export async function serverRss(cluster: ClusterLauncher): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of cluster.running()) out.set(s.id, await readVmRssKb(s.pid));
  return out;
}

/**
 * CPU seconds used so far by each running process (db, lb, srv-n), by name.
 *
 * @example
 * ```ts
 * import { clusterCpuSeconds } from "./perf_cluster.ts";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * declare const cluster: ClusterLauncher;
 * console.log(await clusterCpuSeconds(cluster)); // { db: 1.2, "srv-1": 3.4, … }
 * ```
 */
export async function clusterCpuSeconds(cluster: ClusterLauncher): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of cluster.processes.members) {
    if (!m.proc.done) out[m.name] = await readCpuSeconds(m.pid);
  }
  return out;
}
