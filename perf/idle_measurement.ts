/**
 * `--idle` in a run: while the clients log in, sample connected clients
 * against the servers' total RSS (for the marginal cost per connection);
 * once all are connected and settled, read each server's RSS again, write
 * `idle.json` (see {@link idleReport}) and print the report.
 *
 * @example
 * ```ts
 * import { type IdleContext, measureIdle, RssSampler, writeIdleRecord } from "./idle_measurement.ts";
 * import { serverRss } from "./perf_cluster.ts";
 * import { sumProgress } from "./worker_protocol.ts";
 * declare const ctx: IdleContext;
 * const before = await serverRss(ctx.cluster);
 * const sampler = new RssSampler(ctx.cluster, () => sumProgress([]));
 * // … the clients log in …
 * sampler.stop();
 * await writeIdleRecord(await measureIdle(ctx, before, sampler.samples), ctx.runDir);
 * ```
 * @module
 */
import { nowMs, sleep } from "./clock.ts";
import type { ClusterLauncher, ClusterMember } from "@fastchat/server/cluster_launcher";
import { serverRss } from "./perf_cluster.ts";
import type { ConnectionLedger } from "./connection_ledger.ts";
import {
  formatIdleReport,
  IDLE_LOGIN_READ_MS,
  type IdleReport,
  idleReport,
  type RssSample,
  type ServerRss,
} from "./idle_mode.ts";
import { IDLE_SETTLE_RULE, IdleSettle, type IdleSettleRule } from "./idle_settle.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import { log } from "./progress_view.ts";
import type { RunAbort } from "./run_abort.ts";

/**
 * Samples connected clients (registered + logged in) and the servers'
 * total RSS every 500 ms until stopped.
 *
 * @example
 * ```ts
 * import { RssSampler } from "./idle_measurement.ts";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * import { sumProgress } from "./worker_protocol.ts";
 * declare const cluster: ClusterLauncher;
 * const sampler = new RssSampler(cluster, () => sumProgress([]));
 * sampler.stop();
 * sampler.samples.length;
 * ```
 */
export class RssSampler {
  readonly samples: RssSample[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(cluster: ClusterLauncher, progress: () => WorkerProgress) {
    const t0 = nowMs();
    let busy = false;
    this.#timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const p = progress();
        const rss = await serverRss(cluster);
        this.samples.push({
          tMs: Math.round(nowMs() - t0),
          connections: p.registered + p.loggedIn,
          rssKB: [...rss.values()].reduce((a, b) => a + b, 0),
        });
      } finally {
        busy = false;
      }
    }, 500);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Each server's readings: RSS `before` the clients, `atLogin` (if read)
 * and `after` them (NaN if unreadable) and the clients it holds.
 *
 * @example
 * ```ts
 * import { idleServerReadings } from "./idle_measurement.ts";
 * idleServerReadings(
 *   [{ id: "srv-1", pid: 10 }],
 *   new Map([["srv-1", 50_000]]),
 *   new Map([["srv-1", 70_000]]),
 *   { "srv-1": 1000 },
 * ); // [{ id: "srv-1", pid: 10, before: 50000, after: 70000, clients: 1000 }]
 * ```
 */
export function idleServerReadings(
  servers: readonly Pick<ClusterMember, "id" | "pid">[],
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  clientsPerServer: Readonly<Record<string, number>>,
  atLogin?: ReadonlyMap<string, number>,
): ServerRss[] {
  return servers.map((s) => ({
    id: s.id,
    pid: s.pid,
    before: before.get(s.id) ?? NaN,
    ...(atLogin ? { atLogin: atLogin.get(s.id) ?? NaN } : {}),
    after: after.get(s.id) ?? NaN,
    clients: clientsPerServer[s.id] ?? 0,
  }));
}

/**
 * What {@link measureIdle} works with.
 *
 * @example
 * ```ts
 * import type { IdleContext } from "./idle_measurement.ts";
 * import type { LoadRun } from "./load_run.ts";
 * declare const run: LoadRun;
 * const ctx: IdleContext = {
 *   cluster: run.cluster!,
 *   connections: run.connections,
 *   abort: run.abort,
 *   clients: run.cfg.clients,
 *   runDir: run.dir,
 * };
 * ```
 */
export interface IdleContext {
  cluster: ClusterLauncher;
  connections: ConnectionLedger;
  abort: RunAbort;
  /** The idle clients of the run. */
  clients: number;
  runDir: string;
}

/**
 * With every idle client connected: reads the servers' RSS after
 * {@link IDLE_LOGIN_READ_MS}, then every second until each server's RSS has
 * settled ({@link IdleSettle}: the login burst's garbage given back and the
 * RSS flat, or {@link IDLE_SETTLE_RULE}'s limit), and reports the cost per
 * connection from the settled reading.
 *
 * @example
 * ```ts
 * import { type IdleContext, measureIdle } from "./idle_measurement.ts";
 * declare const ctx: IdleContext;
 * const report = await measureIdle(ctx, new Map(), []);
 * report.total.kbPerConnection;
 * ```
 */
export async function measureIdle(
  ctx: IdleContext,
  before: ReadonlyMap<string, number>,
  samples: RssSample[],
  rule: IdleSettleRule = IDLE_SETTLE_RULE,
): Promise<IdleReport> {
  log(
    `all ${ctx.clients} idle clients connected; reading RSS after ${
      IDLE_LOGIN_READ_MS / 1000
    } s and every second until it settles (${rule.minMs / 1000}–${rule.maxMs / 1000} s)`,
  );
  const t0 = nowMs();
  const settle = new IdleSettle(rule);
  let atLogin: ReadonlyMap<string, number> | undefined;
  let after: ReadonlyMap<string, number> = new Map();
  while (true) {
    const t = nowMs() - t0;
    after = await serverRss(ctx.cluster);
    if (!atLogin && t >= IDLE_LOGIN_READ_MS) atLogin = after;
    for (const [id, kb] of after) settle.add(id, t, kb);
    if (atLogin && settle.settled()) break;
    await ctx.abort.guard(sleep(1000 - ((nowMs() - t0) % 1000)));
  }
  const settledMs = Math.round(nowMs() - t0);
  const given = ctx.cluster.servers.filter((s) => settle.reclaimed(s.id)).length;
  log(
    `settled ${
      (settledMs / 1000).toFixed(0)
    } s after the last login; ${given} of ${ctx.cluster.servers.length} server(s) gave the login burst's heap back`,
  );
  return {
    ...idleReport(
      idleServerReadings(
        ctx.cluster.servers,
        before,
        after,
        ctx.connections.clientsPerServer(),
        atLogin,
      ),
      samples,
    ),
    settledMs,
  };
}

/**
 * Writes `<runDir>/idle.json` and prints the report's table on stdout.
 *
 * @example
 * ```ts
 * import { writeIdleRecord } from "./idle_measurement.ts";
 * import { idleReport } from "./idle_mode.ts";
 * await writeIdleRecord(idleReport([]), "/tmp/run");
 * ```
 */
export async function writeIdleRecord(report: IdleReport, runDir: string): Promise<void> {
  await Deno.writeTextFile(`${runDir}/idle.json`, JSON.stringify(report, null, 2) + "\n");
  console.log(formatIdleReport(report));
}
