/**
 * What `deno task perf:ab` reports: for each pair of runs (the base build
 * and this one, back to back), msgs/s and CPU µs per message of the servers,
 * the database and the load workers, and the ratio of this build to the
 * base; then the medians over the pairs. On a shared machine whose speed
 * drifts from minute to minute, the per-pair ratios and their median say
 * more than the figures of any one run.
 *
 * @example
 * ```ts
 * import { formatAbTable, summarizeAb } from "./build_ab_summary.ts";
 * const run = (msgsPerSec: number) => ({ dir: "d", msgsPerSec, cpuUsPerMsg: { server: 10, db: 1, worker: 40 } });
 * const s = summarizeAb([{ base: run(100), head: run(110) }]);
 * s.median.msgsPerSecRatio; // 1.1
 * console.log(formatAbTable(s, "abc1234").join("\n"));
 * ```
 * @module
 */
import type { HostStalls } from "./host_stalls.ts";
import { percentile } from "./percentiles.ts";

/** The roles whose CPU per message is compared. */
export const AB_ROLES = ["server", "db", "worker"] as const;
/** One of {@link AB_ROLES}. */
export type AbRole = typeof AB_ROLES[number];

/** What one perf run gave. */
export interface AbRun {
  /** Its run directory. */
  dir: string;
  msgsPerSec: number;
  /** CPU µs per message received, messaging phase, all processes of the role (NaN: not sampled). */
  cpuUsPerMsg: Record<AbRole, number>;
  /** Its host check (`perf --host-check`); null or absent if it ran none (builds before it). */
  hostStalls?: HostStalls | null;
}

/** A run of each build, back to back. */
export interface AbPair {
  base: AbRun;
  head: AbRun;
}

/** The pairs, and the medians over them. */
export interface AbSummary {
  pairs: AbPair[];
  median: {
    base: { msgsPerSec: number; cpuUsPerMsg: Record<AbRole, number> };
    head: { msgsPerSec: number; cpuUsPerMsg: Record<AbRole, number> };
    /** Median of the pairs' ratios (this build ÷ base). */
    msgsPerSecRatio: number;
    cpuRatio: Record<AbRole, number>;
  };
}

function medianOf(values: number[]): number {
  const known = values.filter((v) => Number.isFinite(v));
  return known.length === 0 ? NaN : percentile(known, 0.5);
}

function perRole(f: (role: AbRole) => number): Record<AbRole, number> {
  return { server: f("server"), db: f("db"), worker: f("worker") };
}

/**
 * Medians of each build's figures and of the pairs' ratios.
 *
 * @example
 * ```ts
 * import { summarizeAb } from "./build_ab_summary.ts";
 * const run = (m: number) => ({ dir: "d", msgsPerSec: m, cpuUsPerMsg: { server: 8, db: 1, worker: 30 } });
 * summarizeAb([{ base: run(10), head: run(20) }, { base: run(30), head: run(30) }]).median.msgsPerSecRatio; // 1.5
 * ```
 */
export function summarizeAb(pairs: AbPair[]): AbSummary {
  const side = (k: "base" | "head") => ({
    msgsPerSec: medianOf(pairs.map((p) => p[k].msgsPerSec)),
    cpuUsPerMsg: perRole((r) => medianOf(pairs.map((p) => p[k].cpuUsPerMsg[r]))),
  });
  return {
    pairs,
    median: {
      base: side("base"),
      head: side("head"),
      msgsPerSecRatio: medianOf(pairs.map((p) => p.head.msgsPerSec / p.base.msgsPerSec)),
      cpuRatio: perRole((r) =>
        medianOf(pairs.map((p) => p.head.cpuUsPerMsg[r] / p.base.cpuUsPerMsg[r]))
      ),
    },
  };
}

const num = (v: number, digits = 1) => Number.isFinite(v) ? v.toFixed(digits) : "—";
const rate = (v: number) => Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "—";

/**
 * The table `perf:ab` prints: a line per pair and one of medians; CPU is µs
 * per message (servers, database, load workers), ratios are this build ÷ base.
 *
 * @example
 * ```ts
 * import { formatAbTable, summarizeAb } from "./build_ab_summary.ts";
 * const run = { dir: "d", msgsPerSec: 1000, cpuUsPerMsg: { server: 9, db: 1, worker: 30 } };
 * formatAbTable(summarizeAb([{ base: run, head: run }]), "HEAD~1")[0]; // "base HEAD~1 against this build: …"
 * ```
 */
export function formatAbTable(s: AbSummary, baseName: string): string[] {
  const cols = ["pair", "msgs/s base", "msgs/s this", "ratio"]
    .concat(AB_ROLES.flatMap((r) => [`${r} µs base`, `${r} µs this`]));
  const line = (cells: string[]) =>
    cells.map((c, i) => c.padStart(Math.max(cols[i].length, i === 0 ? 6 : 8))).join("  ");
  const row = (
    name: string,
    base: AbRun | AbSummary["median"]["base"],
    head: typeof base,
    ratio: number,
  ) =>
    line([
      name,
      rate(base.msgsPerSec),
      rate(head.msgsPerSec),
      num(ratio, 3),
      ...AB_ROLES.flatMap((r) => [num(base.cpuUsPerMsg[r]), num(head.cpuUsPerMsg[r])]),
    ]);
  const out = [
    `base ${baseName} against this build: ${s.pairs.length} pair(s), alternating order`,
    line(cols),
  ];
  s.pairs.forEach((p, i) =>
    out.push(row(String(i + 1), p.base, p.head, p.head.msgsPerSec / p.base.msgsPerSec))
  );
  const m = s.median;
  out.push(row("median", m.base, m.head, m.msgsPerSecRatio));
  out.push(
    `median ratios (this ÷ base): msgs/s ${num(m.msgsPerSecRatio, 3)}, CPU per message ` +
      AB_ROLES.map((r) => `${r} ${num(m.cpuRatio[r], 3)}`).join(", "),
  );
  return out;
}
