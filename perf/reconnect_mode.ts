/**
 * `--kill-one`: resilience under load. Once a quarter of the planned load
 * is sent, the run SIGKILLs the server holding the most clients and
 * measures how long until every one of its clients reports `reconnected`
 * (through the load balancer, to a surviving server). After the run the
 * client CSVs tell whether any message was lost (sent, never received) or
 * duplicated (received twice). Both go to `reconnect.json`.
 *
 * @example
 * ```ts
 * import { ReconnectTracker } from "./reconnect_mode.ts";
 * const t = new ReconnectTracker("srv-1", ["perf-x-0"], 1000);
 * t.reconnected("perf-x-0", 1250, "srv-2");
 * t.allBack; // true
 * t.summary().recoveryMs; // 250
 * ```
 * @module
 */
import { LOG_EVENTS } from "./client_log.ts";
import { listClientLogs, readClientLog } from "./log_reader.ts";
import { summarize } from "./percentiles.ts";

/**
 * The server with the most clients (ties: the smallest id) and its users.
 *
 * @example
 * ```ts
 * import { chooseVictim } from "./reconnect_mode.ts";
 * chooseVictim(new Map([["a", "srv-1"], ["b", "srv-2"], ["c", "srv-2"]])); // { server: "srv-2", users: ["b", "c"] }
 * ```
 */
export function chooseVictim(
  serverOf: ReadonlyMap<string, string>,
  candidates?: readonly string[],
): { server: string; users: string[] } | null {
  const by = new Map<string, string[]>();
  for (const s of candidates ?? []) by.set(s, []);
  for (const [user, server] of serverOf) {
    if (candidates && !candidates.includes(server)) continue;
    const list = by.get(server) ?? [];
    list.push(user);
    by.set(server, list);
  }
  let best: { server: string; users: string[] } | null = null;
  for (const [server, users] of [...by].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    if (!best || users.length > best.users.length) best = { server, users };
  }
  return best;
}

/**
 * Reconnect timing of the killed server's clients.
 *
 * @example
 * ```ts
 * import { ReconnectTracker } from "./reconnect_mode.ts";
 * const s = new ReconnectTracker("srv-1", [], 0).summary();
 * console.log(s.allReconnected, s.recoveryMs);
 * ```
 */
export interface ReconnectSummary {
  server: string;
  killedAtMs: number;
  clients: number;
  disconnected: number;
  reconnected: number;
  allReconnected: boolean;
  /** Kill to the last client back (ms); null until all are back. */
  recoveryMs: number | null;
  /** Kill to each client's reconnect (ms). */
  reconnectMs: { p50: number; p90: number; max: number } | null;
  /** Kill to each client's disconnect event (ms): how fast the loss was noticed. */
  detectMs: { p50: number; max: number } | null;
  /** Where the clients went. */
  reconnectedTo: Record<string, number>;
  /** The killed server's clients. */
  users: string[];
}

/**
 * Follows the killed server's clients until all have reconnected.
 *
 * @example
 * ```ts
 * import { ReconnectTracker } from "./reconnect_mode.ts";
 * const t = new ReconnectTracker("srv-1", ["perf-x-0"], 1000);
 * t.disconnected("perf-x-0", 1100);
 * t.reconnected("perf-x-0", 1400, "srv-2");
 * await t.waitAllBack();
 * t.summary().recoveryMs; // 400
 * ```
 */
export class ReconnectTracker {
  readonly #users: Set<string>;
  readonly #down = new Map<string, number>();
  readonly #back = new Map<string, { t: number; server: string }>();
  #waiters: (() => void)[] = [];

  constructor(readonly server: string, users: readonly string[], readonly killedAtMs: number) {
    this.#users = new Set(users);
  }

