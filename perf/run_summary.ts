/**
 * The summary a load run prints on stdout when it ends: register and login
 * rates, messages sent and received with the throughput, the `--kill-one`
 * outcome (and `reconnect.json` as written, short of its user list), and
 * the run directory.
 *
 * @example
 * ```ts
 * import { formatRunSummary } from "./run_summary.ts";
 * console.log(formatRunSummary({
 *   interrupted: false, phases: {}, final: null, reconnect: null, runDir: "/tmp/run",
 * })); // "run directory: /tmp/run"
 * ```
 * @module
 */
import type { ReconnectRecord } from "./kill_one.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import type { RunPhaseStats } from "./phase_stats.ts";

/**
 * What the summary is made of.
 *
 * @example
 * ```ts
 * import { formatRunSummary, type RunSummaryFacts } from "./run_summary.ts";
 * const facts: RunSummaryFacts = {
 *   interrupted: false, phases: {}, final: null, reconnect: null, runDir: "/tmp/run",
 * };
 * console.log(formatRunSummary(facts));
 * ```
 */
export interface RunSummaryFacts {
  interrupted: boolean;
  phases: RunPhaseStats;
  /** The workers' summed final progress; null if none ran. */
  final: WorkerProgress | null;
  reconnect: ReconnectRecord | null;
  runDir: string;
}

/**
 * The summary text (without a final newline).
 *
 * @example
 * ```ts
 * import { formatRunSummary } from "./run_summary.ts";
 * formatRunSummary({
 *   interrupted: true, phases: {}, final: null, reconnect: null, runDir: "/tmp/run",
 * }); // "INTERRUPTED (partial results)\nrun directory: /tmp/run"
 * ```
 */
export function formatRunSummary(f: RunSummaryFacts): string {
  const p = f.final;
  const m = f.phases.messaging;
  const blocks: string[] = [];
  const lines: string[] = [];
  if (f.interrupted) lines.push("INTERRUPTED (partial results)");
  const r = f.phases.register;
  const l = f.phases.login;
  if (r && l) {
    lines.push(
      `register ${r.count} in ${(r.ms / 1000).toFixed(2)} s (${r.perSecond}/s); ` +
        `login ${l.count} in ${(l.ms / 1000).toFixed(2)} s (${l.perSecond}/s)`,
    );
  }
  if (p && m) {
    const secs = (m.endMs - m.startMs) / 1000;
    const missing = Math.max(0, p.sent - p.received - p.failed);
    lines.push(
      `sent ${p.sent}, received ${p.received}${missing ? ` (${missing} missing)` : ""}, ` +
        `${(p.received / Math.max(secs, 1e-9)).toFixed(0)} msgs/s over ${secs.toFixed(2)} s` +
        (p.errors ? `, ${p.errors} errors` : ""),
    );
  }
  if (f.reconnect) {
    const k = f.reconnect;
    lines.push(
      `kill-one: ${k.server} (${k.clients} clients): ${
        k.allReconnected
          ? `all reconnected after ${k.recoveryMs} ms`
          : `${k.reconnected} reconnected`
      }; lost ${k.messages?.lost ?? "?"}, duplicated ${k.messages?.duplicated ?? "?"}`,
    );
    // Printed as written, except the (long) list of the killed server's users.
    const { users, ...shown } = k;
    blocks.push(
      JSON.stringify({ ...shown, users: `${users.length} (see reconnect.json)` }, null, 2),
    );
  }
  lines.push(`run directory: ${f.runDir}`);
  blocks.push(lines.join("\n"));
  return blocks.join("\n");
}
