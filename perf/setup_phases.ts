/**
 * The phases before messaging, each timed with the CPU every process used
 * and its progress shown on stderr: register the users `perf-<seed>-<i>`,
 * log them all in, and (unless `--no-warmup`) the key warm-up, where every
 * client messages each peer it will write to, unrecorded, so the timed
 * phase runs between users who already share session keys.
 *
 * @example
 * ```ts
 * import { loginPhase, type PhaseContext, registerPhase } from "./setup_phases.ts";
 * declare const ctx: PhaseContext;
 * const register = await registerPhase(ctx);
 * const login = await loginPhase(ctx);
 * console.log(register.perSecond, login.perSecond);
 * ```
 * @module
 */
import { nowMs, sleep } from "./clock.ts";
import { warmupRecipients } from "./load_plan.ts";
import { peerSets } from "./peer_graph.ts";
import type { WorkerProgress } from "./worker_protocol.ts";
import { cpuDiff, type PhaseStats, phaseStats } from "./phase_stats.ts";
import { log, PhaseView } from "./progress_view.ts";
import type { RunAbort } from "./run_abort.ts";
import type { RunConfig } from "./run_schema.ts";
import type { WorkerPool } from "./worker_pool.ts";
import { groupWarmupMessages, hasReceipts, receptionsPerMessage } from "./mode_phases.ts";
import { auditWarmup, describeGaps } from "./warmup_audit.ts";

/** Pause between the key warm-up and the timed phase. */
const WARMUP_SETTLE_MS = 1_000;
/** Longest wait for every key warm-up message and receipt to arrive. */
const WARMUP_TIMEOUT_MS = 300_000;
/** Longest wait for the workers to list the missing receipts after a warm-up timeout. */
const AUDIT_TIMEOUT_MS = 20_000;

/**
 * What a phase of the run works with.
 *
 * @example
 * ```ts
 * import type { LoadRun } from "./load_run.ts";
 * import type { PhaseContext } from "./setup_phases.ts";
 * declare const run: LoadRun;
 * const ctx: PhaseContext = run; // a LoadRun is the context of its phases
 * ```
 */
export interface PhaseContext {
  cfg: RunConfig;
  pool: WorkerPool;
  abort: RunAbort;
  /** CPU seconds so far of every process of the run (cluster and workers), by name. */
  cpuSeconds: () => Promise<Record<string, number>>;
}

/**
 * The log note for `n` register/login requests refused RATE_LIMITED ("" for none).
 *
 * @example
 * ```ts
 * import { rateLimitedNote } from "./setup_phases.ts";
 * rateLimitedNote(0); // ""
 * ```
 */
export function rateLimitedNote(n: number): string {
  return n > 0
    ? `; ${n} request(s) refused RATE_LIMITED by the servers' per-address auth limit and retried`
    : "";
}

/**
 * Key warm-up messages of the run: one per planned sender/recipient pair
 * (see {@link warmupRecipients}: with `--duration`, every `--peers` pair, or
 * without `--peers` those of each client's first 1000 picks).
 *
 * @example
 * ```ts
 * import { parseRunArgs } from "./run_config.ts";
 * import { plannedWarmupMessages } from "./setup_phases.ts";
 * plannedWarmupMessages(parseRunArgs(["--clients", "2", "--messages", "5"])); // 2
 * ```
 */
export function plannedWarmupMessages(cfg: RunConfig): number {
  if (cfg.mode === "group") return groupWarmupMessages(cfg) * receptionsPerMessage(cfg);
  const peers = cfg.peers ? peerSets(cfg.seed, cfg.clients, cfg.peers) : null;
  let planned = 0;
  for (let i = 0; i < cfg.clients; i++) {
    planned += warmupRecipients(cfg.seed, i, cfg.clients, cfg.messages, peers?.[i] ?? null).length;
  }
  return planned;
}

/** Awaits `done` (guarded) while showing the phase's progress. */
async function withPhaseView<T>(
  ctx: PhaseContext,
  label: string,
  t0: number,
  count: (p: WorkerProgress) => number,
  done: Promise<T>,
  total = ctx.cfg.clients,
): Promise<T> {
  const view = new PhaseView(label, total);
  const timer = setInterval(() => view.update(count(ctx.pool.progress()), nowMs() - t0), 250);
  try {
    return await ctx.abort.guard(done);
  } finally {
    clearInterval(timer);
    view.stop();
  }
}

/**
 * Registers every user over the workers.
 *
 * @example
 * ```ts
 * import { registerPhase, type PhaseContext } from "./setup_phases.ts";
 * declare const ctx: PhaseContext;
 * (await registerPhase(ctx)).perSecond;
 * ```
 */
export async function registerPhase(ctx: PhaseContext): Promise<PhaseStats> {
  const n = ctx.cfg.clients;
  log(`registering ${n} users perf-${ctx.cfg.seed}-0..${n - 1} over ${ctx.pool.size} worker(s)`);
  const cpu0 = await ctx.cpuSeconds();
  const t0 = nowMs();
  await ctx.pool.broadcast({ cmd: "register" });
  const regs = await withPhaseView(
    ctx,
    "register",
    t0,
    (p) => p.registered + p.existing,
    ctx.pool.waitAll("registered"),
  );
  const registered = regs.reduce((a, r) => a + r.registered, 0);
  const existing = regs.reduce((a, r) => a + r.existing, 0);
  const limited = regs.reduce((a, r) => a + r.rateLimited, 0);
  const stats = phaseStats(registered, nowMs() - t0, { existing, rateLimited: limited });
  stats.cpuSeconds = cpuDiff(cpu0, await ctx.cpuSeconds());
  log(
    `registered ${registered} (${existing} existed) in ${(stats.ms / 1000).toFixed(1)} s` +
      ` (${stats.perSecond}/s)${rateLimitedNote(limited)}`,
  );
  return stats;
}

