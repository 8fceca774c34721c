/**
 * Builds `run.json` ({@link RunRecord}, the run schema of `run_schema.ts`)
 * at the end of a load run, the record that `perf/analyze.ts` reads: the
 * configuration and command line, software versions and machine, start
 * and end, whether it was interrupted or failed, the phases, the summed
 * results of the workers, where the clients were connected, and the
 * processes (workers, LB, database, servers), plus the `--idle` and
 * `--kill-one` reports.
 *
 * @example
 * ```ts
 * import { runRecord, writeRunRecord, type RunFacts } from "./run_record.ts";
 * declare const facts: RunFacts;
 * await writeRunRecord(runRecord(facts), "/tmp/run");
 * ```
 * @module
 */
import { FASTCHAT_VERSION } from "@fastchat/lib/version";
import type { ClusterMember } from "@fastchat/server/cluster_launcher";
import type { ConnectionLedger } from "./connection_ledger.ts";
import type { HostStalls } from "./host_stalls.ts";
import type { IdleReport } from "./idle_mode.ts";
import type { ReconnectRecord } from "./kill_one.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import type { RunPhaseStats } from "./phase_stats.ts";
import type { RunConfig, RunRecord } from "./run_schema.ts";

/**
 * The parts of a started cluster `run.json` names.
 *
 * @example
 * ```ts
 * import type { ClusterFacts } from "./run_record.ts";
 * const cluster: ClusterFacts = {
 *   servers: [{ id: "srv-1", address: "127.0.0.1:7001", pid: 11, killed: false }],
 *   lbAddress: "127.0.0.1:7700",
 *   lbPid: 9,
 *   dbPid: null,
 * };
 * ```
 */
export interface ClusterFacts {
  servers: readonly Pick<ClusterMember, "id" | "address" | "pid" | "killed">[];
  lbAddress: string;
  lbPid: number;
  dbPid: number | null;
}

/**
 * Everything `run.json` is made of.
 *
 * @example
 * ```ts
 * import { type RunFacts, runRecord } from "./run_record.ts";
 * declare const facts: RunFacts;
 * runRecord(facts).config.clients;
 * ```
 */
export interface RunFacts {
  cfg: RunConfig;
  startedAt: Date;
  endedAt: Date;
  interrupted: boolean;
  failure: Error | null;
  phases: RunPhaseStats;
  /** The workers' summed final progress; null if none ran. */
  final: WorkerProgress | null;
  connections: Pick<
    ConnectionLedger,
    | "serverOf"
    | "serverAddress"
    | "disconnects"
    | "disconnectCodes"
    | "reconnects"
    | "clientsPerServer"
  >;
  workers: { index: number; pid: number }[];
  /** The cluster perf started; null with `--lb` (servers then come from the clients' reports). */
  cluster: ClusterFacts | null;
  idle: IdleReport | null;
  reconnect: ReconnectRecord | null;
  /** The host check before the run; null if skipped (`--host-check 0s`) or not reached. */
  hostStalls?: HostStalls | null;
  /** `--mode group`/`file`: `groups`, `file` (`mode_phases.ts`). */
  modeParts?: Pick<RunRecord, "groups" | "file">;
}

/**
 * Deno, V8, TypeScript and FastChat versions of this process.
 *
 * @example
 * ```ts
 * import { runVersions } from "./run_record.ts";
 * runVersions().deno; // e.g. "2.9.6"
 * ```
 */
export function runVersions(): { deno: string; v8: string; typescript: string; fastchat: string } {
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    fastchat: FASTCHAT_VERSION,
  };
}

/**
 * Cores, memory, OS, architecture and host name of this machine.
 *
 * @example
 * ```ts
 * import { runMachine } from "./run_record.ts";
 * runMachine().cores; // e.g. 8
 * ```
 */
export function runMachine(): {
  cores: number;
  memoryBytes: number;
  os: string;
  arch: string;
  hostname: string;
} {
  return {
    cores: navigator.hardwareConcurrency,
    memoryBytes: Deno.systemMemoryInfo().total,
    os: Deno.build.os,
    arch: Deno.build.arch,
    hostname: Deno.hostname(),
  };
}

/**
 * The content of `run.json` (fields in the order written).
 *
 * @example
 * ```ts
 * import { runRecord, type RunFacts } from "./run_record.ts";
 * declare const facts: RunFacts;
 * runRecord(facts).results?.missing;
 * ```
 */
export function runRecord(f: RunFacts): RunRecord {
  const c = f.cfg;
  const p = f.final;
  const m = f.phases.messaging;
  const secs = m ? (m.endMs - m.startMs) / 1000 : 0;
  const servers = f.cluster
    ? f.cluster.servers.map((s) => ({ id: s.id, address: s.address, pid: s.pid, killed: s.killed }))
    : [...f.connections.serverAddress].sort().map(([id, address]) => ({
      id,
      address,
      pid: null as number | null,
      killed: false,
    }));
  return {
    config: c,
    versions: runVersions(),
    machine: runMachine(),
    ...(f.hostStalls ? { hostStalls: f.hostStalls } : {}),
    startedAt: f.startedAt.toISOString(),
    endedAt: f.endedAt.toISOString(),
    interrupted: f.interrupted,
    ...(f.failure ? { error: f.failure.message } : {}),
    phases: {
      register: f.phases.register ?? null,
      login: f.phases.login ?? null,
      warmup: f.phases.warmup ?? null,
      messaging: m ?? null,
      ...(f.phases.prepare ? { prepare: f.phases.prepare } : {}),
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
        disconnects: f.connections.disconnects,
        disconnectCodes: f.connections.disconnectCodes,
        reconnects: f.connections.reconnects,
      }
      : null,
    workers: f.workers,
    clientsPerServer: f.connections.clientsPerServer(),
    lb: f.cluster
      ? { address: f.cluster.lbAddress, pid: f.cluster.lbPid, rate: 0 }
      : { address: c.lb, pid: null },
    db: f.cluster
      ? { kind: c.db ? "postgres" : "embedded-memory", pid: f.cluster.dbPid }
      : { kind: "external" },
    servers,
    ...(f.idle ? { idle: f.idle } : {}),
    ...(f.reconnect ? { reconnect: f.reconnect } : {}),
    ...f.modeParts,
  };
}

/**
 * Writes `<runDir>/run.json`.
 *
 * @example
 * ```ts
 * import { runRecord, type RunFacts, writeRunRecord } from "./run_record.ts";
 * declare const facts: RunFacts;
 * await writeRunRecord(runRecord(facts), "/tmp/run");
 * ```
 */
export async function writeRunRecord(record: RunRecord, runDir: string): Promise<void> {
  await Deno.writeTextFile(`${runDir}/run.json`, JSON.stringify(record, null, 2) + "\n");
}