  /** A client's connection dropped at `t`. */
  disconnected(user: string, t: number): void {
    if (this.#users.has(user) && !this.#down.has(user)) this.#down.set(user, t);
  }

  /** A client reconnected at `t` to `server`. */
  reconnected(user: string, t: number, server: string): void {
    if (!this.#users.has(user) || this.#back.has(user)) return;
    this.#back.set(user, { t, server });
    if (this.allBack) { for (const w of this.#waiters.splice(0)) w(); }
  }

  /** Whether every client of the killed server is back. */
  get allBack(): boolean {
    return this.#back.size === this.#users.size;
  }

  /** Resolves when all are back. */
  waitAllBack(): Promise<void> {
    return this.allBack ? Promise.resolve() : new Promise((r) => this.#waiters.push(r));
  }

  summary(): ReconnectSummary {
    const rec = [...this.#back.values()].map((b) => b.t - this.killedAtMs);
    const det = [...this.#down.values()].map((t) => t - this.killedAtMs);
    const to: Record<string, number> = {};
    for (const b of this.#back.values()) to[b.server] = (to[b.server] ?? 0) + 1;
    const r = rec.length ? summarize(rec) : null;
    const d = det.length ? summarize(det) : null;
    return {
      server: this.server,
      killedAtMs: this.killedAtMs,
      clients: this.#users.size,
      disconnected: this.#down.size,
      reconnected: this.#back.size,
      allReconnected: this.allBack,
      recoveryMs: this.allBack && r ? round3(r.max) : this.#users.size === 0 ? 0 : null,
      reconnectMs: r ? { p50: round3(r.p50), p90: round3(r.p90), max: round3(r.max) } : null,
      detectMs: d ? { p50: round3(d.p50), max: round3(d.max) } : null,
      reconnectedTo: to,
      users: [...this.#users],
    };
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Lost and duplicated messages of a run, from its client CSVs.
 *
 * @example
 * ```ts
 * import { deliveryCheck } from "./reconnect_mode.ts";
 * const c = deliveryCheck([{ id: "a", event: "sent" }]);
 * console.log(c.lost, c.lostIds); // 1 ["a"]
 * ```
 */
export interface DeliveryCheck {
  /** Distinct message ids with a `sent` row. */
  sent: number;
  /** Distinct sent ids with at least one `received` row. */
  received: number;
  /** Sent ids never received. */
  lost: number;
  /** Ids received more than once (in total over all clients). */
  duplicated: number;
  /** Extra `received` rows beyond the first per id. */
  duplicateRows: number;
  /** A few example ids of each. */
  lostIds: string[];
  duplicatedIds: string[];
  /** Up to 20 lost messages in detail (when the rows carry users and times). */
  lostDetails: LostMessage[];
}

/**
 * One CSV row as far as the delivery check needs it.
 *
 * @example
 * ```ts
 * import type { DeliveryRow } from "./reconnect_mode.ts";
 * const row: DeliveryRow = { id: "m1", event: "sent", user: "perf-x-0", peer: "perf-x-1", timeMs: 5 };
 * ```
 */
export interface DeliveryRow {
  id: string;
  event: string;
  /** The client whose CSV holds the row. */
  user?: string;
  peer?: string;
  timeMs?: number;
  /** `kind` column: the error code of an error row. */
  kind?: string;
}

/**
 * A message that was sent and never received.
 *
 * @example
 * ```ts
 * import { deliveryCheck } from "./reconnect_mode.ts";
 * const [lost] = deliveryCheck([{ id: "a", event: "sent", user: "u0", peer: "u1", timeMs: 5 }])
 *   .lostDetails;
 * console.log(lost.from, lost.to, lost.acked); // u0 u1 false
 * ```
 */
export interface LostMessage {
  id: string;
  from: string;
  to: string;
  sentMs: number;
  /** Whether the sender's server acked (stored) it. */
  acked: boolean;
  /** The code of an error row naming it, if any. */
  error: string | null;
}

/**
 * Counts lost and duplicated messages among `(id, event)` rows of all clients.
 *
 * @example
 * ```ts
 * import { deliveryCheck } from "./reconnect_mode.ts";
 * deliveryCheck([
 *   { id: "a", event: "sent" }, { id: "a", event: "received" }, { id: "b", event: "sent" },
 * ]).lost; // 1
 * ```
 */
export function deliveryCheck(rows: Iterable<DeliveryRow>): DeliveryCheck {
  const sent = new Map<string, DeliveryRow>();
  const acked = new Set<string>();
  const errors = new Map<string, string>();
  const received = new Map<string, number>();
  for (const r of rows) {
    if (r.event === "sent") sent.set(r.id, r);
    else if (r.event === "received") received.set(r.id, (received.get(r.id) ?? 0) + 1);
    else if (r.event === "acked") acked.add(r.id);
    else if (r.event === "error" && r.id) errors.set(r.id, r.kind ?? "");
  }
  const lostIds: string[] = [];
  let got = 0;
  const lostDetails: LostMessage[] = [];
  for (const [id, r] of sent) {
    if (received.has(id)) got++;
    else {
      lostIds.push(id);
      if (lostDetails.length < 20) {
        lostDetails.push({
          id,
          from: r.user ?? "",
          to: r.peer ?? "",
          sentMs: r.timeMs ?? NaN,
          acked: acked.has(id),
          error: errors.get(id) ?? null,
        });
      }
    }
  }
  const duplicatedIds: string[] = [];
  let duplicateRows = 0;
  for (const [id, n] of received) {
    if (n > 1) {
      duplicatedIds.push(id);
      duplicateRows += n - 1;
    }
  }
  return {
    sent: sent.size,
    received: got,
    lost: lostIds.length,
    duplicated: duplicatedIds.length,
    duplicateRows,
    lostIds: lostIds.slice(0, 20),
    duplicatedIds: duplicatedIds.slice(0, 20),
    lostDetails,
  };
}

/**
 * Reads every client log of the run directory `runDir` (`clients/*.csv`,
 * with the log reader's validation) and checks delivery.
 *
 * @example
 * ```ts
 * import { checkClientLogs } from "./reconnect_mode.ts";
 * (await checkClientLogs("perf/testdata/lossy")).lost; // 2
 * ```
 */
export async function checkClientLogs(runDir: string): Promise<DeliveryCheck> {
  const files = await listClientLogs(runDir);
  const rows: DeliveryRow[] = [];
  for (let i = 0; i < files.length; i++) {
    const user = files[i].slice("clients/".length, -".csv".length);
    const path = `${runDir}/${files[i]}`;
    await readClientLog(path, path, i, (_file, id, event, timeMs, _bytes, peer, kind) => {
      if (id !== "") rows.push({ id, event: LOG_EVENTS[event], user, peer, timeMs, kind });
    });
  }
  return deliveryCheck(rows);
}