/**
 * Logs every user in (workers keep the sessions of users they just registered).
 *
 * @example
 * ```ts
 * import { loginPhase, type PhaseContext } from "./setup_phases.ts";
 * declare const ctx: PhaseContext;
 * (await loginPhase(ctx)).count;
 * ```
 */
export async function loginPhase(ctx: PhaseContext): Promise<PhaseStats> {
  const cpu0 = await ctx.cpuSeconds();
  const t0 = nowMs();
  await ctx.pool.broadcast({ cmd: "login" });
  const readies = await withPhaseView(
    ctx,
    "login",
    t0,
    (p) => p.loggedIn,
    ctx.pool.waitAll("ready"),
  );
  const loggedIn = readies.reduce((a, r) => a + r.loggedIn, 0);
  const kept = readies.reduce((a, r) => a + r.kept, 0);
  const limited = readies.reduce((a, r) => a + r.rateLimited, 0);
  const stats = phaseStats(loggedIn, nowMs() - t0, { kept, rateLimited: limited });
  stats.cpuSeconds = cpuDiff(cpu0, await ctx.cpuSeconds());
  log(
    `logged in ${loggedIn}${kept ? ` (+${kept} kept from registration)` : ""} in ${
      (stats.ms / 1000).toFixed(1)
    } s (${stats.perSecond}/s)${rateLimitedNote(limited)}`,
  );
  return stats;
}

/**
 * The missing warm-up receipts (perf/warmup_audit.ts), all of them written
 * to `warmup_gaps.json` in the run directory, summed up in one line.
 */
async function warmupGaps(ctx: PhaseContext): Promise<string> {
  try {
    const gaps = await ctx.abort.guard(
      Promise.race([
        auditWarmup(ctx.pool),
        sleep(AUDIT_TIMEOUT_MS).then(() => Promise.reject(new Error("workers did not answer"))),
      ]),
    );
    const file = `${ctx.pool.runDir}/warmup_gaps.json`;
    await Deno.writeTextFile(file, JSON.stringify(gaps, null, 1) + "\n");
    return `${describeGaps(gaps)} (all in ${file})`;
  } catch (e) {
    return `missing receipts not listed: ${e instanceof Error ? e.message : e}`;
  }
}

/**
 * Key warm-up: every client messages each peer it will write to, unrecorded;
 * waits until each of those messages and its receipt has arrived, so
 * nothing of it spills into the timed phase.
 *
 * @example
 * ```ts
 * import { warmupPhase, type PhaseContext } from "./setup_phases.ts";
 * declare const ctx: PhaseContext;
 * (await warmupPhase(ctx)).count; // sender/recipient pairs
 * ```
 */
export async function warmupPhase(ctx: PhaseContext): Promise<PhaseStats> {
  const { pool, abort } = ctx;
  const cpu0 = await ctx.cpuSeconds();
  const t0 = nowMs();
  await pool.broadcast({ cmd: "warmup" });
  const warmed = await withPhaseView(
    ctx,
    "warm-up",
    t0,
    (p) => p.warmReceived,
    pool.waitAll("warmed"),
    plannedWarmupMessages(ctx.cfg),
  );
  const pairs = warmed.reduce((a, w) => a + w.sent, 0);
  // A group message reaches N-1 members and brings no receipt back.
  const receptions = pairs * receptionsPerMessage(ctx.cfg);
  const receipts = hasReceipts(ctx.cfg) ? pairs : 0;
  let p = pool.progress();
  while (p.warmReceived < receptions || p.warmDelivered < receipts) {
    if (nowMs() - t0 > WARMUP_TIMEOUT_MS) {
      throw new Error(
        `key warm-up: ${p.warmReceived}/${receptions} messages and ${p.warmDelivered}/${receipts} ` +
          `receipts arrived in ${WARMUP_TIMEOUT_MS / 1000} s; ${await warmupGaps(ctx)}`,
      );
    }
    await abort.guard(sleep(50));
    p = pool.progress();
  }
  // The new keys are saved now rather than by a timer during the timed phase,
  // and the servers get a moment for the warm-up's trailing store work
  // (envelopes, receipts of messages that were slow to open).
  await pool.broadcast({ cmd: "persist" });
  await abort.guard(pool.waitAll("persisted"));
  await abort.guard(sleep(WARMUP_SETTLE_MS));
  const stats = phaseStats(pairs, nowMs() - t0);
  stats.cpuSeconds = cpuDiff(cpu0, await ctx.cpuSeconds());
  log(
    `key warm-up: ${pairs} sender/recipient pairs in ${
      (stats.ms / 1000).toFixed(1)
    } s (${stats.perSecond}/s)`,
  );
  return stats;
}
