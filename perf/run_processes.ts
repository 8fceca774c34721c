/**
 * The processes of a load run that `processes.csv` follows
 * (`process_sampler.ts`): the cluster perf started (embedded database
 * `db`, servers `srv-N`, load balancer `lb`), the load workers
 * `worker-K`, perf itself, and — with `--db URL` on this machine — the
 * PostgreSQL backends serving the cluster (all named `postgres`, role
 * `db`; looked up again every 2 s as connection pools grow).
 *
 * @example
 * ```ts
 * import { RunProcesses } from "./run_processes.ts";
 * const procs = new RunProcesses({ cluster: null, workers: () => [], dbUrl: null });
 * console.log(await procs.list()); // [{ role: "perf", name: "perf", pid: Deno.pid }]
 * ```
 * @module
 */
import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
import { postgresBackendPids } from "./pg_backends.ts";
import type { SampledProcess } from "./process_sampler.ts";

/** How often the backends of an external PostgreSQL are looked up again. */
const BACKEND_REFRESH_MS = 2_000;

/**
 * Where the processes come from.
 *
 * @example
 * ```ts
 * import type { RunProcessSources } from "./run_processes.ts";
 * const s: RunProcessSources = { cluster: null, workers: () => [{ index: 0, pid: 42 }], dbUrl: null };
 * ```
 */
export interface RunProcessSources {
  /** The cluster perf started; null with `--lb`. */
  cluster: ClusterLauncher | null;
  /** The load workers now. */
  workers: () => { index: number; pid: number }[];
  /** `--db URL` (an external PostgreSQL), or null. */
  dbUrl: string | null;
}

/**
 * The run's processes, for {@link ProcessSampler}.
 *
 * @example
 * ```ts
 * import { ProcessSampler } from "./process_sampler.ts";
 * import { RunProcesses } from "./run_processes.ts";
 * const procs = new RunProcesses({ cluster: null, workers: () => [], dbUrl: null });
 * const sampler = await ProcessSampler.start("/tmp/processes.csv", () => procs.list());
 * await sampler.stop();
 * ```
 */
export class RunProcesses {
  #backends: number[] = [];
  #backendsAt = -Infinity;
  readonly #dbPort: number | null;

  constructor(readonly src: RunProcessSources) {
    let port: number | null = null;
    if (src.dbUrl && src.cluster) {
      try {
        const u = new URL(src.dbUrl);
        port = Number(u.port || 5432);
      } catch { /* not a URL: not followed */ }
    }
    this.#dbPort = port;
  }

  /** Whether the database's CPU can be measured (embedded, or PostgreSQL backends on this machine). */
  get databaseFollowed(): boolean {
    return this.src.cluster !== null && (this.src.cluster.db !== null || this.#dbPort !== null);
  }

  /** The processes to sample now. */
  async list(): Promise<SampledProcess[]> {
    const out: SampledProcess[] = [];
    const c = this.src.cluster;
    if (c) {
      if (c.db) out.push({ role: "db", name: c.db.name, pid: c.db.pid });
      for (const s of c.servers) out.push({ role: "server", name: s.name, pid: s.pid });
      for (const l of c.lbs) out.push({ role: "lb", name: l.name, pid: l.pid });
    }
    for (const w of this.src.workers()) {
      out.push({ role: "worker", name: `worker-${w.index}`, pid: w.pid });
    }
    out.push({ role: "perf", name: "perf", pid: Deno.pid });
    if (this.#dbPort !== null && c) {
      const now = performance.now();
      if (now - this.#backendsAt >= BACKEND_REFRESH_MS) {
        this.#backendsAt = now;
        const clients = [...c.servers, ...c.lbs].map((m) => m.pid).concat(Deno.pid);
        this.#backends = await postgresBackendPids(clients, this.#dbPort);
      }
      for (const pid of this.#backends) out.push({ role: "db", name: "postgres", pid });
    }
    return out;
  }
}
