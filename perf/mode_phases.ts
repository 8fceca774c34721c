/**
 * What `--mode group` and `--mode file` change in a run's phases: the
 * prepare phase before the key warm-up (groups created, test files
 * written), how many receptions each message makes (N-1 in a group of N),
 * whether delivery receipts come back (not for groups), and the warm-up
 * receptions to wait for.
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import { receptionsPerMessage } from "./mode_phases.ts";
 * const cfg = parseRunArgs(["--clients", "6", "--messages", "2", "--mode", "group", "--group-size", "3"]);
 * receptionsPerMessage(cfg); // 2
 * ```
 * @module
 */
import { nowMs } from "./clock.ts";
import { cpuDiff, type PhaseStats, phaseStats } from "./phase_stats.ts";
import { log } from "./progress_view.ts";
import type { RunConfig, RunRecord } from "./run_schema.ts";
import type { FileModeRecord } from "./file_mode.ts";
import { groupPlan } from "./group_plan.ts";
import type { PhaseContext } from "./setup_phases.ts";

/**
 * Receptions one sent message makes: 1 for a DM or a file, N-1 in a group of N.
 *
 * @example
 * ```ts
 * import { receptionsPerMessage } from "./mode_phases.ts";
 * receptionsPerMessage({ mode: "group", groupSize: 10 }); // 9
 * ```
 */
export function receptionsPerMessage(cfg: Pick<RunConfig, "mode" | "groupSize">): number {
  return cfg.mode === "group" ? cfg.groupSize! - 1 : 1;
}

/**
 * What is sent, for the "go" log line.
 *
 * @example
 * ```ts
 * import { describeMode } from "./mode_phases.ts";
 * describeMode({ mode: "file", fileBytes: 1048576, payloadBytes: 100 }); // "files of 1048576 B"
 * ```
 */
export function describeMode(
  cfg: Pick<RunConfig, "mode" | "groupSize" | "groupSenders" | "fileBytes" | "payloadBytes">,
): string {
  if (cfg.mode === "file") return `files of ${cfg.fileBytes} B`;
  const payload = `payload ${cfg.payloadBytes} B`;
  if (cfg.mode === "dm") return payload;
  return `${payload} to groups of ${cfg.groupSize} (${cfg.groupSenders} sender(s) each)`;
}

/**
 * Clients that send: every client, or in group mode `--group-senders` per group.
 *
 * @example
 * ```ts
 * import { sendingClients } from "./mode_phases.ts";
 * sendingClients({ mode: "group", clients: 100, groupSize: 10, groupSenders: 1 }); // 10
 * ```
 */
export function sendingClients(
  cfg: Pick<RunConfig, "mode" | "clients" | "groupSize" | "groupSenders">,
): number {
  return cfg.mode === "group" ? groupWarmupMessages(cfg) : cfg.clients;
}

/**
 * Whether senders get delivery receipts (`delivered`): not for group messages.
 *
 * @example
 * ```ts
 * import { hasReceipts } from "./mode_phases.ts";
 * hasReceipts({ mode: "group" }); // false
 * ```
 */
export function hasReceipts(cfg: Pick<RunConfig, "mode">): boolean {
  return cfg.mode !== "group";
}

/**
 * Group-mode key warm-up messages: one per sender (each hands its sender key
 * to the other members and posts once).
 *
 * @example
 * ```ts
 * import { groupWarmupMessages } from "./mode_phases.ts";
 * groupWarmupMessages({ clients: 100, groupSize: 10, groupSenders: 2 }); // 20
 * ```
 */
export function groupWarmupMessages(
  cfg: Pick<RunConfig, "clients" | "groupSize" | "groupSenders">,
): number {
  return (cfg.clients / cfg.groupSize!) * (cfg.groupSenders ?? cfg.groupSize!);
}

/**
 * The prepare phase of group and file runs: every group's first member
 * creates it with the others; file senders write their test files. Null
 * (nothing done) in dm mode.
 *
 * @example
 * ```ts
 * import { preparePhase } from "./mode_phases.ts";
 * import type { PhaseContext } from "./setup_phases.ts";
 * declare const ctx: PhaseContext;
 * (await preparePhase(ctx))?.count; // groups created, or files written
 * ```
 */
export async function preparePhase(ctx: PhaseContext): Promise<PhaseStats | null> {
  const c = ctx.cfg;
  if (c.mode === "dm") return null;
  const count = c.mode === "group" ? c.clients / c.groupSize! : c.clients * (c.messages ?? 0);
  const what = c.mode === "group"
    ? `${count} group(s) of ${c.groupSize}`
    : `${count} test file(s) of ${c.fileBytes} bytes`;
  log(`preparing ${what}`);
  const cpu0 = await ctx.cpuSeconds();
  const t0 = nowMs();
  await ctx.pool.broadcast({ cmd: "prepare" });
  await ctx.abort.guard(ctx.pool.waitAll("prepared"));
  const stats = phaseStats(count, nowMs() - t0);
  stats.cpuSeconds = cpuDiff(cpu0, await ctx.cpuSeconds());
  log(`prepared ${what} in ${(stats.ms / 1000).toFixed(1)} s`);
  return stats;
}

/**
 * What group and file runs add to `run.json`: the prepare phase, the groups
 * and their members (`groups`), the cluster's memory (`file`).
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import { modeRecordParts } from "./mode_phases.ts";
 * const cfg = parseRunArgs(["--clients", "4", "--messages", "1", "--mode", "group", "--group-size", "2"]);
 * modeRecordParts(cfg, null).groups?.length; // 2
 * ```
 */
export function modeRecordParts(
  cfg: RunConfig,
  file: FileModeRecord | null,
): Partial<RunRecord> {
  if (cfg.mode === "dm") return {};
  const out: Partial<RunRecord> = {};
  if (cfg.mode === "group") {
    out.groups = groupPlan({ seed: cfg.seed, clients: cfg.clients, groupSize: cfg.groupSize! });
  }
  if (file) out.file = file;
  return out;
}
