/**
 * The timed phase of a load run: broadcast "go" so every client starts
 * together, show sent/received on stderr, kill a server on the way with
 * `--kill-one`, and end once every sent message was received (and every
 * client of a killed server is back), or when messages are still missing
 * `--drain` after the last send; then wait briefly for the last delivery
 * receipts. The phase is recorded in `phases.messaging` even when aborted.
 *
 * @example
 * ```ts
 * import { type MessagingContext, messagingPhase } from "./messaging_phase.ts";
 * declare const ctx: MessagingContext;
 * await messagingPhase(ctx);
 * ctx.phases.messaging?.completed;
 * ```
 * @module
 */
import { nowMs, sleep } from "./clock.ts";
import type { ClusterLauncher } from "@fastchat/server/cluster_launcher";
import type { ConnectionLedger } from "./connection_ledger.ts";
import { killBusiestServer, killIsDue } from "./kill_one.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import { cpuDiff, type RunPhaseStats } from "./phase_stats.ts";
import { log, ProgressView } from "./progress_view.ts";
import { sumProgress } from "./worker_protocol.ts";
import type { SendModel } from "./run_schema.ts";
import type { PhaseContext } from "./setup_phases.ts";
import { describeMode, hasReceipts, receptionsPerMessage, sendingClients } from "./mode_phases.ts";

/** After all messages arrived: how long to wait for the last delivery receipts. */
const RECEIPT_GRACE_MS = 2_000;

/**
 * What the messaging phase works with.
 *
 * @example
 * ```ts
 * import type { LoadRun } from "./load_run.ts";
 * import type { MessagingContext } from "./messaging_phase.ts";
 * declare const run: LoadRun;
 * const ctx: MessagingContext = run; // a LoadRun is the context of its phases
 * ```
 */
export interface MessagingContext extends PhaseContext {
  /** The cluster perf started (null with `--lb`). */
  cluster: ClusterLauncher | null;
  connections: ConnectionLedger;
  /** Where the phase is recorded. */
  phases: RunPhaseStats;
}

/**
 * The send model as the "go" log line describes it.
 *
 * @example
 * ```ts
 * import { describeSendModel } from "./messaging_phase.ts";
 * describeSendModel({ kind: "window", window: 16 }); // "closed loop, window 16"
 * ```
 */
export function describeSendModel(s: SendModel): string {
  if (s.kind === "window") return `closed loop, window ${s.window}`;
  if (s.kind === "rate") return `open loop, ${s.perSecond} msg/s in total`;
  const d = s.delay;
  return `open loop, delay ${d.dist}:${d.dist === "const" ? d.ms : d.meanMs}ms${
    d.dist === "normal" ? `,${d.sdMs}ms` : ""
  }`;
}

/**
 * When messaging ends, judged on each progress reading: `"completed"` once
 * every worker finished sending and every sent message was received or
 * failed (and every client of a killed server is back); `"drain-timeout"`
 * when messages are still missing `drainMs` after the last send (or after
 * the first reading with all workers done, if later); else null.
 *
 * @example
 * ```ts
 * import { MessagingEnd } from "./messaging_phase.ts";
 * import { sumProgress } from "./worker_protocol.ts";
 * const end = new MessagingEnd(30_000);
 * end.check(sumProgress([]), 1000, true); // null: no worker is done
 * ```
 */
export class MessagingEnd {
  #doneAt = 0;

  /** `perMessage`: receptions each sent message makes (N-1 for a group of N). */
  constructor(readonly drainMs: number, readonly perMessage = 1) {}

  check(
    p: WorkerProgress & { allDone: boolean },
    now: number,
    allBack: boolean,
  ): "completed" | "drain-timeout" | null {
    if (!p.allDone) return null;
    this.#doneAt ||= now;
    const n = this.perMessage;
    if (p.received + p.failed * n >= p.sent * n && allBack) return "completed";
    if (now - Math.max(p.lastSendMs, this.#doneAt) > this.drainMs) return "drain-timeout";
    return null;
  }
}

/**
 * Runs the messaging phase and records it in `ctx.phases.messaging`.
 *
 * @example
 * ```ts
 * import { type MessagingContext, messagingPhase } from "./messaging_phase.ts";
 * declare const ctx: MessagingContext;
 * await messagingPhase(ctx);
 * ```
 */
export async function messagingPhase(ctx: MessagingContext): Promise<void> {
  const { cfg: c, pool, abort, connections } = ctx;
  const total = c.messages !== null ? sendingClients(c) * c.messages : null;
  const cpu0 = await ctx.cpuSeconds();
  const startMs = nowMs();
  connections.messaging = true;
  await pool.broadcast({ cmd: "go", startMs });
  log(
    `go: ${
      total !== null
        ? `${total} messages (${c.messages} per sending client)`
        : `for ${c.durationMs} ms`
    }, ` +
      `${describeSendModel(c.send)}, ${describeMode(c)}`,
  );
  const view = new ProgressView(total, c.durationMs);
  view.start();
  const end = new MessagingEnd(c.drainMs, receptionsPerMessage(c));
  let completed = false;
  let drainTimedOut = false;
  let p = sumProgress([]);
  try {
    while (true) {
      await abort.guard(sleep(100));
      p = pool.progress();
      const now = nowMs();
      view.update(p, now - startMs);
      if (
        c.killOne && !connections.tracker && killIsDue(p.sent, now - startMs, total, c.durationMs)
      ) {
        await abort.guard(killBusiestServer(ctx.cluster!, connections));
      }
      const verdict = end.check(p, now, !connections.tracker || connections.tracker.allBack);
      if (verdict === "completed") {
        completed = true;
        break;
      }
      if (verdict === "drain-timeout") {
        drainTimedOut = true;
        break;
      }
    }
    const graceEnd = nowMs() + RECEIPT_GRACE_MS;
    while (completed && hasReceipts(c) && p.delivered < p.received && nowMs() < graceEnd) {
      await abort.guard(sleep(50));
      p = pool.progress();
    }
  } finally {
    view.stop();
    p = pool.progress();
    const endMs = p.lastRecvMs || nowMs();
    const cpuSeconds = cpuDiff(cpu0, await ctx.cpuSeconds());
    ctx.phases.messaging = {
      startMs,
      endMs,
      lastSendMs: p.lastSendMs,
      completed,
      drainTimedOut,
      cpuSeconds,
    };
  }
  if (drainTimedOut) {
    log(
      `drain timeout: ${
        (p.sent - p.failed) * receptionsPerMessage(c) - p.received
      } reception(s) still missing ` +
        `${c.drainMs / 1000} s after the last send`,
    );
  }
}
