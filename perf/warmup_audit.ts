/**
 * What a timed-out key warm-up lacks: every warm-up receipt still missing,
 * with the servers of its sender and recipient, whether the server
 * confirmed the message to its sender (`sent`), whether the recipient
 * displayed the message (and so acknowledged it: perf clients keep no
 * history, so they acknowledge as they display) and how often either
 * client's connection was lost. Asked of the workers in two rounds: senders
 * list what they miss (`warm_missing`), recipients say what they displayed
 * (`warm_check`).
 *
 * @example
 * ```ts
 * import { describeGaps, type WarmupGap } from "./warmup_audit.ts";
 * const gaps: WarmupGap[] = [{
 *   sender: "perf-x-1", recipient: "perf-x-2", id: "m1", senderServer: "srv-1",
 *   senderDisconnects: 0, confirmed: false, displayed: true, recipientServer: "srv-2",
 *   recipientDisconnects: 0,
 * }];
 * console.log(describeGaps(gaps));
 * // 1 missing (recipient displayed 1, did not 0, unknown 0; sender got "sent" 0; a client reconnected: 0); perf-x-1@srv-1 -> perf-x-2@srv-2 m1 displayed, never sent
 * ```
 * @module
 */
import type { WorkerCommand, WorkerMessage } from "./worker_protocol.ts";
import type { WarmupLedger } from "./warmup_ledger.ts";

/**
 * One missing warm-up receipt. The recipient's fields are absent when no
 * worker knows the recipient (a group) or it did not answer.
 *
 * @example
 * ```ts
 * import type { WarmupGap } from "./warmup_audit.ts";
 * const gap: WarmupGap = {
 *   sender: "perf-x-1", recipient: "perf-x-2", id: "m1", senderServer: "srv-1", senderDisconnects: 0,
 *   confirmed: true,
 * };
 * ```
 */
export interface WarmupGap {
  sender: string;
  recipient: string;
  id: string;
  /** The sender's server now. */
  senderServer: string;
  senderDisconnects: number;
  /** The server confirmed it to its sender (`sent`): stored, the receipt still owed. */
  confirmed: boolean;
  /** Whether the recipient displayed (and so acknowledged) the message. */
  displayed?: boolean;
  recipientServer?: string;
  recipientDisconnects?: number;
}

/**
 * A load client as the audit sees it.
 *
 * @example
 * ```ts
 * import type { AuditedClient } from "./warmup_audit.ts";
 * import { WarmupLedger } from "./warmup_ledger.ts";
 * const c: AuditedClient = { user: "perf-x-1", server: "srv-1", warmLedger: new WarmupLedger() };
 * ```
 */
export interface AuditedClient {
  readonly user: string;
  readonly server: string;
  readonly warmLedger: WarmupLedger;
}

/**
 * A worker's answer to `warm_missing`: the receipts its clients still await.
 *
 * @example
 * ```ts
 * import { missingGaps } from "./warmup_audit.ts";
 * import { WarmupLedger } from "./warmup_ledger.ts";
 * const warmLedger = new WarmupLedger();
 * warmLedger.sent("m1", "perf-x-2");
 * console.log(missingGaps([{ user: "perf-x-1", server: "srv-1", warmLedger }]).length); // 1
 * ```
 */
export function missingGaps(clients: Iterable<AuditedClient>): WarmupGap[] {
  const gaps: WarmupGap[] = [];
  for (const c of clients) {
    const senderDisconnects = c.warmLedger.disconnects;
    for (const [recipient, id] of c.warmLedger.missing()) {
      gaps.push({
        sender: c.user,
        recipient,
        id,
        senderServer: c.server,
        senderDisconnects,
        confirmed: c.warmLedger.confirmed(id),
      });
    }
  }
  return gaps;
}

/**
 * A worker's answer to `warm_check`: the gaps whose recipients are its
 * clients, completed with what those saw.
 *
 * @example
 * ```ts
 * import { checkGaps } from "./warmup_audit.ts";
 * import { WarmupLedger } from "./warmup_ledger.ts";
 * const warmLedger = new WarmupLedger();
 * warmLedger.displayed("perf-x-1", "m1");
 * const gap = {
 *   sender: "perf-x-1", recipient: "perf-x-2", id: "m1", senderServer: "srv-1", senderDisconnects: 0,
 *   confirmed: false,
 * };
 * console.log(checkGaps([{ user: "perf-x-2", server: "srv-2", warmLedger }], [gap])[0].displayed); // true
 * ```
 */
