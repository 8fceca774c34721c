/**
 * `--kill-one` in a run: when to kill, killing the server with the most
 * clients (its clients then followed by a {@link ReconnectTracker}), and
 * after the run `reconnect.json`: the tracker's summary plus the lost and
 * duplicated messages found in the client CSVs, each lost one placed
 * relative to the kill.
 *
 * @example
 * ```ts
 * import { killBusiestServer, killIsDue, reconnectRecord, writeReconnectRecord } from "./kill_one.ts";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * import type { ConnectionLedger } from "./connection_ledger.ts";
 * declare const cluster: ClusterLauncher;
 * declare const connections: ConnectionLedger;
 * if (killIsDue(250, 1000, 1000, null)) await killBusiestServer(cluster, connections);
 * const record = await reconnectRecord(connections.tracker!, "/tmp/run");
 * await writeReconnectRecord(record, "/tmp/run");
 * ```
 * @module
 */
import { nowMs } from "./clock.ts";
import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
import type { ConnectionLedger } from "./connection_ledger.ts";
import { KILL_AT_FRACTION } from "./load_plan.ts";
import { log } from "./progress_view.ts";
import {
  checkClientLogs,
  chooseVictim,
  type DeliveryCheck,
  type ReconnectSummary,
  ReconnectTracker,
} from "./reconnect_mode.ts";

/**
 * The content of `reconnect.json`: reconnect timing and the delivery check (null if unreadable).
 *
 * @example
 * ```ts
 * import type { ReconnectRecord } from "./kill_one.ts";
 * const r: ReconnectRecord = JSON.parse(await Deno.readTextFile("perf/out/run-1/reconnect.json"));
 * console.log(r.recoveryMs, r.messages?.lost);
 * ```
 */
export type ReconnectRecord = ReconnectSummary & { messages: DeliveryCheck | null };

/**
 * Whether to kill now: once {@link KILL_AT_FRACTION} of the `total`
 * messages is sent, or (with `--duration`, `total` null) of the duration
 * has passed since "go".
 *
 * @example
 * ```ts
 * import { killIsDue } from "./kill_one.ts";
 * killIsDue(100, 0, 1000, null); // false
 * killIsDue(0, 2500, null, 10_000); // true
 * ```
 */
export function killIsDue(
  sent: number,
  elapsedMs: number,
  total: number | null,
  durationMs: number | null,
): boolean {
  return total !== null
    ? sent >= KILL_AT_FRACTION * total
    : elapsedMs >= KILL_AT_FRACTION * durationMs!;
}

/**
 * SIGKILLs the live server with the most clients; its clients are
 * followed by `connections.tracker` from just before the kill on.
 *
 * @example
 * ```ts
 * import { killBusiestServer } from "./kill_one.ts";
 * import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
 * import { ConnectionLedger } from "./connection_ledger.ts";
 * declare const cluster: ClusterLauncher;
 * const connections = new ConnectionLedger();
 * await killBusiestServer(cluster, connections);
 * connections.tracker?.server; // e.g. "srv-1"
 * ```
 */
export async function killBusiestServer(
  cluster: ClusterLauncher,
  connections: ConnectionLedger,
): Promise<void> {
  const alive = cluster.servers.filter((s) => !s.killed).map((s) => s.id);
  const victim = chooseVictim(connections.serverOf, alive)!;
  const tracker = new ReconnectTracker(victim.server, victim.users, nowMs());
  connections.tracker = tracker;
  log(`--kill-one: SIGKILL ${victim.server} (${victim.users.length} clients)`);
  await cluster.kill(victim.server);
  tracker.waitAllBack().then(() => {
    const s = tracker.summary();
    log(`--kill-one: all ${s.clients} clients of ${s.server} reconnected after ${s.recoveryMs} ms`);
  });
}

/**
 * `check` with each lost message placed relative to the kill: sent how
 * long after it (ms), and whether its sender or recipient was a client of
 * the killed server.
 *
 * @example
 * ```ts
 * import { placeLostMessages } from "./kill_one.ts";
 * import { deliveryCheck, ReconnectTracker } from "./reconnect_mode.ts";
 * const check = deliveryCheck([{ id: "m", event: "sent", user: "a", peer: "b", timeMs: 1500 }]);
 * const summary = new ReconnectTracker("srv-1", ["a"], 1000).summary();
 * placeLostMessages(check, summary).lostDetails[0].sentAfterKillMs; // 500
 * ```
 */
export function placeLostMessages(
  check: DeliveryCheck,
  summary: ReconnectSummary,
): DeliveryCheck & {
  lostDetails: {
    sentAfterKillMs: number;
    fromOnKilledServer: boolean;
    toOnKilledServer: boolean;
  }[];
} {
  const onKilled = new Set(summary.users);
  return {
    ...check,
    lostDetails: check.lostDetails.map((l) => ({
      ...l,
      sentAfterKillMs: Math.round((l.sentMs - summary.killedAtMs) * 1000) / 1000,
      fromOnKilledServer: onKilled.has(l.from),
      toOnKilledServer: onKilled.has(l.to),
    })),
  };
}

/**
 * After the run: the tracker's summary and the delivery check of the run's
 * client CSVs (null, logged, if they cannot be read).
 *
 * @example
 * ```ts
 * import { reconnectRecord } from "./kill_one.ts";
 * import { ReconnectTracker } from "./reconnect_mode.ts";
 * const record = await reconnectRecord(new ReconnectTracker("srv-1", [], 0), "/tmp/run");
 * record.messages?.lost;
 * ```
 */
export async function reconnectRecord(
  tracker: ReconnectTracker,
  runDir: string,
): Promise<ReconnectRecord> {
  let messages: DeliveryCheck | null = null;
  try {
    messages = await checkClientLogs(runDir);
  } catch (e) {
    log(`reading CSVs for --kill-one: ${e}`);
  }
  const summary = tracker.summary();
  return { ...summary, messages: messages && placeLostMessages(messages, summary) };
}

/**
 * Writes `<runDir>/reconnect.json`.
 *
 * @example
 * ```ts
 * import { reconnectRecord, writeReconnectRecord } from "./kill_one.ts";
 * import { ReconnectTracker } from "./reconnect_mode.ts";
 * const tracker = new ReconnectTracker("srv-1", [], 0);
 * await writeReconnectRecord(await reconnectRecord(tracker, "/tmp/run"), "/tmp/run");
 * ```
 */
export async function writeReconnectRecord(record: ReconnectRecord, runDir: string): Promise<void> {
  await Deno.writeTextFile(`${runDir}/reconnect.json`, JSON.stringify(record, null, 2) + "\n");
}