export function checkGaps(clients: Iterable<AuditedClient>, gaps: WarmupGap[]): WarmupGap[] {
  const mine = new Map([...clients].map((c) => [c.user, c]));
  const out: WarmupGap[] = [];
  for (const g of gaps) {
    const c = mine.get(g.recipient);
    if (!c) continue;
    out.push({
      ...g,
      displayed: c.warmLedger.shown(g.sender, g.id),
      recipientServer: c.server,
      recipientDisconnects: c.warmLedger.disconnects,
    });
  }
  return out;
}

/**
 * What {@link auditWarmup} needs of the worker pool.
 *
 * @example
 * ```ts
 * import type { AuditedPool } from "./warmup_audit.ts";
 * import type { WorkerPool } from "./worker_pool.ts";
 * declare const workers: WorkerPool;
 * const pool: AuditedPool = workers;
 * ```
 */
export interface AuditedPool {
  broadcast(cmd: WorkerCommand): Promise<void>;
  waitAll<T extends WorkerMessage["t"]>(t: T): Promise<Extract<WorkerMessage, { t: T }>[]>;
}

const keyOf = (g: WarmupGap) => `${g.sender}\n${g.id}`;

/**
 * Asks the workers for the missing warm-up receipts, then their recipients
 * for what they displayed; returns the gaps, each completed by the
 * recipient's answer.
 *
 * @example
 * ```ts
 * import { auditWarmup, describeGaps } from "./warmup_audit.ts";
 * declare const pool: import("./warmup_audit.ts").AuditedPool;
 * console.log(describeGaps(await auditWarmup(pool)));
 * ```
 */
export async function auditWarmup(pool: AuditedPool): Promise<WarmupGap[]> {
  await pool.broadcast({ cmd: "warm_missing" });
  const gaps = (await pool.waitAll("warm_missing")).flatMap((m) => m.gaps);
  if (gaps.length === 0) return gaps;
  await pool.broadcast({ cmd: "warm_check", gaps });
  const byKey = new Map(gaps.map((g) => [keyOf(g), g]));
  for (const m of await pool.waitAll("warm_checked")) {
    for (const g of m.gaps) {
      const gap = byKey.get(keyOf(g));
      if (gap) Object.assign(gap, g);
    }
  }
  return gaps;
}

/**
 * One line about `gaps`: counts by what the recipient saw, then the first
 * `limit` gaps (sender@server -> recipient@server id, displayed or not,
 * disconnects).
 *
 * @example
 * ```ts
 * import { describeGaps } from "./warmup_audit.ts";
 * console.log(describeGaps([])); // 0 missing
 * ```
 */
export function describeGaps(gaps: WarmupGap[], limit = 10): string {
  if (gaps.length === 0) return "0 missing";
  const shown = gaps.filter((g) => g.displayed === true).length;
  const notShown = gaps.filter((g) => g.displayed === false).length;
  const dropped =
    gaps.filter((g) => g.senderDisconnects > 0 || (g.recipientDisconnects ?? 0) > 0).length;
  const confirmed = gaps.filter((g) => g.confirmed).length;
  const head = `${gaps.length} missing (recipient displayed ${shown}, did not ${notShown}, ` +
    `unknown ${gaps.length - shown - notShown}; sender got "sent" ${confirmed}; ` +
    `a client reconnected: ${dropped})`;
  const items = gaps.slice(0, limit).map((g) => {
    const seen = g.displayed === undefined ? "?" : g.displayed ? "displayed" : "not displayed";
    const lost = g.senderDisconnects + (g.recipientDisconnects ?? 0);
    return `${g.sender}@${g.senderServer} -> ${g.recipient}@${g.recipientServer ?? "?"} ${g.id} ` +
      seen + (g.confirmed ? ", sent" : ", never sent") +
      (lost > 0 ? ` (disconnects: ${g.senderDisconnects}/${g.recipientDisconnects ?? "?"})` : "");
  });
  return [head, ...items].join("; ") + (gaps.length > limit ? "; …" : "");
}
